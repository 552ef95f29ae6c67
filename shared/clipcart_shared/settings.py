"""Settings every service shares, read from the environment.

A service's `config/settings/base.py` sets `SERVICE_NAME`, star-imports this module and
adds its own apps. The same variables are read in the embedded run and at scale; the
README's configuration table lists each with its default.
"""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import environ

env = environ.Env()

SERVICES = ("catalog", "video", "checkout")
DEFAULT_PORTS = {"catalog": 8001, "video": 8002, "checkout": 8003}


def database_url_for(service: str) -> str:
    """The service's own database: `<SERVICE>_DATABASE_URL`, else `clipcart_<service>` on
    the server named by `DATABASE_URL`, so that one server can hold every service's
    database without any two sharing tables."""
    explicit = env.str(f"{service.upper()}_DATABASE_URL", default="")
    if explicit:
        return explicit
    server = env.str("DATABASE_URL", default="")
    if not server:
        raise environ.ImproperlyConfigured(
            "DATABASE_URL is not set. Start through `make run` / `make test`, which start an "
            "embedded PostgreSQL, or point DATABASE_URL at a PostgreSQL server."
        )
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/clipcart_{service}"))


def database_settings(service: str) -> dict[str, Any]:
    config = environ.Env.db_url_config(database_url_for(service))
    # Persistent connections were worth 5x on list endpoints here (DESIGN.md, measured).
    config["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    config["CONN_HEALTH_CHECKS"] = True
    config["ATOMIC_REQUESTS"] = False
    config.setdefault("OPTIONS", {})
    config["OPTIONS"].setdefault("connect_timeout", 5)
    return {"default": config}


def broker_url() -> str:
    """`CELERY_BROKER_URL`, else a queue in the embedded PostgreSQL: no broker server needed."""
    explicit = env.str("CELERY_BROKER_URL", default="")
    if explicit:
        return explicit
    server = env.str("DATABASE_URL", default="")
    if not server:
        return "memory://"
    parts = urlsplit(server)
    scheme = "sqla+postgresql+psycopg"
    return urlunsplit(parts._replace(scheme=scheme, path="/clipcart_broker"))


def cache_settings() -> dict[str, Any]:
    """The caches every process of a service shares: Redis or another server when
    `CACHE_URL` names one (both), else the database's `clipcart_cache` table as `default`
    (the throttling app's migration creates it) and files in the data directory as
    `pages` (stored pages, signals versions and throttle counters, ADR 34), so the
    embedded run needs no server of its own. Not a per-process memory cache: each
    gunicorn worker would count apart and a throttle would let N times its rate through."""
    explicit = env.str("CACHE_URL", default="")
    if explicit:
        return {
            "default": environ.Env.cache_url_config(explicit),
            "pages": environ.Env.cache_url_config(explicit),
        }
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "clipcart_cache",
        },
        "pages": pages_cache_files(),
    }


def pages_cache_files() -> dict[str, Any]:
    """The embedded run's `pages` cache (clipcart_shared.pages, ADR 34; the throttles'
    counters too): files in the data directory, which every process of the machine
    shares, read with no SQL (the database cache would cost a statement per page), with a
    lock across processes (clipcart_shared.filecache). `PAGES_CACHE_DIR` moves it."""
    data = env.str("CLIPCART_DATA_DIR", default="") or tempfile.gettempdir()
    return {
        "BACKEND": "clipcart_shared.filecache.SharedFileCache",
        "LOCATION": env.str("PAGES_CACHE_DIR", default=os.path.join(data, "pages-cache")),
        "OPTIONS": {"MAX_ENTRIES": 5000},
    }


def service_url(service: str) -> str:
    """Where another service answers (`<SERVICE>_URL`), default its embedded port."""
    port = env.int(f"{service.upper()}_PORT", default=DEFAULT_PORTS[service])
    return env.str(f"{service.upper()}_URL", default=f"http://127.0.0.1:{port}")


SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

DJANGO_APPS = [
    # django.contrib.admin, with the console's site (one sign-in for the three admins).
    "clipcart_shared.console.apps.ConsoleAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
]
THIRD_PARTY_APPS = ["rest_framework", "drf_spectacular", "drf_spectacular_sidecar", "axes"]
SHARED_APPS = [
    "clipcart_shared.outbox",
    "clipcart_shared.idempotency",
    "clipcart_shared.sweeps",
    "clipcart_shared.throttling",
]

MIDDLEWARE = [
    "clipcart_shared.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it answers a locked-out admin login.
    "axes.middleware.AxesMiddleware",
]


def middleware_with_sign_in(sign_in_middleware: str) -> list[str]:
    """MIDDLEWARE with the service's console sign-in right after Django's authentication:
    catalog's `staff.middleware.OwnerSignInMiddleware`, the others'
    `clipcart_shared.console.trust.TrustedSignInMiddleware` (ADR 23)."""
    at = MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
    return [*MIDDLEWARE[:at], sign_in_middleware, *MIDDLEWARE[at:]]


def admin_cookie_names(service: str) -> tuple[str, str, str]:
    """(session cookie name, CSRF cookie name, their path) of a service's admin: apart for
    each admin, so that three admins on one host (one origin behind the gateway, or the
    embedded run's ports: cookies are per host) never overwrite each other's."""
    return f"{service}_sessionid", f"{service}_csrftoken", f"/{service}/admin/"


# One sign-in for the three admins (clipcart_shared.console, ADR 23). Catalog owns it
# (`CONSOLE_SIGN_IN = "owner"`); the others forward their login form's password to it,
# trust its signed cookie and ask catalog who it is at most every
# CONSOLE_RECHECK_SECONDS (capped at 60: a removed staff user loses access everywhere
# within a minute). CONSOLE_SIGNING_KEY must be the same in all three.
CONSOLE_SIGN_IN = "trust"
CONSOLE_SIGNING_KEY = env.str("CONSOLE_SIGNING_KEY", default="")
CONSOLE_SESSION_SECONDS = env.int("CONSOLE_SESSION_SECONDS", default=12 * 3600)
CONSOLE_RECHECK_SECONDS = min(env.int("CONSOLE_RECHECK_SECONDS", default=30), 60)
# Where the browser reaches each service's admin, for the links between them (a product's
# videos and orders, an order line's product and video): `<SERVICE>_ADMIN_URL`, default the
# embedded run's port; behind the gateway (one origin) the relative `/<service>/admin/`.
CONSOLE_ADMIN_URLS = {
    service: env.str(
        f"{service.upper()}_ADMIN_URL", default=f"{service_url(service)}/{service}/admin/"
    )
    for service in DEFAULT_PORTS
}
# Messages in the admin's own session, not in a `messages` cookie all admins would share.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# The admin's home page numbers: the dotted path of `function(request) -> list[Panel]`
# (clipcart_shared.console.home); empty: Django's list of models only.
CONSOLE_HOME = ""

# Admin logins (django-axes): after `ADMIN_LOGIN_FAILURE_LIMIT` wrong passwords for one
# username, or from one address, that username or address is refused (429, even with the
# right password) for `ADMIN_LOGIN_COOLOFF_MINUTES`. Attempts are rows in the service's
# database, so every process sees them. `manage.py axes_reset` lifts a lockout early.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("ADMIN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("ADMIN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "clipcart_shared.throttling.throttles.client_ip"
# Behind this many proxies that append to X-Forwarded-For (the gateway: 1), the client's
# address is the one the outermost saw; 0 trusts only the connection's own address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

CACHES = cache_settings()
# Shared pages (clipcart_shared.pages): how long a stored page may be served before it is
# rendered again, whatever was bumped. A card is never shown staler than this after its
# product.changed arrived, nor likes, followers or units sold after they changed.
FEED_MAX_STALENESS_SECONDS = env.int("FEED_MAX_STALENESS_SECONDS", default=5)

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The console's templates (the admin's home page, `clipcart_shared.console.home`):
        # its app config is Django's admin, so they are not found as an app's.
        "DIRS": [Path(__file__).resolve().parent / "console" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Only `collectstatic` (container builds) needs it; locally WhiteNoise serves from the apps.
STATIC_ROOT = env.str("STATIC_ROOT", default="") or None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Bodies larger than this are refused with 413 before any parsing.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("MAX_REQUEST_BYTES", default=1_048_576)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["clipcart_shared.auth.MobileUserAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "clipcart_shared.pagination.CursorPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "clipcart_shared.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "clipcart_shared.schema.AutoSchema",
    # They count only views that name a `throttle_scope` (clipcart_shared.throttling).
    "DEFAULT_THROTTLE_CLASSES": [
        "clipcart_shared.throttling.throttles.UserRateThrottle",
        "clipcart_shared.throttling.throttles.IpRateThrottle",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Requests per scope, per mobile user (`.user`) and per client address (`.ip`): checkouts,
# cart writes, engagement events, creator/video/tag writes, search. `THROTTLE_RATES`
# overrides any of them: `checkout.user=5/min,search.ip=600/min`.
THROTTLE_RATES: dict[str, str] = {
    "checkout.user": "10/min",
    "checkout.ip": "60/min",
    "cart.user": "60/min",
    "cart.ip": "300/min",
    "events.user": "120/min",
    "events.ip": "1200/min",
    "writes.user": "60/min",
    "writes.ip": "300/min",
    "search.user": "60/min",
    "search.ip": "600/min",
} | env.dict("THROTTLE_RATES", default={})

SPECTACULAR_SETTINGS = {
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/(api|internal)/v[0-9]+",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Every operation also answers with problem+json errors (clipcart_shared.errors).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "clipcart_shared.schema.problem_responses",
        # create → read → update → delete, as OpenAPI links (clients, schemathesis)
        "clipcart_shared.schema.resource_links",
    ],
}

# Mobile users: RS256 public key from the identity provider; HS256 only for local runs.
JWT_PUBLIC_KEY = env.str("JWT_PUBLIC_KEY", multiline=True, default="")
JWT_HS256_SECRET = env.str("JWT_HS256_SECRET", default="")
JWT_LEEWAY_SECONDS = env.int("JWT_LEEWAY_SECONDS", default=30)
# Service-to-service keys: sign with the first, accept any (rotation).
SERVICE_AUTH_KEYS = env.list("SERVICE_AUTH_KEYS", default=[])

# `seed_demo` (demo logins with published passwords) runs only where this is True; the
# production profile sets it False.
DEMO_DATA_ALLOWED = True

IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=48)

CELERY_BROKER_URL = broker_url()
# The embedded broker (in PostgreSQL) looks for new messages this often when a queue is
# empty; kombu's default, 1 s, makes every event wait up to a second per hop.
CELERY_BROKER_POLLING_SECONDS = env.float("CELERY_BROKER_POLLING_SECONDS", default=0.1)
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = False
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=120)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=100)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers log through Django's LOGGING (JSON lines with the request id), not Celery's own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Outbox relay: the safety net under the publish-on-commit path.
OUTBOX_RELAY_SECONDS = env.float("OUTBOX_RELAY_SECONDS", default=5.0)
# Retention (clipcart_shared.retention): relayed outbox events and the consumer's
# processed-event rows are deleted after this many days.
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=7)
PROCESSED_EVENT_RETENTION_DAYS = env.int("PROCESSED_EVENT_RETENTION_DAYS", default=30)
# How often each service's retention tasks run.
RETENTION_SECONDS = env.int("RETENTION_SECONDS", default=6 * 3600)
# Periodic work every service has; each service adds its own entries.
SHARED_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "relay-outbox": {"task": "clipcart.outbox.relay", "schedule": OUTBOX_RELAY_SECONDS},
    "prune-outbox": {"task": "clipcart.outbox.prune", "schedule": RETENTION_SECONDS},
    "prune-processed-events": {
        "task": "clipcart.outbox.processed_events_prune",
        "schedule": RETENTION_SECONDS,
    },
    "prune-idempotency-keys": {"task": "clipcart.idempotency.prune", "schedule": 3600},
}
# A row a periodic task fails on is skipped for this long, doubling per failure up to the
# cap (clipcart_shared.sweeps): retried, but never in the way of the other rows.
SWEEP_BACKOFF_SECONDS = env.int("SWEEP_BACKOFF_SECONDS", default=60)
SWEEP_BACKOFF_MAX_SECONDS = env.int("SWEEP_BACKOFF_MAX_SECONDS", default=3600)
# Which queues each event type is delivered to (subscriber service queues).
EVENT_ROUTES: dict[str, list[str]] = {}
# The dotted path of the service's table of event handlers, {type: handler} (ADR 19);
# each service names its `config/event_handlers.py`. Empty: it consumes no events.
EVENT_HANDLERS = ""

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_JSON = env.bool("LOG_JSON", default=True)

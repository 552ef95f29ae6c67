"""Catalog settings: merchants, products, variants, prices, stock and reservations."""

from clipcart_shared.logs import logging_config
from clipcart_shared.settings import *  # noqa: F403
from clipcart_shared.settings import (
    DJANGO_APPS,
    LOG_JSON,
    LOG_LEVEL,
    RETENTION_SECONDS,
    SHARED_APPS,
    SHARED_BEAT_SCHEDULE,
    SPECTACULAR_SETTINGS,
    THIRD_PARTY_APPS,
    admin_cookie_names,
    database_settings,
    env,
    middleware_with_sign_in,
)

SERVICE_NAME = "catalog"

INSTALLED_APPS = [
    *DJANGO_APPS,
    *THIRD_PARTY_APPS,
    *SHARED_APPS,
    "core",
    "merchants",
    "staff",
    "products",
    "promotions",
    "inventory",
    # Above every app: the demo seed writes rows of each of them.
    "demo",
]

DATABASES = database_settings(SERVICE_NAME)
LOGGING = logging_config(service=SERVICE_NAME, level=LOG_LEVEL, json=LOG_JSON)
# One sign-in for the three admins (ADR 23); each admin's own cookies apart.
MIDDLEWARE = middleware_with_sign_in("staff.middleware.OwnerSignInMiddleware")
SESSION_COOKIE_NAME, CSRF_COOKIE_NAME, SESSION_COOKIE_PATH = admin_cookie_names(SERVICE_NAME)
CSRF_COOKIE_PATH = SESSION_COOKIE_PATH
# Catalog owns staff: users, passwords, merchant memberships and sign-ins (staff app).
CONSOLE_SIGN_IN = "owner"
STATIC_URL = "/catalog/static/"
# How the admin knows which merchants a staff user acts for (clipcart_shared.admin).
MERCHANT_IDS_FOR_USER = "merchants.selectors.merchant_ids_for_user"
# The admin's home page: stock running out, the pipes (ADR 28).
CONSOLE_HOME = "inventory.home.home_panels"

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "clipcart catalog",
    "DESCRIPTION": "Products and variants for the mobile shop; quotes and stock "
    "reservations for checkout (internal).",
}

# A variant with this many units or fewer available shows as `low_stock`.
LOW_STOCK_THRESHOLD = env.int("LOW_STOCK_THRESHOLD", default=5)

CELERY_TASK_DEFAULT_QUEUE = SERVICE_NAME
# What this service publishes, and to whom: each type is a constant of its app's
# `events.py` (products/events.py); each queue's service has a handler for it (ADR 19).
EVENT_ROUTES = {"product.changed": env.list("PRODUCT_CHANGED_QUEUES", default=["video.events"])}
# What it consumes: nothing (config/event_handlers.py).
EVENT_HANDLERS = "config.event_handlers.EVENT_HANDLERS"
CELERY_BEAT_SCHEDULE = {
    **SHARED_BEAT_SCHEDULE,
    "release-expired-reservations": {
        "task": "inventory.reservations_expire",
        "schedule": env.int("RESERVATION_SWEEP_SECONDS", default=30),
    },
    "publish-ended-flash-deals": {
        "task": "promotions.flash_deals_publish",
        "schedule": env.int("FLASH_DEAL_SWEEP_SECONDS", default=5),
    },
}

# Retention: committed, released and expired reservations are deleted after this many days.
RESERVATION_RETENTION_DAYS = env.int("RESERVATION_RETENTION_DAYS", default=30)
CELERY_BEAT_SCHEDULE |= {
    "prune-finished-reservations": {
        "task": "inventory.reservations_prune",
        "schedule": RETENTION_SECONDS,
    },
}

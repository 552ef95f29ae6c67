"""Tests: the real PostgreSQL (DATABASE_URL); tasks run inline unless a test says otherwise."""

SECRET_KEY = "test-only"
DEBUG = False
JWT_HS256_SECRET = "test-only-jwt-secret-with-enough-length"
JWT_PUBLIC_KEY = ""
CONSOLE_SIGNING_KEY = "test-only-console-signing-key-0000000"
SERVICE_AUTH_KEYS = [
    "test-only-service-key-current-0000000",
    "test-only-service-key-old-00000000000",
]
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Suites make many requests as one user from one address: rates no suite reaches. The
# throttle tests set low rates of their own (override_settings(THROTTLE_RATES=...)).
THROTTLE_RATES = {
    f"{scope}.{kind}": "100000/min"
    for scope in ("checkout", "cart", "events", "writes", "search")
    for kind in ("user", "ip")
}
# A service's suite runs in one process, so the counters need no shared store here; kept
# in memory and cleared before every test (clipcart_tools.testing.fixtures), so that no
# test inherits another's counts, and the query counts the suites assert stay the
# service's own. The embedded run's file cache the counts are in (ADR 40) is tested in the
# shared package's suite and used by the end-to-end tests' real processes.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "clipcart-tests",
    },
    # Shared pages (clipcart_shared.pages): emptied before every test, as the counters.
    "pages": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "clipcart-tests-pages",
    },
}

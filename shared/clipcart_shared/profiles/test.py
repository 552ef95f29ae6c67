"""Tests: the real PostgreSQL (DATABASE_URL); tasks run inline unless a test says otherwise."""

SECRET_KEY = "test-only"
DEBUG = False
JWT_HS256_SECRET = "test-only-jwt-secret-with-enough-length"
JWT_PUBLIC_KEY = ""
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
# throttle tests set low rates of their own (override_settings(THROTTLE_RATES=...)), and
# the counters live in the database cache table, so each test's are rolled back with it.
THROTTLE_RATES = {
    f"{scope}.{kind}": "100000/min"
    for scope in ("checkout", "cart", "events", "writes", "search")
    for kind in ("user", "ip")
}

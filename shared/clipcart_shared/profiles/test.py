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

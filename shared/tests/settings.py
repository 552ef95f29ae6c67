"""A minimal Django project to test the shared package on its own, on the real database."""

from clipcart_shared.logs import logging_config
from clipcart_shared.settings import *  # noqa: F403
from clipcart_shared.settings import DJANGO_APPS, SHARED_APPS, THIRD_PARTY_APPS, database_settings

SERVICE_NAME = "sharedtests"
INSTALLED_APPS = [*DJANGO_APPS, *THIRD_PARTY_APPS, *SHARED_APPS, "clipcart_shared.merchant_access"]
DATABASES = database_settings(SERVICE_NAME)
ROOT_URLCONF = "tests.urls"
SECRET_KEY = "test-only"
JWT_HS256_SECRET = "test-only-jwt-secret-with-enough-length"
SERVICE_AUTH_KEYS = ["test-only-service-key-current-0000000"]
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_DEFAULT_QUEUE = SERVICE_NAME
LOGGING = logging_config(service=SERVICE_NAME, level="WARNING")
STATIC_URL = "/static/"
# The admin here takes passwords itself, as catalog's does (the lockout tests sign in to
# it); the console's trusting side is tested end to end (tests/e2e/test_console_sign_in.py).
CONSOLE_SIGN_IN = "owner"

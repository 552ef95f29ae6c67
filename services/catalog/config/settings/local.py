"""A developer's machine: `make run` sets the local-only secrets (see clipcart_shared.cli)."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-only-not-secret")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Serve the admin's static files straight from the apps: no collectstatic locally.
WHITENOISE_USE_FINDERS = True

"""A developer's machine: `make run` provides the local-only secrets (clipcart_tools.cli)."""

from clipcart_shared.settings import env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="local-only-not-secret")
# Serve the admin's static files straight from the apps: no collectstatic locally.
WHITENOISE_USE_FINDERS = True
CONSOLE_SIGNING_KEY = env.str(
    "CONSOLE_SIGNING_KEY", default="local-only-console-key-change-me-0000"
)

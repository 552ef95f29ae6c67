"""At scale: every secret comes from the environment; nothing local-only is accepted.

Each service's `config/settings/production.py` ends with
`published_secrets_refuse(globals())` (clipcart_shared.published_secrets): a secret left
at a value published in this repository stops the process with the variable's name.
Served behind HTTPS (a TLS proxy in front of the gateway sets `X-Forwarded-Proto`), these
settings pass `manage.py check --deploy` without a warning (tests/infra).
"""

from clipcart_shared.settings import env

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = False
SERVICE_AUTH_KEYS = env.list("SERVICE_AUTH_KEYS")
# The three admins' shared sign-in cookie is signed with it (the same in all three).
CONSOLE_SIGNING_KEY = env.str("CONSOLE_SIGNING_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# Browsers asking for a page over plain HTTP are sent to HTTPS. Not the API, the
# service-to-service calls and the health checks: those are plain HTTP inside the private
# network, and a redirect protects no API client (the token was already sent, and a
# redirected POST loses its body).
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^api/v[0-9]+/", r"^internal/", r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
# `seed_demo` refuses to run: its logins' passwords are in this repository.
DEMO_DATA_ALLOWED = False
# HS256 user tokens are for local runs; production verifies the provider's RS256 key only,
# unless an operator explicitly allows the shared secret (a staging stack without an IdP).
JWT_HS256_SECRET = (
    env.str("JWT_HS256_SECRET", default="") if env.bool("JWT_ALLOW_HS256", default=False) else ""
)

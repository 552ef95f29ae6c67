"""At scale: every secret comes from the environment; nothing local-only is accepted."""

from clipcart_shared.settings import env

SECRET_KEY = env.str("DJANGO_SECRET_KEY")
DEBUG = False
SERVICE_AUTH_KEYS = env.list("SERVICE_AUTH_KEYS")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
# HS256 user tokens are for local runs; production verifies the provider's RS256 key only,
# unless an operator explicitly allows the shared secret (a staging stack without an IdP).
JWT_HS256_SECRET = (
    env.str("JWT_HS256_SECRET", default="") if env.bool("JWT_ALLOW_HS256", default=False) else ""
)

"""Production settings: the checkout base, then the shared production profile over it, then
the refusal of any secret published in this repository."""

# The order matters (the profile overrides the base), so imports are not sorted here.
# ruff: noqa: I001
from config.settings.base import *  # noqa: F403
from clipcart_shared.profiles.production import *  # noqa: F403
from django.core.exceptions import ImproperlyConfigured

from clipcart_shared.published_secrets import published_secrets_refuse

published_secrets_refuse(globals())
if RETURN_WINDOW_SECONDS:  # noqa: F405
    raise ImproperlyConfigured(
        "RETURN_WINDOW_SECONDS shortens every merchant's return window for demos and tests; "
        "unset it in production (merchants set their window in the admin)."
    )

"""Production settings: the catalog base, then the shared production profile over it, then
the refusal of any secret published in this repository."""

# The order matters (the profile overrides the base), so imports are not sorted here.
# ruff: noqa: I001
from config.settings.base import *  # noqa: F403
from clipcart_shared.profiles.production import *  # noqa: F403
from clipcart_shared.published_secrets import published_secrets_refuse

published_secrets_refuse(globals())

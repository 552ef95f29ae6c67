"""Production settings: the checkout base, then the shared production profile over it."""

# The order matters (the profile overrides the base), so imports are not sorted here.
# ruff: noqa: I001
from config.settings.base import *  # noqa: F403
from clipcart_shared.profiles.production import *  # noqa: F403

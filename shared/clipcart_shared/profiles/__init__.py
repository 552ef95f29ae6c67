"""Settings profiles every service layers over its own `config/settings/base.py`:
`from clipcart_shared.profiles.test import *` in `config/settings/test.py`, and so on."""

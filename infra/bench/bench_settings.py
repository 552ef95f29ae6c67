"""Bench-only settings: the catalog's local settings, plus the bare-view URLconf.

gunicorn runs with `DJANGO_SETTINGS_MODULE=bench_settings`, `infra/bench` on the Python
path and `services/catalog` as its working directory (see run.py); the database is
`CATALOG_DATABASE_URL`, which run.py points at `clipcart_catalog_bench`.
"""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench_urls"

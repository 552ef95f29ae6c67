"""Bench-only settings: a service's local settings, plus the bare-view URLconf.

Shared by the catalog and the video service. gunicorn runs with
`DJANGO_SETTINGS_MODULE=bench_settings`, `infra/bench` and `services/<service>` on the
Python path and `services/<service>` as its working directory (see run.py), so `config`
below is that service's; the database is `<SERVICE>_DATABASE_URL`, which run.py points at
`clipcart_<service>_bench`.
"""

from config.settings.local import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
# First, so that it counts every statement of a request that asks (X-Bench-Count-Queries).
MIDDLEWARE = ["bench_queries.QueryCountMiddleware", *MIDDLEWARE]  # noqa: F405

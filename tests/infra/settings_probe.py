"""Load a service the way its container does, and report what the infra tests check.

Run from a service's directory (services/<name>) with a container's environment:

    python tests/infra/settings_probe.py

It loads the settings named by DJANGO_SETTINGS_MODULE, sets Django up, imports the WSGI
application gunicorn serves and the Celery app the workers run, and prints one JSON object.
Nothing connects to the database or the broker. A missing required variable fails here
exactly as it would in the container.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _task_route_queues(routes: Any) -> list[str]:
    if isinstance(routes, dict):
        return [route["queue"] for route in routes.values() if isinstance(route, dict)]
    return []


def main() -> None:
    sys.path.insert(0, os.getcwd())  # the service's own packages: config, its apps

    import django
    from django.conf import settings

    django.setup()

    from django.core.management import get_commands

    import config.wsgi
    from clipcart_shared.outbox.services import event_handlers
    from config.celery import app as celery_app

    database = settings.DATABASES["default"]
    report = {
        "settings_module": os.environ["DJANGO_SETTINGS_MODULE"],
        "service_name": settings.SERVICE_NAME,
        "has_wsgi_application": callable(getattr(config.wsgi, "application", None)),
        "celery_app": celery_app.main,
        "commands": sorted(get_commands()),
        "debug": settings.DEBUG,
        "has_secret_key": bool(settings.SECRET_KEY),
        "service_auth_keys": len(settings.SERVICE_AUTH_KEYS),
        "database": {
            "name": database["NAME"],
            "host": database["HOST"],
            "port": str(database["PORT"]),
        },
        "broker_url": settings.CELERY_BROKER_URL,
        "default_queue": settings.CELERY_TASK_DEFAULT_QUEUE,
        "event_routes": settings.EVENT_ROUTES,
        "event_handlers": sorted(event_handlers()),
        "task_route_queues": _task_route_queues(getattr(settings, "CELERY_TASK_ROUTES", None)),
        "static_root": str(settings.STATIC_ROOT) if settings.STATIC_ROOT else None,
        "static_url": settings.STATIC_URL,
        "catalog_url": getattr(settings, "CATALOG_URL", None),
        "video_url": getattr(settings, "VIDEO_URL", None),
        "stripe_api_base": getattr(settings, "STRIPE_API_BASE", None),
    }
    sys.stdout.write(json.dumps(report))


if __name__ == "__main__":
    main()

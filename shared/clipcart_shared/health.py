"""`/healthz` (the process answers) and `/readyz` (its database and broker answer)."""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.urls import URLPattern, path

logger = logging.getLogger(__name__)


def healthz(request: HttpRequest) -> JsonResponse:
    """Alive: no dependency is touched, so a slow database never restarts the process."""
    return JsonResponse({"status": "ok"})


def _database_is_reachable() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        logger.warning("Readiness: the database does not answer", exc_info=True)
        return False


def _broker_is_reachable() -> bool:
    from celery import current_app

    try:
        with current_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        logger.warning("Readiness: the broker does not answer", exc_info=True)
        return False


def readyz(request: HttpRequest) -> JsonResponse:
    """Ready: 200 when the database and the broker answer, else 503 naming which does not."""
    checks = {"database": _database_is_reachable(), "broker": _broker_is_reachable()}
    is_ready = all(checks.values())
    return JsonResponse(
        {"status": "ok" if is_ready else "unavailable", "checks": checks},
        status=200 if is_ready else 503,
    )


def health_urlpatterns() -> list[URLPattern]:
    return [path("healthz", healthz, name="healthz"), path("readyz", readyz, name="readyz")]

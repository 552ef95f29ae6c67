"""Structured JSON logs: one object a line, carrying the service name and the request id."""

from __future__ import annotations

import logging
from typing import Any

from clipcart_shared.request_id import get_request_id


class ContextFilter(logging.Filter):
    """Stamp every record with the service and the current request id."""

    def __init__(self, service: str = "") -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        record.request_id = get_request_id()
        return True


def logging_config(*, service: str, level: str = "INFO", json: bool = True) -> dict[str, Any]:
    """A `LOGGING` dict for Django: JSON lines on stderr (or plain text when `json` is off)."""
    formatter = (
        {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        }
        if json
        else {
            "format": "%(asctime)s %(levelname)s [%(service)s %(request_id)s] %(name)s: %(message)s"
        }
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter, "service": service}},
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            # Request errors are logged by our own exception handler with the request id.
            "django.request": {"level": "ERROR", "propagate": True},
            "django.db.backends": {"level": "INFO"},
        },
    }

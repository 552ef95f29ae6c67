"""`manage.py event_handlers`: what this service publishes and consumes, as JSON.

`{"routes": {type: [queue, ...]}, "handlers": {type: "module.function"}}` from the
settings `EVENT_ROUTES` and the table `EVENT_HANDLERS` names (ADR 19): where an event of a
type goes, and which function applies it here, without grepping for the type's string.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from clipcart_shared.outbox.services import event_handlers


class Command(BaseCommand):
    help = "Print this service's event routes and handlers as JSON."

    def handle(self, *args: Any, **options: Any) -> None:
        report = {
            "routes": settings.EVENT_ROUTES,
            "handlers": {
                event_type: f"{handler.__module__}.{handler.__qualname__}"
                for event_type, handler in sorted(event_handlers().items())
            },
        }
        self.stdout.write(json.dumps(report, indent=2, sort_keys=True))

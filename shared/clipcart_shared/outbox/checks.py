"""`manage.py check` fails when the service's table of event handlers cannot be loaded,
so a worker never starts that would drop (or retry forever) every event it is sent."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register


@register()
def event_handlers_check(**kwargs: Any) -> list[Error]:
    from clipcart_shared.outbox.services import event_handlers

    try:
        table = event_handlers()
    except ImportError as error:
        return [Error(f"EVENT_HANDLERS cannot be imported: {error}", id="outbox.E001")]
    return [
        Error(f"The handler of {event_type!r} in EVENT_HANDLERS is not callable.", id="outbox.E002")
        for event_type, handler in table.items()
        if not callable(handler)
    ]

"""The events catalog consumes, each with the function that applies it: none.

The relay delivers an event to `catalog.events` only if some producer routes one there;
`clipcart_shared.outbox.services.event_consume` looks its type up in this table (ADR 19).
"""

from __future__ import annotations

from collections.abc import Mapping

from clipcart_shared.outbox.services import EventHandler

EVENT_HANDLERS: Mapping[str, EventHandler] = {}

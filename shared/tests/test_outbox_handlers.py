"""A service's event handlers are one table, named by `EVENT_HANDLERS` (ADR 19)."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.core.management import call_command

from clipcart_shared.outbox.checks import event_handlers_check
from clipcart_shared.outbox.models import ProcessedEvent
from clipcart_shared.outbox.services import EventHandler, event_consume

APPLIED: list[str] = []


def thing_happened_apply(envelope: dict) -> None:
    APPLIED.append(envelope["subject"])


EVENT_HANDLERS: dict[str, EventHandler] = {"thing.happened": thing_happened_apply}
NOT_CALLABLE = {"thing.happened": "thing_happened_apply"}


@pytest.fixture(autouse=True)
def _table(settings):
    settings.EVENT_HANDLERS = f"{__name__}.EVENT_HANDLERS"
    settings.EVENT_ROUTES = {"thing.done": ["other.events"]}
    APPLIED.clear()


def _envelope(event_type: str) -> dict:
    return {"id": str(uuid.uuid4()), "type": event_type, "subject": "s1", "data": {}}


@pytest.mark.django_db
def test_an_event_is_applied_by_the_handler_its_type_has_in_the_table():
    assert event_consume(envelope=_envelope("thing.happened")) is True
    assert APPLIED == ["s1"]


@pytest.mark.django_db
def test_a_type_missing_from_the_table_is_dropped_and_not_marked_processed():
    assert event_consume(envelope=_envelope("thing.unheard")) is False
    assert APPLIED == []
    assert ProcessedEvent.objects.count() == 0


@pytest.mark.django_db
def test_no_table_means_no_event_is_applied(settings):
    settings.EVENT_HANDLERS = ""
    assert event_consume(envelope=_envelope("thing.happened")) is False
    assert APPLIED == []


def test_the_check_passes_a_table_of_functions():
    assert event_handlers_check() == []


def test_the_check_fails_a_table_that_cannot_be_imported(settings):
    settings.EVENT_HANDLERS = f"{__name__}.NO_SUCH_TABLE"
    assert [error.id for error in event_handlers_check()] == ["outbox.E001"]
    settings.EVENT_HANDLERS = "no_such_module.EVENT_HANDLERS"
    assert [error.id for error in event_handlers_check()] == ["outbox.E001"]


def test_the_check_fails_a_handler_that_is_not_a_function(settings):
    settings.EVENT_HANDLERS = f"{__name__}.NOT_CALLABLE"
    [error] = event_handlers_check()
    assert (error.id, error.msg) == (
        "outbox.E002",
        "The handler of 'thing.happened' in EVENT_HANDLERS is not callable.",
    )


def test_the_event_handlers_command_says_what_goes_where():
    out = io.StringIO()
    call_command("event_handlers", stdout=out)
    assert json.loads(out.getvalue()) == {
        "routes": {"thing.done": ["other.events"]},
        "handlers": {"thing.happened": f"{__name__}.thing_happened_apply"},
    }

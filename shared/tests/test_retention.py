"""Retention of the shared tables: relayed outbox events and processed-event rows go after
their setting's days, in batches, and one row that cannot go never stops the others."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import connection
from django.utils import timezone

from clipcart_shared.outbox.models import OutboxEvent, ProcessedEvent
from clipcart_shared.outbox.services import outbox_prune, processed_events_prune
from clipcart_shared.outbox.tasks import prune, prune_processed_events
from clipcart_shared.retention import rows_delete, rows_retire
from clipcart_shared.settings import SHARED_BEAT_SCHEDULE

pytestmark = pytest.mark.django_db


def _processed(days_ago: float) -> ProcessedEvent:
    row = ProcessedEvent.objects.create(
        event_id=uuid.uuid4(), consumer="tests", event_type="thing.happened"
    )
    ProcessedEvent.objects.filter(id=row.id).update(
        processed_at=timezone.now() - timedelta(days=days_ago)
    )
    return row


def _outbox(*, relayed_days_ago: float | None, days_ago: float) -> OutboxEvent:
    now = timezone.now()
    return OutboxEvent.objects.create(
        type="thing.happened",
        source="tests",
        subject="x",
        data={},
        time=now - timedelta(days=days_ago),
        published_at=None if relayed_days_ago is None else now - timedelta(days=relayed_days_ago),
    )


def _ids(model) -> set:
    return set(model.objects.values_list("id", flat=True))


def test_processed_events_older_than_the_setting_are_deleted_and_recent_ones_kept(settings):
    settings.PROCESSED_EVENT_RETENTION_DAYS = 30
    old = [_processed(31), _processed(400)]
    recent = [_processed(29), _processed(0)]

    deleted = processed_events_prune()

    assert deleted == 2
    assert _ids(ProcessedEvent) == {row.id for row in recent}
    assert not {row.id for row in old} & _ids(ProcessedEvent)


def test_the_processed_event_setting_is_respected(settings):
    kept, gone = _processed(5), _processed(11)
    settings.PROCESSED_EVENT_RETENTION_DAYS = 10

    assert processed_events_prune() == 1
    assert _ids(ProcessedEvent) == {kept.id}
    assert gone.id not in _ids(ProcessedEvent)


def test_relayed_outbox_events_go_after_the_setting_and_unrelayed_ones_never(settings):
    settings.OUTBOX_RETENTION_DAYS = 7
    relayed_long_ago = _outbox(relayed_days_ago=8, days_ago=8)
    relayed_recently = _outbox(relayed_days_ago=6, days_ago=30)
    never_relayed = _outbox(relayed_days_ago=None, days_ago=90)

    assert outbox_prune() == 1
    assert _ids(OutboxEvent) == {relayed_recently.id, never_relayed.id}
    assert relayed_long_ago.id not in _ids(OutboxEvent)

    settings.OUTBOX_RETENTION_DAYS = 5
    assert outbox_prune() == 1
    assert _ids(OutboxEvent) == {never_relayed.id}


def test_rows_go_in_batches_of_the_given_size(settings):
    settings.PROCESSED_EVENT_RETENTION_DAYS = 1
    for _ in range(7):
        _processed(3)

    deleted = processed_events_prune(batch_size=3)

    assert deleted == 7
    assert ProcessedEvent.objects.count() == 0


def _refuse_deleting(row_id: int) -> None:
    # A row the database will not let go (as a foreign key or a trigger of some later
    # migration might): deleting it raises.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION pg_temp.refuse_delete() RETURNS trigger AS $$
            BEGIN
              IF OLD.id = %s THEN RAISE EXCEPTION 'row % may not go', OLD.id; END IF;
              RETURN OLD;
            END $$ LANGUAGE plpgsql
            """.replace("%s", str(int(row_id))),
        )
        cursor.execute(
            f"CREATE TRIGGER refuse_delete BEFORE DELETE ON {ProcessedEvent._meta.db_table} "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse_delete()"
        )


def test_one_row_that_cannot_go_is_logged_and_skipped_and_the_others_still_go(settings, caplog):
    settings.PROCESSED_EVENT_RETENTION_DAYS = 1
    rows = [_processed(3) for _ in range(5)]
    bad = rows[2]
    _refuse_deleting(bad.id)

    with caplog.at_level(logging.WARNING, logger="clipcart_shared.retention"):
        deleted = processed_events_prune(batch_size=2)

    assert deleted == 4
    assert _ids(ProcessedEvent) == {bad.id}
    skipped = [
        record for record in caplog.records if record.getMessage() == "Retention skipped a row"
    ]
    assert [(record.retention, record.row_id) for record in skipped] == [
        ("processed_events", str(bad.id))
    ]


def test_every_service_schedules_both_shared_retention_tasks(settings):
    settings.PROCESSED_EVENT_RETENTION_DAYS = 1
    _processed(2)
    schedule = {entry["task"]: entry["schedule"] for entry in SHARED_BEAT_SCHEDULE.values()}

    assert schedule[prune.name] == schedule[prune_processed_events.name] == 6 * 3600
    assert prune_processed_events.apply().get() == 1


def test_running_out_of_time_stops_the_run_and_keeps_what_was_done():
    # Celery's soft time limit is not a bad row: the run stops, the batches done stay.
    rows = [_processed(3) for _ in range(4)]
    calls = []

    def delete_then_run_out_of_time(batch):
        calls.append(1)
        if len(calls) == 2:
            raise SoftTimeLimitExceeded()
        return rows_delete(batch)

    with pytest.raises(SoftTimeLimitExceeded):
        rows_retire(
            queryset=ProcessedEvent.objects.all(),
            retire=delete_then_run_out_of_time,
            name="test",
            batch_size=2,
        )

    assert len(calls) == 2  # not tried again row by row
    assert _ids(ProcessedEvent) == {row.id for row in rows[2:]}

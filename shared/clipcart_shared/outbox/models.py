from __future__ import annotations

import uuid

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class OutboxEvent(models.Model):
    """An event waiting to be (or already) relayed to the broker. CloudEvents field names."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=100)
    source = models.CharField(max_length=100)
    subject = models.CharField(max_length=200)
    time = models.DateTimeField(default=timezone.now)
    data = models.JSONField(encoder=DjangoJSONEncoder)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["time"]
        indexes = [
            models.Index(
                fields=["time"],
                name="outbox_unpublished_idx",
                condition=models.Q(published_at__isnull=True),
            ),
            # Retention finds the relayed events past their days without a table scan.
            models.Index(
                fields=["published_at"],
                name="outbox_relayed_idx",
                condition=models.Q(published_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.subject}"

    def envelope(self) -> dict[str, object]:
        """The message body subscribers receive."""
        return {
            "id": str(self.id),
            "type": self.type,
            "source": self.source,
            "time": self.time.isoformat(),
            "subject": self.subject,
            "data": self.data,
        }


class ProcessedEvent(models.Model):
    """One row per (event, consumer) applied: the database, not a check, makes it once."""

    event_id = models.UUIDField()
    consumer = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100)
    processed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "consumer"], name="processed_event_once")
        ]
        # Retention finds the rows past their days without a table scan.
        indexes = [models.Index(fields=["processed_at"], name="processed_event_age_idx")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} by {self.consumer}"

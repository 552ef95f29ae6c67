from __future__ import annotations

from django.db import models


class SweepBackoff(models.Model):
    """A row a periodic task failed on: skipped until `retry_at`, each failure doubling
    the wait, so one bad row is retried but never stops the task's other rows."""

    task = models.CharField(max_length=100)
    key = models.CharField(max_length=255)
    failures = models.PositiveIntegerField(default=1)
    retry_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "key"], name="sweep_backoff_once"),
        ]
        indexes = [models.Index(fields=["task", "retry_at"], name="sweep_backoff_due_idx")]

    def __str__(self) -> str:
        return f"{self.task} {self.key} ({self.failures} failures)"

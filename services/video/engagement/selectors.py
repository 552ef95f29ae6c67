"""Reading engagement: each video's counts over a range of UTC days, current to the last
event. Days before today come from the roll-up (`DailyVideoStats`, recounted every
`stats_roll_up` run: events arrive up to 7 days late); today is counted from the events
themselves at every read, so a view a minute old is in the numbers (ADR 28)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, Sum
from django.utils import timezone

from engagement.models import DailyVideoStats, EngagementEvent

# The counts the reports show, each an `EngagementEvent.Type` counted once per event.
COUNTED = {
    "impressions": EngagementEvent.Type.IMPRESSION,
    "views": EngagementEvent.Type.VIEW,
    "tag_taps": EngagementEvent.Type.TAG_TAP,
}


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def engagement_by_video(
    *, video_ids: Iterable[uuid.UUID], start: date, end: date
) -> dict[uuid.UUID, dict[str, int]]:
    """{video id: {"impressions", "views", "tag_taps"}} summed over the UTC days `start`
    to `end` (both included) for the videos that had any. One query for the days before
    today, one for today (live from the events)."""
    video_ids = list(video_ids)
    totals: dict[uuid.UUID, dict[str, int]] = {}

    def add(video_id: uuid.UUID, counts: dict[str, int]) -> None:
        row = totals.setdefault(video_id, dict.fromkeys(COUNTED, 0))
        for name in COUNTED:
            row[name] += int(counts[name] or 0)

    today = timezone.now().astimezone(UTC).date()
    rolled_end = min(end, today - timedelta(days=1))
    if video_ids and start <= rolled_end:
        for row in (
            DailyVideoStats.objects.filter(
                video_id__in=video_ids, day__gte=start, day__lte=rolled_end
            )
            .values("video_id")
            .annotate(**{name: Sum(name) for name in COUNTED})
        ):
            add(row["video_id"], row)
    if video_ids and start <= today <= end:
        for row in (
            EngagementEvent.objects.filter(
                video_id__in=video_ids,
                occurred_at__gte=_day_start(today),
                occurred_at__lt=_day_start(today + timedelta(days=1)),
            )
            .values("video_id")
            .annotate(
                **{
                    name: Count("event_id", filter=Q(type=event_type))
                    for name, event_type in COUNTED.items()
                }
            )
        ):
            add(row["video_id"], row)
    return totals

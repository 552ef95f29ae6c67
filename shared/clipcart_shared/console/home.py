"""The admin's home page: the numbers a service owns, above Django's list of models.

Each service names a `function(request) -> list[Panel]` in its `CONSOLE_HOME` setting
(catalog: stock; video: attributed sales and today's engagement; checkout: sales, orders
and what to ship), built from its own tables only and scoped with the admin's own
`request_merchant_ids` — the numbers of merchant staff are their merchants', platform
staff see every merchant's plus the health of the service's pipes (ADR 28). Every number
links to the admin list behind it, with filters that list accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone

from clipcart_shared.outbox.models import OutboxEvent


@dataclass(frozen=True)
class Figure:
    """One number: what it counts, its value as shown, and the list behind it."""

    label: str
    value: str
    url: str = ""
    hint: str = ""


@dataclass(frozen=True)
class Cell:
    text: str
    url: str = ""


@dataclass(frozen=True)
class Table:
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    empty: str = "Nothing yet."


@dataclass(frozen=True)
class Bar:
    """One bar of a chart: `height` in percent of the highest bar."""

    label: str
    text: str
    height: float
    url: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    note: str = ""


def changelist_url(model_admin_name: str, /, **filters: Any) -> str:
    """The admin list `app_model` with `filters` as its query (the names Django's change
    list takes: a field lookup such as `paid_at__gte`, or a list filter's parameter)."""
    url = reverse(f"admin:{model_admin_name}_changelist")
    return f"{url}?{urlencode(filters)}" if filters else url


def day_start(day: date) -> datetime:
    """The start of a UTC day (the admins count days in UTC, as the reports do)."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def last_days(count: int) -> list[date]:
    """The last `count` UTC days, oldest first, today last."""
    today = timezone.now().astimezone(UTC).date()
    return [today - timedelta(days=count - 1 - offset) for offset in range(count)]


def bars(values: list[tuple[str, str, int, str]]) -> list[Bar]:
    """Chart bars from (label, text, value, url), scaled to the highest value."""
    highest = max((value for _, _, value, _ in values), default=0)
    return [
        Bar(label, text, round(value / highest * 100, 1) if highest > 0 else 0.0, url)
        for label, text, value, url in values
    ]


def outbox_figure() -> Figure:
    """The outbox backlog: events written and not yet relayed to the broker, and how long
    the oldest has waited (a relay that stopped shows here first). One query."""
    waiting = OutboxEvent.objects.filter(published_at__isnull=True).aggregate(
        count=Count("id"), oldest=Min("time")
    )
    hint = ""
    if waiting["oldest"] is not None:
        seconds = int((timezone.now() - waiting["oldest"]).total_seconds())
        hint = f"oldest waiting {max(seconds, 0)} s"
    return Figure(
        "Outbox events not yet sent",
        str(waiting["count"]),
        changelist_url("outbox_outboxevent", published_at__isempty="1"),
        hint,
    )

"""Video's admin home (`CONSOLE_HOME`, ADR 28): for the user's merchants, what attribution
credits — today and over the last 7 days, to videos or to no video — the top videos and
creators by attributed net, and today's engagement of the videos tagging their products,
counted live from the events. Every number links to the sales report behind it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from attribution.admin import report_default_model
from attribution.models import AttributionModel
from attribution.reports import Report, merchant_report, report_currencies
from attribution.selectors import DayRange
from clipcart_shared.admin import request_merchant_ids
from clipcart_shared.console.home import Cell, Figure, Panel, Table, last_days, outbox_figure
from clipcart_shared.money import Money

DAYS = 7
TOP = 5


def _report_url(report: Report, **extra: Any) -> str:
    query = {
        "start": report.days.start.isoformat(),
        "end": report.days.end.isoformat(),
        "model": report.model,
        "currency": report.currency,
        "by": report.by,
        **extra,
    }
    return f"{reverse('admin:attribution_salesreport_changelist')}?{urlencode(query)}"


def _sales_figures(report: Report) -> list[Figure]:
    attributed = [row for row in report.rows if row.key is not None]
    unattributed = next((row for row in report.rows if row.key is None), None)
    attributed_net = sum(row.net for row in attributed)
    url = _report_url(report)
    return [
        Figure(
            "Attributed net",
            Money(attributed_net, report.currency).format(),
            url,
            "credited to videos",
        ),
        Figure(
            "Unattributed net",
            Money(unattributed.net if unattributed else 0, report.currency).format(),
            url,
            "no video drove the sale",
        ),
        Figure("Orders", str(report.total.orders), url),
        Figure("Units", str(report.total.units), url),
    ]


def _engagement_figures(report: Report) -> list[Figure]:
    url = _report_url(report)
    return [
        Figure("Views", str(report.total.views), url, "live"),
        Figure("Impressions", str(report.total.impressions), url, "live"),
        Figure("Tag taps", str(report.total.tag_taps), url, "live"),
    ]


def _top(report: Report, title: str, *, chart: bool) -> Table:
    rows = [row for row in report.rows if row.key is not None and row.net > 0][:TOP]
    return Table(
        title,
        [report.by.title(), "Attributed net", "Orders", "Units", "Views"],
        [
            [
                Cell(
                    row.label, _report_url(report, video=row.key) if chart else _report_url(report)
                ),
                Cell(Money(row.net, report.currency).format()),
                Cell(str(row.orders)),
                Cell(str(row.units)),
                Cell(str(row.views)),
            ]
            for row in rows
        ],
        empty="No attributed sale yet.",
    )


def home_panels(request: HttpRequest) -> list[Panel]:
    """The panels of video's admin home for this user: three reports of the sales report's
    own queries (at most six each), whatever the number of videos or sales."""
    merchant_ids = request_merchant_ids(request)
    days = last_days(DAYS)
    currency = (report_currencies(merchant_ids=merchant_ids) or ["EUR"])[0]
    model = report_default_model(merchant_ids)
    options: dict[str, Any] = {
        "merchant_ids": merchant_ids,
        "model": model,
        "currency": currency,
    }
    today = merchant_report(**options, days=DayRange(days[-1], days[-1]), by="video")
    week = DayRange(days[0], days[-1])
    by_video = merchant_report(**options, days=week, by="video")
    by_creator = merchant_report(**options, days=week, by="creator")
    label = AttributionModel(model).label
    panels = [
        Panel(
            "Today",
            [*_sales_figures(today), *_engagement_figures(today)],
            note=f"Attribution model: {label} (the merchant's default). Views, impressions "
            "and tag taps of the videos tagging your products, counted from the events as "
            "they arrive.",
        ),
        Panel(
            f"Last {DAYS} days",
            _sales_figures(by_video),
            tables=[
                _top(by_video, "Top videos by attributed net", chart=True),
                _top(by_creator, "Top creators by attributed net", chart=False),
            ],
            note=f"From {week.start} to {week.end} (UTC days of payment), refunds since deducted.",
        ),
    ]
    if merchant_ids is None:
        panels.append(Panel("Pipes", [outbox_figure()]))
    return panels

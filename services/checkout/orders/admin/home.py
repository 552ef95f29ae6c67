"""Checkout's admin home (`CONSOLE_HOME`, ADR 28): today's and the last 7 days' sales of
the user's merchants, what waits to be shipped or decided, and for platform staff the
pipes of payments. Each number links to the order list (or log) that holds it."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest

from clipcart_shared.admin import request_merchant_ids
from clipcart_shared.console.home import (
    Figure,
    Panel,
    bars,
    changelist_url,
    day_start,
    last_days,
    outbox_figure,
)
from clipcart_shared.money import Money
from orders.home_selectors import (
    WEBHOOK_FAILED,
    DaySales,
    orders_to_ship_count,
    payment_pipes,
    returns_to_decide_count,
    sales_by_day,
)
from payments.creator_audit import creator_balances_audit
from payments.ledger import ledger_audit
from payments.models import MerchantTransfer

DAYS = 7
ORDERS = "orders_order"
# Shown when nothing was sold yet (a money amount needs a currency).
DEFAULT_CURRENCY = "EUR"


def _paid(first: date, last: date, **filters: str) -> str:
    """The order list of the orders paid from `first` to `last` (UTC days, included)."""
    return changelist_url(
        ORDERS,
        paid_at__gte=day_start(first).isoformat(),
        paid_at__lt=day_start(last + timedelta(days=1)).isoformat(),
        **filters,
    )


def _sum(rows: list[DaySales], currency: str, first: date, last: date) -> DaySales:
    total = DaySales(day=first, currency=currency)
    for row in rows:
        if row.currency == currency and first <= row.day <= last:
            total.add(row)
    return total


def _sales_figures(sales: DaySales, first: date, last: date) -> list[Figure]:
    def money(amount: int) -> str:
        return Money(amount, sales.currency).format()

    return [
        Figure(
            "Net sales", money(sales.net), _paid(first, last), f"{money(sales.refunds)} refunded"
        ),
        Figure("Orders", str(sales.orders), _paid(first, last)),
        Figure("Units", str(sales.units), _paid(first, last)),
        Figure(
            "Net from videos",
            money(sales.net_from_video),
            _paid(first, last, from_video="yes"),
            f"{sales.orders_from_video} orders, {sales.units_from_video} units",
        ),
        Figure(
            "Net not from a video",
            money(sales.net - sales.net_from_video),
            _paid(first, last, from_video="no"),
            f"{sales.orders - sales.orders_from_video} orders, "
            f"{sales.units - sales.units_from_video} units",
        ),
    ]


def home_panels(request: HttpRequest) -> list[Panel]:
    """The panels of checkout's admin home for this user: three queries (sales, orders
    to ship, returns to decide), three more for platform staff's pipes, whatever the
    number of orders."""
    merchant_ids = request_merchant_ids(request)
    days = last_days(DAYS)
    first, today = days[0], days[-1]
    rows = sales_by_day(merchant_ids=merchant_ids, since=day_start(first))
    currencies = sorted({row.currency for row in rows}) or [DEFAULT_CURRENCY]
    panels: list[Panel] = []
    for currency in currencies:
        suffix = f" ({currency})" if len(currencies) > 1 else ""
        week = _sum(rows, currency, first, today)
        chart = [
            (
                day.strftime("%a %d"),
                Money(daily.net, currency).format(),
                daily.net,
                _paid(day, day),
            )
            for day in days
            for daily in [_sum(rows, currency, day, day)]
        ]
        panels += [
            Panel(
                f"Today{suffix}",
                _sales_figures(_sum(rows, currency, today, today), today, today),
            ),
            Panel(
                f"Last {DAYS} days{suffix}",
                _sales_figures(week, first, today),
                bars=bars(chart),
                note="Sales count on the UTC day the order was paid, less what was refunded "
                'on them since; shipping is not included. "From videos": lines the buyer '
                "picked from a video; video's admin shows what attribution credits.",
            ),
        ]
    panels.append(
        Panel(
            "To do",
            [
                Figure(
                    "Orders waiting to ship",
                    str(orders_to_ship_count(merchant_ids=merchant_ids)),
                    changelist_url(ORDERS, to_ship="yes"),
                ),
                Figure(
                    "Returns to decide",
                    str(returns_to_decide_count(merchant_ids=merchant_ids)),
                    changelist_url("orders_orderreturn", status__exact="requested"),
                ),
            ],
        )
    )
    if merchant_ids is None:
        pipes = payment_pipes()
        panels.append(
            Panel(
                "Pipes",
                [
                    outbox_figure(),
                    Figure(
                        "Stripe events waiting",
                        str(pipes.webhooks_waiting),
                        changelist_url("payments_webhookevent", status__exact="received"),
                    ),
                    Figure(
                        "Stripe events failed or mismatched",
                        str(pipes.webhooks_failed),
                        changelist_url(
                            "payments_webhookevent", status__in=",".join(WEBHOOK_FAILED)
                        ),
                    ),
                    Figure(
                        "Refunds failed",
                        str(pipes.refunds_failed),
                        changelist_url(ORDERS, refund="failed"),
                    ),
                    Figure(
                        "Refunds pending over 10 minutes",
                        str(pipes.refunds_stuck),
                        changelist_url(ORDERS, refund="stuck"),
                    ),
                ],
            )
        )
        panels.append(ledger_panel())
    return panels


UNSENT = [MerchantTransfer.Status.WAITING, MerchantTransfer.Status.SENDING]


def ledger_panel() -> Panel:
    """Platform staff's check of the books (ADR 30): the sum of all postings per currency
    (0 when they balance), and the transfers waiting for an account or being sent."""
    audit = ledger_audit()
    totals = ", ".join(
        Money(total, currency).format() for currency, total in sorted(audit.totals.items())
    )
    return Panel(
        "Ledger",
        [
            Figure(
                "Ledger audit",
                "balanced" if audit.is_balanced else "NOT BALANCED",
                changelist_url("payments_ledgerentry"),
                f"sum of postings per currency: {totals or 'none yet'}; "
                f"{audit.unbalanced_entries} unbalanced entries",
            ),
            Figure(
                "Transfers waiting",
                str(
                    MerchantTransfer.objects.filter(
                        status__in=[
                            MerchantTransfer.Status.WAITING,
                            MerchantTransfer.Status.SENDING,
                        ]
                    ).count()
                ),
                changelist_url("payments_merchanttransfer", status__in=",".join(UNSENT)),
            ),
            creators_figure(),
        ],
    )


def creators_figure() -> Figure:
    """Checkout's commission owed to creators against video's creator balances (ADR
    0099), per merchant and currency."""
    audit = creator_balances_audit()
    # The entries that move what is owed to creators: settlements and creators' payouts.
    url = changelist_url("payments_ledgerentry", kind="creator_payout")
    if audit.unavailable:
        return Figure("Creator balances", "not checked", url, "video did not answer")
    if audit.is_matching:
        return Figure(
            "Creator balances", "match video", url, f"as of {audit.before:%Y-%m-%d %H:%M} UTC"
        )
    shown = "; ".join(
        f"merchant {d['merchant_id']} {d['currency']}: ledger {d['checkout']}, video {d['video']}"
        for d in audit.differences[:5]
    )
    return Figure(
        "Creator balances",
        f"DIFFER ({len(audit.differences)})",
        url,
        f"as of {audit.before:%Y-%m-%d %H:%M} UTC, minor units: {shown}",
    )

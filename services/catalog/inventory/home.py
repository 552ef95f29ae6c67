"""Catalog's admin home (`CONSOLE_HOME`, ADR 28): the user's merchants' variants low on
or out of stock, the ones with the fewest units, and for platform staff the pipes —
the outbox and reservations past their end the sweep has not released yet."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from clipcart_shared.admin import request_merchant_ids
from clipcart_shared.console.home import Cell, Figure, Panel, Table, changelist_url, outbox_figure
from inventory.models import Reservation
from products.selectors import stock_level_counts, variants_lowest_on_stock

VARIANTS = "products_variant"


def home_panels(request: HttpRequest) -> list[Panel]:
    """The panels of catalog's admin home for this user: two queries, two more for
    platform staff's pipes, whatever the number of variants."""
    merchant_ids = request_merchant_ids(request)
    counts = stock_level_counts(merchant_ids=merchant_ids)
    lowest = variants_lowest_on_stock(merchant_ids=merchant_ids)
    stock = Panel(
        "Stock",
        [
            Figure(
                "Variants low on stock",
                str(counts["low"]),
                changelist_url(VARIANTS, stock="low"),
                f"1 to {settings.LOW_STOCK_THRESHOLD} units available",
            ),
            Figure(
                "Variants out of stock",
                str(counts["out"]),
                changelist_url(VARIANTS, stock="out"),
            ),
        ],
        tables=[
            Table(
                "Fewest units available (on hand less reserved for open checkouts)",
                ["SKU", "Product", "Available"],
                [
                    [
                        Cell(
                            variant.sku,
                            reverse("admin:products_variant_change", args=[variant.pk]),
                        ),
                        Cell(variant.product.title),
                        Cell(str(max(variant.quantity_on_hand - variant.quantity_reserved, 0))),
                    ]
                    for variant in lowest
                ],
                empty="No variant on sale is low on stock.",
            )
        ],
        note="Active products only: drafts and archived products are not on sale.",
    )
    if merchant_ids is not None:
        return [stock]
    now = timezone.now()
    overdue = Reservation.objects.filter(
        status=Reservation.Status.ACTIVE, expires_at__lt=now
    ).count()
    return [
        stock,
        Panel(
            "Pipes",
            [
                outbox_figure(),
                Figure(
                    "Reservations past their end, not released",
                    str(overdue),
                    changelist_url(
                        "inventory_reservation",
                        status__exact="active",
                        expires_at__lt=now.isoformat(),
                    ),
                    "the expiry sweep releases them",
                ),
            ],
        ),
    ]

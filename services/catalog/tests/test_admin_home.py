"""Catalog's admin home (ADR 28): the variants of active products low on stock (1 to
LOW_STOCK_THRESHOLD available) or out of it, of the user's merchants only, each count
linking to the variant list filtered to what it counted; platform staff also see the
outbox and overdue reservations."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clipcart_shared.outbox.models import OutboxEvent
from inventory.models import Reservation
from merchants.models import Merchant
from products.models import Product
from tests.factories import ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db

HOME = "/catalog/admin/"


@pytest.fixture
def stock(merchant_a: Merchant, merchant_b: Merchant, settings) -> dict[str, Any]:
    """A: LOW-2 (2 available), LOW-5 (7 on hand, 2 reserved: 5), OUT (3 on hand, all
    reserved), PLENTY (6); a draft's variant with none is not on sale. B: B-LOW (1)."""
    settings.LOW_STOCK_THRESHOLD = 5
    lamp = ProductFactory(merchant=merchant_a, title="Lamp")
    draft = ProductFactory(merchant=merchant_a, title="Draft", status=Product.Status.DRAFT)
    other = ProductFactory(merchant=merchant_b, title="Harbor lamp")
    return {
        "low_2": VariantFactory(product=lamp, sku="LOW-2", quantity_on_hand=2),
        "low_5": VariantFactory(product=lamp, sku="LOW-5", quantity_on_hand=7, quantity_reserved=2),
        "out": VariantFactory(product=lamp, sku="OUT", quantity_on_hand=3, quantity_reserved=3),
        "plenty": VariantFactory(product=lamp, sku="PLENTY", quantity_on_hand=6),
        "draft": VariantFactory(product=draft, sku="DRAFT", quantity_on_hand=0),
        "b_low": VariantFactory(product=other, sku="B-LOW", quantity_on_hand=1),
    }


def _panels(response: Any) -> dict[str, Any]:
    assert response.status_code == 200
    return {panel.title: panel for panel in response.context["home_panels"]}


def _figures(response: Any) -> dict[str, Any]:
    return {
        figure.label: figure for panel in _panels(response).values() for figure in panel.figures
    }


def _listed_skus(client: Any, url: str) -> set[str]:
    response = client.get(url)
    # A filter the change list does not accept redirects to `?e=1`.
    assert response.status_code == 200, (url, response.get("Location"))
    return {variant.sku for variant in response.context["cl"].result_list}


def test_merchant_staff_see_their_variants_low_and_out_of_stock(staff_client, stock):
    response = staff_client.get(HOME)

    figures = _figures(response)
    assert figures["Variants low on stock"].value == "2"
    assert figures["Variants out of stock"].value == "1"
    (table,) = _panels(response)["Stock"].tables
    assert [[cell.text for cell in row] for row in table.rows] == [
        ["OUT", "Lamp", "0"],
        ["LOW-2", "Lamp", "2"],
        ["LOW-5", "Lamp", "5"],
    ]
    assert table.rows[0][0].url == f"/catalog/admin/products/variant/{stock['out'].pk}/change/"
    assert "Pipes" not in _panels(response)
    assert "B-LOW" not in response.content.decode()


def test_each_stock_count_links_to_the_variants_it_counted(staff_client, stock):
    figures = _figures(staff_client.get(HOME))

    assert _listed_skus(staff_client, figures["Variants low on stock"].url) == {"LOW-2", "LOW-5"}
    assert _listed_skus(staff_client, figures["Variants out of stock"].url) == {"OUT"}
    row_link = _panels(staff_client.get(HOME))["Stock"].tables[0].rows[0][0].url
    assert staff_client.get(row_link).status_code == 200


def test_platform_staff_see_every_merchant_and_the_pipes(superuser_client, stock):
    OutboxEvent.objects.create(type="product.changed", source="catalog", subject="x", data={})
    OutboxEvent.objects.filter(published_at__isnull=True).exclude(subject="x").update(
        published_at=timezone.now()
    )
    now = timezone.now()
    for key, status, expires_at in [
        ("overdue", "active", now - timedelta(minutes=1)),
        ("open", "active", now + timedelta(minutes=10)),
        ("done", "committed", now - timedelta(minutes=1)),
    ]:
        Reservation.objects.create(
            key=key, lines_fingerprint="x", status=status, expires_at=expires_at
        )

    response = superuser_client.get(HOME)

    figures = _figures(response)
    assert figures["Variants low on stock"].value == "3"  # B's one too
    assert figures["Outbox events not yet sent"].value == "1"
    assert figures["Reservations past their end, not released"].value == "1"
    assert _listed_skus(superuser_client, figures["Variants low on stock"].url) == {
        "LOW-2",
        "LOW-5",
        "B-LOW",
    }
    outbox = superuser_client.get(figures["Outbox events not yet sent"].url)
    assert outbox.status_code == 200
    assert [event.subject for event in outbox.context["cl"].result_list] == ["x"]
    overdue = superuser_client.get(figures["Reservations past their end, not released"].url)
    assert overdue.status_code == 200
    assert [reservation.key for reservation in overdue.context["cl"].result_list] == ["overdue"]


def _home_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(HOME).status_code == 200
    return len(queries)


def test_home_queries_do_not_grow_with_variants(
    staff_client, superuser_client, merchant_a, stock, django_assert_max_num_queries
):
    merchant_before, platform_before = _home_queries(staff_client), _home_queries(superuser_client)
    product = ProductFactory(merchant=merchant_a, title="Many")
    for index in range(20):
        VariantFactory(product=product, sku=f"MANY-{index}", quantity_on_hand=index % 4)

    assert _home_queries(staff_client) == merchant_before
    assert _home_queries(superuser_client) == platform_before
    # The page's own two (two more of pipes), beside the session, the sign-in, the user,
    # their merchants, permissions and the recent actions Django's index shows.
    with django_assert_max_num_queries(9):
        staff_client.get(HOME)
    with django_assert_max_num_queries(9):
        superuser_client.get(HOME)

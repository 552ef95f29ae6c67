"""The checkout admin: each merchant's staff see the orders holding their lines, and on
them only their lines and their share of the money; they refund their own lines, platform
staff any line or the whole order. Refunds go through the real Stripe SDK to the emulator.

Merchant A sells the demo variants of the `variants` fixture; merchant B is catalog's other
demo merchant (ids follow catalog's documented uuid5 convention, as `seed_demo` here).
Orders only looked at are rows made here; orders refunded are real: checked out against
the real catalog, paid on the emulator, and announced by a signed webhook.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carts.models import Cart
from clipcart_tools.testing.fixtures import signed_in
from core.management.commands.seed_demo import STAFF_PERMISSIONS
from orders.models import Order, OrderLine, Refund
from payments.models import StripeCustomer, WebhookEvent
from tests.admin.conftest import (
    ADMIN,
    ORDERS,
    REFUND_PERMISSION,
    _group,
    _inline_objects,
    _line,
    _line_of,
    _listed,
    _order,
    _staff,
)

pytestmark = pytest.mark.django_db

# --- the order list ---------------------------------------------------------------------------


def test_staff_list_only_orders_holding_their_lines_with_their_share_of_the_money(
    staff_client, order_of_a, order_of_both, order_of_b
):
    response = staff_client.get(f"{ORDERS}/")

    assert _listed(response) == {order_of_a.id, order_of_both.id}
    content = response.content.decode()
    assert "Your lines" in content
    assert "€62.00" in content  # A's line of the order of both
    assert "€84.65" not in content  # the buyer's total of that order
    assert order_of_b.email not in content


def test_superuser_lists_every_order_with_its_total(
    superuser_client, order_of_a, order_of_both, order_of_b
):
    response = superuser_client.get(f"{ORDERS}/")

    assert _listed(response) == {order_of_a.id, order_of_both.id, order_of_b.id}
    assert "€84.65" in response.content.decode()


def test_search_finds_an_order_by_its_whole_id_its_beginning_or_the_email(
    staff_client, order_of_a, order_of_both, order_of_b
):
    whole = str(order_of_both.id)

    def search(term: str) -> set[uuid.UUID]:
        return _listed(staff_client.get(f"{ORDERS}/", {"q": term}))

    assert search(whole) == {order_of_both.id}
    assert search(whole.upper()) == {order_of_both.id}
    assert search(whole[:8]) == {order_of_both.id}
    assert search(whole[:13]) == {order_of_both.id}  # with its hyphen
    assert search(whole[:13].replace("-", "")) == {order_of_both.id}
    assert search("ada@example") == {order_of_a.id}
    assert search("BO@EXAMPLE.COM") == {order_of_both.id}
    # Another merchant's order is not found, by id or email.
    assert search(str(order_of_b.id)) == set()
    assert search("cy@example.com") == set()


def test_filters_by_status_and_by_date(staff_client, order_of_a, order_of_both):
    Order.objects.filter(id=order_of_a.id).update(
        status=Order.Status.REFUNDED, created_at=datetime(2025, 1, 15, 12, tzinfo=UTC)
    )

    assert _listed(staff_client.get(f"{ORDERS}/", {"status__exact": "refunded"})) == {order_of_a.id}
    assert _listed(staff_client.get(f"{ORDERS}/", {"status__exact": "paid"})) == {order_of_both.id}
    january = {"created_at__year": "2025", "created_at__month": "1"}
    assert _listed(staff_client.get(f"{ORDERS}/", january)) == {order_of_a.id}
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    since_yesterday = {  # as the filter's own "Past 7 days" link, over two days
        "created_at__gte": str(today - timedelta(days=1)),
        "created_at__lt": str(today + timedelta(days=1)),
    }
    assert _listed(staff_client.get(f"{ORDERS}/", since_yesterday)) == {order_of_both.id}


# --- the order's page -----------------------------------------------------------------------


def test_staff_see_only_their_line_their_money_and_their_part_of_refunds_on_a_shared_order(
    staff_client, order_of_both, merchant_a, merchant_b
):
    line_a, line_b = _line_of(order_of_both, merchant_a), _line_of(order_of_both, merchant_b)
    Refund.objects.create(
        order=order_of_both,
        amount=2000,
        lines={str(line_a.id): 1500, str(line_b.id): 500},
        created_by="admin:platform",
    )
    Refund.objects.create(
        order=order_of_both, amount=300, lines={str(line_b.id): 300}, created_by="stripe"
    )
    OrderLine.objects.filter(id=line_a.id).update(refunded_amount=1500)

    response = staff_client.get(f"{ORDERS}/{order_of_both.id}/change/")

    assert [line.id for line in _inline_objects(response, OrderLine)] == [line_a.id]
    refunds = _inline_objects(response, Refund)
    assert [(refund.amount, refund.line_share) for refund in refunds] == [(2000, 1500)]
    content = response.content.decode()
    assert line_a.sku in content
    assert line_b.sku not in content
    # Their lines: €62.00, €15.00 refunded, €47.00 left; not the order's money.
    for theirs in ["€62.00", "€15.00", "€47.00"]:
        assert theirs in content, theirs
    for not_theirs in ["€84.65", "€79.75", "€4.90", "€20.00", "€3.00", "€17.75"]:
        assert not_theirs not in content, not_theirs
    assert order_of_both.payment_intent_id not in content
    assert f"{ORDERS}/{order_of_both.id}/refund/" in content  # the Refund button


def test_superuser_sees_every_line_every_refund_and_the_orders_money(
    superuser_client, order_of_both, merchant_a, merchant_b
):
    line_b = _line_of(order_of_both, merchant_b)
    Refund.objects.create(
        order=order_of_both, amount=300, lines={str(line_b.id): 300}, created_by="stripe"
    )

    response = superuser_client.get(f"{ORDERS}/{order_of_both.id}/change/")

    assert {line.merchant_id for line in _inline_objects(response, OrderLine)} == {
        merchant_a,
        merchant_b,
    }
    assert [refund.amount for refund in _inline_objects(response, Refund)] == [300]
    content = response.content.decode()
    for amount in ["€79.75", "€4.90", "€84.65", "€3.00"]:
        assert amount in content, amount


def test_another_merchants_order_is_404_on_every_page_and_for_unknown_ids(staff_client, order_of_b):
    for page in ["change", "history", "delete", "refund"]:
        assert staff_client.get(f"{ORDERS}/{order_of_b.id}/{page}/").status_code == 404, page
        assert staff_client.get(f"{ORDERS}/{uuid.uuid4()}/{page}/").status_code == 404, page
    response = staff_client.post(f"{ORDERS}/{order_of_b.id}/refund/", {"amount": "1.00"})
    assert response.status_code == 404
    assert Refund.objects.count() == 0


def test_nobody_adds_changes_or_deletes_an_order(superuser_client, staff_client, order_of_a):
    for client in (superuser_client, staff_client):
        assert client.get(f"{ORDERS}/add/").status_code == 403
        assert (
            client.post(f"{ORDERS}/{order_of_a.id}/change/", {"email": "x@y.z"}).status_code == 403
        )
        assert client.post(f"{ORDERS}/{order_of_a.id}/delete/", {"post": "yes"}).status_code == 403
        assert client.get(f"{ORDERS}/").context["action_form"] is None  # no bulk delete
    order_of_a.refresh_from_db()
    assert order_of_a.email == "ada@example.com"


def test_the_seeded_staff_group_may_refund():
    assert REFUND_PERMISSION in STAFF_PERMISSIONS


def test_staff_without_the_refund_permission_get_no_refund_button_and_403(
    seed_staff_client, order_of_a
):
    page = seed_staff_client.get(f"{ORDERS}/{order_of_a.id}/change/")
    assert page.status_code == 200
    assert "/refund/" not in page.content.decode()
    assert seed_staff_client.get(f"{ORDERS}/{order_of_a.id}/refund/").status_code == 403
    response = seed_staff_client.post(
        f"{ORDERS}/{order_of_a.id}/refund/", {"amount": "1.00", "refunded_when_shown": "0"}
    )
    assert response.status_code == 403
    assert Refund.objects.count() == 0


def test_the_list_and_the_page_take_as_many_queries_for_20_orders_or_lines_as_for_1(
    staff_client, variants, variant_b_row, merchant_a, merchant_b
):
    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_client.get(url).status_code == 200
        return len(captured)

    one = _order("one@example.com", [_line(variants[0], merchant_a, unit=100)])
    list_of_one = queries(f"{ORDERS}/")
    page_of_one = queries(f"{ORDERS}/{one.id}/change/")
    many_lines = [
        _line(variants[index % len(variants)], merchant_a, unit=100) for index in range(20)
    ]
    many = _order("many@example.com", [*many_lines, _line(variant_b_row, merchant_b, unit=100)])
    Refund.objects.create(
        order=many,
        amount=200,
        lines={str(line.id): 10 for line in many.lines.all()[:20]},
        created_by="stripe",
    )
    for index in range(18):
        _order(f"o{index}@example.com", [_line(variants[0], merchant_a, unit=100)])

    assert queries(f"{ORDERS}/") == list_of_one
    assert queries(f"{ORDERS}/{many.id}/change/") == page_of_one


# --- payments and carts ------------------------------------------------------------------------


def test_payments_and_carts_are_for_superusers_only_and_read_only(superuser_client, merchant_a):
    group = _group(
        "Staff given more",
        [
            *STAFF_PERMISSIONS,
            ("payments", "view_webhookevent"),
            ("payments", "view_stripecustomer"),
            ("carts", "view_cart"),
        ],
    )
    staff_client = signed_in(_staff("nosy-staff", merchant_a, group))
    event = WebhookEvent.objects.create(
        event_id="evt_1", type="payment_intent.succeeded", payload={"id": "evt_1"}
    )
    customer = StripeCustomer.objects.create(user_id="u1", customer_id="cus_1")
    cart = Cart.objects.create(user_id="u1")
    pages = {
        f"{ADMIN}/payments/webhookevent": event.pk,
        f"{ADMIN}/payments/stripecustomer": customer.pk,
        f"{ADMIN}/carts/cart": cart.pk,
    }

    for url, pk in pages.items():
        assert staff_client.get(f"{url}/").status_code == 403, url
        assert staff_client.get(f"{url}/{pk}/change/").status_code == 403, url
        assert superuser_client.get(f"{url}/").status_code == 200, url
        assert superuser_client.get(f"{url}/{pk}/change/").status_code == 200, url
        assert superuser_client.get(f"{url}/add/").status_code == 403, url
        assert superuser_client.post(f"{url}/{pk}/change/", {}).status_code == 403, url
        assert superuser_client.post(f"{url}/{pk}/delete/", {"post": "yes"}).status_code == 403
    index = staff_client.get(f"{ADMIN}/").content.decode()
    assert "webhookevent" not in index and "/carts/" not in index
    assert (
        WebhookEvent.objects.count() == StripeCustomer.objects.count() == Cart.objects.count() == 1
    )

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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carts.models import Cart
from clipcart_shared.merchant_access.demo_logins import DEMO_MERCHANTS, STAFF_GROUP, demo_id
from clipcart_shared.merchant_access.models import MerchantMembership
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.localstripe import stripe_client
from clipcart_tools.testing.fixtures import admin_lockout_answers, signed_in
from core.management.commands.seed_demo import STAFF_PERMISSIONS
from orders.models import Order, OrderLine, Refund
from payments.models import StripeCustomer, WebhookEvent
from tests.conftest import (
    ADDRESS,
    STRIPE_KEY,
    Catalog,
    intent_object,
    stripe_event,
    webhook_post,
)

pytestmark = pytest.mark.django_db

ADMIN = "/checkout/admin"
ORDERS = f"{ADMIN}/orders/order"
# What refunding needs besides viewing orders (the seed gives it to merchant staff).
REFUND_PERMISSION = ("orders", "add_refund")
MERCHANT_IDS = {slug: demo_id("merchant", slug) for slug in DEMO_MERCHANTS}


# --- merchants and people -------------------------------------------------------------------


def _merchant_name(merchant_id: uuid.UUID) -> str:
    (slug,) = (slug for slug, known in MERCHANT_IDS.items() if known == merchant_id)
    return DEMO_MERCHANTS[slug]


@pytest.fixture
def merchant_a(variants: list[dict[str, Any]]) -> uuid.UUID:
    return uuid.UUID(variants[0]["merchant_id"])


@pytest.fixture
def merchant_b(merchant_a: uuid.UUID) -> uuid.UUID:
    (other,) = (merchant for merchant in MERCHANT_IDS.values() if merchant != merchant_a)
    return other


@pytest.fixture(scope="session")
def _variant_of_b(_catalog_process: Catalog, _variants: list[dict[str, Any]]) -> dict[str, Any]:
    merchant_a = _variants[0]["merchant_id"]
    variant = next(v for v in _catalog_process.variants() if v["merchant_id"] != merchant_a)
    _catalog_process.set_stock(variant["id"], 100_000)
    return variant


@pytest.fixture
def variant_of_b(catalog: Catalog, _variant_of_b: dict[str, Any]) -> dict[str, Any]:
    return _variant_of_b


def _group(name: str, permissions: list[tuple[str, str]]) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    group.permissions.set(
        [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in permissions
        ]
    )
    return group


def _staff(username: str, merchant_id: uuid.UUID, group: Group) -> Any:
    user = get_user_model().objects.create_user(username=username, is_staff=True)
    user.groups.add(group)
    MerchantMembership.objects.create(
        user=user, merchant_id=merchant_id, merchant_name=_merchant_name(merchant_id)
    )
    return user


@pytest.fixture
def staff_client(merchant_a: uuid.UUID) -> Client:
    """Staff of A, in the seed's group plus the refund permission."""
    group = _group(STAFF_GROUP, [*STAFF_PERMISSIONS, REFUND_PERMISSION])
    return signed_in(_staff("staff-of-a", merchant_a, group))


@pytest.fixture
def seed_staff_client(merchant_a: uuid.UUID) -> Client:
    """Staff of A who may look at orders but not refund them."""
    view_only = [permission for permission in STAFF_PERMISSIONS if permission != REFUND_PERMISSION]
    return signed_in(_staff("seed-staff-of-a", merchant_a, _group("View only", view_only)))


# --- orders made as rows (for looking) ------------------------------------------------------


def _line(variant: dict[str, Any], merchant_id: uuid.UUID, *, unit: int, quantity: int = 1):
    return {
        "variant_id": variant["id"],
        "product_id": variant["product_id"],
        "merchant_id": merchant_id,
        "merchant_name": _merchant_name(merchant_id),
        "sku": variant["sku"],
        "title": f"{variant['title']} ({variant['sku']})",
        "quantity": quantity,
        "unit_price_amount": unit,
        "line_total_amount": unit * quantity,
    }


def _order(
    email: str, lines: list[dict[str, Any]], *, status: str = "paid", shipping: int = 490
) -> Order:
    subtotal = sum(line["line_total_amount"] for line in lines)
    order = Order.objects.create(
        user_id=f"user-{email}",
        email=email,
        shipping_address=ADDRESS,
        status=status,
        currency="EUR",
        subtotal_amount=subtotal,
        shipping_amount=shipping,
        total_amount=subtotal + shipping,
        reservation_id=uuid.uuid4(),
        payment_intent_id=f"pi_rows_{uuid.uuid4().hex}",
        stripe_customer_id="cus_rows",
        expires_at=timezone.now() + timedelta(minutes=15),
    )
    OrderLine.objects.bulk_create([OrderLine(order=order, **line) for line in lines])
    return order


@pytest.fixture
def variant_b_row(catalog: Catalog, merchant_b: uuid.UUID) -> dict[str, Any]:
    """One of B's demo variants, as catalog lists it (no stock needed: no checkout)."""
    return next(v for v in catalog.variants() if v["merchant_id"] == str(merchant_b))


@pytest.fixture
def order_of_a(variants, merchant_a) -> Order:
    return _order("ada@example.com", [_line(variants[0], merchant_a, unit=1250)])


@pytest.fixture
def order_of_both(variants, variant_b_row, merchant_a, merchant_b) -> Order:
    """A's line (2 x €31.00) and B's line (€17.75); shipping €4.90; €84.65 in all."""
    return _order(
        "bo@example.com",
        [
            _line(variants[1], merchant_a, unit=3100, quantity=2),
            _line(variant_b_row, merchant_b, unit=1775),
        ],
    )


@pytest.fixture
def order_of_b(variant_b_row, merchant_b) -> Order:
    return _order("cy@example.com", [_line(variant_b_row, merchant_b, unit=4400)])


def _listed(response: Any) -> set[uuid.UUID]:
    assert response.status_code == 200
    return {order.id for order in response.context["cl"].result_list}


def _inline_objects(response: Any, model: type) -> list[Any]:
    assert response.status_code == 200
    (formset,) = [
        inline.formset
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is model
    ]
    return [form.instance for form in formset.forms]


def _messages(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- real orders (for refunding) -----------------------------------------------------------


@pytest.fixture
def checkout(client_for, catalog, stripe_emulator) -> Callable[..., Order]:
    def make(*lines: dict[str, Any]) -> Order:
        response = client_for("buyer").post(
            "/api/v1/checkouts/",
            {
                "email": "buyer@example.com",
                "shipping_address": ADDRESS,
                "lines": [{"variant_id": variant["id"], "quantity": 1} for variant in lines],
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
        assert response.status_code == 201, response.json()
        return Order.objects.get(id=response.json()["order"]["id"])

    return make


def _pay(order: Order, emulator: str, api_client: Any) -> None:
    """Pay on the emulator, then deliver Stripe's signed `payment_intent.succeeded`
    (the worker applies it when the request commits; tasks run eagerly in tests)."""
    stripe = stripe_client(emulator, STRIPE_KEY)
    stripe.v1.payment_intents.update(order.payment_intent_id, {"payment_method": "pm_card_visa"})
    assert stripe.v1.payment_intents.confirm(order.payment_intent_id).status == "succeeded"
    response = webhook_post(
        api_client, stripe_event("payment_intent.succeeded", intent_object(order))
    )
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.fixture
def paid_order_of_both(checkout, variants, variant_of_b, stripe_emulator, api_client) -> Order:
    """A real order of one line of A and one of B, paid."""
    order = checkout(variants[0], variant_of_b)
    _pay(order, stripe_emulator, api_client)
    return order


def _line_of(order: Order, merchant_id: uuid.UUID) -> OrderLine:
    return order.lines.get(merchant_id=merchant_id)


def _stripe_refunds(emulator: str, order: Order) -> list[int]:
    refunds = stripe_client(emulator, STRIPE_KEY).v1.refunds.list(
        {"payment_intent": order.payment_intent_id}
    )
    return sorted(refund.amount for refund in refunds.data)


def _refund_form(client: Client, order: Order) -> Any:
    response = client.get(f"{ORDERS}/{order.id}/refund/")
    assert response.status_code == 200
    return response.context["form"]


def _refund(client: Client, order: Order, **overrides: Any) -> Any:
    """Submit the refund page as shown, with `overrides` (lines: ids; amount: text)."""
    form = _refund_form(client, order)
    data = {
        "lines": [str(line_id) for line_id in form.initial["lines"]],
        "amount": str(form.initial["amount"]),
        "reason": "Arrived damaged",
        "refunded_when_shown": str(form.initial["refunded_when_shown"]),
    }
    data.update(overrides)
    return client.post(f"{ORDERS}/{order.id}/refund/", data)


def _nothing_refunded(order: Order, emulator: str | None = None) -> None:
    status = order.status
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == (status, 0)
    assert list(order.lines.values_list("refunded_amount", flat=True)) == [0] * order.lines.count()
    # A refund Stripe refused or could not be asked about stays on record, failed.
    assert Refund.objects.exclude(status=Refund.Status.FAILED).count() == 0
    assert OutboxEvent.objects.filter(type="order.refunded").count() == 0
    if emulator:
        assert _stripe_refunds(emulator, order) == []


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


# --- refunds ----------------------------------------------------------------------------------


def test_staff_refund_their_line_of_a_paid_order_on_stripe_with_a_record_and_an_event(
    staff_client, paid_order_of_both, merchant_a, merchant_b, stripe_emulator
):
    order = paid_order_of_both
    line_a, line_b = _line_of(order, merchant_a), _line_of(order, merchant_b)
    form = _refund_form(staff_client, order)
    assert [line.id for line in form.fields["lines"].queryset] == [line_a.id]
    assert form.initial["amount"] == Decimal(line_a.line_total_amount) / 100

    response = _refund(staff_client, order)

    assert response.status_code == 302
    assert response["Location"] == f"{ORDERS}/{order.id}/change/"
    order.refresh_from_db()
    line_a.refresh_from_db()
    line_b.refresh_from_db()
    amount = line_a.line_total_amount
    assert (order.status, order.refunded_amount) == ("partially_refunded", amount)
    assert (line_a.refunded_amount, line_b.refunded_amount) == (amount, 0)
    refund = Refund.objects.get()
    assert (refund.amount, refund.lines, refund.created_by, refund.reason) == (
        amount,
        {str(line_a.id): amount},
        "admin:staff-of-a",
        "Arrived damaged",
    )
    assert refund.stripe_refund_id.startswith("re_")
    assert _stripe_refunds(stripe_emulator, order) == [amount]
    event = OutboxEvent.objects.get(type="order.refunded")
    assert event.data["order_id"] == str(order.id)
    assert event.data["lines"] == [{"line_id": str(line_a.id), "amount": amount}]
    assert _messages(response) == [
        f"Refunded €{Decimal(amount) / 100:,.2f} of order {str(order.id)[:8]}; "
        "the order is now partially refunded."
    ]


def test_staff_refund_part_of_their_line(staff_client, paid_order_of_both, merchant_a):
    order = paid_order_of_both

    response = _refund(staff_client, order, amount="5.05")

    assert response.status_code == 302
    line_a = _line_of(order, merchant_a)
    assert line_a.refunded_amount == 505
    assert Refund.objects.get().lines == {str(line_a.id): 505}
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("partially_refunded", 505)


def test_a_refund_above_what_is_left_on_the_lines_is_refused_and_writes_nothing(
    staff_client, paid_order_of_both, merchant_a, stripe_emulator
):
    order = paid_order_of_both
    left = Decimal(_line_of(order, merchant_a).line_total_amount) / 100

    response = _refund(staff_client, order, amount=str(left + Decimal("0.01")))

    assert response.status_code == 200
    assert _messages(response) == [
        f"Nothing was refunded: at most €{left:,.2f} is left to refund on the ticked lines."
    ]
    _nothing_refunded(order, stripe_emulator)


def test_staff_cannot_refund_another_merchants_line(
    staff_client, paid_order_of_both, merchant_b, stripe_emulator
):
    order = paid_order_of_both
    line_b = _line_of(order, merchant_b)

    response = _refund(staff_client, order, lines=[str(line_b.id)], amount="1.00")

    assert response.status_code == 200
    assert response.context["form"].errors["lines"] == [
        f"Select a valid choice. {line_b.id} is not one of the available choices."
    ]
    _nothing_refunded(order, stripe_emulator)


def test_staff_must_tick_one_of_their_lines(staff_client, paid_order_of_both, stripe_emulator):
    response = _refund(staff_client, paid_order_of_both, lines=[], amount="1.00")

    assert response.status_code == 200
    assert response.context["form"].errors["lines"] == ["This field is required."]
    _nothing_refunded(paid_order_of_both, stripe_emulator)


def test_a_pending_order_cannot_be_refunded(staff_client, checkout, variants, stripe_emulator):
    order = checkout(variants[0])

    response = _refund(staff_client, order)

    assert response.status_code == 200
    assert _messages(response) == [
        "Nothing was refunded: the order is pending payment, so there is no payment to refund."
    ]
    # (The emulator cannot list refunds of an unpaid PaymentIntent: it answers 500.)
    _nothing_refunded(order)


def test_with_stripe_down_a_refund_shows_a_message_and_stays_pending(
    staff_client, paid_order_of_both, stripe_down
):
    response = _refund(staff_client, paid_order_of_both)

    assert response.status_code == 200
    assert _messages(response) == [
        "Stripe cannot be reached right now. The refund is pending: it is sent again "
        "automatically, with the same key so never twice. Do not refund it again."
    ]
    paid_order_of_both.refresh_from_db()
    assert (paid_order_of_both.status, paid_order_of_both.refunded_amount) == ("paid", 0)
    pending = Refund.objects.get()
    assert (pending.status, pending.stripe_refund_id) == ("pending", "")
    assert OutboxEvent.objects.filter(type="order.refunded").count() == 0


def test_when_stripe_refuses_the_refund_it_is_a_message_and_nothing_is_written(
    superuser_client, order_of_a, stripe_emulator
):
    # Cancelled orders are refundable by the service (a payment may arrive after the
    # cancel); this one was never paid, so Stripe refuses.
    Order.objects.filter(id=order_of_a.id).update(status=Order.Status.CANCELLED)
    order_of_a.refresh_from_db()

    response = _refund(superuser_client, order_of_a)

    assert response.status_code == 200
    (message,) = _messages(response)
    assert message.startswith("Stripe refused the refund (")
    assert message.endswith("). Nothing was refunded.")
    _nothing_refunded(order_of_a)
    assert Refund.objects.get().status == "failed"


def test_submitting_the_same_refund_page_twice_refunds_once(
    staff_client, paid_order_of_both, merchant_a, stripe_emulator
):
    order = paid_order_of_both
    form = _refund_form(staff_client, order)
    data = {
        "lines": [str(line_id) for line_id in form.initial["lines"]],
        "amount": "1.00",
        "refunded_when_shown": "0",
    }

    first = staff_client.post(f"{ORDERS}/{order.id}/refund/", data)
    second = staff_client.post(f"{ORDERS}/{order.id}/refund/", data)

    assert first.status_code == 302
    assert (second.status_code, second["Location"]) == (302, f"{ORDERS}/{order.id}/refund/")
    # Both show on the next page (the first redirect was not followed).
    assert _messages(second) == [
        f"Refunded €1.00 of order {str(order.id)[:8]}; the order is now partially refunded.",
        "This order was refunded since the page was opened, so nothing was refunded now. "
        "Check what is left and refund again if it is still needed.",
    ]
    assert Refund.objects.count() == 1
    assert _stripe_refunds(stripe_emulator, order) == [100]


def test_superuser_refunds_the_whole_order_shipping_included(
    superuser_client, paid_order_of_both, merchant_a, merchant_b, stripe_emulator
):
    order = paid_order_of_both
    line_a, line_b = _line_of(order, merchant_a), _line_of(order, merchant_b)
    form = _refund_form(superuser_client, order)
    assert {line.id for line in form.fields["lines"].queryset} == {line_a.id, line_b.id}
    assert form.initial["lines"] == []
    assert form.initial["amount"] == Decimal(order.total_amount) / 100

    response = _refund(superuser_client, order)

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.refunded_amount) == ("refunded", order.total_amount)
    refund = Refund.objects.get()
    assert (refund.amount, refund.created_by) == (order.total_amount, "admin:platform")
    assert refund.lines == {
        str(line_a.id): line_a.line_total_amount,
        str(line_b.id): line_b.line_total_amount,
    }
    assert _stripe_refunds(stripe_emulator, order) == [order.total_amount]
    event = OutboxEvent.objects.get(type="order.refunded")
    assert sorted(event.data["lines"], key=lambda line: line["line_id"]) == sorted(
        [
            {"line_id": str(line_a.id), "amount": line_a.line_total_amount},
            {"line_id": str(line_b.id), "amount": line_b.line_total_amount},
        ],
        key=lambda line: line["line_id"],
    )
    assert _messages(response) == [
        f"Refunded €{Decimal(order.total_amount) / 100:,.2f} of order {str(order.id)[:8]}; "
        "the order is now refunded."
    ]


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


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_admin_login_locks_after_repeated_wrong_passwords_even_for_the_right_one():
    wrong, right = admin_lockout_answers(admin=ADMIN, failures=3)

    assert wrong == [200, 200, 429]
    assert right == 429


def test_the_right_password_signs_in_to_the_admin_below_the_failure_limit():
    wrong, right = admin_lockout_answers(admin=ADMIN, failures=2)

    assert wrong == [200, 200]
    assert right == 302

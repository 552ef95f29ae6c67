"""The admin tests' people and orders: merchant A sells the demo variants of the
`variants` fixture; merchant B is catalog's other demo merchant (ids follow catalog's
documented uuid5 convention, as `seed_demo` here). Orders only looked at are rows made
here; orders refunded are real: checked out against the real catalog, paid on the
emulator, and announced by a signed webhook.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from clipcart_shared.merchant_access.demo_logins import DEMO_MERCHANTS, STAFF_GROUP, demo_id
from clipcart_shared.merchant_access.models import MerchantMembership
from clipcart_shared.outbox.models import OutboxEvent
from clipcart_tools.localstripe import stripe_client
from clipcart_tools.testing.fixtures import signed_in
from core.management.commands.seed_demo import STAFF_PERMISSIONS
from orders.models import Order, OrderLine, Refund
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

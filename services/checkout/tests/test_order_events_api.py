"""`GET /internal/v1/order-events/`: the paid orders and refunds of a window, as the data
of the events that were published for them (video reconciles attribution with it)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from urllib.parse import urlencode, urlsplit

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from clipcart_shared.outbox.models import OutboxEvent
from orders.models import Order, OrderLine, Refund
from tests.conftest import ADDRESS, stripe_event, webhook_post

pytestmark = pytest.mark.django_db

URL = "/internal/v1/order-events/"


@pytest.fixture
def service_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='video')}")
    return client


def _order(paid_at: datetime | None, *, lines: int = 1) -> Order:
    order = Order.objects.create(
        user_id="u1",
        email="ada@example.com",
        shipping_address=ADDRESS,
        currency="EUR",
        subtotal_amount=1000 * lines,
        shipping_amount=0,
        total_amount=1000 * lines,
        reservation_id=uuid.uuid4(),
        payment_intent_id=f"pi_{uuid.uuid4().hex}",
        stripe_customer_id="cus_1",
        expires_at=timezone.now() + timedelta(minutes=15),
        paid_at=paid_at,
        status="pending_payment" if paid_at is None else "paid",
    )
    for index in range(lines):
        OrderLine.objects.create(
            order=order,
            variant_id=uuid.uuid4(),
            product_id=uuid.uuid4(),
            merchant_id=uuid.uuid4(),
            merchant_name="Alpine Outfitters",
            sku=f"SKU-{index}",
            title=f"Thing {index}",
            quantity=2,
            unit_price_amount=500,
            line_total_amount=1000,
        )
    return order


def _refund(
    order: Order,
    created_at: datetime,
    amount: int = 100,
    status: Refund.Status = Refund.Status.SUCCEEDED,
) -> Refund:
    line = order.lines.first()
    refund = Refund.objects.create(
        order=order, amount=amount, lines={str(line.id): amount}, created_by="test", status=status
    )
    Refund.objects.filter(id=refund.id).update(created_at=created_at)
    refund.refresh_from_db()
    return refund


def _get(client: APIClient, **params: str) -> object:
    return client.get(URL, params)


def test_no_credential_is_401_and_a_user_token_is_403(api_client, client_for):
    since = (timezone.now() - timedelta(hours=1)).isoformat()
    assert _get(api_client, type="order.paid", since=since).status_code == 401
    response = _get(client_for("u1"), type="order.paid", since=since)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")


def test_paid_orders_of_the_window_only_oldest_first(service_client):
    now = timezone.now()
    before = _order(now - timedelta(hours=3))
    first = _order(now - timedelta(hours=2))
    second = _order(now - timedelta(hours=1), lines=2)
    _order(None)  # never paid
    after = _order(now + timedelta(hours=1))

    response = _get(
        service_client,
        type="order.paid",
        since=(now - timedelta(hours=2)).isoformat(),
        until=now.isoformat(),
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["next"] is None
    assert [event["subject"] for event in body["results"]] == [str(first.id), str(second.id)]
    assert {event["type"] for event in body["results"]} == {"order.paid"}
    assert len(body["results"][1]["data"]["lines"]) == 2
    assert str(before.id) not in str(body) and str(after.id) not in str(body)


def test_refunds_of_paid_orders_in_the_window(service_client):
    now = timezone.now()
    paid = _order(now - timedelta(days=2))
    refund = _refund(paid, now - timedelta(hours=1))
    _refund(paid, now - timedelta(days=1, hours=1))  # before the window
    # Money sent back for an order never paid (cancelled first): no event was published.
    _refund(_order(None), now - timedelta(hours=1))
    # Nor for a refund still at Stripe, or one Stripe refused.
    _refund(paid, now - timedelta(minutes=30), status=Refund.Status.PENDING)
    _refund(paid, now - timedelta(minutes=20), status=Refund.Status.FAILED)

    response = _get(
        service_client, type="order.refunded", since=(now - timedelta(days=1)).isoformat()
    )

    assert response.status_code == 200, response.json()
    [event] = response.json()["results"]
    assert event["type"] == "order.refunded"
    assert event["data"]["refund_id"] == str(refund.id)
    assert event["data"]["order_id"] == str(paid.id)
    assert event["data"]["lines"] == [{"line_id": str(paid.lines.first().id), "amount": 100}]


def test_pages_follow_the_cursor_through_equal_times(service_client):
    paid_at = timezone.now() - timedelta(hours=1)
    orders = [_order(paid_at) for _ in range(3)] + [_order(paid_at + timedelta(seconds=1))]
    orders += [_order(paid_at + timedelta(seconds=2)) for _ in range(2)]
    expected = [str(order.id) for order in sorted(orders, key=lambda o: (o.paid_at, str(o.id)))]

    seen: list[str] = []
    query = urlencode({"type": "order.paid", "limit": 2, "since": paid_at.isoformat()})
    path: str | None = f"{URL}?{query}"
    pages = 0
    while path:
        response = service_client.get(path)
        assert response.status_code == 200, response.json()
        seen += [event["subject"] for event in response.json()["results"]]
        next_url = response.json()["next"]
        path = (
            None if next_url is None else urlsplit(next_url)._replace(scheme="", netloc="").geturl()
        )
        pages += 1

    assert seen == expected
    assert pages == 3


@pytest.mark.parametrize(
    "params, field",
    [
        ({"since": "2026-01-01T00:00:00Z"}, "type"),
        ({"type": "order.cancelled", "since": "2026-01-01T00:00:00Z"}, "type"),
        ({"type": "order.paid"}, "since"),
        ({"type": "order.paid", "since": "yesterday"}, "since"),
        (
            {
                "type": "order.paid",
                "since": "2026-01-02T00:00:00Z",
                "until": "2026-01-01T00:00:00Z",
            },
            "until",
        ),
        (
            {
                "type": "order.paid",
                "since": "2026-01-01T00:00:00Z",
                "until": "2026-01-08T00:00:01Z",
            },
            "until",
        ),
        ({"type": "order.paid", "since": "2026-01-01T00:00:00Z"}, "until"),  # now: too long
        (
            {
                "type": "order.paid",
                "since": "2026-01-01T00:00:00Z",
                "until": "2026-01-02T00:00:00Z",
                "cursor": "nonsense",
            },
            "cursor",
        ),
    ],
)
def test_bad_parameters_are_400_naming_the_field(service_client, params, field):
    response = _get(service_client, **params)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert field in {error["field"] for error in response.json()["errors"]}


def test_a_window_of_seven_days_is_allowed(service_client):
    response = _get(
        service_client,
        type="order.refunded",
        since="2026-01-01T00:00:00Z",
        until="2026-01-08T00:00:00Z",
    )
    assert response.status_code == 200
    assert response.json() == {"results": [], "next": None}


def _webhook(api_client, type: str, obj: dict) -> None:
    assert webhook_post(api_client, stripe_event(type, obj)).status_code == 200


def test_each_payload_is_the_data_of_the_event_published(
    api_client, service_client, client_for, catalog, stripe_emulator, variants
):
    source = {"video_id": str(uuid.uuid4()), "tag_id": str(uuid.uuid4())}
    created = client_for("u1").post(
        "/api/v1/checkouts/",
        {
            "email": "ada@example.com",
            "shipping_address": ADDRESS,
            "lines": [
                {"variant_id": variants[0]["id"], "quantity": 1, "source": source},
                {"variant_id": variants[1]["id"], "quantity": 2},
            ],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert created.status_code == 201, created.json()
    order = Order.objects.get(id=created.json()["order"]["id"])
    intent = {
        "id": order.payment_intent_id,
        "object": "payment_intent",
        "status": "succeeded",
        "amount": order.total_amount,
        "amount_received": order.total_amount,
        "currency": order.currency.lower(),
        "metadata": {"order_id": str(order.id)},
    }
    _webhook(api_client, "payment_intent.succeeded", intent)
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": order.payment_intent_id,
        "currency": order.currency.lower(),
        "amount_refunded": 150,
    }
    _webhook(api_client, "charge.refunded", charge)
    since = (timezone.now() - timedelta(minutes=5)).isoformat()

    for type in ("order.paid", "order.refunded"):
        published = OutboxEvent.objects.get(type=type, subject=str(order.id))
        [served] = _get(service_client, type=type, since=since).json()["results"]
        assert (served["type"], served["subject"]) == (published.type, published.subject)
        assert served["data"] == published.data

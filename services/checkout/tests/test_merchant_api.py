"""The merchant API: keys (unknown, revoked, user tokens → 401), each merchant its own
orders, lines and shipments (404 for another's), shipping, replays, delivery, filters,
pagination, and the order-events API's `order.delivered`."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from clipcart_shared.outbox.models import OutboxEvent
from merchant_api.models import MerchantApiKey
from merchant_api.services import merchant_api_keys_revoke
from orders.events import order_delivered_event
from orders.models import Order, Shipment
from tests.shipping_rows import MERCHANT_A, MERCHANT_B, merchant_key, paid_order

pytestmark = pytest.mark.django_db


def _client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"MerchantKey {key}")
    return client


@pytest.fixture
def as_a() -> APIClient:
    return _client(merchant_key(MERCHANT_A))


@pytest.fixture
def as_b() -> APIClient:
    return _client(merchant_key(MERCHANT_B))


def _ship(client: APIClient, order: Order, lines, **body):
    return client.post(
        f"/api/v1/merchant/orders/{order.id}/shipments/",
        {
            "carrier": "DHL",
            "tracking_number": "JD0001",
            "tracking_url": "https://track.example/JD0001",
            "lines": [{"line_id": str(line.id), "quantity": quantity} for line, quantity in lines],
        }
        | body,
        format="json",
    )


def test_unknown_revoked_and_user_credentials_are_401(client_for):
    key = merchant_key(MERCHANT_A)
    assert _client(key).get("/api/v1/merchant/orders/").status_code == 200
    merchant_api_keys_revoke(key_ids=list(MerchantApiKey.objects.values_list("id", flat=True)))

    for client in (_client(key), _client("cmk_" + "x" * 43), _client("nonsense"), APIClient()):
        response = client.get("/api/v1/merchant/orders/")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"
    assert client_for("buyer-1").get("/api/v1/merchant/orders/").status_code == 401
    service = APIClient()
    service.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint()}")
    assert service.get("/api/v1/merchant/orders/").status_code == 401


def test_the_key_is_stored_hashed_and_its_use_noted():
    key = merchant_key(MERCHANT_A)
    row = MerchantApiKey.objects.get()
    assert key not in (row.key_hash, row.prefix) and key.startswith(row.prefix)
    _client(key).get("/api/v1/merchant/orders/")
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_each_merchant_sees_and_ships_only_its_own_lines_of_a_two_merchant_order(as_a, as_b):
    order = paid_order((MERCHANT_A, 2), (MERCHANT_B, 1))
    line_a = order.lines.get(merchant_id=MERCHANT_A)
    line_b = order.lines.get(merchant_id=MERCHANT_B)

    seen = as_a.get(f"/api/v1/merchant/orders/{order.id}/").json()
    assert [line["id"] for line in seen["lines"]] == [str(line_a.id)]
    assert seen["lines"][0]["to_ship_quantity"] == 2

    refused = _ship(as_a, order, [(line_b, 1)])
    assert (refused.status_code, refused.json()["code"]) == (404, "line_not_found")

    shipped = _ship(as_a, order, [(line_a, 1)])
    assert shipped.status_code == 201, shipped.json()
    assert shipped.json()["lines"] == [{"line_id": str(line_a.id), "quantity": 1}]
    assert _ship(as_b, order, [(line_b, 1)], tracking_number="B1").status_code == 201

    # B does not see A's shipment, nor A's line.
    seen_by_b = as_b.get(f"/api/v1/merchant/orders/{order.id}/").json()
    assert [shipment["tracking_number"] for shipment in seen_by_b["shipments"]] == ["B1"]
    assert [line["id"] for line in seen_by_b["lines"]] == [str(line_b.id)]

    shipment_a = shipped.json()["id"]
    assert as_b.post(f"/api/v1/merchant/shipments/{shipment_a}/delivered/").status_code == 404
    delivered = as_a.post(f"/api/v1/merchant/shipments/{shipment_a}/delivered/")
    assert (delivered.status_code, delivered.json()["status"]) == (200, "delivered")
    again = as_a.post(f"/api/v1/merchant/shipments/{shipment_a}/delivered/")
    assert again.json()["delivered_at"] == delivered.json()["delivered_at"]
    assert OutboxEvent.objects.filter(type="order.delivered").count() == 1


def test_another_merchants_order_is_404(as_a):
    order = paid_order((MERCHANT_B, 1))
    assert as_a.get(f"/api/v1/merchant/orders/{order.id}/").status_code == 404
    response = _ship(as_a, order, [(order.lines.get(), 1)])
    assert response.status_code == 404
    assert as_a.get(f"/api/v1/merchant/orders/{uuid.uuid4()}/").status_code == 404
    assert not Shipment.objects.exists()


def test_a_replayed_shipment_ships_nothing_twice(as_a):
    order = paid_order((MERCHANT_A, 1))
    line = order.lines.get()
    assert _ship(as_a, order, [(line, 1)]).status_code == 201
    replay = _ship(as_a, order, [(line, 1)])
    assert (replay.status_code, replay.json()["code"]) == (422, "quantity_exceeds_unshipped")
    assert Shipment.objects.count() == 1


def test_the_same_idempotency_key_answers_the_first_shipment_again(as_a):
    order = paid_order((MERCHANT_A, 2))
    line = order.lines.get()
    key = {"HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    body = {
        "carrier": "DHL",
        "tracking_number": "JD1",
        "lines": [{"line_id": str(line.id), "quantity": 1}],
    }
    url = f"/api/v1/merchant/orders/{order.id}/shipments/"
    first = as_a.post(url, body, format="json", **key)
    again = as_a.post(url, body, format="json", **key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Shipment.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {"carrier": "DHL", "tracking_number": "1", "lines": []},
        {"carrier": "DHL", "tracking_number": "1", "lines": "all"},
        {"carrier": "DHL", "lines": [{"line_id": "LINE", "quantity": 1}]},
        {
            "carrier": "DHL",
            "tracking_number": "1",
            "tracking_url": "javascript:x",
            "lines": [{"line_id": "LINE", "quantity": 1}],
        },
        {"carrier": "DHL", "tracking_number": "1", "lines": [{"line_id": "LINE", "quantity": 0}]},
        {
            "carrier": "DHL",
            "tracking_number": "1",
            "lines": [{"line_id": "LINE", "quantity": 10**12}],
        },
        {"carrier": "DHL", "tracking_number": "1", "lines": [{"line_id": "x", "quantity": 1}]},
        {"carrier": ["DHL"], "tracking_number": "1", "lines": [{"line_id": "LINE", "quantity": 1}]},
    ],
)
def test_malformed_shipments_are_400_and_write_nothing(as_a, body):
    order = paid_order((MERCHANT_A, 1))
    line_id = str(order.lines.get().id)
    body = {
        key: [
            {**item, "line_id": line_id if item["line_id"] == "LINE" else item["line_id"]}
            for item in value
        ]
        if key == "lines" and isinstance(value, list)
        else value
        for key, value in body.items()
    }
    response = as_a.post(f"/api/v1/merchant/orders/{order.id}/shipments/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert not Shipment.objects.exists()


def test_the_list_filters_by_the_merchants_part_and_pages(as_a):
    to_ship = paid_order((MERCHANT_A, 1), (MERCHANT_B, 1))
    shipped = paid_order((MERCHANT_A, 1))
    delivered = paid_order((MERCHANT_A, 1))
    unpaid = paid_order((MERCHANT_A, 1), status="pending_payment")
    _ship(as_a, shipped, [(shipped.lines.get(), 1)])
    done = _ship(as_a, delivered, [(delivered.lines.get(), 1)]).json()["id"]
    as_a.post(f"/api/v1/merchant/shipments/{done}/delivered/")

    def ids(query: str) -> list[str]:
        return [
            order["id"] for order in as_a.get(f"/api/v1/merchant/orders/{query}").json()["results"]
        ]

    assert ids("?status=to_ship") == [str(to_ship.id)]
    assert ids("?status=shipped") == [str(shipped.id)]
    assert ids("?status=delivered") == [str(delivered.id)]
    assert str(unpaid.id) not in ids("")
    assert as_a.get("/api/v1/merchant/orders/?status=lost").status_code == 400
    future = (timezone.now() + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"?since={future}") == []

    first = as_a.get("/api/v1/merchant/orders/?limit=2").json()
    second = as_a.get(first["next"]).json()
    assert len(first["results"]) == 2 and len(second["results"]) == 1
    assert second["next"] is None


def test_the_order_events_api_pages_deliveries_as_order_delivered_events(as_a):
    order = paid_order((MERCHANT_A, 1))
    shipment_id = _ship(as_a, order, [(order.lines.get(), 1)]).json()["id"]
    as_a.post(f"/api/v1/merchant/shipments/{shipment_id}/delivered/")
    service = APIClient()
    service.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint()}")
    since = (timezone.now() - timedelta(hours=1)).isoformat().replace("+00:00", "Z")

    response = service.get(f"/internal/v1/order-events/?type=order.delivered&since={since}")

    assert response.status_code == 200, response.json()
    expected = order_delivered_event(Shipment.objects.get(id=shipment_id))
    assert response.json()["results"] == [expected]
    assert response.json()["results"] == [
        {"type": event.type, "subject": event.subject, "data": event.data}
        for event in OutboxEvent.objects.filter(type="order.delivered")
    ]

"""The carrier tracking webhook: signed (good, bad, missing, stale), statuses, unknown
numbers, replays."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from clipcart_shared.outbox.models import OutboxEvent
from orders.models import Shipment
from orders.services import shipment_create
from orders.services.tracking import tracking_signature
from tests.shipping_rows import MERCHANT_A, paid_order

pytestmark = pytest.mark.django_db

SECRET = "tracking_test_checkout"
URL = "/api/v1/webhooks/tracking/"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.TRACKING_WEBHOOK_SECRET = SECRET


@pytest.fixture
def shipment() -> Shipment:
    order = paid_order((MERCHANT_A, 1))
    return shipment_create(
        order_id=order.id,
        merchant_id=MERCHANT_A,
        carrier="DHL",
        tracking_number="JD0001",
        tracking_url="",
        lines=[(order.lines.get().id, 1)],
        created_by="test",
    )


def _post(api_client, body: dict, *, secret: str = SECRET, age: int = 0, header=None):
    payload = json.dumps(body).encode()
    if header is None:
        header = tracking_signature(
            payload=payload, secret=secret, timestamp=int(time.time()) - age
        )
    extra = {} if header == "" else {"HTTP_X_CLIPCART_SIGNATURE": header}
    return api_client.generic("POST", URL, payload, content_type="application/json", **extra)


def _update(status: str, *, number: str = "JD0001", at=None) -> dict:
    return {
        "tracking_number": number,
        "carrier": "dhl",
        "status": status,
        "occurred_at": (at or timezone.now() - timedelta(minutes=5)).isoformat(),
    }


def test_delivered_delivers_the_shipment_by_the_carrier_once_and_a_replay_changes_nothing(
    api_client, shipment
):
    body = _update("delivered")
    first = _post(api_client, body)
    again = _post(api_client, body)

    assert first.status_code == again.status_code == 200
    assert first.json() == {"received": True, "matched": True}
    shipment.refresh_from_db()
    assert (shipment.status, shipment.delivered_by) == ("delivered", "carrier")
    assert shipment.delivered_at.isoformat() == body["occurred_at"]
    assert OutboxEvent.objects.filter(type="order.delivered").count() == 1
    shipment.order.refresh_from_db()
    assert shipment.order.status == "delivered"


def test_in_transit_and_exception_are_recorded_and_an_older_update_is_ignored(api_client, shipment):
    now = timezone.now()
    assert _post(api_client, _update("in_transit", at=now - timedelta(hours=2))).status_code == 200
    assert _post(api_client, _update("exception", at=now - timedelta(hours=1))).status_code == 200
    # Delivered late, out of order: an older in_transit does not undo the exception.
    assert _post(api_client, _update("in_transit", at=now - timedelta(hours=3))).status_code == 200
    shipment.refresh_from_db()
    assert shipment.status == "exception"
    assert shipment.tracking_updated_at == now - timedelta(hours=1)


def test_a_status_after_delivery_does_not_undo_it(api_client, shipment):
    _post(api_client, _update("delivered"))
    _post(api_client, _update("in_transit", at=timezone.now()))
    shipment.refresh_from_db()
    assert shipment.status == "delivered"


@pytest.mark.parametrize(
    "signing",
    [
        {"secret": "tracking_wrong_secret"},
        {"age": 301},
        {"age": -301},
        {"header": ""},
        {"header": "t=abc,v1=00"},
        {"header": "v1=00"},
        {"header": "garbage"},
    ],
)
def test_a_bad_missing_or_stale_signature_is_400_and_writes_nothing(api_client, shipment, signing):
    response = _post(api_client, _update("delivered"), **signing)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_signature"
    shipment.refresh_from_db()
    assert shipment.status == "shipped"
    assert not OutboxEvent.objects.filter(type="order.delivered").exists()


def test_an_empty_secret_refuses_everything(api_client, settings, shipment):
    settings.TRACKING_WEBHOOK_SECRET = ""
    assert _post(api_client, _update("delivered"), secret="").status_code == 400


def test_an_unknown_tracking_number_is_acknowledged_unmatched_and_logged(
    api_client, shipment, caplog
):
    response = _post(api_client, _update("delivered", number="NOPE"))
    assert response.json() == {"received": True, "matched": False}
    assert "Tracking update for no shipment of ours" in caplog.text
    shipment.refresh_from_db()
    assert shipment.status == "shipped"


@pytest.mark.parametrize(
    "body",
    [
        {
            "tracking_number": "JD0001",
            "carrier": "dhl",
            "status": "lost",
            "occurred_at": "2026-01-01T00:00:00Z",
        },
        {"tracking_number": "JD0001", "carrier": "dhl", "status": "delivered"},
        {
            "tracking_number": 5,
            "carrier": "dhl",
            "status": "delivered",
            "occurred_at": "2026-01-01T00:00:00Z",
        },
        {
            "tracking_number": "x" * 101,
            "carrier": "dhl",
            "status": "delivered",
            "occurred_at": "2026-01-01T00:00:00Z",
        },
        {
            "tracking_number": "JD0001",
            "carrier": "dhl",
            "status": "delivered",
            "occurred_at": "yesterday",
        },
    ],
)
def test_a_signed_but_malformed_update_is_400_and_writes_nothing(api_client, shipment, body):
    response = _post(api_client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    shipment.refresh_from_db()
    assert shipment.status == "shipped"


def test_a_delivery_dated_in_the_future_is_dated_now(api_client, shipment):
    _post(api_client, _update("delivered", at=timezone.now() + timedelta(days=3)))
    shipment.refresh_from_db()
    assert shipment.delivered_at <= timezone.now()

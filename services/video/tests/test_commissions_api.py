"""`GET /internal/v1/commissions/`: what a merchant's lines of one order owe creators,
under the model the merchant chose, net of refunds; checkout asks it when the merchant's
part settles, to transfer the rest (ADR 30)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from attribution.models import MerchantAttributionSettings
from clipcart_shared.auth import service_token_mint, user_token_mint
from clipcart_shared.outbox.services import event_consume
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    order_paid,
    order_refunded,
    paid_line,
)

pytestmark = pytest.mark.django_db
URL = "/internal/v1/commissions/"
NOW = timezone.now()


@pytest.fixture
def service_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}")
    return client


def _tags():
    """Two creators' videos of one product: Ada's (10 %) tapped first, Bo's (20 %) last."""
    ada = ProductTagFactory(
        video=VideoFactory(creator=CreatorFactory(user_id="ada", commission_rate_bps=1000))
    )
    bo = ProductTagFactory(
        product_id=ada.product_id,
        merchant_id=ada.merchant_id,
        video=VideoFactory(creator=CreatorFactory(user_id="bo", commission_rate_bps=2000)),
    )
    engagement_event("buyer", ada.video, "tag_tap", NOW - timedelta(hours=3))
    engagement_event("buyer", bo.video, "tag_tap", NOW - timedelta(hours=1))
    return ada, bo


def _ask(client, paid, merchant_id):
    return client.get(URL, {"order_id": paid["data"]["order_id"], "merchant_id": merchant_id})


def test_the_commission_follows_the_merchants_model_net_of_applied_refunds(service_client):
    ada, _ = _tags()
    line = paid_line(ada, 10_000)
    other_shop = paid_line(ProductTagFactory(), 5_000)
    paid = order_paid("buyer", [line, other_shop], NOW - timedelta(minutes=5))
    assert event_consume(envelope=paid) is True

    last_touch = _ask(service_client, paid, ada.merchant_id)
    MerchantAttributionSettings.objects.create(
        merchant_id=ada.merchant_id, default_model="first_touch"
    )
    first_touch = _ask(service_client, paid, ada.merchant_id)
    refund = order_refunded(paid, {line["line_id"]: 5_000}, NOW)
    event_consume(envelope=refund)
    after_refund = _ask(service_client, paid, ada.merchant_id)

    assert last_touch.status_code == 200
    assert last_touch.json() == {
        "order_id": paid["data"]["order_id"],
        "merchant_id": str(ada.merchant_id),
        "model": "last_touch",
        "lines": {line["line_id"]: 2_000},  # Bo's 20 %; the other shop's line is not here
        "refund_ids": [],
        "refunds": {},
    }
    assert first_touch.json()["lines"] == {line["line_id"]: 1_000}  # Ada's 10 %
    assert after_refund.json()["lines"] == {line["line_id"]: 500}
    assert after_refund.json()["refund_ids"] == [refund["data"]["refund_id"]]
    # What the refund took back, under the merchant's model: Ada's 10 % of 5,000.
    assert after_refund.json()["refunds"] == {refund["data"]["refund_id"]: -500}


def test_each_applied_refund_names_the_commission_its_credits_took_back(service_client):
    tag = ProductTagFactory(
        video=VideoFactory(creator=CreatorFactory(user_id="cy", commission_rate_bps=1000))
    )
    engagement_event("buyer-2", tag.video, "tag_tap", NOW - timedelta(hours=2))
    line = paid_line(tag, 999)  # 99.9 of commission: 100
    paid = order_paid("buyer-2", [line], NOW - timedelta(minutes=5))
    event_consume(envelope=paid)
    first = order_refunded(paid, {line["line_id"]: 333}, NOW)
    second = order_refunded(paid, {line["line_id"]: 333}, NOW)
    event_consume(envelope=first)
    event_consume(envelope=second)

    answer = _ask(service_client, paid, tag.merchant_id).json()

    # 666 left earns 67 (back 33), then 333 left earns 33 (back 34): what checkout's
    # ledger takes back for each refund, to the unit, with the line's net commission.
    assert answer["refunds"] == {
        first["data"]["refund_id"]: -33,
        second["data"]["refund_id"]: -34,
    }
    assert answer["lines"] == {line["line_id"]: 33}


def test_an_order_video_has_not_heard_of_names_no_lines(service_client):
    response = service_client.get(
        URL, {"order_id": str(uuid.uuid4()), "merchant_id": str(uuid.uuid4())}
    )

    assert response.status_code == 200
    assert (response.json()["lines"], response.json()["refund_ids"]) == ({}, [])


def test_a_user_token_is_refused_and_a_bad_id_is_400_naming_it(service_client):
    user = APIClient()
    user.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id='ada')}")

    refused = user.get(URL, {"order_id": str(uuid.uuid4()), "merchant_id": str(uuid.uuid4())})
    bad = service_client.get(URL, {"order_id": "nope", "merchant_id": str(uuid.uuid4())})

    assert refused.status_code in (401, 403)
    assert bad.status_code == 400
    assert bad["Content-Type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "order_id"

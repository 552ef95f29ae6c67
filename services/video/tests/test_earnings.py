"""`GET /api/v1/creators/me/earnings/`: a creator's attributed sales and commission by
video, pending (with when it settles), settled and ineligible, and nobody else's.
Settlement's own rules: tests/test_settlement.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from clipcart_shared.outbox.services import event_consume
from tests.factories import (
    CreatorFactory,
    ProductTagFactory,
    VideoFactory,
    engagement_event,
    order_delivered,
    order_paid,
    order_refunded,
    paid_line,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/creators/me/earnings/"


def eur(amount):
    return {"amount": amount, "currency": "EUR"}


@pytest.fixture
def sales():
    """Ada's video sold 4000 twenty days ago, delivered with its return window closed
    yesterday (settled), and 2000 today, refunded by 500, not delivered yet (pending, no
    date); Bob's video sold 9000 today."""
    now = timezone.now()
    ada = CreatorFactory(user_id="ada", commission_rate_bps=1550)
    bob = CreatorFactory(user_id="bob", commission_rate_bps=2000)
    ada_tag = ProductTagFactory(video=VideoFactory(creator=ada, caption="Ada's haul"))
    bob_tag = ProductTagFactory(
        video=VideoFactory(creator=bob),
        product_id=ada_tag.product_id,
        merchant_id=ada_tag.merchant_id,
    )
    old = now - timedelta(days=20)
    engagement_event("buyer", ada_tag.video, "tag_tap", old - timedelta(hours=1))
    settled = order_paid("buyer", [line := paid_line(ada_tag, 4000, quantity=2)], old)
    event_consume(envelope=settled)
    delivered = order_delivered(settled, {line["line_id"]: 2}, old, now - timedelta(days=1))
    event_consume(envelope=delivered)
    engagement_event("buyer", ada_tag.video, "tag_tap", now - timedelta(hours=2))
    paid = order_paid("buyer", [line := paid_line(ada_tag, 2000)], now - timedelta(minutes=5))
    event_consume(envelope=paid)
    event_consume(envelope=order_refunded(paid, {line["line_id"]: 500}, now))
    engagement_event("other", bob_tag.video, "tag_tap", now - timedelta(hours=1))
    event_consume(envelope=order_paid("other", [paid_line(bob_tag, 9000)], now))
    return ada_tag.video


def test_a_creator_sees_sales_and_commission_by_video_pending_and_settled(client_for, sales):
    response = client_for("ada").get(URL)

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["model"] == "last_touch"
    assert body["settlement_days"] is None  # deprecated: settlement follows delivery
    assert (body["to"], body["from"]) == (
        timezone.now().date().isoformat(),
        (timezone.now().date() - timedelta(days=29)).isoformat(),
    )
    [video] = body["videos"]
    assert video["video"]["id"] == str(sales.id)
    assert video["video"]["caption"] == "Ada's haul"
    assert (video["orders"], video["units"]) == (2, 3)
    assert video["sales"] == eur(6000)
    assert video["refunds"] == eur(500)
    assert video["net"] == eur(5500)
    # 15.5 %: 620 on the settled 4000, 233 on the 1500 left of today's sale.
    assert video["commission"] == eur(853)
    assert video["settled"] == {"net": eur(4000), "commission": eur(620)}
    assert video["pending"] == {
        "net": eur(1500),
        "commission": eur(233),
        "schedule": [{"settles_on": None, "net": eur(1500), "commission": eur(233)}],
    }
    assert video["ineligible"] == {"sales": eur(0), "commission": eur(0)}
    assert body["totals"] == [
        {
            "currency": "EUR",
            **{
                k: v
                for k, v in video.items()
                if k
                in {"sales", "refunds", "net", "commission", "pending", "settled", "ineligible"}
            },
        }
    ]


def test_another_creators_sales_never_appear(client_for, sales):
    body = client_for("bob").get(URL).json()

    assert [video["net"] for video in body["videos"]] == [eur(9000)]
    assert str(sales.id) not in str(body)


def test_the_range_and_model_select_what_counts(client_for, sales):
    today = timezone.now().date()
    recent = client_for("ada").get(URL, {"from": (today - timedelta(days=5)).isoformat()})
    assert recent.json()["videos"][0]["sales"] == eur(2000)

    old_only = client_for("ada").get(
        URL,
        {
            "from": (today - timedelta(days=25)).isoformat(),
            "to": (today - timedelta(days=15)).isoformat(),
            "model": "linear",
        },
    )
    assert old_only.json()["model"] == "linear"
    assert old_only.json()["videos"][0]["net"] == eur(4000)

    nothing = client_for("ada").get(URL, {"from": "2020-01-01", "to": "2020-01-31"})
    assert nothing.json()["videos"] == []
    assert nothing.json()["totals"] == []


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"from": "2026-05-02", "to": "2026-05-01"}, "from"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "from"),
        ({"model": "most_liked"}, "model"),
    ],
)
def test_bad_queries_are_400_with_the_field_named(client_for, sales, query, field):
    response = client_for("ada").get(URL, query)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_only_creators_have_earnings(client_for, api_client):
    response = client_for("not-a-creator").get(URL)
    assert (response.status_code, response.json()["code"]) == (403, "not_a_creator")
    assert api_client.get(URL).status_code == 401


def test_earnings_take_the_same_queries_for_one_video_or_many(
    client_for, sales, django_assert_max_num_queries
):
    # Three for the earnings, three for the payouts (ADR 33).
    with django_assert_max_num_queries(6):
        client_for("ada").get(URL)
    for n in range(5):
        tag = ProductTagFactory(
            video=VideoFactory(creator=sales.creator),
            product_id=sales.tags.get().product_id,
            merchant_id=sales.tags.get().merchant_id,
        )
        engagement_event("buyer", tag.video, "tag_tap", timezone.now() - timedelta(minutes=1))
        paid = order_paid("buyer", [line := paid_line(tag, 100)], timezone.now())
        event_consume(envelope=paid)
        # Delivered on days of their own: one more schedule entry per video.
        closes = timezone.now() + timedelta(days=10 + n)
        event_consume(envelope=order_delivered(paid, {line["line_id"]: 1}, timezone.now(), closes))
    with django_assert_max_num_queries(6):
        videos = client_for("ada").get(URL).json()["videos"]
    assert len(videos) == 6
    assert sum(len(video["pending"]["schedule"]) for video in videos) == 6

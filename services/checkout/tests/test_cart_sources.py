"""A cart line's source (issue 12): a line is added from a video only if video says the
video is published and tags the line's product, and the tag, when given, is that video's
tag of the product — asked of the real video service over HTTP. Anything else is 422
`invalid_source` with nothing written; video down keeps the source unverified (attribution
checks it again when it credits the sale)."""

from __future__ import annotations

import uuid

import pytest

from carts.models import CartLine

pytestmark = pytest.mark.django_db


def _add(client, variant_id, source):
    return client.post(
        "/api/v1/cart/lines/",
        {"variant_id": variant_id, "quantity": 1, "source": source},
        format="json",
    )


def _refused(response, field, code):
    assert response.status_code == 422, response.json()
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "invalid_source"
    assert [(error["field"], error["code"]) for error in body["errors"]] == [(field, code)]
    assert not CartLine.objects.exists()


def test_a_video_tagging_the_product_is_a_valid_source_with_or_without_its_tag(
    client_for, catalog, variants, source
):
    client = client_for("u1")

    assert _add(client, variants[0]["id"], source).status_code == 201
    assert _add(client, variants[0]["id"], {"video_id": source["video_id"]}).status_code == 201
    assert CartLine.objects.count() == 2


def test_a_source_video_that_does_not_tag_the_product_is_422(client_for, catalog, video, variants):
    # A published video whose tag is of another product: the acceptance check's case.
    other_product = next(
        v["product_id"] for v in variants if v["product_id"] != variants[0]["product_id"]
    )
    elsewhere = video.tag(other_product)

    _refused(
        _add(client_for("u1"), variants[0]["id"], elsewhere),
        "source.video_id",
        "product_not_tagged",
    )
    _refused(
        _add(client_for("u1"), variants[0]["id"], {"video_id": elsewhere["video_id"]}),
        "source.video_id",
        "product_not_tagged",
    )


def test_a_tag_that_is_not_that_videos_tag_of_the_product_is_422(
    client_for, catalog, video, variants, source
):
    same_product_elsewhere = video.tag(variants[0]["product_id"])

    for tag_id in (same_product_elsewhere["tag_id"], str(uuid.uuid4())):
        _refused(
            _add(client_for("u1"), variants[0]["id"], {**source, "tag_id": tag_id}),
            "source.tag_id",
            "tag_mismatch",
        )


@pytest.mark.parametrize("status", ["draft", "removed"])
def test_a_video_not_published_is_422(client_for, catalog, video, variants, status):
    hidden = video.tag(variants[0]["product_id"], status=status)

    _refused(_add(client_for("u1"), variants[0]["id"], hidden), "source.video_id", "unknown_video")


def test_an_unknown_video_is_422(client_for, catalog, video, variants):
    unknown = {"video_id": str(uuid.uuid4()), "tag_id": str(uuid.uuid4())}

    _refused(_add(client_for("u1"), variants[0]["id"], unknown), "source.video_id", "unknown_video")


def test_with_video_down_the_line_is_added_with_its_source_unverified(
    client_for, catalog, variants, caplog
):
    unverified = {"video_id": str(uuid.uuid4()), "tag_id": str(uuid.uuid4())}

    response = _add(client_for("u1"), variants[0]["id"], unverified)

    assert response.status_code == 201, response.json()
    assert response.json()["lines"][0]["source"] == unverified
    assert "Cart source kept unverified: video unavailable" in caplog.messages


def test_a_line_without_a_source_never_asks_video(client_for, catalog, variants):
    # Video is down (the default here): a line without a source does not care.
    response = client_for("u1").post(
        "/api/v1/cart/lines/", {"variant_id": variants[0]["id"], "quantity": 1}, format="json"
    )

    assert response.status_code == 201


def test_buy_now_lines_are_checked_the_same_and_nothing_is_reserved_or_charged(
    client_for, catalog, video, stripe_emulator, variants, source
):
    from orders.models import Order
    from tests.conftest import ADDRESS

    other_product = next(
        v["product_id"] for v in variants if v["product_id"] != variants[0]["product_id"]
    )
    elsewhere = video.tag(other_product)
    before = catalog.stock(variants[0]["id"])

    def buy_now(line_source):
        return client_for("u-buy-now").post(
            "/api/v1/checkouts/",
            {
                "email": "a@example.com",
                "shipping_address": ADDRESS,
                "lines": [
                    {"variant_id": variants[1]["id"], "quantity": 1},
                    {"variant_id": variants[0]["id"], "quantity": 1, "source": line_source},
                ],
            },
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )

    refused = buy_now(elsewhere)
    assert refused.status_code == 422, refused.json()
    assert refused.json()["code"] == "invalid_source"
    assert [(e["field"], e["code"]) for e in refused.json()["errors"]] == [
        ("lines[1].source.video_id", "product_not_tagged")
    ]
    assert catalog.stock(variants[0]["id"]) == before
    assert not Order.objects.exists()

    assert buy_now(source).status_code == 201

"""Tagging against the real catalog service (over HTTP)."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections

from productcards.models import ProductCard
from tests.factories import CreatorFactory, ProductTagFactory, VideoFactory
from videos.models import ProductTag
from videos.selectors import tag_position_at

pytestmark = pytest.mark.django_db


@pytest.fixture
def video():
    return VideoFactory(creator=CreatorFactory(user_id="u1"), duration_ms=20_000)


def _tag(client, video, **fields):
    return client.post(f"/api/v1/videos/{video.id}/tags/", fields, format="json")


def test_tagging_an_active_product_checks_catalog_and_fills_the_read_model(
    client_for, video, catalog
):
    product = catalog.active_products[0]
    variant_id = product["variants"][0]["id"]
    response = _tag(
        client_for("u1"),
        video,
        product_id=product["id"],
        variant_id=variant_id,
        start_ms=1000,
        end_ms=4000,
        x=0.25,
        y=0.75,
        keyframes=[{"t_ms": 1000, "x": 0.2, "y": 0.7}, {"t_ms": 4000, "x": 0.4, "y": 0.9}],
    )
    assert response.status_code == 201, response.json()
    tag = ProductTag.objects.get()
    assert (str(tag.product_id), str(tag.variant_id)) == (product["id"], variant_id)
    assert str(tag.merchant_id) == product["merchant"]["id"]
    card = ProductCard.objects.get(product_id=product["id"])
    assert (card.title, card.status) == (product["title"], "active")


@pytest.mark.parametrize("which", ["archived", "unknown"])
def test_archived_or_unknown_products_are_422_and_nothing_is_written(
    client_for, video, catalog, which
):
    product_id = catalog.archived_product_id if which == "archived" else str(uuid.uuid4())
    response = _tag(client_for("u1"), video, product_id=product_id, start_ms=0, end_ms=10, x=0, y=0)
    assert (response.status_code, response.json()["code"]) == (422, "unknown_product")
    assert ProductTag.objects.count() == 0


def test_a_variant_of_another_product_is_422(client_for, video, catalog):
    first, second = catalog.active_products[:2]
    response = _tag(
        client_for("u1"),
        video,
        product_id=first["id"],
        variant_id=second["variants"][0]["id"],
        start_ms=0,
        end_ms=10,
        x=0,
        y=0,
    )
    assert (response.status_code, response.json()["code"]) == (422, "unknown_variant")


def test_catalog_down_is_503_with_nothing_written(client_for, video, catalog_down):
    response = _tag(
        client_for("u1"), video, product_id=str(uuid.uuid4()), start_ms=0, end_ms=10, x=0, y=0
    )
    assert (response.status_code, response.json()["code"]) == (503, "catalog_unavailable")
    assert ProductTag.objects.count() == 0
    assert ProductCard.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"start_ms": 5000, "end_ms": 5000}, 422, "end_ms"),
        ({"start_ms": 0, "end_ms": 20_001}, 422, "end_ms"),
        ({"x": 1.01}, 400, "x"),
        ({"y": -0.1}, 400, "y"),
        ({"x": "left"}, 400, "x"),
        (
            {"keyframes": [{"t_ms": 3000, "x": 0.1, "y": 0.1}, {"t_ms": 2000, "x": 0, "y": 0}]},
            422,
            "keyframes",
        ),
        ({"keyframes": [{"t_ms": 9000, "x": 0.1, "y": 0.1}]}, 422, "keyframes"),
        ({"product_id": 12}, 400, "product_id"),
    ],
)
def test_bad_tags_get_a_clear_error_and_nothing_is_written(
    client_for, video, catalog, fields, status, field
):
    tag = {
        "product_id": catalog.active_products[0]["id"],
        "start_ms": 1000,
        "end_ms": 5000,
        "x": 0.5,
        "y": 0.5,
    }
    response = _tag(client_for("u1"), video, **{**tag, **fields})
    assert response.status_code == status, response.json()
    assert field in [error["field"] for error in response.json()["errors"]]
    assert ProductTag.objects.count() == 0


def test_the_31st_tag_is_refused(client_for, video, catalog):
    ProductTagFactory.create_batch(30, video=video)
    product = catalog.active_products[0]
    response = _tag(
        client_for("u1"), video, product_id=product["id"], start_ms=0, end_ms=10, x=0, y=0
    )
    assert (response.status_code, response.json()["code"]) == (422, "too_many_tags")
    assert ProductTag.objects.filter(video=video).count() == 30


@pytest.mark.django_db(transaction=True)
def test_concurrent_taggers_cannot_pass_the_limit(client_for, catalog):
    video = VideoFactory(creator=CreatorFactory(user_id="u1"))
    ProductTagFactory.create_batch(28, video=video)
    product = catalog.active_products[0]
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def tag() -> None:
        try:
            barrier.wait()
            response = _tag(
                client_for("u1"), video, product_id=product["id"], start_ms=0, end_ms=10, x=0, y=0
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tag) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [201, 201, 422, 422, 422, 422]
    assert ProductTag.objects.filter(video=video).count() == 30


def test_a_creator_moves_and_deletes_own_tags_only(client_for, video):
    tag = ProductTagFactory(video=video)
    path = f"/api/v1/videos/{video.id}/tags/{tag.id}/"
    moved = client_for("u1").patch(path, {"x": 0.9, "end_ms": 8000}, format="json")
    assert (moved.status_code, moved.json()["x"], moved.json()["end_ms"]) == (200, 0.9, 8000)
    outside = client_for("u1").patch(path, {"end_ms": 25_000}, format="json")
    assert outside.status_code == 422
    CreatorFactory(user_id="intruder")
    assert client_for("intruder").delete(path).status_code == 404
    assert client_for("u1").delete(path).status_code == 204
    assert ProductTag.objects.count() == 0


def test_shortening_a_video_may_not_cut_its_tags(client_for, video):
    ProductTagFactory(video=video, start_ms=1000, end_ms=15_000)
    response = client_for("u1").patch(
        f"/api/v1/videos/{video.id}/", {"duration_ms": 10_000}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (422, "tag_outside_video")


def test_hotspot_follows_keyframes_linearly_and_hides_outside_them():
    tag = ProductTag(
        start_ms=0,
        end_ms=10_000,
        x=0.5,
        y=0.5,
        keyframes=[{"t_ms": 1000, "x": 0.0, "y": 0.0}, {"t_ms": 3000, "x": 1.0, "y": 0.5}],
    )
    assert tag_position_at(tag, 2000) == (0.5, 0.25)
    assert tag_position_at(tag, 1000) == (0.0, 0.0)
    assert tag_position_at(tag, 500) is None
    assert tag_position_at(tag, 5000) is None
    assert tag_position_at(ProductTag(start_ms=0, end_ms=100, x=0.3, y=0.4, keyframes=[]), 50) == (
        0.3,
        0.4,
    )
    assert (
        tag_position_at(ProductTag(start_ms=0, end_ms=100, x=0.3, y=0.4, keyframes=[]), 101) is None
    )

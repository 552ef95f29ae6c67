"""`GET /internal/v1/sources/`: may this video (and tag) be a cart line's source for this
product? Checkout asks at add-to-cart; attribution applies the same rule at credit time."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint, user_token_mint
from tests.factories import ProductTagFactory, VideoFactory
from videos.models import Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def service_client() -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}")
    return client


def _check(client, video_id, product_id, tag_id=None):
    params = {"video_id": str(video_id), "product_id": str(product_id)}
    if tag_id is not None:
        params["tag_id"] = str(tag_id)
    return client.get("/internal/v1/sources/", params)


def test_a_published_video_tagging_the_product_is_a_valid_source(service_client):
    tag = ProductTagFactory()

    with_tag = _check(service_client, tag.video_id, tag.product_id, tag.id)
    without_tag = _check(service_client, tag.video_id, tag.product_id)

    assert with_tag.status_code == 200
    assert with_tag.json() == {
        "video_id": str(tag.video_id),
        "product_id": str(tag.product_id),
        "tag_id": str(tag.id),
        "is_valid": True,
        "problem": None,
    }
    assert without_tag.json()["is_valid"] is True


@pytest.mark.parametrize("status", [Video.Status.DRAFT, Video.Status.REMOVED])
def test_a_video_not_published_is_no_source(service_client, status):
    tag = ProductTagFactory(video=VideoFactory(status=status, published_at=None))

    body = _check(service_client, tag.video_id, tag.product_id, tag.id).json()

    assert (body["is_valid"], body["problem"]) == (False, "unknown_video")


def test_an_unknown_video_is_no_source(service_client):
    tag = ProductTagFactory()

    body = _check(service_client, uuid.uuid4(), tag.product_id).json()

    assert (body["is_valid"], body["problem"]) == (False, "unknown_video")


def test_a_video_that_does_not_tag_the_product_is_no_source(service_client):
    tag = ProductTagFactory()
    other_product = ProductTagFactory().product_id

    with_its_tag = _check(service_client, tag.video_id, other_product, tag.id).json()
    without_tag = _check(service_client, tag.video_id, other_product).json()

    assert (with_its_tag["is_valid"], with_its_tag["problem"]) == (False, "product_not_tagged")
    assert (without_tag["is_valid"], without_tag["problem"]) == (False, "product_not_tagged")


def test_a_tag_of_another_video_or_product_is_no_source(service_client):
    tag = ProductTagFactory()
    same_product_elsewhere = ProductTagFactory(product_id=tag.product_id)
    other_product_same_video = ProductTagFactory(video=tag.video)

    for tag_id in (same_product_elsewhere.id, other_product_same_video.id, uuid.uuid4()):
        body = _check(service_client, tag.video_id, tag.product_id, tag_id).json()
        assert (body["is_valid"], body["problem"]) == (False, "tag_mismatch"), tag_id


def test_bad_parameters_are_400_naming_the_field(service_client):
    response = service_client.get(
        "/internal/v1/sources/", {"video_id": "nope", "product_id": str(uuid.uuid4())}
    )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert [error["field"] for error in response.json()["errors"]] == ["video_id"]
    missing = service_client.get("/internal/v1/sources/", {"video_id": str(uuid.uuid4())})
    assert [error["field"] for error in missing.json()["errors"]] == ["product_id"]


def test_only_services_may_ask():
    tag = ProductTagFactory()
    anonymous = _check(APIClient(), tag.video_id, tag.product_id)
    user = APIClient()
    user.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id='u1')}")

    assert anonymous.status_code == 401
    assert _check(user, tag.video_id, tag.product_id).status_code == 403

"""Video takes what its schema says and nothing looser: a bad `limit` or an empty
parameter is a 400 naming it, a number is not a string (nor a string a number), and the
events batch declares the loosely typed events it judges one by one."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint
from creators.models import Creator
from tests.factories import CreatorFactory, ProductTagFactory, VideoFactory
from videos.models import ProductTag, Video

pytestmark = pytest.mark.django_db

VIDEO = {
    "stream_url": "https://cdn.example.com/v.m3u8",
    "thumbnail_url": "https://cdn.example.com/v.jpg",
    "caption": "Hello",
    "duration_ms": 15000,
}


def _problem_fields(response) -> list[str | None]:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    return [error["field"] for error in body["errors"]]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/feed/?mode=latest&",
        "/api/v1/feed/?mode=trending&",
        "/api/v1/hashtags/haul/videos/?",
        "/api/v1/search/?q=haul&",
    ],
)
@pytest.mark.parametrize("limit", ["", "abc", "null", "0", "101", "5&limit=5"])
def test_a_bad_limit_is_400_naming_limit(api_client, path, limit):
    VideoFactory(caption="#haul")
    assert _problem_fields(api_client.get(f"{path}limit={limit}")) == ["limit"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("/api/v1/feed/?mode=", "mode"),
        ("/api/v1/search/?q=haul&type=", "type"),
        ("/api/v1/search/?q=haul&type=videos&type=products", "type"),
    ],
)
def test_an_empty_or_repeated_feed_or_search_parameter_is_400_naming_it(api_client, query, field):
    assert _problem_fields(api_client.get(query)) == [field]


@pytest.mark.parametrize("name", ["from", "to", "model"])
def test_an_empty_earnings_parameter_is_400_naming_it(client_for, name):
    CreatorFactory(user_id="ada")
    response = client_for("ada").get(f"/api/v1/creators/me/earnings/?{name}=")
    assert _problem_fields(response) == [name]


def test_an_empty_tag_id_in_a_source_check_is_400():
    service_client = APIClient()
    service_client.credentials(
        HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}"
    )
    video = VideoFactory()
    response = service_client.get(
        f"/internal/v1/sources/?video_id={video.id}&product_id={video.id}&tag_id="
    )
    assert _problem_fields(response) == ["tag_id"]


def test_a_display_name_given_as_a_number_is_400_and_makes_no_creator(client_for):
    response = client_for("u1").post(
        "/api/v1/creators/", {"handle": "ada", "display_name": 0}, format="json"
    )
    assert _problem_fields(response) == ["display_name"]
    assert not Creator.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"), [("caption", 0), ("duration_ms", "15000"), ("duration_ms", True)]
)
def test_a_video_field_of_the_wrong_json_type_is_400_and_makes_no_video(client_for, field, value):
    CreatorFactory(user_id="u1")
    response = client_for("u1").post("/api/v1/videos/", VIDEO | {field: value}, format="json")
    assert _problem_fields(response) == [field]
    assert not Video.objects.exists()


def test_a_tag_position_given_as_a_string_is_400_and_changes_nothing(client_for):
    tag = ProductTagFactory(x=0.25)
    client = client_for(tag.video.creator.user_id)
    response = client.patch(
        f"/api/v1/videos/{tag.video_id}/tags/{tag.id}/", {"x": "0.5"}, format="json"
    )
    assert _problem_fields(response) == ["x"]
    assert ProductTag.objects.get(id=tag.id).x == 0.25

from __future__ import annotations

import uuid

import pytest

from creators.models import Creator
from tests.factories import CreatorFactory, VideoFactory
from videos.models import Video

pytestmark = pytest.mark.django_db

VIDEO = {
    "stream_url": "https://cdn.example.com/a.m3u8",
    "thumbnail_url": "https://cdn.example.com/a.jpg",
    "caption": "Trail day #hiking",
    "duration_ms": 15000,
}


def test_any_user_becomes_a_creator_once(client_for):
    client = client_for("u1")
    created = client.post(
        "/api/v1/creators/", {"handle": "Trail_Queen", "display_name": "Trail Queen"}, format="json"
    )
    assert created.status_code == 201
    assert created.json()["handle"] == "trail_queen"
    assert client.get("/api/v1/creators/me/").json()["id"] == created.json()["id"]

    again = client.post(
        "/api/v1/creators/", {"handle": "other", "display_name": "x"}, format="json"
    )
    assert (again.status_code, again.json()["code"]) == (409, "already_a_creator")
    assert Creator.objects.count() == 1


def test_a_taken_handle_is_409_and_bad_handles_are_400(client_for):
    CreatorFactory(handle="taken")
    response = client_for("u2").post(
        "/api/v1/creators/", {"handle": "TAKEN", "display_name": "x"}, format="json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "handle_taken")
    for handle in ("a", "has space", "x" * 31, "émile"):
        bad = client_for("u3").post(
            "/api/v1/creators/", {"handle": handle, "display_name": "x"}, format="json"
        )
        assert bad.status_code == 400, handle
    assert Creator.objects.count() == 1


def test_me_without_a_profile_is_403_not_a_creator(client_for, api_client):
    response = client_for("nobody").get("/api/v1/creators/me/")
    assert (response.status_code, response.json()["code"]) == (403, "not_a_creator")
    assert api_client.get("/api/v1/creators/me/").status_code == 401


def test_a_creator_drafts_edits_and_publishes_a_video(client_for):
    CreatorFactory(user_id="u1")
    client = client_for("u1")
    draft = client.post("/api/v1/videos/", VIDEO, format="json")
    assert draft.status_code == 201
    body = draft.json()
    assert (body["status"], body["published_at"], body["tags"]) == ("draft", None, [])

    video_id = body["id"]
    # Drafts are visible to their creator only.
    assert client_for("someone").get(f"/api/v1/videos/{video_id}/").status_code == 404
    patched = client.patch(f"/api/v1/videos/{video_id}/", {"caption": "New"}, format="json")
    assert patched.json()["caption"] == "New"

    published = client.post(f"/api/v1/videos/{video_id}/publish/").json()
    assert published["status"] == "published"
    assert published["published_at"] is not None
    republished = client.post(f"/api/v1/videos/{video_id}/publish/").json()
    assert republished["published_at"] == published["published_at"]
    assert client_for("someone").get(f"/api/v1/videos/{video_id}/").status_code == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"stream_url": "ftp://cdn.example.com/a"}, "stream_url"),
        ({"stream_url": "javascript:alert(1)"}, "stream_url"),
        ({"thumbnail_url": "file:///etc/passwd"}, "thumbnail_url"),
        ({"duration_ms": 0}, "duration_ms"),
        ({"duration_ms": "long"}, "duration_ms"),
        ({"caption": "x" * 2201}, "caption"),
    ],
)
def test_bad_video_fields_are_400_and_nothing_is_written(client_for, change, field):
    CreatorFactory(user_id="u1")
    response = client_for("u1").post("/api/v1/videos/", {**VIDEO, **change}, format="json")
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert Video.objects.count() == 0


def test_only_creators_post_videos(client_for):
    response = client_for("not-a-creator").post("/api/v1/videos/", VIDEO, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "not_a_creator")


def test_another_creators_video_is_404_for_every_write(client_for):
    CreatorFactory(user_id="intruder")
    video = VideoFactory()
    intruder = client_for("intruder")
    path = f"/api/v1/videos/{video.id}/"
    assert intruder.patch(path, {"caption": "mine now"}, format="json").status_code == 404
    assert intruder.delete(path).status_code == 404
    assert intruder.post(f"{path}publish/").status_code == 404
    tag = {"product_id": str(uuid.uuid4()), "start_ms": 0, "end_ms": 10, "x": 0.1, "y": 0.1}
    assert intruder.post(f"{path}tags/", tag, format="json").status_code == 404
    video.refresh_from_db()
    assert (video.caption, video.status) == ("Look at this", "published")


def test_removing_a_video_hides_it_but_keeps_its_row(client_for):
    video = VideoFactory(creator=CreatorFactory(user_id="u1"))
    assert client_for("u1").delete(f"/api/v1/videos/{video.id}/").status_code == 204
    assert client_for("u1").get(f"/api/v1/videos/{video.id}/").status_code == 404
    video.refresh_from_db()
    assert video.status == "removed"

"""The video admin's list: thumbnails, and the filter catalog's product page links with
(`?tags__product_id=`), scoped to the staff's merchants as every list here."""

from __future__ import annotations

import pytest

from tests.admin_pages import VIDEOS, _listed
from videos.models import Video

pytestmark = pytest.mark.django_db


def test_the_video_list_shows_each_thumbnail_as_an_image_the_browser_loads(
    staff_client, world, brand_video, creator_video
):
    Video.objects.filter(id=creator_video.id).update(thumbnail_url="javascript:alert(1)")
    Video.objects.filter(id=brand_video.id).update(thumbnail_url="https://cdn.example.com/a&b.jpg")

    content = staff_client.get(f"{VIDEOS}/").content.decode()

    assert '<img src="https://cdn.example.com/a&amp;b.jpg" alt="" class="clipcart-thumbnail"' in (
        content
    )
    assert "javascript:alert" not in content


def test_the_video_list_filters_by_a_tagged_product(
    staff_client, world, tag_a_on_brand_video, tag_a_on_creator_video
):
    response = staff_client.get(
        f"{VIDEOS}/", {"tags__product_id": str(tag_a_on_brand_video.product_id)}
    )

    assert _listed(response) == [tag_a_on_brand_video.video]


def test_the_product_filter_keeps_the_staffs_scope(staff_client, world, tag_b_on_other_video):
    # B's product, on a video A's staff cannot see: nothing, not an error.
    response = staff_client.get(
        f"{VIDEOS}/", {"tags__product_id": str(tag_b_on_other_video.product_id)}
    )

    assert _listed(response) == []


def test_a_product_filter_that_is_not_an_id_is_the_admins_own_error_page(staff_client, world):
    response = staff_client.get(f"{VIDEOS}/", {"tags__product_id": "not-an-id"})

    assert (response.status_code, response["Location"]) == (302, f"{VIDEOS}/?e=1")


def test_an_unknown_filter_is_still_refused(staff_client, world):
    # Django's answer to a lookup the admin does not allow: 400, as before.
    response = staff_client.get(f"{VIDEOS}/", {"tags__merchant_id": "x"})

    assert response.status_code == 400

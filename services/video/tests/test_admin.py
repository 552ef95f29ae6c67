"""The video admin: each merchant's staff see and change only what concerns their own
products; platform staff see everything. Tags, saved against the real catalog, are in
test_tags_admin.py.

Merchant A and B are catalog's demo merchants (their ids follow catalog's documented
demo convention and are the `merchant.id` of the real catalog's cards), so the products
the `catalog` fixture serves belong to A or B.
"""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from engagement.models import DailyVideoStats
from productcards.models import ProductCard
from tests.admin_pages import CARDS, CREATORS, STATS, TAGS, VIDEOS, _form, _listed
from tests.conftest import MERCHANT_B
from tests.factories import VideoFactory
from videos.models import ProductTag, Video

pytestmark = pytest.mark.django_db


# --- videos ---------------------------------------------------------------------------


def test_staff_video_list_shows_only_videos_tagging_their_products(
    staff_client, world, brand_video, creator_video
):
    response = staff_client.get(f"{VIDEOS}/")

    assert set(_listed(response)) == {brand_video, creator_video}
    assert "Linen and a wool throw" not in response.content.decode()
    # Only the tags they can open are counted: B's tag on the brand video is not.
    assert {video.id: video.tag_total for video in _listed(response)} == {
        brand_video.id: 1,
        creator_video.id: 1,
    }


def test_staff_video_list_includes_their_brand_creators_untagged_videos(
    staff_client, brand_creator
):
    fresh = VideoFactory(creator=brand_creator, caption="Not tagged yet")

    assert _listed(staff_client.get(f"{VIDEOS}/")) == [fresh]


@pytest.mark.parametrize("page", ["change", "delete", "history"])
def test_staff_gets_404_for_video_pages_outside_their_scope(staff_client, world, other_video, page):
    response = staff_client.get(f"{VIDEOS}/{other_video.id}/{page}/")

    assert response.status_code == 404


def test_staff_gets_404_not_a_redirect_for_unknown_video(staff_client):
    assert staff_client.get(f"{VIDEOS}/{uuid.uuid4()}/change/").status_code == 404


def test_staff_video_page_is_view_only_and_lists_only_their_tags(
    staff_client, world, brand_video, tag_a_on_brand_video
):
    response = staff_client.get(f"{VIDEOS}/{brand_video.id}/change/")

    assert response.status_code == 200
    assert response.context["has_change_permission"] is False
    [inline] = response.context["inline_admin_formsets"]
    assert list(inline.formset.queryset) == [tag_a_on_brand_video]
    assert "Teak Board" not in response.content.decode()
    posted = staff_client.post(f"{VIDEOS}/{brand_video.id}/change/", {"caption": "Mine now"})
    assert posted.status_code == 403
    brand_video.refresh_from_db()
    assert brand_video.caption == "Packing light"


def test_no_one_deletes_videos_in_the_admin(superuser_client, brand_video):
    response = superuser_client.post(f"{VIDEOS}/{brand_video.id}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Video.objects.filter(id=brand_video.id).exists()


# --- platform staff ---------------------------------------------------------------------


def test_superuser_sees_everything(
    superuser_client, world, brand_creator, creator, tag_b_on_brand_video
):
    assert set(_listed(superuser_client.get(f"{VIDEOS}/"))) == set(Video.objects.all())
    assert len(_listed(superuser_client.get(f"{VIDEOS}/"))) == 4
    assert set(_listed(superuser_client.get(f"{TAGS}/"))) == set(ProductTag.objects.all())
    assert len(_listed(superuser_client.get(f"{TAGS}/"))) == 4
    assert set(_listed(superuser_client.get(f"{CREATORS}/"))) == {brand_creator, creator}
    assert superuser_client.get(f"{TAGS}/{tag_b_on_brand_video.id}/change/").status_code == 200
    form = _form(superuser_client.get(f"{TAGS}/add/"))
    assert set(form.fields["video"].queryset) == set(Video.objects.all())


# --- creators ---------------------------------------------------------------------------


def test_staff_see_only_their_brand_creators_and_cannot_change_them(
    staff_client, brand_creator, creator
):
    assert _listed(staff_client.get(f"{CREATORS}/")) == [brand_creator]
    assert staff_client.get(f"{CREATORS}/{creator.id}/change/").status_code == 404
    page = staff_client.get(f"{CREATORS}/{brand_creator.id}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    posted = staff_client.post(
        f"{CREATORS}/{brand_creator.id}/change/", {"commission_rate_bps": "9000"}
    )
    assert posted.status_code == 403
    brand_creator.refresh_from_db()
    assert brand_creator.commission_rate_bps == 1000


def test_superuser_edits_a_creators_commission_and_brand(superuser_client, creator):
    response = superuser_client.post(
        f"{CREATORS}/{creator.id}/change/",
        {
            "handle": creator.handle,
            "display_name": creator.display_name,
            "avatar_url": creator.avatar_url,
            "commission_rate_bps": "1550",
            "brand_merchant_id": str(MERCHANT_B),
            "user_id": "someone-else",  # read-only: ignored
        },
    )

    assert response.status_code == 302
    creator.refresh_from_db()
    assert (creator.commission_rate_bps, creator.brand_merchant_id) == (1550, MERCHANT_B)
    assert creator.user_id != "someone-else"


# --- product cards and stats ------------------------------------------------------------


def test_product_cards_are_read_only_and_for_platform_staff_only(
    staff_client, superuser_client, world
):
    card = ProductCard.objects.get(title="Down Jacket")

    assert staff_client.get(f"{CARDS}/").status_code == 403
    assert len(_listed(superuser_client.get(f"{CARDS}/"))) == 4
    page = superuser_client.get(f"{CARDS}/{card.product_id}/change/")
    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert superuser_client.get(f"{CARDS}/add/").status_code == 403


def _stats(video: Video, day: date, views: int) -> DailyVideoStats:
    return DailyVideoStats.objects.create(video_id=video.id, day=day, views=views)


def test_staff_see_stats_only_of_videos_tagging_their_products(
    staff_client, world, creator_video, other_video, untagged_video
):
    own = _stats(creator_video, date(2026, 3, 1), views=7)
    _stats(other_video, date(2026, 3, 1), views=5)
    _stats(untagged_video, date(2026, 3, 1), views=3)

    response = staff_client.get(f"{STATS}/")

    assert _listed(response) == [own]
    assert "Sunrise ridge run" in response.content.decode()
    other = DailyVideoStats.objects.get(video_id=other_video.id)
    assert staff_client.get(f"{STATS}/{other.id}/change/").status_code == 404


def test_stats_are_filtered_by_day(superuser_client, creator_video, other_video):
    first = _stats(creator_video, date(2026, 3, 1), views=7)
    second = _stats(creator_video, date(2026, 3, 2), views=9)
    other_second = _stats(other_video, date(2026, 3, 2), views=5)

    by_day = superuser_client.get(f"{STATS}/", {"day__gte": "2026-03-02", "day__lt": "2026-03-03"})
    by_hierarchy = superuser_client.get(
        f"{STATS}/", {"day__year": "2026", "day__month": "3", "day__day": "1"}
    )

    assert set(_listed(by_day)) == {second, other_second}
    assert _listed(by_hierarchy) == [first]
    stats_page = superuser_client.get(f"{STATS}/{first.id}/change/")
    assert stats_page.context["has_change_permission"] is False

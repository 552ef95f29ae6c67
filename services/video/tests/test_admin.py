"""The video admin: each merchant's staff see and change only what concerns their own
products; platform staff see everything. Tags are saved against the real catalog.

Merchant A and B are catalog's demo merchants (their ids follow catalog's documented
demo convention and are the `merchant.id` of the real catalog's cards), so the products
the `catalog` fixture serves belong to A or B.
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from clipcart_tools.testing.fixtures import admin_lockout_answers
from creators.models import Creator
from engagement.models import DailyVideoStats
from productcards.models import ProductCard
from tests.conftest import MERCHANT_A, MERCHANT_B
from tests.factories import CreatorFactory, ProductCardFactory, ProductTagFactory, VideoFactory
from videos.models import ProductTag, Video

pytestmark = pytest.mark.django_db

ADMIN = "/video/admin"
VIDEOS = f"{ADMIN}/videos/video"
TAGS = f"{ADMIN}/videos/producttag"
PRODUCT_SEARCH = f"{TAGS}/product-search/"
CREATORS = f"{ADMIN}/creators/creator"
STATS = f"{ADMIN}/engagement/dailyvideostats"
CARDS = f"{ADMIN}/productcards/productcard"


# --- creators, videos and tags --------------------------------------------------------


@pytest.fixture
def brand_creator() -> Creator:
    return CreatorFactory(handle="alpine_official", brand_merchant_id=MERCHANT_A)


@pytest.fixture
def creator() -> Creator:
    return CreatorFactory(handle="trailqueen")


@pytest.fixture
def brand_video(brand_creator: Creator) -> Video:
    return VideoFactory(creator=brand_creator, caption="Packing light", duration_ms=30_000)


@pytest.fixture
def creator_video(creator: Creator) -> Video:
    return VideoFactory(creator=creator, caption="Sunrise ridge run")


@pytest.fixture
def other_video(creator: Creator) -> Video:
    """A regular creator's video tagging only B's products."""
    return VideoFactory(creator=creator, caption="Linen and a wool throw")


@pytest.fixture
def untagged_video(creator: Creator) -> Video:
    return VideoFactory(creator=creator, caption="Nothing to buy here")


MERCHANT_NAMES = {MERCHANT_A: "Alpine Outfitters", MERCHANT_B: "Harbor Home"}


def _tag(video: Video, merchant_id: uuid.UUID, title: str, **fields: Any) -> ProductTag:
    card = ProductCardFactory(
        merchant_id=merchant_id, merchant_name=MERCHANT_NAMES[merchant_id], title=title
    )
    return ProductTagFactory(
        video=video, product_id=card.product_id, merchant_id=merchant_id, **fields
    )


@pytest.fixture
def tag_a_on_brand_video(brand_video: Video) -> ProductTag:
    return _tag(brand_video, MERCHANT_A, "Down Jacket", start_ms=2000, end_ms=9000, x=0.3, y=0.6)


@pytest.fixture
def tag_b_on_brand_video(brand_video: Video) -> ProductTag:
    """The brand's creator tagged another merchant's product (allowed in the app)."""
    return _tag(brand_video, MERCHANT_B, "Teak Board")


@pytest.fixture
def tag_a_on_creator_video(creator_video: Video) -> ProductTag:
    return _tag(creator_video, MERCHANT_A, "Trail Runner", start_ms=0, end_ms=2500, x=1, y=0)


@pytest.fixture
def tag_b_on_other_video(other_video: Video) -> ProductTag:
    return _tag(other_video, MERCHANT_B, "Linen Duvet Cover")


@pytest.fixture
def world(
    tag_a_on_brand_video,
    tag_b_on_brand_video,
    tag_a_on_creator_video,
    tag_b_on_other_video,
    untagged_video,
) -> None:
    """Every video and tag above."""


def _listed(response: Any) -> list[Any]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def _form(response: Any) -> Any:
    assert response.status_code == 200
    return response.context["adminform"].form


def _error_codes(form: Any) -> dict[str, list[str | None]]:
    return {
        field: [error.code for error in errors] for field, errors in form.errors.as_data().items()
    }


def _tag_data(video: Video, product_id: str, **overrides: str) -> dict[str, str]:
    return {
        "video": str(video.id),
        "product_id": product_id,
        "start_seconds": "2",
        "end_seconds": "9.5",
        "x_percent": "30",
        "y_percent": "60",
        "_save": "Save",
        **overrides,
    }


def _products_of(catalog: Any, merchant_id: uuid.UUID) -> list[dict[str, Any]]:
    products = [p for p in catalog.active_products if p["merchant"]["id"] == str(merchant_id)]
    assert products, "the real catalog sells products of this demo merchant"
    return products


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


# --- tags: scope ------------------------------------------------------------------------


def test_staff_tag_list_shows_only_tags_on_their_products_with_span_and_position(
    staff_client, world, tag_a_on_brand_video, tag_a_on_creator_video
):
    response = staff_client.get(f"{TAGS}/")

    assert set(_listed(response)) == {tag_a_on_brand_video, tag_a_on_creator_video}
    content = response.content.decode()
    assert "0:02\N{EN DASH}0:09 at (30%, 60%)" in content
    assert "0:00\N{EN DASH}0:02.5 at (100%, 0%)" in content
    assert "Down Jacket (Alpine Outfitters)" in content
    assert "Teak Board" not in content
    assert "Linen Duvet Cover" not in content


def test_staff_tag_search_by_product_title_stays_in_scope(
    staff_client, world, tag_a_on_brand_video
):
    assert _listed(staff_client.get(f"{TAGS}/", {"q": "down jacket"})) == [tag_a_on_brand_video]
    assert _listed(staff_client.get(f"{TAGS}/", {"q": "Teak"})) == []


@pytest.mark.parametrize("page", ["change", "delete", "history"])
def test_staff_gets_404_for_pages_of_a_tag_on_another_merchants_product(
    staff_client, world, tag_b_on_brand_video, page
):
    # Even on their own brand's video: the tag is of B's product.
    response = staff_client.get(f"{TAGS}/{tag_b_on_brand_video.id}/{page}/")

    assert response.status_code == 404


def test_staff_deletes_a_tag_on_their_product_on_another_creators_video(
    staff_client, world, tag_a_on_creator_video
):
    response = staff_client.post(f"{TAGS}/{tag_a_on_creator_video.id}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not ProductTag.objects.filter(id=tag_a_on_creator_video.id).exists()
    assert ProductTag.objects.count() == 3


def test_staff_cannot_delete_a_tag_on_another_merchants_product(
    staff_client, world, tag_b_on_other_video
):
    response = staff_client.post(f"{TAGS}/{tag_b_on_other_video.id}/delete/", {"post": "yes"})

    assert response.status_code == 404
    assert ProductTag.objects.filter(id=tag_b_on_other_video.id).exists()


def test_bulk_delete_action_removes_only_the_staffs_tags(
    staff_client, world, tag_a_on_creator_video, tag_b_on_other_video
):
    response = staff_client.post(
        f"{TAGS}/",
        {
            "action": "delete_selected",
            "_selected_action": [str(tag_a_on_creator_video.id), str(tag_b_on_other_video.id)],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not ProductTag.objects.filter(id=tag_a_on_creator_video.id).exists()
    assert ProductTag.objects.filter(id=tag_b_on_other_video.id).exists()


def test_tag_on_another_creators_video_is_view_only_for_staff(
    staff_client, world, tag_a_on_creator_video
):
    page = staff_client.get(f"{TAGS}/{tag_a_on_creator_video.id}/change/")

    assert page.status_code == 200
    assert page.context["has_change_permission"] is False
    assert page.context["has_delete_permission"] is True
    posted = staff_client.post(
        f"{TAGS}/{tag_a_on_creator_video.id}/change/",
        {"start_seconds": "1", "end_seconds": "2", "x_percent": "5", "y_percent": "5"},
    )
    assert posted.status_code == 403
    tag_a_on_creator_video.refresh_from_db()
    assert (tag_a_on_creator_video.start_ms, tag_a_on_creator_video.x) == (0, 1)


# --- tags: the editor -------------------------------------------------------------------


def test_tag_add_form_offers_only_the_staffs_brand_creators_videos(
    staff_client, world, brand_video, brand_creator
):
    VideoFactory(creator=brand_creator, status=Video.Status.REMOVED, caption="Taken down")

    form = _form(staff_client.get(f"{TAGS}/add/"))

    assert list(form.fields["video"].queryset) == [brand_video]
    assert list(form.fields) == [
        "video",
        "product_id",
        "start_seconds",
        "end_seconds",
        "x_percent",
        "y_percent",
    ]


def test_staff_cannot_tag_another_creators_video(staff_client, world, creator_video):
    response = staff_client.post(f"{TAGS}/add/", _tag_data(creator_video, str(uuid.uuid4())))

    assert _error_codes(_form(response)) == {"video": ["invalid_choice"]}
    assert ProductTag.objects.count() == 4


def test_tag_change_page_shows_seconds_percent_and_a_preview(
    staff_client, world, tag_a_on_brand_video
):
    response = staff_client.get(f"{TAGS}/{tag_a_on_brand_video.id}/change/")

    form = _form(response)
    assert {name: form[name].value() for name in form.fields} == {
        "start_seconds": Decimal("2"),
        "end_seconds": Decimal("9"),
        "x_percent": Decimal("30"),
        "y_percent": Decimal("60"),
    }
    content = response.content.decode()
    assert "left:30%;top:60%" in content  # the dot on the frame
    assert "left:6.67%;width:23.33%" in content  # the span on the timeline
    assert "0:02\N{EN DASH}0:09 of 0:30, at (30%, 60%)" in content
    assert "Down Jacket" in content


def test_staff_moves_and_retimes_a_tag_on_their_brand_video(
    staff_client, world, tag_a_on_brand_video
):
    response = staff_client.post(
        f"{TAGS}/{tag_a_on_brand_video.id}/change/",
        {"start_seconds": "3.5", "end_seconds": "12", "x_percent": "40", "y_percent": "60"},
    )

    assert response.status_code == 302
    tag_a_on_brand_video.refresh_from_db()
    assert (
        tag_a_on_brand_video.start_ms,
        tag_a_on_brand_video.end_ms,
        tag_a_on_brand_video.x,
        tag_a_on_brand_video.y,
    ) == (3500, 12_000, 0.4, 0.6)


def test_a_tag_ending_after_the_video_is_a_form_error(staff_client, world, tag_a_on_brand_video):
    response = staff_client.post(
        f"{TAGS}/{tag_a_on_brand_video.id}/change/",
        {"start_seconds": "2", "end_seconds": "31", "x_percent": "30", "y_percent": "60"},
    )

    form = _form(response)
    assert _error_codes(form) == {"end_seconds": ["tag_outside_video"]}
    assert form.errors["end_seconds"] == [
        "The tag must end after it starts, and by the end of the video."
    ]
    tag_a_on_brand_video.refresh_from_db()
    assert (tag_a_on_brand_video.start_ms, tag_a_on_brand_video.end_ms) == (2000, 9000)


# --- tags: against the real catalog -----------------------------------------------------


def test_product_search_returns_only_the_staffs_merchants_products(staff_client, catalog):
    products_of_a = _products_of(catalog, MERCHANT_A)
    products_of_b = _products_of(catalog, MERCHANT_B)

    everything = staff_client.get(PRODUCT_SEARCH)
    by_title = staff_client.get(PRODUCT_SEARCH, {"term": products_of_a[0]["title"]})
    of_b = staff_client.get(PRODUCT_SEARCH, {"term": products_of_b[0]["title"]})

    assert everything.status_code == 200
    assert {row["id"] for row in everything.json()["results"]} == {
        product["id"] for product in products_of_a
    }
    assert products_of_a[0]["id"] in {row["id"] for row in by_title.json()["results"]}
    assert {row["id"] for row in by_title.json()["results"]} <= {p["id"] for p in products_of_a}
    assert of_b.json() == {"results": [], "pagination": {"more": False}}
    first = next(r for r in everything.json()["results"] if r["id"] == products_of_a[0]["id"])
    assert first["text"].startswith(f"{products_of_a[0]['title']} · ")
    assert first["text"].endswith(" · Alpine Outfitters")


def test_product_search_is_refused_to_anonymous_users_and_staff_without_tag_rights(catalog):
    anonymous = Client().get(PRODUCT_SEARCH, {"term": "jacket"})
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(f"{ADMIN}/login/")

    outsider = Client()
    outsider.force_login(get_user_model().objects.create_user(username="intern", is_staff=True))
    assert outsider.get(PRODUCT_SEARCH, {"term": "jacket"}).status_code == 403


def test_staff_tags_a_product_found_through_the_catalog_search(staff_client, brand_video, catalog):
    wanted = _products_of(catalog, MERCHANT_A)[0]
    search = staff_client.get(PRODUCT_SEARCH, {"term": wanted["title"]})
    picked = next(row["id"] for row in search.json()["results"] if row["id"] == wanted["id"])

    response = staff_client.post(f"{TAGS}/add/", _tag_data(brand_video, picked))

    assert response.status_code == 302, _form(response).errors
    tag = ProductTag.objects.get()
    assert (tag.video, str(tag.product_id), tag.merchant_id) == (brand_video, picked, MERCHANT_A)
    assert (tag.start_ms, tag.end_ms, tag.x, tag.y) == (2000, 9500, 0.3, 0.6)
    assert (tag.created_by, tag.variant_id, tag.keyframes) == ("admin:staff-of-a", None, [])
    card = ProductCard.objects.get(product_id=picked)
    assert (card.title, card.merchant_id) == (wanted["title"], MERCHANT_A)
    # The picker shows the chosen product by name when the page is shown again.
    page = staff_client.get(f"{TAGS}/{tag.id}/change/").content.decode()
    assert wanted["title"] in page


def test_tagging_another_merchants_product_is_a_form_error(staff_client, brand_video, catalog):
    product_of_b = _products_of(catalog, MERCHANT_B)[0]

    response = staff_client.post(f"{TAGS}/add/", _tag_data(brand_video, product_of_b["id"]))

    form = _form(response)
    assert form.errors == {"product_id": ["You can only tag your own products."]}
    assert _error_codes(form) == {"product_id": ["unknown_product"]}
    assert ProductTag.objects.count() == 0
    assert not ProductCard.objects.filter(product_id=product_of_b["id"]).exists()


def test_tagging_an_archived_product_is_a_form_error(staff_client, brand_video, catalog):
    response = staff_client.post(
        f"{TAGS}/add/", _tag_data(brand_video, catalog.archived_product_id)
    )

    assert _error_codes(_form(response)) == {"product_id": ["unknown_product"]}
    assert ProductTag.objects.count() == 0


def test_catalog_down_is_a_form_error_and_nothing_is_saved(staff_client, brand_video, catalog_down):
    response = staff_client.post(f"{TAGS}/add/", _tag_data(brand_video, str(uuid.uuid4())))

    form = _form(response)
    assert _error_codes(form) == {"__all__": ["catalog_unavailable"]}
    assert "The catalog cannot be reached right now" in form.non_field_errors()[0]
    assert ProductTag.objects.count() == 0
    assert ProductCard.objects.count() == 0
    search = staff_client.get(PRODUCT_SEARCH, {"term": "jacket"})
    assert (search.status_code, search.json()["code"]) == (503, "catalog_unavailable")


def test_the_31st_tag_on_a_video_is_a_form_error(staff_client, brand_video, catalog, settings):
    assert settings.MAX_TAGS_PER_VIDEO == 30
    for _ in range(30):
        _tag(brand_video, MERCHANT_A, "Earlier tag")
    product = _products_of(catalog, MERCHANT_A)[0]

    response = staff_client.post(f"{TAGS}/add/", _tag_data(brand_video, product["id"]))

    form = _form(response)
    assert _error_codes(form) == {"__all__": ["too_many_tags"]}
    assert form.non_field_errors() == ["A video holds at most 30 tags."]
    assert ProductTag.objects.filter(video=brand_video).count() == 30


def test_superuser_tags_any_merchants_product_on_any_video(
    superuser_client, creator_video, catalog
):
    product_of_b = _products_of(catalog, MERCHANT_B)[0]
    search = superuser_client.get(PRODUCT_SEARCH)
    assert {row["id"] for row in search.json()["results"]} >= {
        _products_of(catalog, MERCHANT_A)[0]["id"],
        product_of_b["id"],
    }

    response = superuser_client.post(f"{TAGS}/add/", _tag_data(creator_video, product_of_b["id"]))

    assert response.status_code == 302, _form(response).errors
    tag = ProductTag.objects.get()
    assert (tag.video, tag.merchant_id, tag.created_by) == (
        creator_video,
        MERCHANT_B,
        "admin:platform",
    )


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


@override_settings(AXES_FAILURE_LIMIT=3)
def test_the_admin_login_locks_after_repeated_wrong_passwords_even_for_the_right_one():
    wrong, right = admin_lockout_answers(admin=ADMIN, failures=3)

    assert wrong == [200, 200, 429]
    assert right == 429


def test_the_right_password_signs_in_to_the_admin_below_the_failure_limit():
    wrong, right = admin_lockout_answers(admin=ADMIN, failures=2)

    assert wrong == [200, 200]
    assert right == 302

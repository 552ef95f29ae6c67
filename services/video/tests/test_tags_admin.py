"""The video admin's product tags: each merchant's staff see, add, change and delete only
tags on their own products, through an editor in seconds and percent; tags are saved
against the real catalog (the `catalog` fixture serves merchant A's and B's products).
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from productcards.models import ProductCard
from tests.admin_pages import (
    ADMIN,
    PRODUCT_SEARCH,
    TAGS,
    _error_codes,
    _form,
    _listed,
    _products_of,
    _tag_data,
)
from tests.conftest import MERCHANT_A, MERCHANT_B, _tag
from tests.factories import VideoFactory
from videos.models import ProductTag, Video

pytestmark = pytest.mark.django_db


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
        "keyframes",
    ]


def test_staff_cannot_tag_another_creators_video(staff_client, world, creator_video):
    response = staff_client.post(f"{TAGS}/add/", _tag_data(creator_video, str(uuid.uuid4())))

    assert _error_codes(_form(response)) == {"video": ["invalid_choice"]}
    assert ProductTag.objects.count() == 4


def test_tag_change_page_shows_seconds_percent_and_the_editor_on_the_picture(
    staff_client, world, tag_a_on_brand_video
):
    response = staff_client.get(f"{TAGS}/{tag_a_on_brand_video.id}/change/")

    form = _form(response)
    assert {name: form[name].value() for name in form.fields} == {
        "start_seconds": Decimal("2"),
        "end_seconds": Decimal("9"),
        "x_percent": Decimal("30"),
        "y_percent": Decimal("60"),
        "keyframes": "[]",
    }
    content = response.content.decode()
    assert 'class="tag-picture" data-duration="30000"' in content
    assert 'src="https://cdn.example.com/v.jpg"' in content
    assert "Down Jacket" in content


def test_a_tag_page_is_titled_with_its_products_title_not_its_id(
    staff_client, world, tag_a_on_brand_video
):
    content = staff_client.get(f"{TAGS}/{tag_a_on_brand_video.id}/change/").content.decode()

    title = re.search(r"<title>(.*?)</title>", content, re.S)
    assert title is not None
    assert title.group(1).startswith("Down Jacket @ 2000-9000 ms | ")
    assert str(tag_a_on_brand_video.product_id) not in title.group(1)
    assert "<h2>Down Jacket @ 2000-9000 ms</h2>" in content


def test_a_view_only_tag_page_shows_the_tag_drawn_on_the_picture(
    staff_client, world, tag_a_on_creator_video
):
    response = staff_client.get(f"{TAGS}/{tag_a_on_creator_video.id}/change/")

    content = response.content.decode()
    assert 'class="tag-picture"' not in content  # no editor: the user may not move it
    assert '<img src="https://cdn.example.com/v.jpg"' in content
    assert "left:100%;top:0%" in content  # the dot on the picture
    assert "left:0.00%;width:8.33%" in content  # the span on the timeline
    assert "0:00\N{EN DASH}0:02.5 of 0:30, at (100%, 0%)" in content


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

"""The tag editor on the video's picture (video admin): the thumbnail as an `<img>` the
browser loads, a position and keyframes posted as the API's JSON, checked by the API's
own serializer and the tag services; anything refused is a form error with nothing
written, and a merchant's staff still cannot open another merchant's tag.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.staticfiles import finders

from clipcart_shared.merchant_access.models import MerchantMembership
from clipcart_tools.testing.fixtures import signed_in
from tests.admin_pages import TAGS, _error_codes, _form, _products_of, _tag_data
from tests.conftest import MERCHANT_A, MERCHANT_B, _staff_group
from videos.models import ProductTag, Video
from videos.services import MAX_KEYFRAMES

pytestmark = pytest.mark.django_db

PATH = [
    {"t_ms": 2000, "x": 0.3, "y": 0.6},
    {"t_ms": 5000, "x": 0.45, "y": 0.5},
    {"t_ms": 9000, "x": 0.7, "y": 0.25},
]


def _change(tag: ProductTag, **overrides: Any) -> dict[str, str]:
    """The change form as the editor posts it: the tag's values, with `overrides`."""
    data = {
        "start_seconds": "2",
        "end_seconds": "9",
        "x_percent": "30",
        "y_percent": "60",
        "keyframes": "[]",
    }
    return {**data, **{k: v if isinstance(v, str) else json.dumps(v) for k, v in overrides.items()}}


def _unchanged(tag: ProductTag) -> tuple[Any, ...]:
    before = (tag.start_ms, tag.end_ms, tag.x, tag.y, tag.keyframes)
    tag.refresh_from_db()
    return before if before == (tag.start_ms, tag.end_ms, tag.x, tag.y, tag.keyframes) else ()


# --- the page --------------------------------------------------------------------------


def test_the_editor_shows_the_thumbnail_for_the_browser_to_load_with_its_script(
    staff_client, world, tag_a_on_brand_video
):
    ProductTag.objects.filter(id=tag_a_on_brand_video.id).update(keyframes=PATH)

    content = staff_client.get(f"{TAGS}/{tag_a_on_brand_video.id}/change/").content.decode()

    assert (
        '<img class="tag-picture-image" src="https://cdn.example.com/v.jpg" '
        'alt="The video\'s thumbnail"'
    ) in content
    assert '<div class="form-row field-keyframes">' in content  # a row shown, labelled
    assert '<label for="id_keyframes">On the picture:</label>' in content
    assert 'type="range" class="tag-picture-time" min="0" max="30000"' in content
    assert "/video/static/videos/admin/tag_editor.js" in content
    assert "/video/static/videos/admin/tag_editor.css" in content
    hidden = content.split('name="keyframes" value="', 1)[1].split('"', 1)[0]
    assert json.loads(hidden.replace("&quot;", '"')) == PATH


def test_the_editors_script_and_style_are_the_services_own_static_files():
    for name in ["videos/admin/tag_editor.js", "videos/admin/tag_editor.css"]:
        found = finders.find(name)
        assert found, name
        text = Path(found).read_text(encoding="utf-8")
        assert "http" not in text.replace("https?:", "")  # nothing from a CDN


def test_a_thumbnail_that_is_not_a_web_address_is_never_put_in_the_page(
    staff_client, world, tag_a_on_brand_video, brand_video
):
    Video.objects.filter(id=brand_video.id).update(thumbnail_url="javascript:alert(1)")

    content = staff_client.get(f"{TAGS}/{tag_a_on_brand_video.id}/change/").content.decode()

    assert "javascript:alert" not in content
    assert "tag-picture-frame tag-picture-no-image" in content  # the dark frame instead


def test_the_add_page_gives_each_video_its_picture_and_length(staff_client, world, brand_video):
    Video.objects.filter(id=brand_video.id).update(thumbnail_url='https://cdn.example.com/"a".jpg')

    content = staff_client.get(f"{TAGS}/add/").content.decode()

    assert (
        f'value="{brand_video.id}" data-thumbnail="https://cdn.example.com/&quot;a&quot;.jpg" '
        'data-duration="30000"'
    ) in content
    assert "Choose a video above to see its picture." in content


# --- good submissions -------------------------------------------------------------------


def test_staff_place_a_tag_by_clicking_and_give_it_a_path(
    staff_client, world, tag_a_on_brand_video
):
    response = staff_client.post(
        f"{TAGS}/{tag_a_on_brand_video.id}/change/",
        _change(tag_a_on_brand_video, x_percent="41.25", y_percent="12.5", keyframes=PATH),
    )

    assert response.status_code == 302, _form(response).errors
    tag_a_on_brand_video.refresh_from_db()
    assert (tag_a_on_brand_video.x, tag_a_on_brand_video.y) == (0.4125, 0.125)
    assert tag_a_on_brand_video.keyframes == PATH
    page = staff_client.get(f"{TAGS}/{tag_a_on_brand_video.id}/change/").content.decode()
    assert "0:02 (30%, 60%) → 0:05 (45%, 50%) → 0:09 (70%, 25%)" in page


def test_clearing_the_keyframes_keeps_the_hotspot_in_place(
    staff_client, world, tag_a_on_brand_video
):
    ProductTag.objects.filter(id=tag_a_on_brand_video.id).update(keyframes=PATH)

    response = staff_client.post(
        f"{TAGS}/{tag_a_on_brand_video.id}/change/", _change(tag_a_on_brand_video, keyframes=[])
    )

    assert response.status_code == 302
    tag_a_on_brand_video.refresh_from_db()
    assert tag_a_on_brand_video.keyframes == []


def test_a_post_without_the_pictures_field_keeps_the_keyframes(
    staff_client, world, tag_a_on_brand_video
):
    ProductTag.objects.filter(id=tag_a_on_brand_video.id).update(keyframes=PATH)
    data = _change(tag_a_on_brand_video, x_percent="35")
    del data["keyframes"]

    response = staff_client.post(f"{TAGS}/{tag_a_on_brand_video.id}/change/", data)

    assert response.status_code == 302
    tag_a_on_brand_video.refresh_from_db()
    assert (tag_a_on_brand_video.x, tag_a_on_brand_video.keyframes) == (0.35, PATH)


def test_a_new_tag_is_saved_with_its_keyframes_against_the_real_catalog(
    staff_client, brand_video, catalog
):
    product = _products_of(catalog, MERCHANT_A)[0]
    path = [{"t_ms": 2000, "x": 0.3, "y": 0.6}, {"t_ms": 9500, "x": 0.9, "y": 0.1}]

    response = staff_client.post(
        f"{TAGS}/add/", _tag_data(brand_video, product["id"], keyframes=json.dumps(path))
    )

    assert response.status_code == 302, _form(response).errors
    assert ProductTag.objects.get().keyframes == path


# --- bad submissions: a form error, nothing written --------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("x_percent", "100.01", "max_value"),
        ("x_percent", "-3", "min_value"),
        ("y_percent", "250", "max_value"),
        ("y_percent", "-0.01", "min_value"),
    ],
)
def test_a_click_outside_the_picture_is_a_form_error_and_nothing_is_written(
    staff_client, world, tag_a_on_brand_video, field, value, code
):
    response = staff_client.post(
        f"{TAGS}/{tag_a_on_brand_video.id}/change/", _change(tag_a_on_brand_video, **{field: value})
    )

    form = _form(response)
    assert _error_codes(form) == {field: [code]}
    assert form.errors[field][0].startswith("That spot is outside the picture:")
    assert _unchanged(tag_a_on_brand_video)


def test_a_new_tag_outside_the_picture_is_not_created(staff_client, world, brand_video):
    # Refused before catalog is asked: the same serializer as the API's.
    response = staff_client.post(
        f"{TAGS}/add/", _tag_data(brand_video, str(MERCHANT_B), x_percent="101")
    )

    assert _error_codes(_form(response)) == {"x_percent": ["max_value"]}
    assert ProductTag.objects.filter(video=brand_video).count() == 2


@pytest.mark.parametrize(
    ("keyframes", "code", "message"),
    [
        (
            [{"t_ms": 2000, "x": 0.3, "y": 0.6}, {"t_ms": 3000, "x": 1.5, "y": 0.6}],
            "max_value",
            "Keyframe 2 is outside the picture (x goes from 0 to 1).",
        ),
        (
            [{"t_ms": 2000, "x": 0.3, "y": -0.1}],
            "min_value",
            "Keyframe 1 is outside the picture (y goes from 0 to 1).",
        ),
        (
            [{"t_ms": 2000, "x": 0.3, "y": 0.6}, {"t_ms": 20_000, "x": 0.5, "y": 0.5}],
            "tag_outside_video",
            "The tag moves through keyframes that would fall outside this span; keep them "
            "between the start and the end.",
        ),
        (
            [{"t_ms": 5000, "x": 0.3, "y": 0.6}, {"t_ms": 3000, "x": 0.5, "y": 0.5}],
            "unordered",
            "Keyframes must be in time order, each at its own moment.",
        ),
        (
            [{"t_ms": "3000", "x": 0.3, "y": 0.6}],  # as the API: a number, not its text
            "invalid",
            "Keyframe 1, t_ms: A valid integer is required.",
        ),
        (
            [{"t_ms": 3000, "x": 0.3}],
            "required",
            "Keyframe 1, y: This field is required.",
        ),
    ],
    ids=["x-off-picture", "y-off-picture", "after-the-span", "unordered", "text-time", "no-y"],
)
def test_a_bad_keyframe_is_a_form_error_on_the_picture_and_nothing_is_written(
    staff_client, world, tag_a_on_brand_video, keyframes, code, message
):
    response = staff_client.post(
        f"{TAGS}/{tag_a_on_brand_video.id}/change/",
        _change(tag_a_on_brand_video, keyframes=keyframes),
    )

    form = _form(response)
    assert _error_codes(form) == {"keyframes": [code]}
    assert form.errors["keyframes"] == [message]
    assert '<div class="form-row errors field-keyframes">' in response.content.decode()
    assert _unchanged(tag_a_on_brand_video)


def test_more_keyframes_than_the_api_takes_is_a_form_error(
    staff_client, world, tag_a_on_brand_video
):
    too_many = [{"t_ms": 2000 + 100 * n, "x": 0.5, "y": 0.5} for n in range(MAX_KEYFRAMES + 1)]

    response = staff_client.post(
        f"{TAGS}/{tag_a_on_brand_video.id}/change/",
        _change(tag_a_on_brand_video, keyframes=too_many),
    )

    form = _form(response)
    assert _error_codes(form) == {"keyframes": ["max_length"]}
    assert str(MAX_KEYFRAMES) in form.errors["keyframes"][0]
    assert _unchanged(tag_a_on_brand_video)


@pytest.mark.parametrize(
    ("posted", "code"),
    [("[{", "invalid"), ('{"t_ms": 1}', "not_a_list")],
    ids=["not-json", "not-a-list"],
)
def test_keyframes_that_are_not_a_list_are_a_form_error(
    staff_client, world, tag_a_on_brand_video, posted, code
):
    response = staff_client.post(
        f"{TAGS}/{tag_a_on_brand_video.id}/change/",
        _change(tag_a_on_brand_video, keyframes=posted),
    )

    assert _error_codes(_form(response)) == {"keyframes": [code]}
    assert _unchanged(tag_a_on_brand_video)


# --- scope -------------------------------------------------------------------------------


@pytest.fixture
def staff_of_b_client() -> Any:
    user = get_user_model().objects.create_user(username="staff-of-b", is_staff=True)
    user.groups.add(_staff_group())
    MerchantMembership.objects.create(user=user, merchant_id=MERCHANT_B, merchant_name="Harbor")
    return signed_in(user)


def test_staff_of_another_merchant_cannot_open_or_move_the_tag(
    staff_of_b_client, world, tag_a_on_brand_video
):
    page = staff_of_b_client.get(f"{TAGS}/{tag_a_on_brand_video.id}/change/")
    posted = staff_of_b_client.post(
        f"{TAGS}/{tag_a_on_brand_video.id}/change/",
        _change(tag_a_on_brand_video, x_percent="10", keyframes=PATH),
    )

    assert (page.status_code, posted.status_code) == (404, 404)
    assert _unchanged(tag_a_on_brand_video)

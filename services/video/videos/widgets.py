"""The widgets of the admin's tag editor (`videos.forms`): the video select that carries
each video's thumbnail and length, the product picker that searches catalog, and the
editor on the video's picture.

The picture (`TagPictureWidget`, with `videos/admin/tag_editor.js` and `.css`) is the
video's thumbnail as an `<img>` the browser loads (the server never fetches it): a click
on it sets the position, a click while "add keyframes" is on adds a keyframe at the time
slider's moment, and *Preview* plays the path.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib.admin.widgets import get_select2_language
from django.urls import reverse

from clipcart_shared.admin import web_image_url
from productcards.models import ProductCard
from videos.models import Video

PRODUCT_SEARCH_URL_NAME = "admin:videos_producttag_product_search"


class VideoSelect(forms.Select):
    """The video choices, each with its thumbnail and length for the editor's picture (read
    by `tag_editor.js` when the user picks a video on the add page)."""

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option: dict[str, Any] = super().create_option(*args, **kwargs)
        video = getattr(option["value"], "instance", None)
        if isinstance(video, Video):
            option["attrs"]["data-thumbnail"] = web_image_url(video.thumbnail_url) or ""
            option["attrs"]["data-duration"] = str(video.duration_ms)
        return option


class ProductPickerWidget(forms.Select):
    """A select filled as the user types, from catalog's product search (the admin's
    product-search URL), with the select2 the admin already ships.

    Only the chosen product is rendered as an option; its title comes from the local
    read model of catalog's cards, so showing the form never calls catalog.
    """

    def build_attrs(
        self, base_attrs: dict[str, Any], extra_attrs: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        attrs = super().build_attrs(base_attrs, extra_attrs)
        css_class = attrs.get("class", "")
        attrs.update(
            {
                "class": f"{css_class} admin-autocomplete".strip(),
                "data-ajax--url": reverse(PRODUCT_SEARCH_URL_NAME),
                "data-ajax--cache": "true",
                "data-ajax--delay": 250,
                "data-ajax--type": "GET",
                "data-theme": "admin-autocomplete",
                "data-allow-clear": "false",
                "data-placeholder": "Search your products",
                "lang": get_select2_language(),
                "style": "width: 32em",
            }
        )
        return attrs

    def optgroups(
        self, name: str, value: list[Any], attrs: dict[str, Any] | None = None
    ) -> list[tuple[str | None, list[dict[str, Any]], int | None]]:
        options = [self.create_option(name, "", "", False, 0)]
        chosen = next((str(item) for item in value if item), None)
        if chosen is not None:
            options.append(self.create_option(name, chosen, _product_label(chosen), True, 1))
        return [(None, options, 0)]

    @property
    def media(self) -> forms.Media:
        language = get_select2_language()
        return forms.Media(
            js=(
                "admin/js/vendor/jquery/jquery.min.js",
                "admin/js/vendor/select2/select2.full.min.js",
                *([f"admin/js/vendor/select2/i18n/{language}.js"] if language else []),
                "admin/js/jquery.init.js",
                "admin/js/autocomplete.js",
            ),
            css={
                "screen": (
                    "admin/css/vendor/select2/select2.min.css",
                    "admin/css/autocomplete.css",
                )
            },
        )


def _product_label(product_id: str) -> str:
    try:
        key = uuid.UUID(product_id)
    except ValueError:
        return product_id
    card = ProductCard.objects.filter(product_id=key).values("title", "merchant_name").first()
    if card is None:
        return product_id
    return f"{card['title']} ({card['merchant_name']})" if card["merchant_name"] else card["title"]


class TagPictureWidget(forms.HiddenInput):
    """The editor on the video's picture; its value is the keyframes, as the API's JSON.

    `video` (set by the form) gives the thumbnail and the length; on the add page it is
    None and the script takes both from the chosen video's option (`VideoSelect`).
    """

    template_name = "videos/admin/tag_picture_widget.html"

    @property
    def is_hidden(self) -> bool:
        """Shown: the admin hides the row of a hidden input, label, errors and all."""
        return False

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.video: Video | None = None

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(name, value, attrs)
        video = self.video
        context["picture"] = {
            "thumbnail": web_image_url(video.thumbnail_url) if video else None,
            "duration_ms": video.duration_ms if video else 0,
            "has_video": video is not None,
        }
        return context

    @property
    def media(self) -> forms.Media:
        return forms.Media(
            js=("videos/admin/tag_editor.js",),
            css={"all": ("videos/admin/tag_editor.css",)},
        )

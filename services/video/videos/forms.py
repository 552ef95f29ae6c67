"""The admin's tag editor: forms that save through `videos.services`, and the product
picker that searches catalog.

The services are the validators of a tag: they ask catalog whether the product is for
sale and whose it is, and count the video's tags under a row lock. Their answer is known
only by doing the write, so the forms call them last in `full_clean`, once every field
is valid, and turn an `ApplicationError` into form errors. The admin's change view runs
in one transaction, so nothing of a save outlives a failure after it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Self

from django import forms
from django.contrib.admin.widgets import get_select2_language
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse

from clipcart_shared.errors import ApplicationError
from core.errors import VideoErrorCode
from productcards.models import ProductCard
from videos.models import MAX_DURATION_MS, ProductTag, Video
from videos.services import tag_create, tag_update

PRODUCT_SEARCH_URL_NAME = "admin:videos_producttag_product_search"

# Where a service's field error shows in the form (its API names the model's fields).
FORM_FIELD_FOR = {
    "start_ms": "start_seconds",
    "end_ms": "end_seconds",
    "x": "x_percent",
    "y": "y_percent",
    "product_id": "product_id",
    "variant_id": "product_id",
}
MODEL_FIELD_FOR = {
    "start_seconds": "start_ms",
    "end_seconds": "end_ms",
    "x_percent": "x",
    "y_percent": "y",
}
# The services word their field errors for API clients (in milliseconds and field
# names); the form says the same in its own terms.
FORM_MESSAGE_FOR = {
    ("end_ms", "tag_outside_video"): "The tag must end after it starts, and by the end of "
    "the video.",
    ("keyframes", "tag_outside_video"): "The tag moves through keyframes that would fall "
    "outside this span; keep them between the start and the end.",
}
# Errors that name no field, shown on the field they are about.
FORM_FIELD_FOR_CODE = {
    VideoErrorCode.UNKNOWN_PRODUCT.value: "product_id",
    VideoErrorCode.UNKNOWN_VARIANT.value: "product_id",
}


def taggable_videos(*, merchant_ids: list[uuid.UUID] | None) -> QuerySet[Video]:
    """Videos on which these merchants' staff may tag products: their brand creators' own
    (all of them for platform staff, None), never removed ones."""
    videos = (
        Video.objects.exclude(status=Video.Status.REMOVED)
        .select_related("creator")
        .order_by("creator__handle", "-created_at")
    )
    if merchant_ids is None:
        return videos
    return videos.filter(creator__brand_merchant_id__in=merchant_ids)


class VideoChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.creator} — {obj.caption[:60] or obj.id}"


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


@dataclass(frozen=True)
class TagEditor:
    """Who saves tags through a form: the name recorded on the tag, and the merchants they
    act for (None: platform staff, who may tag any merchant's product)."""

    created_by: str
    merchant_ids: list[uuid.UUID] | None


def _seconds(milliseconds: int) -> Decimal:
    return Decimal(milliseconds) / 1000


def _percent(share: float) -> Decimal:
    return Decimal(str(round(share * 100, 2)))


class TagForm(forms.ModelForm):
    """Span in seconds and position in percent of the frame, saved through a service."""

    editor: ClassVar[TagEditor | None] = None

    start_seconds = forms.DecimalField(
        label="Start (s)",
        min_value=0,
        max_value=MAX_DURATION_MS // 1000,
        max_digits=7,
        decimal_places=3,
        help_text="When the tag appears, in seconds from the start of the video.",
    )
    end_seconds = forms.DecimalField(
        label="End (s)",
        min_value=Decimal("0.001"),
        max_value=MAX_DURATION_MS // 1000,
        max_digits=7,
        decimal_places=3,
        help_text="When it disappears; at most the video's length.",
    )
    x_percent = forms.DecimalField(
        label="Across (%)",
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        help_text="Where the hotspot is: 0 is the left edge of the frame, 100 the right.",
    )
    y_percent = forms.DecimalField(
        label="Down (%)",
        min_value=0,
        max_value=100,
        max_digits=5,
        decimal_places=2,
        help_text="0 is the top edge of the frame, 100 the bottom.",
    )

    @classmethod
    def for_editor(cls, editor: TagEditor) -> type[Self]:
        """This form, saving as `editor` (the admin builds its form class per request)."""
        return type(cls.__name__, (cls,), {"editor": editor})

    def span_and_position(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "start_ms": int(data["start_seconds"] * 1000),
            "end_ms": int(data["end_seconds"] * 1000),
            "x": float(data["x_percent"] / 100),
            "y": float(data["y_percent"] / 100),
        }

    def save_through_service(self, editor: TagEditor) -> ProductTag:
        raise NotImplementedError

    def full_clean(self) -> None:
        """Validate the fields, then, if all are valid, save through the service: its
        refusals (span, catalog, tag limit) become errors on this form."""
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        if self.editor is None:
            raise TypeError("Build the form class with for_editor(...) to save tags.")
        try:
            self.instance = self.save_through_service(self.editor)
        except ApplicationError as error:
            self._add_service_errors(error)

    def _add_service_errors(self, error: ApplicationError) -> None:
        if not error.errors:
            field = FORM_FIELD_FOR_CODE.get(error.code)
            self._add_error_on(field, ValidationError(error.detail, code=error.code))
            return
        for item in error.errors:
            api_field, code = item.get("field", ""), item.get("code", error.code)
            field = FORM_FIELD_FOR.get(api_field)
            message = FORM_MESSAGE_FOR.get((api_field, code)) or item.get("message") or error.detail
            self._add_error_on(field, ValidationError(message, code=code))

    def _add_error_on(self, field: str | None, error: ValidationError) -> None:
        self.add_error(field if field in self.fields else None, error)

    def save(self, commit: bool = True) -> ProductTag:
        """The service saved the tag in `full_clean`; this only hands it over."""
        if self.errors:
            raise ValueError("The tag was not saved: the form has errors.")
        tag: ProductTag = self.instance
        return tag

    def save_m2m(self) -> None:
        """A tag has no many-to-many fields."""


class TagAddForm(TagForm):
    """Tag a product found through catalog's search on one of the editor's videos."""

    product_id = forms.UUIDField(
        label="Product",
        widget=ProductPickerWidget,
        help_text="Type part of the product's name to search the catalog.",
    )

    class Meta:
        model = ProductTag
        fields = ["video", "product_id"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, value in {"start_seconds": 0, "x_percent": 50, "y_percent": 50}.items():
            self.initial.setdefault(name, value)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        video = cleaned.get("video")
        merchant_ids = self.editor.merchant_ids if self.editor else None
        # The admin offers only these videos; this holds for any other use of the form.
        if (
            video is not None
            and merchant_ids is not None
            and video.creator.brand_merchant_id not in merchant_ids
        ):
            self.add_error("video", "You can tag products only on your brand's own videos.")
        return cleaned

    def save_through_service(self, editor: TagEditor) -> ProductTag:
        video = self.cleaned_data["video"]
        return tag_create(
            video=video,
            product_id=self.cleaned_data["product_id"],
            created_by=editor.created_by,
            # A brand's staff tag their brand's own products (platform staff: any).
            merchant_id=None if editor.merchant_ids is None else video.creator.brand_merchant_id,
            **self.span_and_position(),
        )


class TagChangeForm(TagForm):
    """Move or re-time a tag; its video and product stay (tag another product instead)."""

    class Meta:
        model = ProductTag
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        tag = self.instance
        if not tag._state.adding:
            self.initial.setdefault("start_seconds", _seconds(tag.start_ms))
            self.initial.setdefault("end_seconds", _seconds(tag.end_ms))
            self.initial.setdefault("x_percent", _percent(tag.x))
            self.initial.setdefault("y_percent", _percent(tag.y))

    def save_through_service(self, editor: TagEditor) -> ProductTag:
        # Only what the editor changed: a percentage shown rounded and sent back untouched
        # must not move the tag.
        changed = {MODEL_FIELD_FOR[name] for name in self.changed_data if name in MODEL_FIELD_FOR}
        changes = {
            name: value for name, value in self.span_and_position().items() if name in changed
        }
        return tag_update(tag=self.instance, **changes)

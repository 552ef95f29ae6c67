"""The admin's tag editor: forms that save through `videos.services` (their widgets, the
product picker and the editor on the video's picture, are in `videos.widgets`).

The services are the validators of a tag: they ask catalog whether the product is for
sale and whose it is, and count the video's tags under a row lock. Their answer is known
only by doing the write, so the forms call them last in `full_clean`, once every field
is valid, and turn an `ApplicationError` into form errors. The admin's change view runs
in one transaction, so nothing of a save outlives a failure after it.

Before that, what the form read is checked by the API's own serializer
(`videos.apis.TagInputSerializer`, in the API's units: milliseconds, 0..1 of the frame,
keyframes `[{t_ms, x, y}]`): a spot outside the picture or a malformed keyframe is refused
by exactly the rules the app's clients meet, and the services add the rest (the span and
keyframes fit the video, the product, the tag limit).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Self

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from clipcart_shared.errors import ApplicationError
from core.errors import VideoErrorCode
from videos.apis import TagInputSerializer
from videos.models import MAX_DURATION_MS, ProductTag, Video
from videos.services import tag_create, tag_update
from videos.widgets import ProductPickerWidget, TagPictureWidget, VideoSelect

# Where a service's field error shows in the form (its API names the model's fields).
FORM_FIELD_FOR = {
    "start_ms": "start_seconds",
    "end_ms": "end_seconds",
    "x": "x_percent",
    "y": "y_percent",
    "product_id": "product_id",
    "variant_id": "product_id",
    "keyframes": "keyframes",
}
MODEL_FIELD_FOR = {
    "start_seconds": "start_ms",
    "end_seconds": "end_ms",
    "x_percent": "x",
    "y_percent": "y",
    "keyframes": "keyframes",
}
# The services word their field errors for API clients (in milliseconds and field
# names); the form says the same in its own terms.
FORM_MESSAGE_FOR = {
    ("end_ms", "tag_outside_video"): "The tag must end after it starts, and by the end of "
    "the video.",
    ("keyframes", "tag_outside_video"): "The tag moves through keyframes that would fall "
    "outside this span; keep them between the start and the end.",
    ("keyframes", "unordered"): "Keyframes must be in time order, each at its own moment.",
}
# The API's serializer refuses a spot off the frame; on the form, that is a click outside
# the picture.
OUTSIDE_PICTURE = {
    "x": "That spot is outside the picture: across goes from 0% (left edge) to 100% (right).",
    "y": "That spot is outside the picture: down goes from 0% (top edge) to 100% (bottom).",
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
    widget = VideoSelect

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.creator} — {obj.caption[:60] or obj.id}"


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
    # Their range is the API's (0..1 of the frame), checked by its serializer in `clean`;
    # the browser is told it too.
    x_percent = forms.DecimalField(
        label="Across (%)",
        decimal_places=2,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": "0.01"}),
        help_text="Where the hotspot is: 0 is the left edge of the frame, 100 the right. "
        "Or click on the picture.",
    )
    y_percent = forms.DecimalField(
        label="Down (%)",
        decimal_places=2,
        widget=forms.NumberInput(attrs={"min": 0, "max": 100, "step": "0.01"}),
        help_text="0 is the top edge of the frame, 100 the bottom.",
    )
    keyframes = forms.JSONField(
        label="On the picture",
        required=False,
        widget=TagPictureWidget,
        help_text="Click on the picture to place the hotspot. To make it follow the "
        "product, turn on “Clicks add keyframes”, move the time slider and click where the "
        "product is at that moment; the hotspot moves in a line between keyframes.",
    )

    @classmethod
    def for_editor(cls, editor: TagEditor) -> type[Self]:
        """This form, saving as `editor` (the admin builds its form class per request)."""
        return type(cls.__name__, (cls,), {"editor": editor})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "keyframes" in self.fields:
            # Its own widget per form: it shows this form's video.
            self.fields["keyframes"].widget.video = self.picture_video()

    def picture_video(self) -> Video | None:
        """The video whose picture the editor shows (None: chosen on the page)."""
        return None

    def product_for_api(self) -> uuid.UUID | None:
        raise NotImplementedError

    def span_and_position(self) -> dict[str, Any]:
        """What the form read, in the API's fields and units."""
        data = self.cleaned_data
        return {
            "start_ms": int(data["start_seconds"] * 1000),
            "end_ms": int(data["end_seconds"] * 1000),
            "x": float(data["x_percent"] / 100),
            "y": float(data["y_percent"] / 100),
            "keyframes": data.get("keyframes") or [],
        }

    def clean(self) -> dict[str, Any]:
        """Check what was read with the API's serializer (same rules as the app's clients
        meet); its refusals become errors on the form's fields."""
        cleaned: dict[str, Any] = super().clean() or self.cleaned_data
        if self.errors:
            return cleaned
        product_id = self.product_for_api()
        if product_id is None:
            return cleaned
        checked = TagInputSerializer(
            data={"product_id": str(product_id), **self.span_and_position()}
        )
        if checked.is_valid():
            cleaned["keyframes"] = [
                dict(frame) for frame in checked.validated_data.get("keyframes", [])
            ]
            return cleaned
        for api_field, errors in checked.errors.items():
            for message, code in _api_errors(api_field, errors):
                self._add_error_on(
                    FORM_FIELD_FOR.get(api_field), ValidationError(message, code=code)
                )
        return cleaned

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


def _code(error: Any) -> str | None:
    code: str | None = getattr(error, "code", None)
    return code


def _keyframe_message(number: int, name: str, error: Any) -> str:
    if name in {"x", "y"} and _code(error) in {"min_value", "max_value"}:
        return f"Keyframe {number} is outside the picture ({name} goes from 0 to 1)."
    return f"Keyframe {number}, {name}: {error}"


def _api_errors(api_field: str, errors: Any) -> list[tuple[str, str | None]]:
    """(message, code) of the API serializer's errors on one field, worded for the form:
    keyframes are numbered as the editor lists them."""
    if api_field in OUTSIDE_PICTURE:
        return [(OUTSIDE_PICTURE[api_field], _code(error)) for error in errors]
    if api_field != "keyframes":
        return [(str(error), _code(error)) for error in errors]
    # Per keyframe: {index: {field: [...]}} (or a list of them); about the whole value
    # (not a list, too long): {"non_field_errors": [...]} or a list.
    entries = list(errors.items()) if isinstance(errors, dict) else list(enumerate(errors))
    found: list[tuple[str, str | None]] = []
    for key, item in entries:
        if isinstance(key, int) and isinstance(item, dict):
            for name, item_errors in item.items():
                for error in item_errors:
                    found.append((_keyframe_message(key + 1, name, error), _code(error)))
            continue
        for error in item if isinstance(item, list) else [item]:
            found.append((f"Keyframes: {error}", _code(error)))
    return found


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
        self.initial.setdefault("keyframes", [])

    def product_for_api(self) -> uuid.UUID | None:
        product_id: uuid.UUID | None = self.cleaned_data.get("product_id")
        return product_id

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
            self.initial.setdefault("keyframes", tag.keyframes)

    def picture_video(self) -> Video | None:
        return None if self.instance._state.adding else self.instance.video

    def product_for_api(self) -> uuid.UUID | None:
        product_id: uuid.UUID = self.instance.product_id
        return product_id

    def save_through_service(self, editor: TagEditor) -> ProductTag:
        # Only what the editor changed: a percentage shown rounded and sent back untouched
        # must not move the tag, and a post without the picture's field keeps the keyframes.
        changed = {MODEL_FIELD_FOR[name] for name in self.changed_data if name in MODEL_FIELD_FOR}
        if "keyframes" not in self.data:
            changed.discard("keyframes")
        changes = {
            name: value for name, value in self.span_and_position().items() if name in changed
        }
        return tag_update(tag=self.instance, **changes)

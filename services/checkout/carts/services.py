"""The cart: one per user, lines priced by a catalog quote, each remembering its source."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from carts.models import Cart, CartDiscount, CartLine
from carts.selectors import cart_codes
from clipcart_shared.errors import ApplicationError
from clipcart_shared.retention import rows_delete, rows_retire
from core import catalog, video
from core.errors import CheckoutErrorCode

logger = logging.getLogger(__name__)

_SOURCE_PROBLEMS = {
    "unknown_video": ("source.video_id", "No published video with this id."),
    "product_not_tagged": ("source.video_id", "This video does not tag the product."),
    "tag_mismatch": ("source.tag_id", "This tag is not the video's tag of the product."),
}


def cart_for_user(*, user_id: str) -> Cart:
    cart, _ = Cart.objects.get_or_create(user_id=user_id)
    return cart


def cart_line_add(
    *,
    user_id: str,
    variant_id: uuid.UUID,
    quantity: int,
    source_video_id: uuid.UUID | None = None,
    source_tag_id: uuid.UUID | None = None,
) -> CartLine:
    """Add a variant (from a video, usually). The same variant from the same source adds
    to that line's quantity. One catalog call prices it; 422 for an unsellable variant,
    a second currency (`mixed_currencies`), a 51st line (`cart_full`), more than 99 of
    a line (`quantity_too_large`), or a source that cannot have driven the sale
    (`invalid_source`, see `cart_source_check`)."""
    quoted = catalog.quote(lines=[(variant_id, quantity)])["lines"][0]
    if source_video_id is not None:
        cart_source_check(
            video_id=source_video_id,
            tag_id=source_tag_id,
            product_id=uuid.UUID(quoted["product_id"]),
        )
    currency = quoted["unit_price"]["currency"]
    with transaction.atomic():
        # One writer per cart at a time: the checks below stay true until commit. Found
        # and locked in one statement, so a cart the retention task deletes meanwhile
        # (carts_prune) is made again rather than missed.
        cart, _ = Cart.objects.select_for_update().get_or_create(user_id=user_id)
        lines = list(cart.lines.all())
        if any(line.currency != currency for line in lines):
            raise ApplicationError(
                CheckoutErrorCode.MIXED_CURRENCIES,
                f"The cart is in {lines[0].currency}; this product is priced in {currency}.",
                status=422,
            )
        same = next(
            (
                line
                for line in lines
                if line.variant_id == variant_id
                and line.source_video_id == source_video_id
                and line.source_tag_id == source_tag_id
            ),
            None,
        )
        if same is None and len(lines) >= settings.MAX_CART_LINES:
            raise ApplicationError(
                CheckoutErrorCode.CART_FULL,
                f"A cart holds at most {settings.MAX_CART_LINES} lines.",
                status=422,
            )
        total_quantity = quantity + (same.quantity if same else 0)
        if total_quantity > settings.MAX_LINE_QUANTITY:
            raise ApplicationError(
                CheckoutErrorCode.QUANTITY_TOO_LARGE,
                f"At most {settings.MAX_LINE_QUANTITY} of one line.",
                status=422,
            )
        line = same or CartLine(
            cart=cart,
            variant_id=variant_id,
            source_video_id=source_video_id,
            source_tag_id=source_tag_id,
        )
        line.product_id = uuid.UUID(quoted["product_id"])
        line.title = _title(quoted)
        line.quantity = total_quantity
        line.unit_price_amount = quoted["unit_price"]["amount"]
        line.currency = currency
        line.save()
        return line


def cart_source_check(
    *, video_id: uuid.UUID, tag_id: uuid.UUID | None, product_id: uuid.UUID
) -> None:
    """422 `invalid_source` unless video says the video is published and tags the
    product, and the tag, when given, is its tag of that product. When video cannot
    answer, the source is kept unverified (a warning is logged): attribution checks it
    again when it credits the sale, so it can earn nothing it should not, and a buyer
    is never stopped from buying because the video service is down (README, ADR 17)."""
    try:
        problem = video.source_problem(video_id=video_id, product_id=product_id, tag_id=tag_id)
    except video.VideoUnavailable as error:
        logger.warning(
            "Cart source kept unverified: video unavailable",
            extra={"video_id": str(video_id), "tag_id": str(tag_id), "error": str(error)},
        )
        return
    if problem is None:
        return
    field, message = _SOURCE_PROBLEMS.get(problem, ("source", "This source is not valid."))
    raise ApplicationError(
        CheckoutErrorCode.INVALID_SOURCE,
        "This video cannot be the source of this product: " + message,
        status=422,
        errors=[{"field": field, "code": problem, "message": message}],
    )


def _title(quoted: dict[str, object]) -> str:
    variant_title = quoted.get("variant_title")
    return f"{quoted['title']} - {variant_title}" if variant_title else str(quoted["title"])


_REFUSALS = {
    "promotion_unknown": "There is no such code.",
    "promotion_expired": "This code has expired.",
    "promotion_not_started": "This code is not valid yet.",
    "promotion_exhausted": "This code has been used up.",
    "promotion_not_applicable": "This code does not apply to anything in the cart.",
    "promotion_minimum_not_met": "The cart does not reach this code's minimum spend.",
    "promotion_already_used": "You have already used this code as often as it allows.",
}


def code_normalize(code: str) -> str:
    return code.strip().upper()


def promotion_refused_error(*, code: str, reason: str) -> ApplicationError:
    """422 with catalog's reason as its code (API.md, "Discounts")."""
    return ApplicationError(
        CheckoutErrorCode(reason),
        _REFUSALS.get(reason, "This code cannot be used."),
        status=422,
        errors=[{"field": "code", "code": reason, "message": code}],
    )


def cart_discount_add(*, user_id: str, code: str) -> CartDiscount:
    """Apply a code to the user's cart: catalog prices the cart with it (first, so that
    it replaces another code of the same merchant part), and it is kept only if it
    applies. 422 with catalog's reason (`promotion_unknown`, `promotion_expired`,
    `promotion_not_started`, `promotion_exhausted`, `promotion_not_applicable`,
    `promotion_minimum_not_met`, `promotion_already_used`) or `cart_empty`, nothing
    written; 503 `catalog_unavailable`."""
    code = code_normalize(code)
    cart = cart_for_user(user_id=user_id)
    lines = list(cart.lines.all())
    if not lines:
        raise ApplicationError(
            CheckoutErrorCode.CART_EMPTY, "Add something to the cart first.", status=422
        )
    others = [other for other in cart_codes(cart_id=cart.id) if other != code]
    quote = catalog.quote(
        lines=[(line.variant_id, line.quantity) for line in lines],
        codes=[code, *others],
        customer_id=user_id,
    )
    refused = {item["code"]: item["reason"] for item in quote["codes_refused"]}
    if code in refused:
        raise promotion_refused_error(code=code, reason=refused[code])
    merchant_id = next(d["merchant_id"] for d in quote["discounts"] if d["code"] == code)
    with transaction.atomic():
        cart = Cart.objects.select_for_update().get(id=cart.id)
        CartDiscount.objects.filter(cart=cart, merchant_id=merchant_id).delete()
        CartDiscount.objects.filter(cart=cart, code=code).delete()
        discount = CartDiscount.objects.create(cart=cart, code=code, merchant_id=merchant_id)
    logger.info("Code applied to a cart", extra={"cart_id": str(cart.id), "code": code})
    return discount


def cart_discount_remove(*, user_id: str, code: str) -> None:
    """Take a code off the user's cart; `CartDiscount.DoesNotExist` if it is not on it."""
    deleted, _ = CartDiscount.objects.filter(
        cart__user_id=user_id, code=code_normalize(code)
    ).delete()
    if not deleted:
        raise CartDiscount.DoesNotExist


def cart_line_update(*, user_id: str, line_id: uuid.UUID, quantity: int) -> CartLine:
    line = CartLine.objects.get(id=line_id, cart__user_id=user_id)
    line.quantity = quantity
    line.save(update_fields=["quantity"])
    return line


def cart_line_remove(*, user_id: str, line_id: uuid.UUID) -> None:
    deleted, _ = CartLine.objects.filter(id=line_id, cart__user_id=user_id).delete()
    if not deleted:
        raise CartLine.DoesNotExist


def cart_lines_take(*, user_id: str, line_ids: list[uuid.UUID]) -> None:
    """The checkout took these lines (read by `cart_lines_for_checkout`): they leave the
    user's cart. Called inside the transaction that records the order, so the cart is
    emptied exactly when the order exists."""
    CartLine.objects.filter(cart__user_id=user_id, id__in=line_ids).delete()
    # The codes went with the order (they were priced into it).
    CartDiscount.objects.filter(cart__user_id=user_id).delete()


def carts_prune(*, batch_size: int = 500) -> int:
    """Delete carts with no line that were created (or last saved) more than
    `EMPTY_CART_RETENTION_DAYS` ago, in batches; a user's next cart call makes a new one
    (an empty cart holds nothing to lose). A cart with a line is never deleted, also when
    the line arrives while the prune runs: whoever adds it holds the cart's row lock, and
    retention skips locked rows. Returns how many went."""
    cutoff = timezone.now() - timedelta(days=settings.EMPTY_CART_RETENTION_DAYS)
    empty = Cart.objects.filter(updated_at__lt=cutoff).exclude(
        Exists(CartLine.objects.filter(cart=OuterRef("pk")))
    )
    return rows_retire(
        queryset=empty, retire=rows_delete, name="empty_carts", batch_size=batch_size
    )

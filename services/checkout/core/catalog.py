"""Every call the checkout service makes to catalog, in one place."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from clipcart_shared.clients import service_client, unavailable_error
from clipcart_shared.errors import ApplicationError
from clipcart_shared.http import ServiceRejected, ServiceUnavailable
from core.errors import CheckoutErrorCode

Lines = list[tuple[uuid.UUID, int]]


def _lines(lines: Lines) -> list[dict[str, Any]]:
    return [{"variant_id": str(variant_id), "quantity": quantity} for variant_id, quantity in lines]


def _sourced(lines: Lines, videos: Sequence[uuid.UUID | None]) -> list[dict[str, Any]]:
    """Lines with the video each was added from, for the flash deals on it."""
    return [
        {**line, "video_id": None if video_id is None else str(video_id)}
        for line, video_id in zip(_lines(lines), videos, strict=True)
    ]


def _unavailable(error: Exception) -> ApplicationError:
    return unavailable_error("catalog", CheckoutErrorCode.CATALOG_UNAVAILABLE, error)


def _rejected(error: ServiceRejected) -> ApplicationError:
    """Catalog's own answer, passed on: its code and the fields it names."""
    problem = error.problem
    return ApplicationError(
        error.code or CheckoutErrorCode.VARIANT_UNAVAILABLE,
        problem.get("detail", "The catalog refused these lines."),
        status=error.status or 422,
        errors=problem.get("errors"),
        extra={"lines": problem["lines"]} if "lines" in problem else None,
    )


def quote(
    *,
    lines: Lines,
    codes: Sequence[str] = (),
    customer_id: str | None = None,
    videos: Sequence[uuid.UUID | None] | None = None,
) -> dict[str, Any]:
    """Priced lines and each merchant's shipping fee (catalog's `quotes`), with the
    merchants' promotions applied: the automatic ones and `codes` (each line's
    `discount` and `net_total`, each merchant's `shipping_discount`, `discounts`, and
    the `codes_refused` with their reasons), and the running flash deals of `videos`
    (each line's source video, or None) on the lines from them (`flash_deal`)."""
    quoted = _lines(lines) if videos is None else _sourced(lines, videos)
    body: dict[str, Any] = {"lines": quoted, "codes": list(codes)}
    if customer_id is not None:
        body["customer_id"] = customer_id
    try:
        return catalog_call("post", "/internal/v1/quotes/", body)
    except ServiceRejected as error:
        raise _rejected(error) from error


def reservation_create(
    *,
    key: str,
    lines: Lines,
    ttl_seconds: int,
    promotion_ids: Sequence[str] = (),
    customer_id: str | None = None,
    flash_units: Sequence[tuple[str, int]] = (),
) -> dict[str, Any]:
    """Hold stock, and one use of each promotion and the units at flash deal prices
    (`flash_units`, [(deal id, quantity)]) for the buyer in the same reservation; 409
    `out_of_stock` (catalog's answer, naming each short line), `promotion_exhausted`,
    `promotion_already_used`, `promotion_expired`, `flash_deal_sold_out`,
    `flash_deal_limit_reached`, `flash_deal_ended`."""
    body: dict[str, Any] = {"key": key, "lines": _lines(lines), "ttl_seconds": ttl_seconds}
    if promotion_ids:
        body["promotions"] = sorted(promotion_ids)
        body["customer_id"] = customer_id
    if flash_units:
        body["flash_deals"] = [{"deal_id": d, "quantity": q} for d, q in flash_units]
        body["customer_id"] = customer_id
    try:
        return catalog_call("post", "/internal/v1/reservations/", body, idempotency_key=key)
    except ServiceRejected as error:
        raise _rejected(error) from error


def reservation_commit(*, reservation_id: uuid.UUID) -> dict[str, Any]:
    """The units leave the shelf (paid). 409 `reservation_released` or `out_of_stock`
    when the hold lapsed and the stock is gone: catalog's answer, as an ApplicationError."""
    return _reservation_change(reservation_id, "commit")


def reservation_release(*, reservation_id: uuid.UUID) -> dict[str, Any]:
    """The units go back on the shelf (abandoned). 409 `reservation_committed` when the
    order was paid meanwhile."""
    return _reservation_change(reservation_id, "release")


def _reservation_change(reservation_id: uuid.UUID, change: str) -> dict[str, Any]:
    try:
        return catalog_call(
            "post",
            f"/internal/v1/reservations/{reservation_id}/{change}/",
            None,
            idempotency_key=f"{change}-{reservation_id}",
        )
    except ServiceRejected as error:
        raise _rejected(error) from error


def stock_restock(
    *, key: str, lines: Lines, reason: str, order_id: uuid.UUID | None = None
) -> dict[str, Any]:
    """Sold units back on the shelf (catalog's `restocks`), once per `key`: the same key
    again answers the same movements and moves nothing (a refund's or a return's id)."""
    body: dict[str, Any] = {"key": key, "lines": _lines(lines), "reason": reason}
    if order_id is not None:
        body["order_id"] = str(order_id)
    try:
        return catalog_call(
            "post", "/internal/v1/restocks/", body, idempotency_key=f"restock-{key}"
        )
    except ServiceRejected as error:
        raise _rejected(error) from error


def catalog_call(
    method: str, path: str, body: Any = None, *, idempotency_key: str | None = None
) -> dict[str, Any]:
    """One call; catalog being down becomes 503 `catalog_unavailable`. Keyed calls are
    retried by the client, and catalog applies them once."""
    try:
        if method == "post":
            return service_client("catalog").post(path, json=body, idempotency_key=idempotency_key)
        return service_client("catalog").get(path)
    except ServiceUnavailable as error:
        raise _unavailable(error) from error

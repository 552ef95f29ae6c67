"""Every call the checkout service makes to video, in one place."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from clipcart_shared.clients import service_client
from clipcart_shared.http import ServiceRejected, ServiceUnavailable

logger = logging.getLogger(__name__)


class VideoUnavailable(Exception):
    """Video could not say whether a source is valid (down, slow, or an answer we did
    not expect)."""


def source_problem(
    *, video_id: uuid.UUID, product_id: uuid.UUID, tag_id: uuid.UUID | None
) -> str | None:
    """Why this video (and tag) cannot be the source of a cart line for the product —
    `unknown_video`, `product_not_tagged`, `tag_mismatch` — or None when it can (video's
    `GET /internal/v1/sources/`). Raises `VideoUnavailable` when video cannot answer:
    the client's timeouts, retries (a GET is safe to repeat) and breaker apply."""
    params = {"video_id": str(video_id), "product_id": str(product_id)}
    if tag_id is not None:
        params["tag_id"] = str(tag_id)
    try:
        answer = service_client("video").get("/internal/v1/sources/", params=params)
    except ServiceUnavailable as error:
        raise VideoUnavailable(str(error)) from error
    except ServiceRejected as error:
        # Never a shopper's mistake (the ids are UUIDs by then): a credential or version
        # mismatch between the services, for an operator to see.
        logger.error(
            "Video refused a source check",
            extra={"status": error.status, "code": error.code, "video_id": str(video_id)},
        )
        raise VideoUnavailable(str(error)) from error
    if answer.get("is_valid"):
        return None
    return str(answer.get("problem") or "invalid")


def order_commission(*, order_id: uuid.UUID, merchant_id: uuid.UUID) -> dict[str, Any]:
    """What the merchant's lines of the order owe creators (video's `GET
    /internal/v1/commissions/`): `{model, lines: {line id: commission}, refund_ids}`,
    naming only the lines and refunds video has heard of. Raises `VideoUnavailable` when
    video cannot answer."""
    params = {"order_id": str(order_id), "merchant_id": str(merchant_id)}
    try:
        answer = service_client("video").get("/internal/v1/commissions/", params=params)
    except ServiceUnavailable as error:
        raise VideoUnavailable(str(error)) from error
    except ServiceRejected as error:
        logger.error(
            "Video refused a commission question",
            extra={"status": error.status, "code": error.code, "order_id": str(order_id)},
        )
        raise VideoUnavailable(str(error)) from error
    return dict(answer)


def creator_balances(*, before: datetime) -> list[dict[str, Any]]:
    """What video owes creators per merchant and currency as of `before` (video's `GET
    /internal/v1/creator-balances/`): `[{merchant_id, currency, amount}]`. Raises
    `VideoUnavailable` when video cannot answer."""
    try:
        answer = service_client("video").get(
            "/internal/v1/creator-balances/", params={"before": before.isoformat()}
        )
    except ServiceUnavailable as error:
        raise VideoUnavailable(str(error)) from error
    except ServiceRejected as error:
        logger.error(
            "Video refused a creator balances question",
            extra={"status": error.status, "code": error.code},
        )
        raise VideoUnavailable(str(error)) from error
    return list(answer.get("balances") or [])

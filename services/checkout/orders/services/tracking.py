"""The carrier tracking webhook: one generic signed JSON format (API.md, "Carrier
tracking"), so any tracking aggregator can be wired. The signature is checked on the raw
body before anything is read; a delivery delivers the shipment (`by=carrier`), other
statuses are recorded on it; a replay changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from core.errors import CheckoutErrorCode
from orders.models import Shipment
from orders.services.shipping import shipment_deliver, shipment_tracking_update

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Clipcart-Signature"
TRACKING_STATUSES = ("in_transit", "delivered", "exception")


def tracking_signature(*, payload: bytes, secret: str, timestamp: int) -> str:
    """The header value a sender puts on `payload`: `t=<unix>,v1=<hex>`, the hex being
    HMAC-SHA256 over `<t>.` followed by the raw body (the time is signed with the body,
    so an old body cannot be sent again with a new time)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def tracking_signature_verify(*, payload: bytes, header: str) -> None:
    """400 `invalid_signature` unless `header` signs `payload` with
    `TRACKING_WEBHOOK_SECRET` and its time is within `TRACKING_WEBHOOK_TOLERANCE_SECONDS`
    of now."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    timestamps = parts.get("t", [])
    secret = settings.TRACKING_WEBHOOK_SECRET
    if secret and len(timestamps) == 1 and timestamps[0].isascii() and timestamps[0].isdigit():
        timestamp = int(timestamps[0])
        expected = tracking_signature(payload=payload, secret=secret, timestamp=timestamp)
        expected_digest = expected.rpartition("v1=")[2]
        is_fresh = abs(time.time() - timestamp) <= settings.TRACKING_WEBHOOK_TOLERANCE_SECONDS
        if is_fresh and any(
            hmac.compare_digest(expected_digest, given) for given in parts.get("v1", [])
        ):
            return
    raise ApplicationError(
        CheckoutErrorCode.INVALID_SIGNATURE,
        f"The {SIGNATURE_HEADER} header does not verify (or is older than the tolerance).",
        status=400,
    )


def tracking_event_apply(
    *, carrier: str, tracking_number: str, status: str, occurred_at: datetime
) -> bool:
    """Apply a verified tracking update to the shipments with this tracking number (and
    carrier, in any case). Returns whether any matched; an unknown number is logged."""
    shipments = list(
        Shipment.objects.filter(
            tracking_number=tracking_number.strip(), carrier__iexact=carrier.strip()
        ).values_list("id", flat=True)
    )
    if not shipments:
        logger.warning(
            "Tracking update for no shipment of ours",
            extra={"carrier": carrier[:60], "tracking_number": tracking_number[:100]},
        )
        return False
    at = min(occurred_at, timezone.now())
    for shipment_id in shipments:
        if status == "delivered":
            shipment_deliver(shipment_id=shipment_id, by=Shipment.DeliveredBy.CARRIER, at=at)
        else:
            shipment_tracking_update(shipment_id=shipment_id, status=status, at=at)
    return True

"""Every error code the catalog service answers with, named once."""

import enum
import uuid
from collections.abc import Sequence

from clipcart_shared.errors import ApplicationError


class CatalogErrorCode(enum.StrEnum):
    VARIANT_UNAVAILABLE = "variant_unavailable"
    OUT_OF_STOCK = "out_of_stock"
    UNKNOWN_CURRENCY = "unknown_currency"
    CURRENCY_MISMATCH = "currency_mismatch"
    RESERVATION_KEY_REUSED = "reservation_key_reused"
    RESERVATION_RELEASED = "reservation_released"
    RESERVATION_COMMITTED = "reservation_committed"
    STOCK_COUNT_STALE = "stock_count_stale"
    STOCK_BELOW_RESERVED = "stock_below_reserved"
    STOCK_QUANTITY_INVALID = "stock_quantity_invalid"
    RESTOCK_KEY_REUSED = "restock_key_reused"
    # A sign-in forwarded by video's or checkout's admin (staff.services).
    STAFF_LOGIN_INVALID = "staff_login_invalid"
    STAFF_LOGIN_LOCKED_OUT = "staff_login_locked_out"
    # Promotions (promotions.pricing at quote time, promotions.services at reservation)
    PROMOTION_UNKNOWN = "promotion_unknown"
    PROMOTION_EXPIRED = "promotion_expired"
    PROMOTION_NOT_STARTED = "promotion_not_started"
    PROMOTION_EXHAUSTED = "promotion_exhausted"
    PROMOTION_NOT_APPLICABLE = "promotion_not_applicable"
    PROMOTION_MINIMUM_NOT_MET = "promotion_minimum_not_met"
    PROMOTION_ALREADY_USED = "promotion_already_used"
    FLASH_DEAL_SOLD_OUT = "flash_deal_sold_out"
    FLASH_DEAL_LIMIT_REACHED = "flash_deal_limit_reached"
    FLASH_DEAL_ENDED = "flash_deal_ended"
    # A creator's request for a code, from video (promotions.services)
    MERCHANT_NOT_FOUND = "merchant_not_found"


def variant_unavailable_error(
    indices: Sequence[int], lines: Sequence[tuple[uuid.UUID, int]]
) -> ApplicationError:
    """422 naming each line (by index) whose variant is unknown or not for sale."""
    return ApplicationError(
        CatalogErrorCode.VARIANT_UNAVAILABLE,
        "Some variants do not exist or are not for sale.",
        status=422,
        errors=[
            {
                "field": f"lines[{index}].variant_id",
                "code": CatalogErrorCode.VARIANT_UNAVAILABLE.value,
                "message": f"Variant {lines[index][0]} is not for sale.",
            }
            for index in indices
        ],
    )

"""Every error code the catalog service answers with, named once."""

import enum


class CatalogErrorCode(enum.StrEnum):
    VARIANT_UNAVAILABLE = "variant_unavailable"
    OUT_OF_STOCK = "out_of_stock"
    UNKNOWN_CURRENCY = "unknown_currency"
    CURRENCY_MISMATCH = "currency_mismatch"
    RESERVATION_KEY_REUSED = "reservation_key_reused"
    RESERVATION_RELEASED = "reservation_released"
    RESERVATION_COMMITTED = "reservation_committed"

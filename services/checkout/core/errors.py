"""Every error code the checkout service answers with, named once."""

import enum


class CheckoutErrorCode(enum.StrEnum):
    CART_EMPTY = "cart_empty"
    CART_FULL = "cart_full"
    MIXED_CURRENCIES = "mixed_currencies"
    QUANTITY_TOO_LARGE = "quantity_too_large"
    VARIANT_UNAVAILABLE = "variant_unavailable"
    INVALID_SOURCE = "invalid_source"
    OUT_OF_STOCK = "out_of_stock"
    CATALOG_UNAVAILABLE = "catalog_unavailable"
    PAYMENT_PROVIDER_UNAVAILABLE = "payment_provider_unavailable"
    PAYMENT_PROVIDER_REJECTED = "payment_provider_rejected"
    ORDER_NOT_CANCELLABLE = "order_not_cancellable"
    INVALID_SIGNATURE = "invalid_signature"
    REFUND_TOO_LARGE = "refund_too_large"
    ORDER_NOT_REFUNDABLE = "order_not_refundable"
    PAYMENT_MISMATCH = "payment_mismatch"
    AMOUNT_TOO_SMALL = "amount_too_small"
    AMOUNT_TOO_LARGE = "amount_too_large"
    TOO_MANY_OPEN_CHECKOUTS = "too_many_open_checkouts"
    UNIT_LIMIT_EXCEEDED = "unit_limit_exceeded"

"""The shape of one entry of the contract table (`Promise`), and the field lists several
entries share, quoted from docs/API.md. The entries are in `promises_<service>.py`."""

from __future__ import annotations

from dataclasses import dataclass, field

PRODUCT_CARD = (
    "id",
    "merchant.id",
    "merchant.name",
    "title",
    "description",
    "images",
    "price.amount",
    "price.currency",
    "stock_status",
    "variants[].id",
    "variants[].sku",
    "variants[].title",
    "variants[].options",
    "variants[].price.amount",
    "variants[].price.currency",
    "variants[].stock_status",
    # catalog "Promotions": `flash_deal {price, ends_at, remaining | null, per_buyer_limit}
    # | null` while one runs.
    "flash_deal.price.amount",
    "flash_deal.ends_at",
    "flash_deal.remaining",
    "flash_deal.per_buyer_limit",
)
STOCK_STATUSES = frozenset({"in_stock", "low_stock", "out_of_stock"})
VIDEO = (
    "id",
    "creator.id",
    "creator.handle",
    "creator.display_name",
    "creator.avatar_url",
    "stream_url",
    "thumbnail_url",
    "caption",
    "duration_ms",
    "published_at",
    "tags[].id",
    "tags[].start_ms",
    "tags[].end_ms",
    "tags[].x",
    "tags[].y",
    "tags[].product.id",
    "tags[].product.title",
    "tags[].product.image",
    "tags[].product.price.amount",
    "tags[].product.stock_status",
    "tags[].variant_id",
    # catalog "Promotions": the card's `flash_deal` while one runs, on its video's tags.
    "tags[].product.flash_deal.price.amount",
    "tags[].product.flash_deal.ends_at",
    "tags[].product.flash_deal.remaining",
    "tags[].product.flash_deal.per_buyer_limit",
)
CREATOR = ("id", "handle", "display_name", "avatar_url")
ORDER_STATUSES = frozenset(
    {
        "pending_payment",
        "paid",
        "partially_shipped",
        "shipped",
        "delivered",
        "cancelled",
        "refunded",
        "partially_refunded",
    }
)
EVENT_TYPES = frozenset(
    {"impression", "view", "tag_tap", "product_view", "add_to_cart", "like", "unlike", "share"}
)


def page(fields: tuple[str, ...]) -> tuple[str, ...]:
    return ("next", *(f"results[].{name}" for name in fields))


@dataclass(frozen=True)
class Promise:
    """What API.md says about one operation of one service."""

    service: str
    method: str
    path: str  # as API.md writes it
    api_md: str  # the words of API.md this entry comes from
    status: str = ""  # the success answer whose body `response` describes
    response: tuple[str, ...] = ()
    request: tuple[str, ...] = ()
    parameters: tuple[str, ...] = ()
    # field → the values API.md lists for it (in the response, or `request.<field>`)
    enums: dict[str, frozenset[str]] = field(default_factory=dict)

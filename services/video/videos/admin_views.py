"""Admin-only JSON for the tag editor's product picker: catalog's public product search,
limited to the merchants the signed-in user acts for.

The tag admin registers it (`ProductTagAdmin.get_urls`) behind the admin's login and its
own permission check; the answer has the shape select2 reads.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest, JsonResponse

from clipcart_shared.errors import ApplicationError
from clipcart_shared.money import Money
from core.catalog import product_search

MAX_QUERY_LENGTH = 200  # catalog refuses longer search text
RESULTS_PER_MERCHANT = 20


def product_label(card: dict[str, Any]) -> str:
    """ "Trail Runner GTX · €129.00 · Alpine Outfitters": enough to tell products apart."""
    parts = [card["title"]]
    price = card.get("price")
    if price:
        parts.append(Money(price["amount"], price["currency"]).format())
    merchant_name = card.get("merchant", {}).get("name")
    if merchant_name:
        parts.append(merchant_name)
    return " · ".join(parts)


def _cards(*, query: str, merchant_ids: list[uuid.UUID] | None) -> list[dict[str, Any]]:
    if merchant_ids is None:
        return product_search(query=query, limit=RESULTS_PER_MERCHANT)
    cards = []
    for merchant_id in sorted(merchant_ids):
        cards += product_search(query=query, merchant_id=merchant_id, limit=RESULTS_PER_MERCHANT)
    # Catalog filters by merchant already; checked again here because showing another
    # merchant's products would be a leak, while an empty list is only a nuisance.
    allowed = {str(merchant_id) for merchant_id in merchant_ids}
    return [card for card in cards if card["merchant"]["id"] in allowed]


def product_search_json(
    request: HttpRequest, *, merchant_ids: list[uuid.UUID] | None
) -> JsonResponse:
    """Products matching `term` (select2's parameter; `q` also works) of these merchants
    (None: every merchant). 503 `catalog_unavailable` when catalog cannot answer."""
    query = (request.GET.get("term") or request.GET.get("q") or "").strip()[:MAX_QUERY_LENGTH]
    try:
        cards = _cards(query=query, merchant_ids=merchant_ids)
    except ApplicationError as error:
        return JsonResponse(
            {"results": [], "code": error.code, "detail": error.detail}, status=error.status
        )
    return JsonResponse(
        {
            "results": [{"id": card["id"], "text": product_label(card)} for card in cards],
            "pagination": {"more": False},
        }
    )

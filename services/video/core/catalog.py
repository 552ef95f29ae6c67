"""Every call the video service makes to catalog, in one place."""

from __future__ import annotations

import uuid
from typing import Any

from clipcart_shared.clients import service_client, unavailable_error
from clipcart_shared.errors import ApplicationError
from clipcart_shared.http import ServiceClient, ServiceRejected, ServiceUnavailable
from core.errors import VideoErrorCode


def catalog_client() -> ServiceClient:
    return service_client("catalog")


def _unavailable(error: Exception) -> ApplicationError:
    return unavailable_error("catalog", VideoErrorCode.CATALOG_UNAVAILABLE, error)


def product_card_fetch(*, product_id: uuid.UUID) -> dict[str, Any] | None:
    """The product's card if catalog sells it (active), None if it does not exist or is not
    for sale. Raises 503 `catalog_unavailable` when catalog cannot answer."""
    try:
        return catalog_client().get(f"/api/v1/products/{product_id}/")
    except ServiceRejected as error:
        if error.status == 404:
            return None
        raise _unavailable(error) from error
    except ServiceUnavailable as error:
        raise _unavailable(error) from error


def product_search(
    *, query: str = "", merchant_id: uuid.UUID | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """Active products matching the text (catalog's full-text search), for tag pickers."""
    params: dict[str, Any] = {"limit": limit}
    if query:
        params["q"] = query
    if merchant_id is not None:
        params["merchant"] = str(merchant_id)
    try:
        return list(catalog_client().get("/api/v1/products/", params=params)["results"])
    except (ServiceRejected, ServiceUnavailable) as error:
        raise _unavailable(error) from error


def product_pages(*, limit: int = 100) -> Any:
    """Every active product's card, page by page (for the read-model backfill)."""
    path: str | None = f"/api/v1/products/?limit={limit}"
    while path:
        page = catalog_client().get(path)
        yield from page["results"]
        next_url = page.get("next")
        path = next_url[next_url.index("/api/") :] if next_url else None


def creator_code_request(
    *,
    merchant_id: uuid.UUID,
    creator_id: uuid.UUID,
    creator_handle: str,
    code: str,
    message: str,
) -> dict[str, Any]:
    """Ask a merchant for a creator code on the creator's behalf (catalog keeps one open
    request per creator and merchant: asking again updates it). Returns catalog's
    request. 404 `merchant_not_found`; 503 `catalog_unavailable`."""
    body = {
        "merchant_id": str(merchant_id),
        "creator_id": str(creator_id),
        "creator_handle": creator_handle,
        "code": code,
        "message": message,
    }
    try:
        # Asking twice is harmless (the same open request), so a retry is safe.
        answer = catalog_client().post(
            "/internal/v1/creator-code-requests/", json=body, idempotency_key=str(uuid.uuid4())
        )
    except ServiceRejected as error:
        if error.status == 404:
            raise ApplicationError(
                VideoErrorCode.MERCHANT_NOT_FOUND, "There is no such merchant.", status=404
            ) from error
        raise _unavailable(error) from error
    except ServiceUnavailable as error:
        raise _unavailable(error) from error
    return answer

"""What the video admin tests share: the admin's addresses, and readers of admin pages
(the change list, the form, its error codes). The creators, videos and tags they work on
are fixtures in conftest.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from videos.models import Video

ADMIN = "/video/admin"
VIDEOS = f"{ADMIN}/videos/video"
TAGS = f"{ADMIN}/videos/producttag"
PRODUCT_SEARCH = f"{TAGS}/product-search/"
CREATORS = f"{ADMIN}/creators/creator"
STATS = f"{ADMIN}/engagement/dailyvideostats"
CARDS = f"{ADMIN}/productcards/productcard"


def _listed(response: Any) -> list[Any]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def _form(response: Any) -> Any:
    assert response.status_code == 200
    return response.context["adminform"].form


def _error_codes(form: Any) -> dict[str, list[str | None]]:
    return {
        field: [error.code for error in errors] for field, errors in form.errors.as_data().items()
    }


def _tag_data(video: Video, product_id: str, **overrides: str) -> dict[str, str]:
    return {
        "video": str(video.id),
        "product_id": product_id,
        "start_seconds": "2",
        "end_seconds": "9.5",
        "x_percent": "30",
        "y_percent": "60",
        "_save": "Save",
        **overrides,
    }


def _products_of(catalog: Any, merchant_id: uuid.UUID) -> list[dict[str, Any]]:
    products = [p for p in catalog.active_products if p["merchant"]["id"] == str(merchant_id)]
    assert products, "the real catalog sells products of this demo merchant"
    return products

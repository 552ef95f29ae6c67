"""What the catalog admin tests share: the admin's addresses, the form data of a product
with its variant rows, and a reader of change lists. The products they work on are
fixtures in conftest.py.
"""

from __future__ import annotations

from typing import Any

from merchants.models import Merchant
from products.models import Variant

ADMIN = "/catalog/admin"
PRODUCTS = f"{ADMIN}/products/product"
VARIANTS = f"{ADMIN}/products/variant"
MERCHANTS = f"{ADMIN}/merchants/merchant"


def _variant_rows(prefix: str, rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


def _new_variant_row(sku: str, **overrides: Any) -> dict[str, Any]:
    return {
        "sku": sku,
        "title": "Default",
        "options": '{"size": "M"}',
        "price_amount": "1500",
        "quantity_on_hand": "4",
        "position": "0",
        **overrides,
    }


def _existing_variant_row(variant: Variant, **overrides: Any) -> dict[str, Any]:
    return {
        "id": str(variant.id),
        "product": str(variant.product_id),
        **_new_variant_row(variant.sku, price_amount=str(variant.price_amount)),
        "quantity_on_hand": str(variant.quantity_on_hand),
        # The form says which level it was opened with: a count is checked against it.
        "on_hand_when_opened": str(variant.quantity_on_hand),
        **overrides,
    }


def _product_add_data(merchant: Merchant, title: str, variants: list[dict[str, Any]]) -> dict:
    return {
        "merchant": str(merchant.id),
        "title": title,
        "description": "Made for the test.",
        "images": "https://img.example.com/new.jpg",
        "status": "draft",
        "_save": "Save",
        **_variant_rows("variants", variants),
    }


def _listed(response: Any) -> list[Any]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)

"""The real catalog service for the video tests: demo data, one product archived."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests

from clipcart_tools.testing.services import RunningService, running_service

# Must match SERVICE_AUTH_KEYS of the test settings, so catalog accepts our calls.
SERVICE_KEY = "test-only-service-key-current-0000000"


@dataclass
class CatalogServer:
    url: str
    active_products: list[dict[str, Any]]
    archived_product_id: str
    service: RunningService


@contextmanager
def catalog_server() -> Iterator[CatalogServer]:
    with running_service(
        "catalog",
        database="clipcart_catalog_for_video_tests",
        setup=[["seed_demo"]],
        # A cool-off of its own: the admin's lockout message must say catalog's.
        environment={"SERVICE_AUTH_KEYS": SERVICE_KEY, "ADMIN_LOGIN_COOLOFF_MINUTES": "7"},
    ) as catalog:
        products = requests.get(f"{catalog.url}/api/v1/products/?limit=100", timeout=30).json()
        archived = products["results"].pop()
        catalog.manage(
            "testhook",
            "products_status_set",
            json.dumps({"product_ids": [archived["id"]], "status": "archived"}),
        )
        yield CatalogServer(
            url=catalog.url,
            active_products=products["results"],
            archived_product_id=archived["id"],
            service=catalog,
        )

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import user_token_mint
from clipcart_shared.testing.services import free_port
from tests.catalog_server import CatalogServer, catalog_server


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[str], APIClient]:
    """A client signed in as the given mobile user."""

    def make(user_id: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id=user_id)}")
        return client

    return make


@pytest.fixture(scope="session")
def _catalog_process() -> Iterator[CatalogServer]:
    with catalog_server() as server:
        yield server


@pytest.fixture
def catalog(_catalog_process: CatalogServer, settings) -> CatalogServer:
    """The real catalog service, reached over HTTP."""
    settings.CATALOG_URL = _catalog_process.url
    return _catalog_process


@pytest.fixture
def catalog_down(settings) -> None:
    """Catalog unreachable: nothing listens on its port."""
    settings.CATALOG_URL = f"http://127.0.0.1:{free_port()}"

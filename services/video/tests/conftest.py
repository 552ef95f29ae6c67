from __future__ import annotations

from collections.abc import Iterator

import pytest

from clipcart_shared.testing.services import free_port
from tests.catalog_server import CatalogServer, catalog_server

pytest_plugins = ["clipcart_shared.testing.fixtures"]


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

"""pytest fixtures every service's tests use (`pytest_plugins` in each conftest)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import user_token_mint


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def client_for() -> Callable[[str], APIClient]:
    """`client_for("u1")`: a client signed in as that mobile user (a Bearer JWT)."""

    def make(user_id: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id=user_id)}")
        return client

    return make

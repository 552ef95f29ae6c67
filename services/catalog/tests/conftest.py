from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint, user_token_mint

pytest_plugins = ["clipcart_shared.testing.fixtures"]


@pytest.fixture
def service_client() -> APIClient:
    """A client holding a service credential, as checkout would call catalog."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Service {service_token_mint(service='checkout')}")
    return client


@pytest.fixture
def user_client() -> APIClient:
    """A client holding a mobile user's token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token_mint(user_id='user-1')}")
    return client

"""pytest fixtures every service's tests use (`pytest_plugins` in each conftest)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache, caches
from django.test import Client
from rest_framework.test import APIClient

from clipcart_shared.auth import user_token_mint


@pytest.fixture(autouse=True)
def _throttle_counts_cleared() -> None:
    """Every test starts with no request counted and no stored page (both in the `pages`
    cache's files, which no test transaction rolls back)."""
    cache.clear()
    caches["pages"].clear()


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


# Admin users. Each service's conftest says who its merchant staff are (`staff_user`).


def signed_in(user: Any) -> Client:
    """A browser signed in to the admin as `user`."""
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_client(staff_user: Any) -> Client:
    """A merchant's staff in the admin, as the service's `staff_user` fixture makes them."""
    return signed_in(staff_user)


@pytest.fixture
def superuser_client() -> Client:
    """Platform staff in the admin."""
    return signed_in(get_user_model().objects.create_superuser(username="platform", password=None))


def admin_login(client: Client, *, admin: str, username: str, password: str) -> Any:
    """Post the admin's own login form, as a browser does (django-axes counts these)."""
    return client.post(
        f"{admin}/login/?next={admin}/", {"username": username, "password": password}
    )


def admin_lockout_answers(*, admin: str, failures: int) -> tuple[list[int], int]:
    """Sign in to the admin at `admin` with a wrong password `failures` times, then with
    the right one: (the answers to the wrong ones, the answer to the right one)."""
    get_user_model().objects.create_user(username="locked-out", password="right", is_staff=True)
    client = Client()
    wrong = [
        admin_login(client, admin=admin, username="locked-out", password="wrong").status_code
        for _ in range(failures)
    ]
    return wrong, admin_login(
        client, admin=admin, username="locked-out", password="right"
    ).status_code

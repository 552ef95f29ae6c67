from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from clipcart_shared.merchant_access.demo_logins import STAFF_GROUP, demo_id
from clipcart_shared.merchant_access.models import MerchantMembership
from clipcart_tools.testing.services import free_port
from core.management.commands.seed_demo import STAFF_PERMISSIONS
from tests.catalog_server import CatalogServer, catalog_server
from tests.checkout_server import CheckoutServer, checkout_server

pytest_plugins = ["clipcart_tools.testing.fixtures"]

# Catalog's demo merchants: the real catalog's cards belong to one or the other.
MERCHANT_A = demo_id("merchant", "alpine")
MERCHANT_B = demo_id("merchant", "harbor")


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


@pytest.fixture(scope="session")
def _checkout_process() -> Iterator[CheckoutServer]:
    with checkout_server() as server:
        yield server


@pytest.fixture
def checkout(_checkout_process: CheckoutServer, settings) -> CheckoutServer:
    """The real checkout service, reached over HTTP (its orders made by its own code)."""
    settings.CHECKOUT_URL = _checkout_process.url
    return _checkout_process


@pytest.fixture
def checkout_down(settings) -> None:
    """Checkout unreachable: nothing listens on its port."""
    settings.CHECKOUT_URL = f"http://127.0.0.1:{free_port()}"


# Admin users: a merchant's staff (as seed_demo makes them) and platform staff.


def _staff_group() -> Group:
    """The group as `seed_demo` makes it."""
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    group.permissions.add(
        *[
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in STAFF_PERMISSIONS
        ]
    )
    return group


@pytest.fixture
def staff_user() -> Any:
    user = get_user_model().objects.create_user(username="staff-of-a", is_staff=True)
    user.groups.add(_staff_group())
    MerchantMembership.objects.create(
        user=user, merchant_id=MERCHANT_A, merchant_name="Alpine Outfitters"
    )
    return user

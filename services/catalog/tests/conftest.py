from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from clipcart_shared.auth import service_token_mint, user_token_mint
from core.admin import merchant_staff_group_ensure
from merchants.models import Merchant
from products.models import Product
from tests.factories import MerchantFactory, ProductFactory, UserFactory, VariantFactory

pytest_plugins = ["clipcart_tools.testing.fixtures"]


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


# Admin users: staff of merchant A (`staff_client` and `superuser_client` are shared).


@pytest.fixture
def merchant_a() -> Merchant:
    return MerchantFactory(name="Alpine A", slug="alpine-a")


@pytest.fixture
def merchant_b() -> Merchant:
    return MerchantFactory(name="Harbor B", slug="harbor-b")


@pytest.fixture
def staff_user(merchant_a: Merchant) -> Any:
    user = UserFactory(username="staff-of-a")
    user.groups.add(merchant_staff_group_ensure())
    merchant_a.staff.add(user)
    return user


@pytest.fixture
def product_a(merchant_a: Merchant) -> Product:
    product = ProductFactory(merchant=merchant_a, title="Alpine Lantern")
    VariantFactory(product=product, sku="LANTERN-1", price_amount=2500, quantity_on_hand=7)
    VariantFactory(product=product, sku="LANTERN-A2", price_amount=1999, quantity_on_hand=3)
    return product


@pytest.fixture
def product_b(merchant_b: Merchant) -> Product:
    product = ProductFactory(merchant=merchant_b, title="Harbor Lantern")
    # The same SKU as A's: SKUs are unique per merchant only.
    VariantFactory(product=product, sku="LANTERN-1")
    VariantFactory(product=product, sku="HARBOR-ONLY")
    return product

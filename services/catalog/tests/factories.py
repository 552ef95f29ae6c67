from __future__ import annotations

import uuid
from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from merchants.models import Merchant
from products.models import Category, Product, Variant
from products.services import product_changes_publish


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"staff{n}")
    is_staff = True
    password = factory.django.Password("password")


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant

    name = factory.Sequence(lambda n: f"Merchant {n}")
    slug = factory.Sequence(lambda n: f"merchant-{n}")
    currency = "EUR"
    shipping_fee_amount = 490


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


def _publish_card(product_id) -> None:
    # Like every real write path, factories publish the product's card after creating it.
    with transaction.atomic():
        product_changes_publish(product_ids=[product_id])


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        skip_postgeneration_save = True  # a save would overwrite the published card

    merchant = factory.SubFactory(MerchantFactory)
    title = factory.Sequence(lambda n: f"Product {n}")
    description = "A thing people want."
    images = factory.LazyFunction(lambda: ["https://img.example.com/p.jpg"])
    status = Product.Status.ACTIVE

    @factory.post_generation
    def publish_card(obj, create, extracted, **kwargs):
        if create:
            _publish_card(obj.id)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Variant
        skip_postgeneration_save = True

    product = factory.SubFactory(ProductFactory)
    merchant = factory.LazyAttribute(lambda variant: variant.product.merchant)
    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    title = "Default"
    options = factory.LazyFunction(lambda: {"size": "M"})
    price_amount = 1999
    quantity_on_hand = 10
    quantity_reserved = 0

    @factory.post_generation
    def publish_card(obj, create, extracted, **kwargs):
        if create:
            _publish_card(obj.product_id)


class PromotionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "promotions.Promotion"

    merchant = factory.SubFactory(MerchantFactory)
    name = "10 % off"
    kind = "percent"
    percent_off = 10
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=1))
    code = factory.Sequence(lambda n: f"CODE{n:04d}")


class FlashDealFactory(factory.django.DjangoModelFactory):
    """A flash deal running now (started a minute ago, for 20 minutes) on the variant's
    product, in a video."""

    class Meta:
        model = "promotions.FlashDeal"
        skip_postgeneration_save = True

    variant = factory.SubFactory(VariantFactory)
    product = factory.LazyAttribute(lambda deal: deal.variant.product)
    merchant = factory.LazyAttribute(lambda deal: deal.product.merchant)
    video_id = factory.LazyFunction(uuid.uuid4)
    price_amount = 500
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    duration_minutes = 20
    per_buyer_limit = 2
    total_quantity = 10

    @factory.post_generation
    def publish(deal, create, extracted, **kwargs):
        # As the admin's save does: the product's card carries the deal.
        if create:
            product_changes_publish(product_ids=[deal.product_id])

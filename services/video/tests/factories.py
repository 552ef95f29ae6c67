from __future__ import annotations

import uuid
from datetime import UTC, datetime

import factory
from django.utils import timezone

from creators.models import Creator
from productcards.models import ProductCard
from videos.models import ProductTag, Video


class CreatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Creator

    user_id = factory.Sequence(lambda n: f"creator-user-{n}")
    handle = factory.Sequence(lambda n: f"creator_{n}")
    display_name = factory.Sequence(lambda n: f"Creator {n}")
    avatar_url = "https://img.example.com/avatar.jpg"


class VideoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Video

    creator = factory.SubFactory(CreatorFactory)
    stream_url = "https://cdn.example.com/v.m3u8"
    thumbnail_url = "https://cdn.example.com/v.jpg"
    caption = "Look at this"
    duration_ms = 30_000
    status = Video.Status.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)


class ProductCardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductCard

    product_id = factory.LazyFunction(uuid.uuid4)
    merchant_id = factory.LazyFunction(uuid.uuid4)
    merchant_name = "Merchant"
    title = factory.Sequence(lambda n: f"Product {n}")
    image = "https://img.example.com/p.jpg"
    price_amount = 1999
    currency = "EUR"
    stock_status = "in_stock"
    status = "active"
    source_time = datetime(2026, 1, 1, tzinfo=UTC)


class ProductTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductTag

    video = factory.SubFactory(VideoFactory)
    product_id = factory.LazyAttribute(lambda tag: ProductCardFactory().product_id)
    merchant_id = factory.LazyFunction(uuid.uuid4)
    start_ms = 1000
    end_ms = 5000
    x = 0.5
    y = 0.5
    created_by = "test"

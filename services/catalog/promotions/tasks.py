from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from products.services import product_changes_publish
from promotions.flash_models import FlashDeal

# A deal ended within this long ago has its product's card computed again (a no-op when
# already done: cards are published when they differ).
RECENT = timedelta(minutes=10)


@shared_task(name="promotions.flash_deals_publish")
def flash_deals_publish() -> int:
    """Cards show a deal only while it runs by the clock (no write needed to start or end
    it); this drops ended deals from the stored cards, so the next deal on the product
    takes its place on them. Returns how many cards changed."""
    now = timezone.now()
    ended = FlashDeal.objects.filter(Q(ends_at__lte=now, ends_at__gt=now - RECENT))
    return product_changes_publish(product_ids=set(ended.values_list("product_id", flat=True)))

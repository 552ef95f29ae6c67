from __future__ import annotations

import uuid

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from merchants.models import Merchant


def merchant_list_for_user(*, user: User | AnonymousUser) -> QuerySet[Merchant]:
    """The merchants a signed-in admin user may act for: all for superusers, else their own."""
    if getattr(user, "is_superuser", False):
        return Merchant.objects.all()
    if not user.is_authenticated:
        return Merchant.objects.none()
    return Merchant.objects.filter(staff=user)


def merchant_ids_for_user(user: User | AnonymousUser) -> list[uuid.UUID] | None:
    """The ids of the merchants an admin user acts for; None means all (superusers).

    The catalog's `MERCHANT_IDS_FOR_USER`, behind `clipcart_shared.admin`'s merchant
    scoping (video and checkout answer the same question from their memberships)."""
    if getattr(user, "is_superuser", False):
        return None
    return list(merchant_list_for_user(user=user).values_list("pk", flat=True))

from __future__ import annotations

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

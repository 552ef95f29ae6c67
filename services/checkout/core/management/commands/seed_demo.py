"""Demo logins for the checkout admin: the platform superuser and the two demo merchants'
staff (catalog's demo merchant ids follow its documented uuid5 convention)."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand
from django.db import transaction

from clipcart_shared.merchant_access.models import MerchantMembership

DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "demo.clipcart.dev")
MERCHANTS = {"alpine": "Alpine Outfitters", "harbor": "Harbor Home"}
STAFF_GROUP = "Merchant staff"
STAFF_PERMISSIONS = [
    ("orders", "view_order"),
    ("orders", "view_orderline"),
    ("orders", "view_refund"),
]


class Command(BaseCommand):
    help = "Create the checkout service's demo logins (safe to run again)."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        created = 0
        if not users.objects.filter(username="platform").exists():
            users.objects.create_superuser("platform", password="platform-demo")
            created += 1
        group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
        group.permissions.add(
            *[
                Permission.objects.get(content_type__app_label=app, codename=codename)
                for app, codename in STAFF_PERMISSIONS
            ]
        )
        for slug, name in MERCHANTS.items():
            user, is_new = users.objects.get_or_create(username=slug, defaults={"is_staff": True})
            if is_new:
                user.set_password(f"{slug}-demo")
                user.save()
                user.groups.add(group)
                created += 1
            MerchantMembership.objects.get_or_create(
                user=user,
                merchant_id=uuid.uuid5(DEMO_NAMESPACE, f"merchant:{slug}"),
                defaults={"merchant_name": name},
            )
        self.stdout.write(
            f"Checkout demo logins: {created} created."
            if created
            else "Checkout demo logins exist."
        )

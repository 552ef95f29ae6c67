"""Demo logins for the checkout admin: the platform superuser and the two demo merchants'
staff."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from clipcart_shared.merchant_access.demo_logins import (
    demo_logins_seed,
    demo_seed_refuse_in_production,
)

STAFF_PERMISSIONS = [
    ("orders", "view_order"),
    ("orders", "view_orderline"),
    ("orders", "view_refund"),
    ("orders", "add_refund"),
]


class Command(BaseCommand):
    help = "Create the checkout service's demo logins (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        demo_seed_refuse_in_production()
        with transaction.atomic():
            self._seed()

    def _seed(self) -> None:
        created = demo_logins_seed(staff_permissions=STAFF_PERMISSIONS)
        self.stdout.write(
            f"Checkout demo logins: {created} created."
            if created
            else "Checkout demo logins exist."
        )

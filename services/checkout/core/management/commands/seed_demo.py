"""Checkout has no demo data of its own: its orders come from the API, and its admin's
staff are catalog's (`platform`, `alpine`, `harbor`; ADR 23), mirrored here at their
first sign-in. Kept so that every service answers `seed_demo` alike."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from clipcart_shared.merchant_access.demo_logins import demo_seed_refuse_in_production

# The "Merchant staff" group's permissions here, as (app label, codename): the console
# gives the group to catalog's merchant staff at their first sign-in (settings).
STAFF_PERMISSIONS: list[tuple[str, str]] = [
    (name.split(".", 1)[0], name.split(".", 1)[1]) for name in settings.CONSOLE_STAFF_PERMISSIONS
]


class Command(BaseCommand):
    help = "Checkout's demo data: none (its staff sign in at catalog)."

    def handle(self, *args: Any, **options: Any) -> None:
        demo_seed_refuse_in_production()
        self.stdout.write("Checkout demo data: none; staff sign in at catalog's admin.")

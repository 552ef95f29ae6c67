"""Demo admin logins for services that know merchants by id (video, checkout).

Catalog's demo merchants have fixed ids — uuid5 of `merchant:<slug>` in the demo
namespace (its seed_demo documents the convention) — so no catalog code is needed."""

from __future__ import annotations

import uuid

DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_DNS, "demo.clipcart.dev")
DEMO_MERCHANTS = {"alpine": "Alpine Outfitters", "harbor": "Harbor Home"}
STAFF_GROUP = "Merchant staff"


def demo_seed_refuse_in_production() -> None:
    """Raise CommandError under production settings (DEMO_DATA_ALLOWED is False there):
    the demo logins' passwords are in this repository, so `seed_demo` must never create
    them on a real deployment. Every service's `seed_demo` calls this first."""
    from django.conf import settings
    from django.core.management.base import CommandError

    if not getattr(settings, "DEMO_DATA_ALLOWED", False):
        raise CommandError(
            "seed_demo refuses to run under production settings "
            f"({settings.SETTINGS_MODULE}): the demo logins' passwords are published in "
            "this repository. Create real logins with `manage.py createsuperuser`."
        )


def demo_id(kind: str, slug: str) -> uuid.UUID:
    """The fixed id of a demo object (`kind` is merchant, product, creator, video…)."""
    return uuid.uuid5(DEMO_NAMESPACE, f"{kind}:{slug}")


def demo_logins_seed(*, staff_permissions: list[tuple[str, str]]) -> int:
    """`platform` / `platform-demo` (superuser) and `alpine` / `alpine-demo`, `harbor` /
    `harbor-demo` (staff of those merchants, in the "Merchant staff" group holding
    `staff_permissions` as (app label, codename)). Returns how many users it created."""
    # Imported here: the demo ids above are also read outside Django (`make demo`).
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from clipcart_shared.merchant_access.models import MerchantMembership

    users = get_user_model()
    created = 0
    if not users.objects.filter(username="platform").exists():
        users.objects.create_superuser("platform", password="platform-demo")
        created += 1
    group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
    group.permissions.add(
        *[
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in staff_permissions
        ]
    )
    for slug, name in DEMO_MERCHANTS.items():
        user, is_new = users.objects.get_or_create(username=slug, defaults={"is_staff": True})
        if is_new:
            user.set_password(f"{slug}-demo")
            user.save()
            user.groups.add(group)
            created += 1
        MerchantMembership.objects.get_or_create(
            user=user, merchant_id=demo_id("merchant", slug), defaults={"merchant_name": name}
        )
    return created

"""Demo ids for services that know merchants by id (video, checkout); their demo admin
logins are catalog's (ADR 23: staff exist once).

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

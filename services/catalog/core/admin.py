"""What every catalog admin shares: the merchant staff group and its permissions.

Merchant staff are `is_staff` users linked to their merchant(s) through `Merchant.staff`
(`merchants.selectors.merchant_ids_for_user`, the catalog's `MERCHANT_IDS_FOR_USER`).
The scoping to their merchants' rows is `clipcart_shared.admin.MerchantScopedAdminMixin`,
as in every service; `merchants.admin.MerchantChoicesAdminMixin` adds what only the owner
of merchants can: form choices limited to their merchants and those merchants' products.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q

MERCHANT_STAFF_GROUP = "Merchant staff"
MERCHANT_STAFF_PERMISSIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("products", "product"): ("view", "add", "change", "delete"),
    ("products", "variant"): ("view", "add", "change", "delete"),
    ("merchants", "merchant"): ("view", "change"),
    ("inventory", "stockmovement"): ("view",),
    ("promotions", "promotion"): ("view", "add", "change"),
    ("promotions", "flashdeal"): ("view", "add", "change"),
    ("promotions", "creatorcoderequest"): ("view",),
}


def merchant_staff_group_ensure() -> Group:
    """The "Merchant staff" group with the model permissions merchant staff need.

    Idempotent: adds what is missing, never removes a permission someone granted.
    The permissions are created by `migrate`, so run it first.
    """
    group, _ = Group.objects.get_or_create(name=MERCHANT_STAFF_GROUP)
    wanted = Q()
    expected = 0
    for (app_label, model), actions in MERCHANT_STAFF_PERMISSIONS.items():
        codenames = [f"{action}_{model}" for action in actions]
        expected += len(codenames)
        wanted |= Q(content_type__app_label=app_label, codename__in=codenames)
    permissions = list(Permission.objects.filter(wanted))
    if len(permissions) != expected:
        raise ImproperlyConfigured(
            "Some merchant staff permissions do not exist yet; run `manage.py migrate`."
        )
    group.permissions.add(*permissions)
    return group

"""Admin building blocks every service uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.admin.options import BaseModelAdmin

    _Base = BaseModelAdmin[Any]
else:
    _Base = object


class ReadOnlyAdminMixin(_Base):
    """Rows to look at, never to add, change or delete here: they are written by the
    service's own code (events, payments, attribution) or by the app."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

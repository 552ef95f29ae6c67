"""Per-user and per-IP request throttles (DRF's `SimpleRateThrottle`, counted in the shared
`pages` cache), and the client address both they and the admin's login lockout go by.

The counters live where the stored pages do (ADR 34): Redis with `CACHE_URL`, else the
files of the data directory, so a throttled request costs no SQL. In the embedded run a
count is read, checked and written under the cache's lock across processes
(`clipcart_shared.filecache.SharedFileCache.locked`), so every gunicorn worker and every
process of the machine counts into one history and none is lost to a race.

Every view that should be throttled says which scope it is in (`throttle_scope`); its
writes (POST, PUT, PATCH, DELETE) are counted unless it names other `throttle_methods`
(search counts its GETs). The rate of each scope and kind comes from the
`THROTTLE_RATES` setting (`"checkout.user": "10/min"`), read at every request, so a test
can override it. Over the rate → 429 problem+json `throttled` with `Retry-After`
(clipcart_shared.errors).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from contextlib import nullcontext
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from clipcart_shared.pages import PAGES_CACHE, cache_key_prefix

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: `REMOTE_ADDR`, or, behind `TRUSTED_PROXY_COUNT` proxies that
    each append to `X-Forwarded-For`, the address the outermost of them saw. Entries left
    of that are whatever the client sent and are never trusted; one that is not an address
    is not used. None for a request that came from no socket (a test's `force_login`)."""
    remote_address = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies <= 0 or not forwarded:
        return remote_address
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    if not hops:
        return remote_address
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_address


def throttled_methods(view: Any) -> frozenset[str]:
    """The methods of `view` that are counted; empty when it names no scope."""
    if not getattr(view, "throttle_scope", None):
        return frozenset()
    return frozenset(getattr(view, "throttle_methods", WRITE_METHODS))


THROTTLE_CACHE = PAGES_CACHE


class _ScopeThrottle(SimpleRateThrottle):
    kind = ""

    def __init__(self) -> None:
        # The scope is the view's, known only at the request (as DRF's ScopedRateThrottle).
        self.cache = caches[THROTTLE_CACHE]

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method not in throttled_methods(view):
            return True
        self.scope = f"{view.throttle_scope}.{self.kind}"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        # The file cache's lock across processes; Redis (one command each) has none here.
        locked = getattr(self.cache, "locked", None)
        with locked(key) if locked else nullcontext():
            return super().allow_request(request, view)

    def get_rate(self) -> str | None:
        try:
            rate: str | None = settings.THROTTLE_RATES[self.scope]
        except KeyError as error:
            raise ImproperlyConfigured(f"THROTTLE_RATES has no rate for {self.scope!r}") from error
        return rate

    def identity(self, request: Request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        identity = self.identity(request)
        if identity is None:
            return None
        # Hashed: short keys of one length, and no user id or address stored in the cache.
        digest = hashlib.sha256(identity.encode()).hexdigest()[:32]
        # The database's name, as the stored pages: two services (or the demo and the
        # bench) sharing one cache never share a count.
        return f"{cache_key_prefix()}throttle:{self.scope}:{digest}"

    def wait(self) -> float:
        """Seconds until the oldest request in the window drops out of it."""
        if not self.history:
            return float(self.duration)
        return float(max(1, math.ceil(self.duration - (self.now - self.history[-1]))))


class UserRateThrottle(_ScopeThrottle):
    """Counts a signed-in mobile user's requests (`<scope>.user`); anonymous ones are left
    to the IP throttle."""

    kind = "user"

    def identity(self, request: Request) -> str | None:
        user = request.user
        if not getattr(user, "is_authenticated", False):
            return None
        return f"user:{user.id}"


class IpRateThrottle(_ScopeThrottle):
    """Counts every request from one client address (`<scope>.ip`), signed in or not: one
    script with many accounts is still one address. Set higher than the user rate, as many
    phones share an address behind a carrier's NAT."""

    kind = "ip"

    def identity(self, request: Request) -> str | None:
        return f"ip:{client_ip(request) or 'unknown'}"

"""Shared pages as stored bytes: rendered once, served from the `pages` cache (ADR 34).

A page many callers share (an anonymous feed, hashtag, product-list or search page) is
stored with its ETag under the service's current *content version*. Every write that can
change what such a page shows bumps the version (`pages_version_bump`, on commit), which
makes every stored page unreachable at once; a stored page also expires after
`FEED_MAX_STALENESS_SECONDS`, the bound for what no write bumps (likes, followers, units
sold). A hit and a 304 cost no SQL: two cache reads, the version and the page.

The cache is `CACHES["pages"]`: Redis when `CACHE_URL` names one (every process of every
replica shares it), else files in the data directory (every process of the machine shares
them). Keys carry the database's name, so two databases (the demo, the bench) never share
a page, and the caller's host, scheme and whole query, so the `next` links stay right.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import caches
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags

PAGES_CACHE = "pages"


def cache_key_prefix() -> str:
    """What every key of this database starts with in the shared caches (the throttles' too)."""
    return f"{settings.DATABASES['default']['NAME']}:"


def _version_key() -> str:
    return cache_key_prefix() + "version"


def _version_of(key: str, timeout: int | None) -> str:
    cache = caches[PAGES_CACHE]
    version = cache.get(key)
    if version is None:
        version = uuid.uuid4().hex
        # Another process may have set one meanwhile: theirs wins, ours is dropped.
        if not cache.add(key, version, timeout=timeout):
            version = cache.get(key) or version
    return str(version)


def pages_version() -> str:
    """The current content version; a new one when the cache holds none (first use, an
    emptied or restarted cache), so a lost version can never revive old pages."""
    return _version_of(_version_key(), None)


def _bump() -> None:
    caches[PAGES_CACHE].set(_version_key(), uuid.uuid4().hex, timeout=None)


def pages_version_bump() -> None:
    """Every stored page is stale: the next request renders again. Call it from every
    write that changes what a shared page shows. Inside a transaction it bumps now and
    again on commit: a page another request renders in between (from what was committed
    before) is stored under the first new version, which the second makes unreachable."""
    _bump()
    if connection.in_atomic_block:
        transaction.on_commit(_bump)


def _page_key(request: HttpRequest, version: str) -> str:
    where = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    digest = hashlib.blake2b(where.encode(), digest_size=16).hexdigest()
    return f"{cache_key_prefix()}page:{version}:{digest}"


def page_etag(content: bytes) -> str:
    """The ETag of a rendered body: a hash of it, so an unchanged page keeps its tag
    across versions and the client's copy stays valid."""
    return f'"{hashlib.blake2b(content, digest_size=16).hexdigest()}"'


def page_response(request: HttpRequest, content: bytes, etag: str) -> HttpResponse:
    """The JSON body with its ETag, or 304 (no body) when `If-None-Match` names it."""
    if_none_match = request.headers.get("If-None-Match", "")
    if etag in parse_etags(if_none_match) or if_none_match == "*":
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(content, content_type="application/json")
    response["ETag"] = etag
    # The body depends on who asks (drafts, personal feeds): caches must key on the token.
    response["Vary"] = "Authorization"
    response["Cache-Control"] = "private, no-cache"
    return response


# This process's copies of stored pages, by their full key (the version in it): a copy is
# valid exactly as long as the shared entry (same key, same expiry), and saves reading and
# unpickling the body again. A bump changes the key, so a copy never outlives its version.
_LOCAL_COPIES = 256
_local: OrderedDict[str, tuple[float, str, bytes]] = OrderedDict()


def _local_get(key: str) -> tuple[float, str, bytes] | None:
    stored = _local.get(key)
    if stored is None or stored[0] <= time.time():
        return None
    _local.move_to_end(key)
    return stored


def _local_put(key: str, stored: tuple[float, str, bytes]) -> None:
    _local[key] = stored
    _local.move_to_end(key)
    while len(_local) > _LOCAL_COPIES:
        _local.popitem(last=False)


def shared_page(request: HttpRequest, render: Callable[[], bytes]) -> HttpResponse:
    """The page this request names, from the cache, or rendered by `render` and stored.

    Only for answers that are the same for every caller of the URL: a caller's own page
    (a signed-in user's feed) must not come through here."""
    return _stored_page(request, _page_key(request, pages_version()), render)


def personal_page(
    request: HttpRequest, *, user_id: str, render: Callable[[], bytes]
) -> HttpResponse:
    """`shared_page` for a page of one user's own (a "for you" first page): stored under
    the user, the content version and the user's signals version, so another user never
    gets it, and anything the user does or any bump makes it stale at once."""
    user = hashlib.blake2b(user_id.encode(), digest_size=16).hexdigest()
    version = f"{pages_version()}:{user_signals_version(user_id)}:{user}"
    return _stored_page(request, _page_key(request, version), render)


def _stored_page(request: HttpRequest, key: str, render: Callable[[], bytes]) -> HttpResponse:
    stored = _local_get(key)
    if stored is None:
        cache = caches[PAGES_CACHE]
        stored = cache.get(key)
        if stored is None or stored[0] <= time.time():
            content = render()
            timeout = settings.FEED_MAX_STALENESS_SECONDS
            stored = (time.time() + timeout, page_etag(content), content)
            cache.set(key, stored, timeout=timeout)
        _local_put(key, stored)
    _, etag, content = stored
    return page_response(request, content, etag)


# --- a user's signals ------------------------------------------------------------------
# What a user did that their own rankings read (events, likes, follows, "not interested",
# purchases) changes their signals version; a ranking kept with the version it was ranked
# at is still theirs as long as the version is unchanged (discovery's precomputed "for
# you"). A lost version (expired, evicted) is a new one: the ranking is then ranked again.

SIGNALS_TIMEOUT = 24 * 3600


def _signals_key(user_id: str) -> str:
    digest = hashlib.blake2b(user_id.encode(), digest_size=16).hexdigest()
    return f"{cache_key_prefix()}signals:{digest}"


def user_signals_version(user_id: str) -> str:
    """The user's current signals version (one is made if the cache has none)."""
    return _version_of(_signals_key(user_id), SIGNALS_TIMEOUT)


def _signals_bump(user_ids: list[str]) -> None:
    caches[PAGES_CACHE].set_many(
        {_signals_key(user_id): uuid.uuid4().hex for user_id in user_ids},
        timeout=SIGNALS_TIMEOUT,
    )


def user_signals_bump(*, user_ids: Iterable[str]) -> None:
    """These users did something their rankings read: what was ranked for them before is
    stale. Now and, inside a transaction, again on commit (as `pages_version_bump`): so
    outside a transaction (an events batch, one statement) it is one cache write."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    _signals_bump(ids)
    if connection.in_atomic_block:
        transaction.on_commit(lambda: _signals_bump(ids))

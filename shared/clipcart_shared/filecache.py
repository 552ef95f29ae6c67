"""The embedded run's shared cache (`CACHES["pages"]` without `CACHE_URL`, ADR 34): Django's
file-based cache, which every process of the machine shares, with two changes.

- **Culling now and then, not on every write.** Django's file cache lists its whole
  directory on every `set` to see whether it holds too many entries; with thousands of
  stored pages that listing was most of a write (about 2.5 ms of each events batch on the
  loaded 2-core machine, for the user's signals version). Here one write in `CULL_EVERY`
  (per process) checks, so the directory may exceed `MAX_ENTRIES` by a few writes'
  worth before it is culled.
- **A lock across processes** (`locked`), for a read-modify-write such as a throttle's
  count: `fcntl.flock` on one of `LOCK_STRIPES` small files chosen by the key's hash, so
  two processes counting the same key take turns while the number of lock files stays
  fixed whatever the number of keys.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache.backends.filebased import FileBasedCache

CULL_EVERY = 50
LOCK_STRIPES = 64


class SharedFileCache(FileBasedCache):
    def __init__(self, directory: str, params: dict[str, Any]) -> None:
        super().__init__(directory, params)
        self._writes = 0

    def _cull(self) -> None:
        self._writes += 1
        if self._writes % CULL_EVERY == 1:
            super()._cull()

    @contextmanager
    def locked(self, key: str) -> Iterator[None]:
        """Hold the lock of `key` (shared by every process using this directory)."""
        stripe = int(hashlib.blake2b(key.encode(), digest_size=4).hexdigest(), 16)
        directory = os.path.join(self._dir, "locks")
        os.makedirs(directory, exist_ok=True)
        path = os.path.join(directory, f"{stripe % LOCK_STRIPES}.lock")
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock

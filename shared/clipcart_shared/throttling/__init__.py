"""Throttles every service uses the same way: a view names its `throttle_scope` (and, when
it is not only its writes, its `throttle_methods`); the request is counted per mobile user
and per client IP in the cache all processes share (`CACHES`: Redis when `CACHE_URL` is
set, else the database's cache table this app's migration creates)."""

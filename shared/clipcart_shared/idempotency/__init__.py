"""`Idempotency-Key` for POSTs (API.md): the same key and body replay the first response."""

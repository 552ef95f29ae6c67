"""The transactional outbox (producer side) and the idempotent consumer, as one Django app.

A producer writes an event in the same transaction as the state change it reports
(`event_publish`); the relay sends unpublished events to each subscriber's queue at
least once; a consumer applies each event id once (`event_consume`), guarded by a
unique row in the same transaction as the handler's writes.
"""

"""What creators tell the apps above them (`discovery.receivers` listens)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `creator_ids` inside the transaction that created or edited those creators:
# their handles and names may have changed. A receiver's error fails the change.
creators_changed = Signal()

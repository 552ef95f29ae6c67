"""What the product-card read model tells the apps above it (`discovery.receivers`
listens)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `product_ids` once those cards were stored anew (an older card never is):
# titles may have changed. A receiver's error fails the change.
product_cards_changed = Signal()

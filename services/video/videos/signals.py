"""What videos tell the apps above them (`discovery.receivers` listens)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with `video_ids` inside the transaction that created or edited those videos or
# their product tags: captions and tagged products may have changed. A receiver's error
# fails the change.
videos_changed = Signal()

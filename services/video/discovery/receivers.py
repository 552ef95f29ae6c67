"""What discovery does when the apps below it change: the search index follows.

The apps below discovery cannot call it (they are lower floors, ADR 18), so each sends
its own signal (`creators.signals`, `videos.signals`, `productcards.signals`) and
discovery connects the receivers of this one table when it starts
(`DiscoveryConfig.ready`). The signals are sent inside the change's transaction and run
their receivers there, so a document is written with the change or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.dispatch import Signal

from creators.signals import creators_changed
from discovery.services import (
    creator_search_refresh,
    product_search_refresh,
    video_search_refresh,
)
from productcards.signals import product_cards_changed
from videos.signals import videos_changed


def _creators_changed(sender: Any, *, creator_ids: Iterable[uuid.UUID], **kwargs: Any) -> None:
    creator_search_refresh(creator_ids=creator_ids)


def _videos_changed(sender: Any, *, video_ids: Iterable[uuid.UUID], **kwargs: Any) -> None:
    video_search_refresh(video_ids=video_ids)


def _product_cards_changed(sender: Any, *, product_ids: Iterable[uuid.UUID], **kwargs: Any) -> None:
    product_search_refresh(product_ids=product_ids)


RECEIVERS: list[tuple[Signal, Callable[..., None]]] = [
    (creators_changed, _creators_changed),
    (videos_changed, _videos_changed),
    (product_cards_changed, _product_cards_changed),
]


def receivers_connect() -> None:
    """Connect the table's receivers (once: each has a dispatch uid)."""
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, dispatch_uid=f"discovery{receiver.__name__}")

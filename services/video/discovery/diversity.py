"""Spreading a "for you" ranking (ADR 21): no creator fills a run of the feed, and the
first page gives fresh videos their share. Sequential rules, which SQL window functions
express badly, applied in Python after the ranking statement."""

from __future__ import annotations

import math
import uuid
from collections import deque
from typing import NamedTuple

# Diversity: at most this many videos of one creator in any run of this many.
CREATOR_RUN = 10
CREATOR_PER_RUN = 2


class Ranked(NamedTuple):
    id: uuid.UUID
    creator_id: uuid.UUID
    is_fresh: bool  # published lately, little engagement yet, and new to the user
    is_sunk: bool = False  # finished or shunned: below everything else


def spread(ranked: list[Ranked], *, first_page: int, fresh_share: float) -> list[uuid.UUID]:
    """The ranking reordered so that no run of CREATOR_RUN videos holds more than
    CREATOR_PER_RUN of one creator (the best allowed video comes next; when none is
    allowed, the candidates have run out and the best one comes), and so that the first
    `first_page` videos hold `fresh_share` of them (rounded up) fresh ones, if there are
    any: the best fresh videos take the first page's last places. Videos sunk to the end
    (finished, shunned) stay there: spreading never pulls one forward."""
    head = [item for item in ranked if not item.is_sunk]
    tail = [item for item in ranked if item.is_sunk]
    fresh_due = min(math.ceil(first_page * fresh_share - 1e-9), sum(i.is_fresh for i in head))
    recent: deque[uuid.UUID] = deque(maxlen=CREATOR_RUN - 1)
    order: list[uuid.UUID] = []
    for remaining in (head, tail):
        while remaining:
            position = len(order)
            needs_fresh = position < first_page and fresh_due >= max(1, first_page - position)
            first_eligible = chosen = None
            for index, item in enumerate(remaining):
                if needs_fresh and not item.is_fresh:
                    continue
                if first_eligible is None:
                    first_eligible = index
                if recent.count(item.creator_id) < CREATOR_PER_RUN:
                    chosen = index
                    break
            item = remaining.pop(chosen if chosen is not None else first_eligible or 0)
            if position < first_page and item.is_fresh:
                fresh_due -= 1
            order.append(item.id)
            recent.append(item.creator_id)
    return order

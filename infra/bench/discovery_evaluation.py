"""The discovery bench's offline evaluation: hit at 10 of "for you", chronological and
trending for each held-out tap (bench_discovery.py's docstring says how)."""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from discovery_log import Holdout
from discovery_world import RANKING_THREADS, TOP, GenVideo, say


def evaluate(
    videos: list[GenVideo],
    holdouts: list[Holdout],
    dismissed: dict[str, list[tuple[int, datetime]]],
) -> dict[str, Any]:
    """Hit at 10 of each ranking for the users' last taps and, apart, for the first taps
    after a purchase; and the share of "for you"'s top 10 by creators the user had said
    "not interested" to by then."""
    from django.db import connection

    from discovery.models import FeedSnapshot
    from discovery.selectors import for_you_video_ids
    from discovery.services import trending_recompute

    published = {video.id: video.published_at for video in videos}
    creator_of = {video.id: video.creator for video in videos}
    newest_first = sorted(videos, key=lambda video: (video.published_at, video.id), reverse=True)
    names = ("for_you", "chronological", "trending")
    hits = {kind: dict.fromkeys(names, 0) for kind in ("last", "post_purchase")}
    taste_hits = dict.fromkeys(names, 0)
    recommended = recommended_dismissed = 0
    by_hour: dict[datetime, list[Holdout]] = defaultdict(list)
    for holdout in holdouts:
        by_hour[holdout.as_of.replace(minute=0, second=0, microsecond=0)].append(holdout)
    trending_seconds = for_you_seconds = 0.0
    began = time.monotonic()

    def rank(holdout: Holdout) -> tuple[list[uuid.UUID], float]:
        clock = time.perf_counter()
        ranking = for_you_video_ids(
            user_id=holdout.user_id, as_of=holdout.as_of, size=TOP, first_page=TOP
        )
        return ranking, time.perf_counter() - clock

    # The users of one hour are ranked side by side (a connection per thread): the time
    # is PostgreSQL's, and the bench machine has two cores.
    with ThreadPoolExecutor(RANKING_THREADS) as pool:
        for hour in sorted(by_hour):
            clock = time.perf_counter()
            snapshot: FeedSnapshot = trending_recompute(now=hour)
            trending_seconds += time.perf_counter() - clock
            ranked = list(pool.map(rank, by_hour[hour]))
            for holdout, (for_you, spent) in zip(by_hour[hour], ranked, strict=True):
                for_you_seconds += spent
                chronological = [v.id for v in newest_first if v.published_at <= holdout.as_of][
                    :TOP
                ]
                trending = [v for v in snapshot.video_ids if published[v] <= holdout.as_of][:TOP]
                for name, ranking in (
                    ("for_you", for_you),
                    ("chronological", chronological),
                    ("trending", trending),
                ):
                    if holdout.video_id in ranking:
                        hits[holdout.kind][name] += 1
                        if holdout.kind == "last":
                            taste_hits[name] += holdout.matches_taste
                if holdout.kind == "last":
                    shunned = {
                        creator
                        for creator, at in dismissed.get(holdout.user_id, [])
                        if at <= holdout.as_of
                    }
                    recommended += len(for_you)
                    recommended_dismissed += sum(creator_of[v] in shunned for v in for_you)
        # Each thread's connection, before the threads go.
        list(pool.map(lambda _: connection.close(), range(4 * RANKING_THREADS)))
    seconds = time.monotonic() - began
    say(f"evaluated {len(holdouts)} held-out taps in {seconds:.1f} s")
    last = [holdout for holdout in holdouts if holdout.kind == "last"]
    after_purchase = len(holdouts) - len(last)
    rates = {
        kind: {
            name: count / max(1, len(last) if kind == "last" else after_purchase)
            for name, count in by_name.items()
        }
        for kind, by_name in hits.items()
    }
    report = [
        "  with dislikes and purchases: "
        f"{sum(1 for user in dismissed.values() if user)} users said not interested to a "
        f"creator; top 10s of for you holding a video by such a creator (as of then): "
        f"{recommended_dismissed} of {recommended} videos "
        f"({recommended_dismissed / max(1, recommended):.3f})",
        f"  held-out first tap after a purchase ({after_purchase} users): hit@10 for you "
        f"{rates['post_purchase']['for_you']:.3f} ({hits['post_purchase']['for_you']}) | "
        f"chronological {rates['post_purchase']['chronological']:.3f} | trending "
        f"{rates['post_purchase']['trending']:.3f}",
    ]
    return {
        "users": len(last),
        "hits": hits["last"],
        "matching_taste": sum(holdout.matches_taste for holdout in last),
        "hits_matching_taste": taste_hits,
        "post_purchase_users": after_purchase,
        "post_purchase_hits": hits["post_purchase"],
        "dismissed_share": recommended_dismissed / max(1, recommended),
        "report": report,
        "trending_recomputes": len(by_hour),
        "trending_seconds": trending_seconds,
        "for_you_seconds": for_you_seconds,
        "ranking_threads": RANKING_THREADS,
        "seconds": seconds,
    }

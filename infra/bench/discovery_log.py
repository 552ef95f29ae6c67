"""The discovery bench's engagement log: each user's sessions of impressions, views,
taps, likes, shares, skips, dismissals, follows and purchases, and the held-out taps
(bench_discovery.py's docstring says how). Seeded, so every run writes the same log."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from discovery_world import LOG_DAYS, SLOT_MIX, GenUser, GenVideo, follows, taste


@dataclass
class Holdout:
    user_id: str
    video_id: uuid.UUID
    as_of: datetime
    matches_taste: bool
    kind: str = "last"  # the user's last tap, or "post_purchase": the first after a purchase


@dataclass
class Session:
    """One session's rows, written unless it is held out."""

    start: datetime
    events: list[tuple[Any, ...]]
    tapped: uuid.UUID | None
    dismissed: list[tuple[uuid.UUID, int, datetime]] = field(default_factory=list)
    sales: list[tuple[uuid.UUID, uuid.UUID, datetime]] = field(default_factory=list)
    has_purchase: bool = False


def engagement_log(
    rng: random.Random,
    now: datetime,
    videos: list[GenVideo],
    users: list[GenUser],
    partners: dict[uuid.UUID, uuid.UUID],
) -> tuple[list[tuple[Any, ...]], list[Holdout], dict[str, int], dict[str, Any]]:
    """Every user's sessions; returns the rows to write (the held-out sessions left out),
    the held-out taps, counts, and what else to write: follows, "not interested", sales
    (with the held-out sessions' left out too), and each user's dismissed creators."""
    rows: list[tuple[Any, ...]] = []
    holdouts: list[Holdout] = []
    counts = dict.fromkeys(
        ("sessions", "taps", "likes", "shares", "skips", "dismissals", "follows", "purchases"), 0
    )
    extras: dict[str, Any] = {"follows": [], "dismissed": [], "sales": []}
    extras["dismissed_creators"] = {}
    by_id = {video.id: video for video in videos}
    for user in users:
        starts = sorted(
            now - timedelta(seconds=rng.uniform(3600, LOG_DAYS * 86400))
            for _ in range(user.sessions)
        )
        # Most follow some of their favourite creators, at some point of their history.
        for creator in sorted(user.creators):
            if rng.random() < 0.5:
                extras["follows"].append((user.id, creator, rng.choice(starts)))
                counts["follows"] += 1
        shown: set[uuid.UUID] = set()
        sessions: list[Session] = []
        for start in starts:
            # Only what was out a minute before the session starts.
            out = [v for v in videos if v.published_at <= start - timedelta(minutes=1)]
            unseen = [v for v in out if v.id not in shown]
            picked = session_videos(rng, user, start, unseen, rng.randint(8, 15))
            shown.update(video.id for video in picked)
            session = session_events(rng, user, start, picked, partners)
            sessions.append(session)
            counts["sessions"] += 1
            for event in session.events:
                kind = event[2]
                counts["taps"] += kind == "tag_tap"
                counts["likes"] += kind == "like"
                counts["shares"] += kind == "share"
                counts["skips"] += kind == "impression" and (event[7] or 0) < 1000
            counts["dismissals"] += len(session.dismissed)
            counts["purchases"] += len(session.sales)
        last_tap = max((i for i, s in enumerate(sessions) if s.tapped is not None), default=None)
        bought_in = next((i for i, s in enumerate(sessions) if s.has_purchase), None)
        after_purchase = next(
            (
                i
                for i, s in enumerate(sessions)
                if bought_in is not None and i > bought_in and s.tapped is not None
            ),
            None,
        )
        held = {i for i in (last_tap, after_purchase) if i is not None}
        for i, session in enumerate(sessions):
            if i in held and session.tapped is not None:
                video = by_id[session.tapped]
                for kind, index in (("last", last_tap), ("post_purchase", after_purchase)):
                    if index == i:
                        holdouts.append(
                            Holdout(
                                user.id,
                                session.tapped,
                                session.start - timedelta(seconds=1),
                                follows(user, video),
                                kind,
                            )
                        )
                continue
            rows.extend(session.events)
            extras["dismissed"].extend((user.id, *item) for item in session.dismissed)
            extras["sales"].extend((user.id, *item) for item in session.sales)
            extras["dismissed_creators"].setdefault(user.id, []).extend(
                (creator, at) for _, creator, at in session.dismissed
            )
    return rows, holdouts, counts, extras


def session_videos(
    rng: random.Random, user: GenUser, start: datetime, unseen: list[GenVideo], size: int
) -> list[GenVideo]:
    """`size` distinct videos of `unseen`, each slot filled by the crowd, freshness or
    the user's follows (SLOT_MIX)."""
    pools: dict[str, tuple[list[GenVideo], list[float]]] = {
        "crowd": (unseen, [v.popularity * age_weight(start, v, days=4) for v in unseen]),
    }
    fresh = sorted(unseen, key=lambda v: v.published_at, reverse=True)[:40]
    pools["fresh"] = (fresh, [1.0] * len(fresh))
    followed = [v for v in unseen if follows(user, v)]
    # The newest of what they follow is likelier to show.
    pools["follows"] = (followed, [age_weight(start, v, days=3) for v in followed])
    kinds = [kind for kind, _ in SLOT_MIX]
    shares = [share for _, share in SLOT_MIX]
    picked: dict[uuid.UUID, GenVideo] = {}
    for _ in range(4 * size):
        if len(picked) == min(size, len(unseen)):
            break
        candidates, weights = pools[rng.choices(kinds, weights=shares)[0]]
        if candidates:
            video = rng.choices(candidates, weights=weights)[0]
            picked.setdefault(video.id, video)
    return list(picked.values())


def age_weight(start: datetime, video: GenVideo, *, days: float) -> float:
    """Halved every `days` days of age at the session's start."""
    return 0.5 ** ((start - video.published_at).total_seconds() / (days * 86400))


def session_events(
    rng: random.Random,
    user: GenUser,
    start: datetime,
    picked: list[GenVideo],
    partners: dict[uuid.UUID, uuid.UUID],
) -> Session:
    """The session's rows (EVENT_COLUMNS, received_at filled at write time), the last video
    tapped in it, if any, and what the user dismissed and bought in it. A video of a
    creator the user dislikes is skipped (under a second) and often dismissed; one they
    watch may be liked or shared the more it matches; an add-to-cart is often bought, and
    what goes with the product becomes wanted."""
    session = Session(start, [], None)
    events = session.events
    clock = start
    top_popularity = 1.0
    for video in picked:
        if video.creator in user.disliked:
            events.append(row(user.id, "impression", video, clock, rng.randint(200, 900)))
            if rng.random() < 0.5:
                session.dismissed.append((video.id, video.creator, clock + timedelta(seconds=1)))
            clock += timedelta(seconds=2)
            continue
        match = taste(user, video)
        if rng.random() < min(0.95, 0.45 + 0.25 * match):
            events.append(row(user.id, "impression", video, clock, rng.randint(1000, 3000)))
            share = min(1.0, rng.betavariate(1.5 + 2 * match, 2.0))
            watch_ms = max(3000, int(share * video.duration_ms))
            events.append(row(user.id, "view", video, clock + timedelta(seconds=1), watch_ms))
            clock += timedelta(milliseconds=watch_ms)
            if rng.random() < min(0.6, 0.2 * match):
                events.append(row(user.id, "like", video, clock))
            if rng.random() < min(0.2, 0.04 * match):
                events.append(row(user.id, "share", video, clock + timedelta(seconds=1)))
            tap_probability = min(
                0.9, 0.02 + 0.25 * match + 0.15 * (video.popularity / top_popularity) ** 0.5
            )
            if rng.random() < tap_probability:
                tag_id, product_id = rng.choice(video.tags)
                events.append(row(user.id, "tag_tap", video, clock, tag=(tag_id, product_id)))
                session.tapped = video.id
                if rng.random() < 0.5:
                    clock += timedelta(seconds=5)
                    events.append(
                        row(user.id, "product_view", video, clock, tag=(tag_id, product_id))
                    )
                    if rng.random() < 0.2:
                        clock += timedelta(seconds=20)
                        events.append(
                            row(user.id, "add_to_cart", video, clock, tag=(None, product_id))
                        )
                        if rng.random() < 0.6:
                            buy(rng, user, session, video, product_id, clock, partners)
        else:  # scrolled past: under a second, or a little longer
            events.append(row(user.id, "impression", video, clock, rng.randint(300, 2500)))
        clock += timedelta(seconds=2)
    return session


def buy(
    rng: random.Random,
    user: GenUser,
    session: Session,
    video: GenVideo,
    product_id: uuid.UUID,
    clock: datetime,
    partners: dict[uuid.UUID, uuid.UUID],
) -> None:
    """A purchase of the product (from the video), and sometimes of what goes with it."""
    paid_at = clock + timedelta(seconds=60)
    session.sales.append((product_id, video.id, paid_at))
    session.has_purchase = True
    user.bought.add(product_id)
    partner = partners.get(product_id)
    if partner is None:
        return
    if rng.random() < 0.3:
        session.sales.append((partner, video.id, paid_at))
        user.bought.add(partner)
    else:
        user.wanted.add(partner)
    user.wanted -= user.bought


def row(
    user_id: str,
    kind: str,
    video: GenVideo,
    occurred_at: datetime,
    watch_ms: int | None = None,
    tag: tuple[uuid.UUID | None, uuid.UUID] | None = None,
) -> tuple[Any, ...]:
    tag_id, product_id = tag if tag else (None, None)
    return (uuid.uuid4(), user_id, kind, video.id, tag_id, product_id, occurred_at, watch_ms)

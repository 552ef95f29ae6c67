"""The discovery bench's world and engagement log, generated with a seeded RNG (no
database here): creators, hashtags, merchants and products, videos, users with hidden
tastes, their sessions and events, and each user's held-out last tag tap. Written and
evaluated by bench_discovery.py.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

SEED = 20_260_107
TOPICS = {
    "beauty": ["skincare", "makeup", "glowup", "grwm", "lipstick"],
    "style": ["ootd", "streetwear", "thrifted", "sneakers", "denim"],
    "home": ["homedecor", "cleantok", "organize", "cozyhome", "plants"],
    "fitness": ["gymtok", "yoga", "running", "homeworkout", "protein"],
    "kitchen": ["recipe", "airfryer", "mealprep", "baking", "coffee"],
    "tech": ["gadgets", "desksetup", "gaming", "phonecase", "headphones"],
    "travel": ["packing", "carryon", "roadtrip", "hiking", "camping"],
    "kids": ["momlife", "toddler", "toys", "nursery", "backtoschool"],
}
FIRST_NAMES = [
    "clara", "mia", "noah", "lena", "omar", "yuki", "sofia", "liam", "ines", "theo",
    "amara", "jonas", "priya", "felix", "zoe", "mateo", "hana", "oskar", "leila", "ravi",
    "emma", "kofi", "nora", "luca", "ada", "samir", "elif", "max", "rosa", "ben",
]  # fmt: skip
PRODUCT_NOUNS = {
    "beauty": ["serum", "cleanser", "palette", "mascara", "moisturizer"],
    "style": ["jacket", "jeans", "hoodie", "tote", "trainers"],
    "home": ["lamp", "vase", "organizer", "blanket", "planter"],
    "fitness": ["mat", "bottle", "leggings", "bands", "shaker"],
    "kitchen": ["skillet", "grinder", "blender", "knife", "kettle"],
    "tech": ["keyboard", "charger", "stand", "earbuds", "mouse"],
    "travel": ["backpack", "cube", "pillow", "tent", "flask"],
    "kids": ["stroller", "puzzle", "blocks", "nightlight", "lunchbox"],
}
OPENERS = [
    "Five things I take everywhere",
    "Honest review",
    "What I bought this week",
    "Worth the hype?",
    "My daily routine",
    "Three ways to use",
    "Under 30 euros",
    "Unboxing",
]
CREATORS = 30
VIDEOS = 600
USERS = 300
MERCHANTS = 12
PRODUCTS_PER_MERCHANT = 20
VIDEO_DAYS = 20
LOG_DAYS = 14
ZIPF_EXPONENT = 1.0
# A session's slots: shown by the crowd's popularity, by freshness, or by the user's
# follows (a favourite creator or hashtag), in these proportions.
SLOT_MIX = (("crowd", 0.45), ("fresh", 0.30), ("follows", 0.25))
EVENT_COLUMNS = (
    "event_id",
    "user_id",
    "type",
    "video_id",
    "tag_id",
    "product_id",
    "occurred_at",
    "watch_ms",
    "received_at",
)


def new_id(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID from the seeded RNG: ids break ties in the rankings, so they too
    must be the same on every run."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass
class GenVideo:
    id: uuid.UUID
    creator: int
    topic: str
    hashtags: list[str]
    published_at: datetime
    duration_ms: int
    popularity: float
    tags: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # (tag, product)


@dataclass
class GenProduct:
    id: uuid.UUID
    merchant: int
    merchant_id: uuid.UUID
    topic: str
    title: str


@dataclass
class GenUser:
    id: str
    topics: list[str]
    creators: set[int]
    hashtags: set[str]
    sessions: int


@dataclass
class Holdout:
    user_id: str
    video_id: uuid.UUID
    as_of: datetime
    matches_taste: bool


# --------------------------------------------------------------------------- the world


@dataclass
class GenCreator:
    handle: str
    topic: str
    id: uuid.UUID


def catalogue(
    rng: random.Random, now: datetime
) -> tuple[list[GenCreator], list[GenProduct], list[GenVideo]]:
    topics = list(TOPICS)
    creators = [
        GenCreator(f"{FIRST_NAMES[n]}_{topics[n % 8]}", topics[n % 8], new_id(rng))
        for n in range(CREATORS)
    ]
    merchant_ids = [new_id(rng) for _ in range(MERCHANTS)]
    products = [
        GenProduct(
            id=new_id(rng),
            merchant=m,
            merchant_id=merchant_ids[m],
            topic=topics[m % len(topics)],
            title=f"{rng.choice(['Classic', 'Everyday', 'Mini', 'Pro', 'Soft'])} "
            f"{PRODUCT_NOUNS[topics[m % len(topics)]][p % 5]} {p}",
        )
        for m in range(MERCHANTS)
        for p in range(PRODUCTS_PER_MERCHANT)
    ]
    by_topic: dict[str, list[GenProduct]] = defaultdict(list)
    for product in products:
        by_topic[product.topic].append(product)
    # Creators post at different rates; the crowd likes some videos far more than others.
    rates = [rng.uniform(0.5, 2.0) for _ in creators]
    ranks = list(range(VIDEOS))
    rng.shuffle(ranks)
    videos = []
    for n in range(VIDEOS):
        creator = rng.choices(range(CREATORS), weights=rates)[0]
        topic = creators[creator].topic
        hashtags = [rng.choice(TOPICS[topic])]
        for _ in range(rng.choice((0, 1, 1, 2))):
            pool = TOPICS[topic] if rng.random() < 0.6 else TOPICS[rng.choice(topics)]
            if (tag := rng.choice(pool)) not in hashtags:
                hashtags.append(tag)
        tagged = rng.sample(by_topic[topic], rng.randint(1, 2))
        videos.append(
            GenVideo(
                id=new_id(rng),
                creator=creator,
                topic=topic,
                hashtags=hashtags,
                published_at=now - timedelta(seconds=rng.uniform(600, VIDEO_DAYS * 86400)),
                duration_ms=rng.randint(15, 60) * 1000,
                popularity=1 / (ranks[n] + 1) ** ZIPF_EXPONENT,
                tags=[(new_id(rng), product.id) for product in tagged],
            )
        )
    videos.sort(key=lambda video: video.published_at)
    return creators, products, videos


def people(rng: random.Random, creators: list[GenCreator]) -> list[GenUser]:
    topics = list(TOPICS)
    users = []
    for n in range(USERS):
        liked = rng.sample(topics, rng.choice((1, 2, 2)))
        own = [c for c, creator in enumerate(creators) if creator.topic in liked]
        favourites = set(rng.sample(own, min(len(own), rng.randint(2, 3))))
        if rng.random() < 0.5:  # and one from elsewhere
            favourites.add(rng.randrange(CREATORS))
        tags = [tag for topic in liked for tag in TOPICS[topic]]
        hashtags = set(rng.sample(tags, min(len(tags), rng.randint(2, 4))))
        hashtags.add(rng.choice(TOPICS[rng.choice(topics)]))
        # A few heavy users, many light ones.
        sessions = max(4, min(30, round(rng.lognormvariate(2.3, 0.5))))
        users.append(
            GenUser(f"bench-discovery-user-{n:03d}", liked, favourites, hashtags, sessions)
        )
    return users


def taste(user: GenUser, video: GenVideo) -> float:
    """How well a video matches the user's hidden tastes: 1 for a favourite creator, 0.6
    for each favourite hashtag, 0.2 for a liked topic."""
    return (
        (1.0 if video.creator in user.creators else 0.0)
        + 0.6 * len(user.hashtags.intersection(video.hashtags))
        + (0.2 if video.topic in user.topics else 0.0)
    )


def follows(user: GenUser, video: GenVideo) -> bool:
    """By a favourite creator or with a favourite hashtag."""
    return video.creator in user.creators or not user.hashtags.isdisjoint(video.hashtags)


def engagement_log(
    rng: random.Random, now: datetime, videos: list[GenVideo], users: list[GenUser]
) -> tuple[list[tuple[Any, ...]], list[Holdout], dict[str, int]]:
    """Every user's sessions; returns the rows to write (the held-out sessions left out),
    the held-out taps, and counts."""
    rows: list[tuple[Any, ...]] = []
    holdouts: list[Holdout] = []
    counts = {"sessions": 0, "taps": 0}
    for user in users:
        starts = sorted(
            now - timedelta(seconds=rng.uniform(3600, LOG_DAYS * 86400))
            for _ in range(user.sessions)
        )
        shown: set[uuid.UUID] = set()
        sessions: list[tuple[datetime, list[tuple[Any, ...]], uuid.UUID | None]] = []
        for start in starts:
            # Only what was out a minute before the session starts.
            out = [v for v in videos if v.published_at <= start - timedelta(minutes=1)]
            unseen = [v for v in out if v.id not in shown]
            picked = session_videos(rng, user, start, unseen, rng.randint(8, 15))
            shown.update(video.id for video in picked)
            events, tapped = session_events(rng, user, start, picked)
            sessions.append((start, events, tapped))
            counts["sessions"] += 1
            counts["taps"] += sum(1 for event in events if event[2] == "tag_tap")
        last_tap = max((i for i, s in enumerate(sessions) if s[2] is not None), default=None)
        for i, (start, events, tapped) in enumerate(sessions):
            if i == last_tap and tapped is not None:
                video = next(v for v in videos if v.id == tapped)
                holdouts.append(
                    Holdout(user.id, tapped, start - timedelta(seconds=1), follows(user, video))
                )
                continue
            rows.extend(events)
    return rows, holdouts, counts


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
    rng: random.Random, user: GenUser, start: datetime, picked: list[GenVideo]
) -> tuple[list[tuple[Any, ...]], uuid.UUID | None]:
    """The session's rows (EVENT_COLUMNS, received_at filled at write time) and the last
    video tapped in it, if any."""
    events: list[tuple[Any, ...]] = []
    tapped = None
    clock = start
    top_popularity = 1.0
    for video in picked:
        match = taste(user, video)
        events.append(row(user.id, "impression", video, clock))
        if rng.random() < min(0.95, 0.45 + 0.25 * match):
            share = min(1.0, rng.betavariate(1.5 + 2 * match, 2.0))
            watch_ms = max(3000, int(share * video.duration_ms))
            events.append(row(user.id, "view", video, clock + timedelta(seconds=1), watch_ms))
            clock += timedelta(milliseconds=watch_ms)
            tap_probability = min(
                0.9, 0.02 + 0.25 * match + 0.15 * (video.popularity / top_popularity) ** 0.5
            )
            if rng.random() < tap_probability:
                tag_id, product_id = rng.choice(video.tags)
                events.append(row(user.id, "tag_tap", video, clock, tag=(tag_id, product_id)))
                tapped = video.id
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
        clock += timedelta(seconds=2)
    return events, tapped


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

"""Discovery bench, part 1: generate an engagement log and evaluate "for you" offline.

Run by run.py in a subprocess like the seed scripts (DJANGO_SETTINGS_MODULE=bench_settings,
`services/video` as working directory, VIDEO_DATABASE_URL pointing at
`clipcart_video_discovery_bench`, migrated). With a seeded RNG, so the log, and the
figure, are the same on every run (times are relative to the start of the run):

- 30 creators in 8 topics, 40 hashtags (5 a topic), 12 merchants with 20 products each;
  600 published videos over the last 20 days, each by a creator, with 1-3 hashtags in
  its caption (mostly of its creator's topic) and 1-2 tagged products;
- 300 users, each with hidden tastes: one or two topics, 2-4 favourite creators and 3-5
  favourite hashtags (mostly of those topics). Each has 4-30 sessions over the last 14
  days; a session shows 8-15 videos the user has never been shown, picked by a mix of
  what the crowd watches (a Zipf popularity over videos, fading with age), what is new,
  and (a quarter of the slots) what the user follows (a favourite creator or hashtag).
  Every video shown is an impression; it is watched (a view, watch_ms) more often, and
  longer, when it matches the user's tastes; a watched video's product is tapped with a
  probability that grows with the match (a favourite creator, each favourite hashtag) and
  a little with the video's popularity; a tap is sometimes followed by a product view,
  and that by an add-to-cart.

Held out: each user's last tag tap. The evaluation time `as_of` is one second before that
tap's session starts; that session's events are not written (the user's later sessions,
which have no tap, are). A user is never shown a video twice, so the held-out video is
one the user had no event with before. Then, for each user, hit at 10: is the held-out
video in the top 10 of
  (a) "for you": `discovery.selectors.for_you_video_ids(user_id, as_of=as_of, size=10)`;
  (b) chronological: the 10 newest videos published at or before `as_of`;
  (c) trending: the trending snapshot's order, videos published after `as_of` left out.
Trending (`trending_recompute(now=...)`) is recomputed once per hour that holds an
`as_of`, at the start of that hour (never after any `as_of` it serves: no look-ahead);
"for you" reads the same scores. Hashtags come from `search_index_rebuild()` beforehand.

Then it leaves the database ready for the throughput part: trending recomputed as of now
and the search index built. Prints progress on stderr and one JSON object on its last
stdout line.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import django

SEED = 20_260_107
TOP = 10
RANKING_THREADS = 2
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


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


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
    disliked: set[int] = field(default_factory=set)  # creators they skip and dismiss
    # After a purchase: the products bought with it (wanted next) and those bought.
    wanted: set[uuid.UUID] = field(default_factory=set)
    bought: set[uuid.UUID] = field(default_factory=set)


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


def main() -> int:
    database = os.environ.get("VIDEO_DATABASE_URL", "")
    if not database.rstrip("/").split("?")[0].endswith("/clipcart_video_discovery_bench"):
        print(f"refusing to seed {database!r}: not the discovery bench database", file=sys.stderr)
        return 2
    django.setup()

    from django.db import connection
    from django.utils import timezone

    from discovery.services import search_index_rebuild, trending_recompute

    rng = random.Random(SEED)
    # On the hour: the held-out times then fall at the same places within their hours
    # (where trending is recomputed) on every run.
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    started = time.monotonic()
    creators, products, videos = catalogue(rng, now)
    users = people(rng, creators)
    partners = pairs(rng, products)
    rows, holdouts, log, extras = engagement_log(rng, now, videos, users, partners)
    write(rng, now, creators, products, videos, rows, extras)
    indexed = search_index_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    say(
        f"seeded {len(videos)} videos, {len(users)} users, {len(rows):,} events "
        f"({log['sessions']:,} sessions, {log['taps']:,} taps, {log['likes']:,} likes, "
        f"{log['shares']:,} shares, {log['skips']:,} skips, {log['dismissals']:,} not "
        f"interested, {log['follows']:,} follows, {log['purchases']:,} purchases) in "
        f"{time.monotonic() - started:.1f} s"
    )

    evaluation = evaluate(videos, holdouts, extras["dismissed_creators"])

    trending_recompute(now=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        json.dumps(
            {
                "videos": len(videos),
                "users": [user.id for user in users],
                "events": len(rows),
                "sessions": log["sessions"],
                "taps": log["taps"],
                "documents": indexed,
                "evaluation": evaluation,
                "queries": search_queries(creators),
            }
        )
    )
    return 0


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
        # One or two creators they cannot stand (never a favourite).
        others = [c for c in range(len(creators)) if c not in favourites]
        disliked = set(rng.sample(others, rng.randint(1, 2)))
        users.append(
            GenUser(
                f"bench-discovery-user-{n:03d}", liked, favourites, hashtags, sessions, disliked
            )
        )
    return users


def taste(user: GenUser, video: GenVideo) -> float:
    """How well a video matches the user's hidden tastes: 1 for a favourite creator, 0.6
    for each favourite hashtag, 0.2 for a liked topic."""
    products = {product for _, product in video.tags}
    return (
        (1.0 if video.creator in user.creators else 0.0)
        + 0.6 * len(user.hashtags.intersection(video.hashtags))
        + (0.2 if video.topic in user.topics else 0.0)
        # After a purchase: what goes with it, not the same thing again.
        + (1.5 if not user.wanted.isdisjoint(products) else 0.0)
        - (0.5 if products <= user.bought else 0.0)
    )


def follows(user: GenUser, video: GenVideo) -> bool:
    """By a favourite creator, with a favourite hashtag, or of a product wanted since a
    purchase."""
    return (
        video.creator in user.creators
        or not user.hashtags.isdisjoint(video.hashtags)
        or any(product in user.wanted for _, product in video.tags)
    )


def pairs(rng: random.Random, products: list[GenProduct]) -> dict[uuid.UUID, uuid.UUID]:
    """Products that go together, two by two within a topic: who buys one often buys the
    other, in the same order or a later one."""
    partners: dict[uuid.UUID, uuid.UUID] = {}
    for topic in TOPICS:
        ids = [product.id for product in products if product.topic == topic]
        rng.shuffle(ids)
        for one, other in zip(ids[::2], ids[1::2], strict=False):
            partners[one], partners[other] = other, one
    return partners


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


# --------------------------------------------------------------------------- writing


def write(
    rng: random.Random,
    now: datetime,
    creators: list[GenCreator],
    products: list[GenProduct],
    videos: list[GenVideo],
    rows: list[tuple[Any, ...]],
    extras: dict[str, Any],
) -> None:
    """Empty the bench database's video tables, then write the world and the log (the
    events with one COPY), the follows, "not interested" and the sales."""
    from django.db import connection, transaction

    from attribution.models import Credit, SaleLine
    from clipcart_shared.outbox.models import OutboxEvent, ProcessedEvent
    from creators.models import Creator, Follow
    from discovery.models import (
        FeedSnapshot,
        NotInterested,
        ProductPairing,
        ProductSocialProof,
        SearchDocument,
        SearchTerm,
        VideoHashtag,
        VideoTrend,
    )
    from engagement.models import DailyVideoStats, EngagementEvent, VideoLike
    from productcards.models import ProductCard
    from videos.models import ProductTag, Video

    wiped = [
        Follow,
        NotInterested,
        ProductPairing,
        VideoLike,
        Credit,
        SaleLine,
        EngagementEvent,
        DailyVideoStats,
        FeedSnapshot,
        VideoTrend,
        ProductSocialProof,
        SearchDocument,
        SearchTerm,
        VideoHashtag,
        ProductTag,
        Video,
        Creator,
        ProductCard,
        OutboxEvent,
        ProcessedEvent,
    ]
    cards = [
        ProductCard(
            product_id=product.id,
            merchant_id=product.merchant_id,
            merchant_name=f"{product.topic.title()} Supply {product.merchant}",
            title=product.title,
            image=f"https://img.example.com/discovery/product-{n}.jpg",
            price_amount=990 + 100 * rng.randrange(60),
            currency="EUR",
            stock_status="in_stock",
            category_slug=product.topic,
            status="active",
            source_time=now,
        )
        for n, product in enumerate(products)
    ]
    merchants = {product.id: product.merchant_id for product in products}
    with transaction.atomic():
        tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in wiped)
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {tables} CASCADE")
        Creator.objects.bulk_create(
            [
                Creator(
                    id=creator.id,
                    user_id=f"bench-discovery-creator-{n}",
                    handle=creator.handle,
                    display_name=creator.handle.replace(".", " ").title(),
                    avatar_url=f"https://img.example.com/discovery/avatar-{n}.jpg",
                )
                for n, creator in enumerate(creators)
            ]
        )
        ProductCard.objects.bulk_create(cards)
        Video.objects.bulk_create(
            [
                Video(
                    id=video.id,
                    creator_id=creators[video.creator].id,
                    stream_url=f"https://cdn.example.com/discovery/{n:03d}.m3u8",
                    thumbnail_url=f"https://cdn.example.com/discovery/{n:03d}.jpg",
                    caption=f"{rng.choice(OPENERS)}: my {rng.choice(PRODUCT_NOUNS[video.topic])} "
                    + " ".join(f"#{tag}" for tag in video.hashtags),
                    duration_ms=video.duration_ms,
                    status=Video.Status.PUBLISHED,
                    published_at=video.published_at,
                )
                for n, video in enumerate(videos)
            ]
        )
        ProductTag.objects.bulk_create(
            [
                ProductTag(
                    id=tag_id,
                    video_id=video.id,
                    product_id=product_id,
                    merchant_id=merchants[product_id],
                    start_ms=1000 * position,
                    end_ms=1000 * position + 4000,
                    x=0.5,
                    y=0.5,
                    created_by="bench",
                )
                for video in videos
                for position, (tag_id, product_id) in enumerate(video.tags)
            ]
        )
        Follow.objects.bulk_create(
            [
                Follow(user_id=user_id, creator_id=creators[creator].id, created_at=at)
                for user_id, creator, at in extras["follows"]
            ]
        )
        NotInterested.objects.bulk_create(
            [
                NotInterested(user_id=user_id, video_id=video_id, reason="creator", created_at=at)
                for user_id, video_id, _, at in extras["dismissed"]
            ],
            ignore_conflicts=True,
        )
        tags = {
            (video.id, product_id): tag_id for video in videos for tag_id, product_id in video.tags
        }
        SaleLine.objects.bulk_create(
            [
                SaleLine(
                    line_id=new_id(rng),
                    order_id=uuid.uuid5(uuid.NAMESPACE_OID, f"{user_id}-{paid_at.isoformat()}"),
                    user_id=user_id,
                    merchant_id=merchants[product_id],
                    product_id=product_id,
                    variant_id=product_id,
                    quantity=1,
                    amount=2990,
                    currency="EUR",
                    paid_at=paid_at,
                    source_video_id=video_id,
                    source_tag_id=tags.get((video_id, product_id)),
                    touch_count=1,
                )
                for user_id, product_id, video_id, paid_at in extras["sales"]
            ]
        )
        statement = f"COPY {EngagementEvent._meta.db_table} ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for event in rows:
                copy.write_row((*event, now))


# --------------------------------------------------------------------------- evaluation


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


# --------------------------------------------------------------------------- search


def search_queries(creators: list[GenCreator]) -> list[str]:
    """What the throughput part searches for, in turn: handles, hashtags, caption and
    product words, two-word queries, prefixes, and handles and hashtags one letter off."""
    return [
        creators[0].handle,
        creators[7].handle.split("_")[0],
        "#skincare",
        "airfryer",
        "honest review",
        "serum",
        "ootd",
        "desk",
        "backpack hiking",
        creators[0].handle.replace("beauty", "beuty"),  # a typo of a handle
        "streetwaer",  # of #streetwear
        "homedecr",  # of #homedecor
    ]


if __name__ == "__main__":
    sys.exit(main())

"""The discovery bench's generated world: creators in topics, merchants and products,
videos with hashtags and tags, users with hidden tastes (bench_discovery.py's docstring
says what and why). Seeded, so every run builds the same world."""

from __future__ import annotations

import random
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

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

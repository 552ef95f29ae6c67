"""Writes of discovery: the search index (kept current by the services that change
videos, creators and product cards), and the periodic trending recompute, which also
refreshes social proof and drops old feed snapshots.

Each function rebuilds its rows from the source tables, so calling one twice, or
`search_index_rebuild` at any time, is safe.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from attribution.models import Credit, SaleLine
from clipcart_shared.errors import ApplicationError
from clipcart_shared.pages import pages_version_bump, user_signals_bump, user_signals_version
from clipcart_shared.pagination import DEFAULT_LIMIT
from core.errors import VideoErrorCode
from creators.models import Creator
from discovery.models import (
    FeedSnapshot,
    ForYouRanking,
    NotInterested,
    ProductPairing,
    SearchDocument,
    SearchTerm,
    VideoHashtag,
    VideoTrend,
)
from discovery.ranking import EVENT_WEIGHT_SQL, for_you_video_ids
from discovery.selectors import SnapshotPage, snapshot_page
from discovery.text import hashtags_parse, lexeme_quoted, trigrams, words
from engagement.models import EngagementEvent
from productcards.models import ProductCard, ProductSocialProof
from videos.models import ProductTag, Video

logger = logging.getLogger(__name__)

FOR_YOU_RANK_BATCH = 500  # users ranked ahead in one run of the worker, at most

# --- the search index -------------------------------------------------------------------


# Longer runs of letters are no words anyone searches for (and PostgreSQL refuses
# lexemes over 2 KB).
MAX_INDEXED_WORD = 100


def _document(*parts: tuple[str, Iterable[str]]) -> str:
    """A tsvector literal: the words of each (weight, words) part at increasing positions.
    Built here so that the words are exactly those `discovery.text.words` gives a query."""
    entries = []
    position = 0
    for weight, part in parts:
        for word in part:
            if len(word) > MAX_INDEXED_WORD:
                continue
            position = min(position + 1, 16383)  # PostgreSQL's highest position
            entries.append(f"{lexeme_quoted(word)}:{position}{weight}")
    return " ".join(entries)


def _handle_words(handle: str) -> list[str]:
    """A handle as a whole word (`clara.beauty`) and as its parts (`clara`, `beauty`)."""
    return [handle, *words(handle)]


_DOCUMENT_UPSERT = f"""
INSERT INTO {SearchDocument._meta.db_table} (kind, object_id, document, updated_at)
SELECT kind, object_id, document::tsvector, now()
FROM unnest(%(kinds)s::text[], %(ids)s::uuid[], %(documents)s::text[])
    AS batch(kind, object_id, document)
ON CONFLICT (kind, object_id) DO UPDATE SET
    document = EXCLUDED.document, updated_at = EXCLUDED.updated_at
WHERE {SearchDocument._meta.db_table}.document <> EXCLUDED.document
RETURNING object_id
"""


def _documents_write(kind: SearchDocument.Kind, documents: dict[uuid.UUID, str]) -> list[uuid.UUID]:
    """Store the documents; returns the ids of those that are new or changed."""
    if not documents:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            _DOCUMENT_UPSERT,
            {
                "kinds": [kind.value] * len(documents),
                "ids": list(documents),
                "documents": list(documents.values()),
            },
        )
        return [row[0] for row in cursor.fetchall()]


def _terms_add(terms: Iterable[str]) -> None:
    SearchTerm.objects.bulk_create(
        [SearchTerm(term=term, trigrams=trigrams(term)) for term in set(terms)],
        ignore_conflicts=True,
    )


@transaction.atomic
def video_search_refresh(*, video_ids: Iterable[uuid.UUID]) -> None:
    """Re-read these videos' captions, creators' handles and tagged products' titles:
    their hashtags and search documents follow. The videos' rows are locked first (in id
    order), so two refreshes of one video (a caption edit and a product's new title
    arriving at once) run one after the other, each reading what the other wrote."""
    videos = list(
        Video.objects.select_for_update(of=("self",))
        .filter(id__in=list(video_ids))
        .select_related("creator")
        .only("id", "caption", "creator__handle")
        .order_by("id")
    )
    if not videos:
        return
    pages_version_bump()  # captions, hashtags, handles, titles: the stored pages show them
    titles: dict[uuid.UUID, list[str]] = {video.id: [] for video in videos}
    tagged = ProductTag.objects.filter(video__in=videos).values_list("video_id", "product_id")
    cards = dict(
        ProductCard.objects.filter(product_id__in={product for _, product in tagged}).values_list(
            "product_id", "title"
        )
    )
    for video_id, product_id in tagged:
        if product_id in cards:
            titles[video_id].append(cards[product_id])
    hashtags = {video.id: hashtags_parse(video.caption) for video in videos}
    VideoHashtag.objects.filter(video__in=videos).delete()
    VideoHashtag.objects.bulk_create(
        [
            VideoHashtag(video_id=video_id, tag=tag)
            for video_id, tags in hashtags.items()
            for tag in tags
        ]
    )
    _terms_add(tag for tags in hashtags.values() for tag in tags)
    _documents_write(
        SearchDocument.Kind.VIDEO,
        {
            video.id: _document(
                ("A", [*_handle_words(video.creator.handle), *hashtags[video.id]]),
                ("B", words(" ".join(titles[video.id]))),
                ("C", words(video.caption)),
            )
            for video in videos
        },
    )


def _product_documents_write(product_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    """The products' own documents (title, merchant); returns those that changed."""
    cards = ProductCard.objects.filter(product_id__in=list(product_ids))
    return _documents_write(
        SearchDocument.Kind.PRODUCT,
        {
            card.product_id: _document(("A", words(card.title)), ("C", words(card.merchant_name)))
            for card in cards
        },
    )


def _creator_documents_write(creator_ids: Iterable[uuid.UUID]) -> list[Creator]:
    """The creators' own documents (handle, name) and their handles as typo terms;
    returns the creators."""
    creators = list(Creator.objects.filter(id__in=list(creator_ids)))
    _terms_add(creator.handle for creator in creators)
    _documents_write(
        SearchDocument.Kind.CREATOR,
        {
            creator.id: _document(
                ("A", _handle_words(creator.handle)), ("B", words(creator.display_name))
            )
            for creator in creators
        },
    )
    return creators


def product_search_refresh(*, product_ids: Iterable[uuid.UUID]) -> None:
    """Re-read these product cards' titles: their own documents follow, and where one
    changed, those of the videos tagging the product (a stock change changes nothing)."""
    changed = _product_documents_write(product_ids)
    video_search_refresh(
        video_ids=ProductTag.objects.filter(product_id__in=changed)
        .values_list("video_id", flat=True)
        .distinct()
    )


def creator_search_refresh(*, creator_ids: Iterable[uuid.UUID]) -> None:
    """Re-read these creators' handles and names: their documents, and those of their
    videos (which carry the handle), follow."""
    creators = _creator_documents_write(creator_ids)
    video_search_refresh(
        video_ids=Video.objects.filter(creator__in=creators).values_list("id", flat=True)
    )


def search_index_rebuild() -> dict[str, int]:
    """Every document, hashtag and term from scratch (after a restore, or to take in rows
    written without the services). Returns how many documents of each kind."""
    with transaction.atomic():
        SearchDocument.objects.all().delete()
        SearchTerm.objects.all().delete()
        # Products and creators first, then each video once (it carries both).
        _product_documents_write(ProductCard.objects.values_list("product_id", flat=True))
        _creator_documents_write(Creator.objects.values_list("id", flat=True))
        video_search_refresh(video_ids=Video.objects.values_list("id", flat=True))
    return {
        kind: SearchDocument.objects.filter(kind=kind).count()
        for kind in SearchDocument.Kind.values
    }


# --- trending, social proof, snapshots ----------------------------------------------------

PURCHASE_WEIGHT = 10.0
TREND_WINDOW = timedelta(hours=48)
TREND_HALF_LIFE = timedelta(hours=12)
SOCIAL_PROOF_WINDOW = timedelta(days=30)
PAIRING_WINDOW = timedelta(days=90)

_TRENDS = f"""
INSERT INTO {VideoTrend._meta.db_table} (video_id, score, computed_at)
SELECT signal.video_id, sum(signal.weight * power(0.5,
        extract(epoch FROM %(now)s - signal.occurred_at) / %(half_life)s)), %(now)s
FROM (
    SELECT e.video_id, e.occurred_at, {EVENT_WEIGHT_SQL} AS weight
    FROM {EngagementEvent._meta.db_table} e
    WHERE e.occurred_at > %(since)s AND e.occurred_at <= %(now)s AND e.type <> 'impression'
    UNION ALL
    -- A purchase counts for the video it is credited to (last touch).
    SELECT credit.video_id, credit.paid_at, {PURCHASE_WEIGHT}
    FROM {Credit._meta.db_table} credit
    WHERE credit.paid_at > %(since)s AND credit.paid_at <= %(now)s
        AND credit.model = 'last_touch' AND credit.refund_id IS NULL
        AND credit.video_id IS NOT NULL
) signal
JOIN {Video._meta.db_table} video ON video.id = signal.video_id AND video.status = 'published'
GROUP BY signal.video_id
"""

# The trending feed: scored videos first, then every other published one, newest first.
_TRENDING_SNAPSHOT = f"""
INSERT INTO {FeedSnapshot._meta.db_table} (id, mode, user_id, video_ids, created_at)
SELECT %(id)s, 'trending', NULL, ARRAY(
    SELECT video.id
    FROM {Video._meta.db_table} video
    LEFT JOIN {VideoTrend._meta.db_table} trend ON trend.video_id = video.id
    WHERE video.status = 'published'
    ORDER BY trend.score DESC NULLS LAST, video.published_at DESC, video.id DESC
    LIMIT %(size)s
), %(now)s
"""

_SOCIAL_PROOF = f"""
INSERT INTO {ProductSocialProof._meta.db_table} (product_id, units_30d)
SELECT product_id, sum(quantity)
FROM {SaleLine._meta.db_table}
WHERE paid_at > %(since)s AND touch_count > 0
GROUP BY product_id
"""


# Products bought by the same buyer (in one order or several), each pair both ways.
_PAIRINGS = f"""
INSERT INTO {ProductPairing._meta.db_table} (product_id, other_product_id, buyers)
SELECT one.product_id, other.product_id, count(DISTINCT one.user_id)
FROM {SaleLine._meta.db_table} one
JOIN {SaleLine._meta.db_table} other
    ON other.user_id = one.user_id AND other.product_id <> one.product_id
    AND other.paid_at > %(since)s AND other.paid_at <= %(now)s
WHERE one.paid_at > %(since)s AND one.paid_at <= %(now)s
GROUP BY one.product_id, other.product_id
"""


@transaction.atomic
def trending_recompute(*, now: datetime | None = None) -> FeedSnapshot:
    """Score every video on its last 48 hours (views, taps, add-to-carts, likes, shares and
    attributed purchases, halved every 12 hours of age), write the trending feed's new
    snapshot, recount units sold through videos and products bought together, and drop
    snapshots no cursor should still use."""
    now = now or timezone.now()
    snapshot_id = uuid.uuid4()
    with connection.cursor() as cursor:
        # One recompute at a time (the scheduler's and a cold start's): both rewrite the
        # same rows.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('discovery.trending_recompute'))")
        cursor.execute(f"DELETE FROM {VideoTrend._meta.db_table}")
        cursor.execute(
            _TRENDS,
            {
                "now": now,
                "since": now - TREND_WINDOW,
                "half_life": TREND_HALF_LIFE.total_seconds(),
            },
        )
        cursor.execute(
            _TRENDING_SNAPSHOT,
            {"id": snapshot_id, "now": now, "size": settings.FEED_SNAPSHOT_SIZE},
        )
        cursor.execute(f"DELETE FROM {ProductSocialProof._meta.db_table}")
        cursor.execute(_SOCIAL_PROOF, {"since": now - SOCIAL_PROOF_WINDOW})
        cursor.execute(f"DELETE FROM {ProductPairing._meta.db_table}")
        cursor.execute(_PAIRINGS, {"since": now - PAIRING_WINDOW, "now": now})
    dropped, _ = FeedSnapshot.objects.filter(
        created_at__lt=now - timedelta(seconds=settings.FEED_SNAPSHOT_SECONDS)
    ).delete()
    pages_version_bump()  # a new trending snapshot
    logger.info("Trending recomputed", extra={"snapshot_id": str(snapshot_id), "dropped": dropped})
    return FeedSnapshot.objects.get(id=snapshot_id)


def for_you_snapshot_create(
    *, user_id: str, first_page: int, now: datetime | None = None
) -> uuid.UUID:
    """Rank the feed for this user as of now (`discovery.ranking`, its first page
    `first_page` videos long) and keep the ranking, so that their cursor pages through one
    stable order, and so that their next first page can read it while nothing they do
    changes it (ForYouRanking, at the signals version read before ranking). Three
    statements."""
    now = now or timezone.now()
    signals_version = user_signals_version(user_id)
    snapshot = FeedSnapshot.objects.create(
        mode=FeedSnapshot.Mode.FOR_YOU,
        user_id=user_id,
        video_ids=for_you_video_ids(user_id=user_id, as_of=now, first_page=first_page),
        created_at=now,
    )
    ForYouRanking.objects.bulk_create(
        [
            ForYouRanking(
                user_id=user_id,
                snapshot=snapshot,
                first_page=first_page,
                signals_version=signals_version,
                ranked_at=now,
            )
        ],
        update_conflicts=True,
        unique_fields=["user_id"],
        update_fields=["snapshot", "first_page", "signals_version", "ranked_at"],
    )
    return snapshot.id


def _kept_ranking(user_id: str, first_page: int, max_age: timedelta) -> tuple[int, str, datetime]:
    return (first_page, user_signals_version(user_id), timezone.now() - max_age)


def for_you_rankings_refresh(
    *, user_ids: Iterable[str] | None = None, first_page: int = DEFAULT_LIMIT
) -> int:
    """Rank ahead (the worker, every FOR_YOU_RANK_SECONDS): for each of these users, by
    default those with events in the last FOR_YOU_ACTIVE_SECONDS (at most
    FOR_YOU_RANK_BATCH), a new "for you" ranking unless the kept one is still at their
    signals version and younger than half FOR_YOU_RANKING_MAX_AGE_SECONDS. Their next
    first page then reads it instead of ranking. Returns how many were ranked."""
    if user_ids is None:
        since = timezone.now() - timedelta(seconds=settings.FOR_YOU_ACTIVE_SECONDS)
        user_ids = list(
            EngagementEvent.objects.filter(occurred_at__gte=since)
            .order_by()
            .values_list("user_id", flat=True)
            .distinct()[:FOR_YOU_RANK_BATCH]
        )
    half_age = timedelta(seconds=settings.FOR_YOU_RANKING_MAX_AGE_SECONDS / 2)
    ranked = 0
    for user_id in user_ids:
        first, version, ranked_after = _kept_ranking(user_id, first_page, half_age)
        is_kept = ForYouRanking.objects.filter(
            user_id=user_id, first_page=first, signals_version=version, ranked_at__gt=ranked_after
        ).exists()
        if not is_kept:
            for_you_snapshot_create(user_id=user_id, first_page=first_page)
            ranked += 1
    logger.info("For you ranked ahead", extra={"ranked": ranked})
    return ranked


def ranked_feed_page(
    *,
    mode: FeedSnapshot.Mode,
    user_id: str | None,
    offset: int,
    limit: int,
    snapshot_id: uuid.UUID | None = None,
) -> SnapshotPage:
    """A page of the trending or "for you" feed. Without a snapshot (a first page), "for
    you" ranks a new one for the user and trending takes the latest (computing one only
    if none exists yet); with one, it must be the caller's and still kept (else 400
    `invalid_cursor`)."""
    if snapshot_id is None and mode == FeedSnapshot.Mode.FOR_YOU and user_id is not None:
        # Ranked already (by the worker, or by the last first page) and nothing the user
        # did since: one read. Else rank now.
        max_age = timedelta(seconds=settings.FOR_YOU_RANKING_MAX_AGE_SECONDS)
        kept = snapshot_page(
            which="for_you_kept",
            offset=offset,
            limit=limit,
            user_id=user_id,
            kept=_kept_ranking(user_id, limit, max_age),
        )
        if kept is not None:
            return kept
        snapshot_id = for_you_snapshot_create(user_id=user_id, first_page=limit)
    which = mode.value if snapshot_id is not None else "latest_trending"
    page = snapshot_page(
        which=which, offset=offset, limit=limit, snapshot_id=snapshot_id, user_id=user_id
    )
    if page is None and which == "latest_trending":
        trending_recompute()  # a new installation: the scheduler has not run yet
        page = snapshot_page(which=which, offset=offset, limit=limit)
    if page is None:
        raise ApplicationError(
            VideoErrorCode.INVALID_CURSOR,
            "This cursor has expired or is not yours; start again from the first page.",
            status=400,
            errors=[{"field": "cursor", "code": "invalid_cursor", "message": "Start again."}],
        )
    return page


# --- feedback -------------------------------------------------------------------------------


def not_interested_record(*, user_id: str, video_id: uuid.UUID, reason: str = "") -> None:
    """The user is not interested in this published video (`reason`: "", or one of
    `NotInterested.Reason`): it never comes back in their ranked or following feeds, and
    what it stood for weighs against similar videos (`discovery.ranking`). Saying it again
    keeps the latest reason and time. 404 `video_not_found`."""
    if not Video.objects.filter(id=video_id, status=Video.Status.PUBLISHED).exists():
        raise ApplicationError(
            VideoErrorCode.VIDEO_NOT_FOUND, "There is no such video.", status=404
        )
    NotInterested.objects.update_or_create(
        user_id=user_id,
        video_id=video_id,
        defaults={"reason": reason, "created_at": timezone.now()},
    )
    user_signals_bump(user_ids=[user_id])
    logger.info("Not interested", extra={"video_id": str(video_id), "reason": reason or None})

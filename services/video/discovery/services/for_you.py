"""Pages of the ranked feeds, and "for you" rankings: a user's ranked and kept (ADR 34),
ranked ahead by the worker."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.pages import user_signals_version
from clipcart_shared.pagination import DEFAULT_LIMIT
from core.errors import VideoErrorCode
from discovery.models import FeedSnapshot, ForYouRanking
from discovery.ranking import for_you_video_ids
from discovery.selectors import SnapshotPage, snapshot_page
from discovery.services.trending import trending_recompute
from engagement.models import EngagementEvent

logger = logging.getLogger(__name__)

FOR_YOU_RANK_BATCH = 500  # users ranked ahead in one run of the worker, at most


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

"""The chronological feeds: everyone's, a hashtag's, the followed creators'. Each page is
one statement whatever its size: the videos come out as API.md's JSON from
`videos.selectors.videos_json_sql`."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from django.db import connection
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError

from creators.models import Follow
from discovery.models import NotInterested, VideoHashtag
from videos.models import Video
from videos.selectors import VIDEO_JSON, rfc3339, videos_json_sql


def _feed_sql(order: str, compare: str | None, *, has_hashtag: bool, is_following: bool) -> str:
    """A page of the feed as DRF's cursor pagination asks for it: by (published_at, id),
    newest first (DESC) or, for a reversed cursor, oldest first (ASC); with a cursor, only
    videos published before (<) or after (>) its position; optionally only the videos
    with a hashtag, or only those of the creators a user follows (less the ones they said
    "not interested" to)."""
    after = "" if compare is None else f" AND published_at {compare} %(position)s"
    if has_hashtag:
        after += (
            f" AND id IN (SELECT video_id FROM {VideoHashtag._meta.db_table}"
            " WHERE tag = %(hashtag)s)"
        )
    if is_following:
        after += (
            f" AND creator_id IN (SELECT creator_id FROM {Follow._meta.db_table}"
            " WHERE user_id = %(user_id)s)"
            f" AND id NOT IN (SELECT video_id FROM {NotInterested._meta.db_table}"
            " WHERE user_id = %(user_id)s)"
        )
    return videos_json_sql(
        f"{rfc3339('v.published_at')}, {VIDEO_JSON}::text",
        f"""SELECT * FROM {Video._meta.db_table}
    WHERE status = 'published'{after}
    ORDER BY published_at {order}, id {order}
    OFFSET %(offset)s LIMIT %(limit)s""",
        f"ORDER BY v.published_at {order}, v.id {order}",
    )


_FEED_SQL = {
    (order, compare, has_hashtag, is_following): _feed_sql(
        order, compare, has_hashtag=has_hashtag, is_following=is_following
    )
    for order in ("DESC", "ASC")
    for compare in (None, "<", ">")
    for has_hashtag in (False, True)
    for is_following in (False, True)
}


class FeedVideo(NamedTuple):
    published_at: str  # as in `json`: the cursor position
    json: str  # API.md's video object, as PostgreSQL wrote it


class FeedVideos:
    """Published videos (all, or those with a hashtag), newest first, for DRF's
    `CursorPagination` ordered by `ORDERING`. That calls `order_by` (the ordering or its
    reverse), `filter` (`published_at` before or after the cursor's position) and slices:
    the slice runs one statement."""

    ORDERING = ("-published_at", "-id")
    _REVERSED = ("published_at", "id")
    _COMPARE = {"published_at__lt": "<", "published_at__gt": ">"}

    def __init__(
        self,
        order: str = "DESC",
        compare: str | None = None,
        position: datetime | None = None,
        hashtag: str | None = None,
        followed_by: str | None = None,
    ) -> None:
        self._order, self._compare, self._position = order, compare, position
        self._hashtag, self._followed_by = hashtag, followed_by

    def order_by(self, *fields: str) -> FeedVideos:
        if fields not in (self.ORDERING, self._REVERSED):
            raise ValueError(f"The feed is ordered by {self.ORDERING}, not {fields}.")
        order = "DESC" if fields == self.ORDERING else "ASC"
        return FeedVideos(order, self._compare, self._position, self._hashtag, self._followed_by)

    def filter(self, **lookups: str) -> FeedVideos:
        ((lookup, value),) = lookups.items()
        if lookup not in self._COMPARE:
            raise ValueError(f"The feed pages by published_at, not {lookup}.")
        try:
            position = parse_datetime(value)
        except ValueError:
            position = None
        if position is None:  # a cursor with a made-up position (the ORM answered 500)
            raise ValidationError({"cursor": ["This cursor is not valid."]})
        return FeedVideos(
            self._order, self._COMPARE[lookup], position, self._hashtag, self._followed_by
        )

    def __getitem__(self, page: slice) -> list[FeedVideo]:
        offset = page.start or 0
        with connection.cursor() as cursor:
            cursor.execute(
                _FEED_SQL[
                    self._order,
                    self._compare,
                    self._hashtag is not None,
                    self._followed_by is not None,
                ],
                {
                    "user_id": self._followed_by,
                    "offset": offset,
                    "limit": page.stop - offset,
                    "position": self._position,
                    "hashtag": self._hashtag,
                },
            )
            return [FeedVideo(*row) for row in cursor.fetchall()]


def feed_videos(*, hashtag: str | None = None, followed_by: str | None = None) -> FeedVideos:
    """Published videos, newest first (only those with `hashtag`, a normalized tag, or only
    those of the creators the user `followed_by` follows, when given): page them with the
    feed's `CursorPagination`."""
    return FeedVideos(hashtag=hashtag, followed_by=followed_by)

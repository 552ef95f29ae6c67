"""Reads of discovery: the chronological feeds (`feeds`: everyone's, a hashtag's, the
followed creators'), pages of ranked feed snapshots (`snapshots`), and search
(`search`). The "for you" ranking itself is `discovery.ranking`."""

from discovery.ranking import EVENT_WEIGHT_SQL, for_you_video_ids
from discovery.selectors.feeds import FeedVideo, FeedVideos, feed_videos
from discovery.selectors.search import SEARCH_TYPES, SearchHit, search, search_query, similar_terms
from discovery.selectors.snapshots import SnapshotPage, snapshot_page

__all__ = [
    "EVENT_WEIGHT_SQL",
    "SEARCH_TYPES",
    "FeedVideo",
    "FeedVideos",
    "SearchHit",
    "SnapshotPage",
    "feed_videos",
    "for_you_video_ids",
    "search",
    "search_query",
    "similar_terms",
    "snapshot_page",
]

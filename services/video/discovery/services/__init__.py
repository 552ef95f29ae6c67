"""Writes of discovery: the search index (`search_index`, kept current by the services
that change videos, creators and product cards), the periodic trending recompute
(`trending`, which also refreshes social proof and products bought together and drops
old feed snapshots), "for you" rankings kept and ranked ahead (`for_you`), and what a
user says against a video (`feedback`)."""

from discovery.services.feedback import not_interested_record
from discovery.services.for_you import (
    for_you_rankings_refresh,
    for_you_snapshot_create,
    ranked_feed_page,
)
from discovery.services.search_index import (
    creator_search_refresh,
    product_search_refresh,
    search_index_rebuild,
    video_search_refresh,
)
from discovery.services.trending import trending_recompute

__all__ = [
    "creator_search_refresh",
    "for_you_rankings_refresh",
    "for_you_snapshot_create",
    "not_interested_record",
    "product_search_refresh",
    "ranked_feed_page",
    "search_index_rebuild",
    "trending_recompute",
    "video_search_refresh",
]

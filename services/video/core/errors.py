"""Every error code the video service answers with, named once."""

import enum


class VideoErrorCode(enum.StrEnum):
    NOT_A_CREATOR = "not_a_creator"
    ALREADY_A_CREATOR = "already_a_creator"
    HANDLE_TAKEN = "handle_taken"
    VIDEO_NOT_FOUND = "video_not_found"
    CREATOR_NOT_FOUND = "creator_not_found"
    CANNOT_FOLLOW_YOURSELF = "cannot_follow_yourself"
    TAG_OUTSIDE_VIDEO = "tag_outside_video"
    TOO_MANY_TAGS = "too_many_tags"
    UNKNOWN_PRODUCT = "unknown_product"
    UNKNOWN_VARIANT = "unknown_variant"
    CATALOG_UNAVAILABLE = "catalog_unavailable"
    MERCHANT_NOT_FOUND = "merchant_not_found"
    TOO_MANY_EVENTS = "too_many_events"
    INVALID_CURSOR = "invalid_cursor"
    INVALID_HASHTAG = "invalid_hashtag"
    QUERY_REQUIRED = "query_required"
    QUERY_TOO_LONG = "query_too_long"
    QUERY_NOT_SEARCHABLE = "query_not_searchable"
    PAYOUT_PROVIDER_UNAVAILABLE = "payout_provider_unavailable"
    PAYOUT_PROVIDER_REJECTED = "payout_provider_rejected"
    INVALID_SIGNATURE = "invalid_signature"
    INVALID_EVENT = "invalid_event"

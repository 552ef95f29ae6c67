from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from clipcart_shared.errors import ApplicationError
from core.errors import VideoErrorCode
from creators.models import Creator, Follow


def creator_for_user(*, user_id: str) -> Creator:
    """The caller's creator profile; 403 `not_a_creator` when they have none."""
    creator = Creator.objects.filter(user_id=user_id).first()
    if creator is None:
        raise ApplicationError(
            VideoErrorCode.NOT_A_CREATOR,
            "Become a creator first (POST /api/v1/creators/).",
            status=403,
        )
    return creator


def creator_render(creator: Creator) -> dict[str, Any]:
    return {
        "id": str(creator.id),
        "handle": creator.handle,
        "display_name": creator.display_name,
        "avatar_url": creator.avatar_url or None,
        "commission_rate_bps": creator.commission_rate_bps,
        "followers": creator.followers_count,
        "created_at": creator.created_at,
    }


def creator_card(creator: Creator) -> dict[str, Any]:
    """API.md's creator object, as video cards carry it, with its follower count."""
    return {
        "id": str(creator.id),
        "handle": creator.handle,
        "display_name": creator.display_name,
        "avatar_url": creator.avatar_url or None,
        "followers": creator.followers_count,
    }


def follows_of_user(*, user_id: str) -> QuerySet[Follow]:
    """The creators the user follows (with each creator, one query a page), for cursor
    pagination by `-created_at, -id`."""
    return Follow.objects.filter(user_id=user_id).select_related("creator")

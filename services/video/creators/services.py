from __future__ import annotations

from django.db import IntegrityError, transaction

from clipcart_shared.errors import ApplicationError
from core.errors import VideoErrorCode
from creators.models import Creator
from discovery.services import creator_search_refresh


def creator_create(
    *, user_id: str, handle: str, display_name: str, avatar_url: str = ""
) -> Creator:
    """Make the user a creator. 409 `already_a_creator` or `handle_taken`."""
    if Creator.objects.filter(user_id=user_id).exists():
        raise ApplicationError(
            VideoErrorCode.ALREADY_A_CREATOR, "You already have a creator profile.", status=409
        )
    try:
        with transaction.atomic():
            creator = Creator.objects.create(
                user_id=user_id,
                handle=handle.lower(),
                display_name=display_name,
                avatar_url=avatar_url,
            )
            creator_search_refresh(creator_ids=[creator.id])
            return creator
    except IntegrityError as error:
        # Lost a race: either this user or this handle was taken a moment ago.
        if Creator.objects.filter(user_id=user_id).exists():
            raise ApplicationError(
                VideoErrorCode.ALREADY_A_CREATOR, "You already have a creator profile.", status=409
            ) from error
        raise ApplicationError(
            VideoErrorCode.HANDLE_TAKEN, f"The handle @{handle} is taken.", status=409
        ) from error

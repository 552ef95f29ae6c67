from __future__ import annotations

import logging
import uuid

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.pages import user_signals_bump
from core.errors import VideoErrorCode
from creators.models import Creator, Follow
from creators.signals import creators_changed

logger = logging.getLogger(__name__)


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
            creators_changed.send(sender=Creator, creator_ids=[creator.id])
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


def _creator_to_follow(*, creator_id: uuid.UUID, user_id: str) -> Creator:
    creator = Creator.objects.filter(id=creator_id).first()
    if creator is None:
        raise ApplicationError(
            VideoErrorCode.CREATOR_NOT_FOUND, "There is no such creator.", status=404
        )
    if creator.user_id == user_id:
        raise ApplicationError(
            VideoErrorCode.CANNOT_FOLLOW_YOURSELF, "You cannot follow yourself.", status=422
        )
    return creator


@transaction.atomic
def follow_create(*, user_id: str, creator_id: uuid.UUID) -> Creator:
    """Follow a creator; following one already followed changes nothing. The creator's
    follower counter moves in the same transaction. 404 `creator_not_found`, 422
    `cannot_follow_yourself`. Returns the creator as it is now."""
    creator = _creator_to_follow(creator_id=creator_id, user_id=user_id)
    # A concurrent first follow loses on `follow_once` and reads the winner's row.
    _, created = Follow.objects.get_or_create(
        user_id=user_id, creator=creator, defaults={"created_at": timezone.now()}
    )
    if created:
        Creator.objects.filter(id=creator.id).update(followers_count=F("followers_count") + 1)
        user_signals_bump(user_ids=[user_id])  # their "for you" reads what they follow
        logger.info("Creator followed", extra={"creator_id": str(creator.id)})
    creator.refresh_from_db(fields=["followers_count"])
    return creator


@transaction.atomic
def follow_delete(*, user_id: str, creator_id: uuid.UUID) -> None:
    """Stop following a creator; unfollowing one not followed changes nothing. 404
    `creator_not_found`."""
    creator = _creator_to_follow(creator_id=creator_id, user_id=user_id)
    deleted, _ = Follow.objects.filter(user_id=user_id, creator=creator).delete()
    if deleted:
        Creator.objects.filter(id=creator.id).update(followers_count=F("followers_count") - 1)
        user_signals_bump(user_ids=[user_id])
        logger.info("Creator unfollowed", extra={"creator_id": str(creator.id)})

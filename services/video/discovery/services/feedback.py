"""What a user says against a video: "not interested"."""

from __future__ import annotations

import logging
import uuid

from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from clipcart_shared.pages import user_signals_bump
from core.errors import VideoErrorCode
from discovery.models import NotInterested
from videos.models import Video

logger = logging.getLogger(__name__)


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

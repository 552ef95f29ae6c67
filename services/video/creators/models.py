from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

HANDLE_PATTERN = r"^[a-z0-9_.]{2,30}$"


class Creator(models.Model):
    """A mobile user who publishes shoppable videos (any user may become one)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The identity provider's subject (JWT `sub`): one creator profile per user.
    user_id = models.CharField(max_length=128, unique=True)
    handle = models.CharField(
        max_length=30,
        unique=True,
        validators=[RegexValidator(HANDLE_PATTERN, "2 to 30 of a-z, 0-9, _ and .")],
    )
    display_name = models.CharField(max_length=80)
    avatar_url = models.URLField(max_length=500, blank=True)
    # Commission on attributed sales, in basis points (1550 = 15.5 %).
    commission_rate_bps = models.PositiveIntegerField(
        default=1000, validators=[MaxValueValidator(10_000)]
    )
    # A brand's own creator account: that merchant's staff may tag its videos.
    brand_merchant_id = models.UUIDField(null=True, blank=True)
    # Kept by `creators.services.follow_*` in the follow's transaction: the creator card
    # shows it without a COUNT per request.
    followers_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["handle"]
        constraints = [
            models.CheckConstraint(
                condition=Q(commission_rate_bps__lte=10_000), name="creator_rate_at_most_100pct"
            ),
            models.CheckConstraint(
                condition=Q(handle__regex=HANDLE_PATTERN), name="creator_handle_format"
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.handle}"


class Follow(models.Model):
    """A mobile user following a creator: their videos fill the `following` feed and weigh
    as a strong interest in "for you" for as long as the follow lasts."""

    id = models.BigAutoField(primary_key=True)
    user_id = models.CharField(max_length=128)
    creator = models.ForeignKey(Creator, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "creator"], name="follow_once"),
        ]
        indexes = [models.Index(fields=["user_id", "-created_at"], name="follow_user_time_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} follows {self.creator_id}"

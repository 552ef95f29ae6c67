"""Stripe Connect account status, as clipcart shows it: one mapping from Stripe's Account
object to `none | pending | enabled | restricted`, used by video (creators' accounts) and
checkout (merchants' accounts), so that the two never disagree. Pure: no Stripe call."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models


class PayoutStatus(models.TextChoices):
    # No Connect account yet (the app shows "Set up payouts").
    NONE = "none"
    # Created, onboarding not finished, or finished and Stripe still verifying.
    PENDING = "pending"
    # Stripe lets the account take transfers and pay them out to the bank.
    ENABLED = "enabled"
    # Onboarding was finished but Stripe disabled the account (it needs more from the
    # holder, or refused it): money for it waits on the platform.
    RESTRICTED = "restricted"


# Stripe's `requirements.disabled_reason` values that mean "Stripe is checking what was
# submitted", not "the holder must act".
_UNDER_VERIFICATION = frozenset({"requirements.pending_verification", "under_review"})


def payout_status_of(account: Mapping[str, Any]) -> str:
    """The status of a Stripe Account object (its `charges_enabled`, `payouts_enabled`,
    `details_submitted` and `requirements.disabled_reason`, per Stripe's "Accounts" API
    reference and its hosted-onboarding guide):

    - `enabled`: charges and payouts enabled and nothing disabling the account;
    - `pending`: onboarding not submitted yet (`details_submitted` false, whatever the
      disabled reason: a new account is "past due" until its holder onboards), or
      submitted and Stripe is verifying it (`requirements.pending_verification`,
      `under_review`);
    - `restricted`: submitted, and disabled for any other reason (`requirements.past_due`,
      `rejected.*`, `platform_paused`, `listed`, `other`…) or with charges or payouts off.
    """
    requirements = account.get("requirements")
    disabled_reason = (
        requirements.get("disabled_reason") if isinstance(requirements, Mapping) else None
    )
    is_enabled = account.get("charges_enabled") is True and account.get("payouts_enabled") is True
    if is_enabled and not disabled_reason:
        return PayoutStatus.ENABLED.value
    if account.get("details_submitted") is not True:
        return PayoutStatus.PENDING.value
    if disabled_reason in _UNDER_VERIFICATION:
        return PayoutStatus.PENDING.value
    return PayoutStatus.RESTRICTED.value

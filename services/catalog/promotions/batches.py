"""Single-use codes generated in bulk for a promotion (issue 17).

A promotion marked `single_use_codes` has no code of its own and never applies by
itself; each code generated for it is a promotion of its own (`batch_source` names the
first) with a usage limit of one, so the CHECK that keeps every promotion within its
limit (ADR 32) is what makes a code usable once, whatever the concurrency. The codes'
terms are copied from their promotion when generated and again whenever it is saved
(`batch_terms_sync`); their scope (products, categories) is read from it at pricing.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterator

from django.db import IntegrityError, transaction

from promotions.models import Promotion

MAX_CODES_PER_BATCH = 1000
MAX_CODES_PER_PROMOTION = 20_000
# No 0/O, 1/I: codes are read off screens and typed by hand.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_RANDOM_LENGTH = 10
# Copied from the promotion to its codes (never the code, limits or counters).
COPIED_TERMS = (
    "merchant_id",
    "name",
    "kind",
    "percent_off",
    "amount_off",
    "applies_to",
    "minimum_spend_amount",
    "starts_at",
    "ends_at",
    "per_customer_limit",
)


def _code(prefix: str) -> str:
    random_part = "".join(secrets.choice(_ALPHABET) for _ in range(_RANDOM_LENGTH))
    return f"{prefix}-{random_part}" if prefix else random_part


def single_use_codes_generate(*, promotion: Promotion, count: int, prefix: str = "") -> int:
    """Generate `count` (1 to 1,000; at most 20,000 per promotion) single-use codes for
    a `single_use_codes` promotion, `PREFIX-XXXXXXXXXX` (10 random characters). Returns
    how many were made; ValueError naming what is wrong. Under the promotion's row lock,
    so two generations of one promotion never pass its bound together."""
    if not promotion.single_use_codes:
        raise ValueError("Codes are generated only for a promotion marked for single-use codes.")
    if not 1 <= count <= MAX_CODES_PER_BATCH:
        raise ValueError(f"From 1 to {MAX_CODES_PER_BATCH} codes at a time.")
    prefix = prefix.strip().upper()
    if len(prefix) > 20 or not all(char.isascii() and char.isalnum() for char in prefix):
        raise ValueError("A prefix is up to 20 letters and digits.")
    with transaction.atomic():
        Promotion.objects.select_for_update().filter(id=promotion.id).get()
        existing = Promotion.objects.filter(batch_source=promotion).count()
        if existing + count > MAX_CODES_PER_PROMOTION:
            raise ValueError(
                f"At most {MAX_CODES_PER_PROMOTION} codes per promotion ({existing} already)."
            )
        terms = {name: getattr(promotion, name) for name in COPIED_TERMS}
        for _ in range(3):  # a collision with a code already on the platform: draw again
            codes = {_code(prefix) for _ in range(count)}
            taken = set(Promotion.objects.filter(code__in=codes).values_list("code", flat=True))
            fresh = [code for code in codes if code not in taken]
            if len(fresh) < count:
                continue
            try:
                with transaction.atomic():
                    Promotion.objects.bulk_create(
                        [
                            Promotion(**terms, code=code, usage_limit=1, batch_source=promotion)
                            for code in fresh
                        ]
                    )
            except IntegrityError:  # a code made meanwhile by another writer
                continue
            return count
    raise ValueError("Could not draw unique codes; try again.")


def batch_terms_sync(*, promotion: Promotion) -> int:
    """Copy the promotion's terms to the codes generated for it (after an edit); never
    their code, usage limit or counters. Returns the codes updated."""
    if not promotion.single_use_codes:
        return 0
    terms = {name: getattr(promotion, name) for name in COPIED_TERMS}
    return Promotion.objects.filter(batch_source=promotion).update(**terms)


def single_use_codes_csv(*, promotion: Promotion) -> Iterator[str]:
    """The promotion's generated codes as CSV lines: code, status (unused, held by an
    open checkout, used), generated at."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(["code", "status", "generated_at"])
    yield flush()
    codes = (
        Promotion.objects.filter(batch_source=promotion)
        .order_by("created_at", "code")
        .values_list("code", "uses_reserved", "uses_consumed", "created_at")
    )
    for code, reserved, consumed, created_at in codes.iterator(chunk_size=2000):
        status = "used" if consumed else "held" if reserved else "unused"
        writer.writerow([code, status, created_at.isoformat()])
        yield flush()

"""Usage of promotions, moved with a stock reservation (ADR 32): held when the stock is
reserved, consumed when it is committed (paid), given back when it is released or
expires. Always inside the reservation's transaction, after its variants are locked;
promotions are then locked in id order, so two checkouts never deadlock on them.

The counters move by deltas in SQL; the CHECK constraints on `Promotion` and
`PromotionCustomerUse` are the last word on a limit, as stock's are (ADR 4).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from clipcart_shared.errors import ApplicationError
from core.errors import CatalogErrorCode
from merchants.models import Merchant
from promotions.models import CreatorCodeRequest, Promotion, PromotionCustomerUse


def promotions_lock(*, promotion_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Promotion]:
    """Lock the promotions' rows in id order (inside a transaction)."""
    locked = Promotion.objects.select_for_update().filter(id__in=set(promotion_ids)).order_by("id")
    return {promotion.id: promotion for promotion in locked}


def _refused(code: CatalogErrorCode, promotion: Promotion, message: str) -> ApplicationError:
    return ApplicationError(
        code,
        message,
        status=409,
        errors=[{"field": "promotions", "code": code.value, "message": str(promotion.id)}],
        extra={"promotion_id": str(promotion.id), "promotion_code": promotion.code},
    )


def _running_check(promotion: Promotion, now: datetime) -> None:
    if promotion.starts_at > now:
        raise _refused(
            CatalogErrorCode.PROMOTION_NOT_STARTED, promotion, "This promotion has not started."
        )
    if promotion.ends_at is not None and promotion.ends_at <= now:
        raise _refused(CatalogErrorCode.PROMOTION_EXPIRED, promotion, "This promotion has ended.")


def promotion_uses_hold(
    *,
    promotion_ids: Iterable[uuid.UUID],
    customer_id: str | None,
    consumed: bool = False,
    now: datetime | None = None,
) -> None:
    """Take one use of each promotion for `customer_id`: reserved (or, with `consumed`,
    consumed at once: an expired reservation paid after all). 409 `promotion_exhausted`
    when no use is left, `promotion_already_used` when the buyer holds their limit,
    `promotion_expired` / `promotion_not_started` when it is not running (not asked of
    a late payment, `consumed`: its price was agreed while it ran); 422
    `promotion_unknown` for an id that does not exist."""
    ids = sorted(set(promotion_ids))
    if not ids:
        return
    now = now or timezone.now()
    locked = promotions_lock(promotion_ids=ids)
    for promotion_id in ids:
        if promotion_id not in locked:
            raise ApplicationError(
                CatalogErrorCode.PROMOTION_UNKNOWN, "No such promotion.", status=422
            )
        promotion = locked[promotion_id]
        if not consumed:
            _running_check(promotion, now)
        if promotion.uses_left == 0:
            raise _refused(
                CatalogErrorCode.PROMOTION_EXHAUSTED, promotion, "This promotion is used up."
            )
    _customer_uses_take(
        [locked[p] for p in ids if locked[p].per_customer_limit is not None], customer_id
    )
    counter = "uses_consumed" if consumed else "uses_reserved"
    try:
        with transaction.atomic():
            Promotion.objects.filter(id__in=ids).update(**{counter: F(counter) + 1})
    except IntegrityError as error:  # the CHECK: only if the checks above were wrong
        raise _refused(
            CatalogErrorCode.PROMOTION_EXHAUSTED, locked[ids[0]], "A promotion is used up."
        ) from error


def _customer_uses_take(promotions: list[Promotion], customer_id: str | None) -> None:
    """One use of each per-buyer limited promotion for the buyer: their uses read, then
    one upsert for all (three statements whatever the promotions; the CHECK
    `promotion_customer_within_limit` has the last word)."""
    if not promotions:
        return
    if customer_id is None:
        raise _refused(
            CatalogErrorCode.PROMOTION_ALREADY_USED,
            promotions[0],
            "This promotion is limited per buyer; the buyer is not known.",
        )
    held = dict(
        PromotionCustomerUse.objects.filter(
            customer_id=customer_id, promotion_id__in=[p.id for p in promotions]
        ).values_list("promotion_id", "uses_held")
    )
    for promotion in promotions:
        if held.get(promotion.id, 0) >= (promotion.per_customer_limit or 0):
            raise _refused(
                CatalogErrorCode.PROMOTION_ALREADY_USED,
                promotion,
                "The buyer has already used this promotion as often as it allows.",
            )
    table = PromotionCustomerUse._meta.db_table
    rows = ", ".join(["(%s, %s, 1, %s)"] * len(promotions))
    values = [value for p in promotions for value in (p.id, customer_id, p.per_customer_limit)]
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table} (promotion_id, customer_id, uses_held, use_limit)
                    VALUES {rows}
                    ON CONFLICT (promotion_id, customer_id) DO UPDATE
                    SET uses_held = {table}.uses_held + 1, use_limit = EXCLUDED.use_limit""",
                values,
            )
    except IntegrityError as error:  # only if the read above was beaten by a race
        raise _refused(
            CatalogErrorCode.PROMOTION_ALREADY_USED,
            promotions[0],
            "The buyer has already used this promotion as often as it allows.",
        ) from error


def promotion_uses_consume(*, promotion_ids: Iterable[uuid.UUID]) -> None:
    """The reservation holding these uses was paid: reserved uses become consumed."""
    ids = sorted(set(promotion_ids))
    if not ids:
        return
    promotions_lock(promotion_ids=ids)
    Promotion.objects.filter(id__in=ids).update(
        uses_reserved=F("uses_reserved") - 1, uses_consumed=F("uses_consumed") + 1
    )


def promotion_uses_give_back(
    *, promotion_ids: Iterable[uuid.UUID], customer_id: str | None
) -> None:
    """The reservation holding these uses was released or expired: the uses come back,
    to the promotion and to the buyer."""
    ids = sorted(set(promotion_ids))
    if not ids:
        return
    promotions_lock(promotion_ids=ids)
    Promotion.objects.filter(id__in=ids).update(uses_reserved=F("uses_reserved") - 1)
    if customer_id is not None:
        PromotionCustomerUse.objects.filter(
            promotion_id__in=ids, customer_id=customer_id, uses_held__gt=0
        ).update(uses_held=F("uses_held") - 1)


def creator_code_request_create(
    *, merchant_id: uuid.UUID, creator_id: uuid.UUID, creator_handle: str, code: str, message: str
) -> tuple[CreatorCodeRequest, bool]:
    """A creator asks a merchant for a code (sent by video, which knows the creator). One
    open request per creator and merchant: asking again updates it (created False). 404
    `merchant_not_found` for a merchant catalog does not have."""
    if not Merchant.objects.filter(id=merchant_id).exists():
        raise ApplicationError(
            CatalogErrorCode.MERCHANT_NOT_FOUND, "There is no such merchant.", status=404
        )
    values = {"creator_handle": creator_handle, "code": code, "message": message}
    with transaction.atomic():
        request, created = CreatorCodeRequest.objects.select_for_update().get_or_create(
            merchant_id=merchant_id,
            creator_id=creator_id,
            status=CreatorCodeRequest.Status.OPEN,
            defaults=values,
        )
        if not created:
            for name, value in values.items():
                setattr(request, name, value)
            request.save(update_fields=list(values))
    return request, created

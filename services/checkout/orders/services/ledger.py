"""What an order's money events post to the ledger (`payments.ledger`), in the
transaction of the change, under the order's lock: the capture (the order paid), each
refund, and — from `orders.services.transfers` — each merchant part's settlement, the
commission clawed back for a refund after it (`orders.services.refund_clawbacks`) and
its reversals (a batch's transfers: `payments.ledger.batch_transfers_post`). Each is
posted once (its source key)."""

from __future__ import annotations

import uuid

from clipcart_shared.money import allocate
from orders.models import Order, OrderLine, Refund
from payments.ledger import Posting, entry_post
from payments.models import (
    LedgerAccount,
    LedgerEntry,
    MerchantTransfer,
    SettledPartRefund,
    TransferReversal,
)

Account = LedgerAccount


def merchant_parts(order: Order, lines: list[OrderLine]) -> dict[uuid.UUID, tuple[int, int]]:
    """{merchant: (its lines' totals, its share of the order's shipping)}: the order keeps
    shipping as one sum, shared in proportion to the lines' totals (largest remainder),
    as returns refund it (`orders.services.returns`)."""
    totals: dict[uuid.UUID, int] = {}
    for line in lines:
        totals[line.merchant_id] = totals.get(line.merchant_id, 0) + line.line_total_amount
    merchants = sorted(totals)
    weights = [totals[merchant] for merchant in merchants]
    if not any(weights):
        weights = [1] * len(merchants)
    shipping = allocate(order.shipping_amount, weights)
    return {
        merchant: (totals[merchant], share)
        for merchant, share in zip(merchants, shipping, strict=True)
    }


def order_capture_post(order: Order) -> None:
    """The buyer's payment: the platform's cash grows by the total, each merchant is owed
    its lines and shipping until its part settles. Posted once, whether from the payment
    or from a refund of a payment never applied (a paid order cancelled for stock gone)."""
    parts = merchant_parts(order, list(order.lines.all()))
    entry_post(
        kind=LedgerEntry.Kind.ORDER_PAID,
        source_key=f"order_paid:{order.id}",
        order_id=order.id,
        currency=order.currency,
        postings=[
            Posting(Account.PLATFORM_CASH, order.total_amount),
            *(
                Posting(Account.MERCHANT_PENDING, -(lines + shipping), merchant)
                for merchant, (lines, shipping) in parts.items()
            ),
        ],
        memo="order paid",
    )


def refund_merchant_shares(order: Order, refund: Refund) -> dict[uuid.UUID, int]:
    """{merchant: its share of the refund}: its lines' shares, and of the rest (shipping)
    a part in proportion to each merchant's share of shipping."""
    lines = list(order.lines.all())
    merchant_of = {str(line.id): line.merchant_id for line in lines}
    parts = merchant_parts(order, lines)
    shares = dict.fromkeys(parts, 0)
    for line_id, amount in refund.lines.items():
        shares[merchant_of[line_id]] += int(amount)
    rest = refund.amount - sum(shares.values())
    if rest > 0:
        merchants = sorted(parts)
        weights = [parts[merchant][1] for merchant in merchants]
        if not any(weights):
            weights = [parts[merchant][0] or 1 for merchant in merchants]
        for merchant, share in zip(merchants, allocate(rest, weights), strict=True):
            shares[merchant] += share
    return {merchant: share for merchant, share in shares.items() if share}


def fee_of(amount: int, rate_bps: int) -> int:
    """`rate_bps` of `amount`, rounded half up to a whole minor unit, never more than it."""
    return min((amount * rate_bps + 5_000) // 10_000, amount)


def refund_fee_part(transfer: MerchantTransfer, share: int) -> int:
    """The fee a refund of `share` after settlement gives back: the fee on what was left
    of the part before it less the fee on what is left after (ADR 38), so that the
    refunds of a whole part give back exactly its fee, whatever their rounding."""
    earlier = sum(row.share_amount for row in transfer.refunds_after.all())
    left = max(transfer.gross_amount - earlier, 0)
    after = max(left - share, 0)
    return fee_of(left, transfer.fee_rate_bps) - fee_of(after, transfer.fee_rate_bps)


def refund_post(order: Order, refund: Refund) -> None:
    """A succeeded refund, in its transaction (the order locked): the cash goes back; a
    merchant part not settled yet is owed that much less. A part already settled gives
    back the platform's fee at once (`refund_fee_part`) and the rest from the merchant's
    payable; the creators' commission video claws back for the refund is taken back
    later, once video has applied it (`commission_clawback_post`, ADR 38): only then is
    the merchant's share known and taken from its transfer. Posted once."""
    if LedgerEntry.objects.filter(source_key=f"refund:{refund.id}").exists():
        return
    order_capture_post(order)
    postings = [Posting(Account.PLATFORM_CASH, -refund.amount)]
    transfers = {
        transfer.merchant_id: transfer
        for transfer in MerchantTransfer.objects.select_for_update().filter(order_id=order.id)
    }
    for merchant, share in refund_merchant_shares(order, refund).items():
        transfer = transfers.get(merchant)
        if transfer is None:
            postings.append(Posting(Account.MERCHANT_PENDING, share, merchant))
            continue
        fee_part = refund_fee_part(transfer, share)
        postings += [
            Posting(Account.MERCHANT_PAYABLE, share - fee_part, merchant),
            Posting(Account.PLATFORM_FEE_REVENUE, fee_part),
        ]
        SettledPartRefund.objects.create(
            transfer=transfer, refund_id=refund.id, share_amount=share, fee_amount=fee_part
        )
    entry_post(
        kind=LedgerEntry.Kind.REFUND,
        source_key=f"refund:{refund.id}",
        order_id=order.id,
        currency=order.currency,
        postings=postings,
        memo=refund.reason or "refund",
    )


def commission_clawback_post(row: SettledPartRefund, transfer: MerchantTransfer) -> None:
    """Video applied the refund of a settled part: the commission it clawed back for it
    (`row.commission_amount`) is no longer owed to creators but to the merchant, and the
    merchant's share of the refund — share less fee less that commission — is taken from
    its transfer. The caller holds the order's lock and the row's."""
    clawed = row.commission_amount or 0
    entry_post(
        kind=LedgerEntry.Kind.COMMISSION_CLAWBACK,
        source_key=f"clawback:{row.refund_id}:{transfer.merchant_id}",
        order_id=transfer.order_id,
        currency=transfer.currency,
        postings=[
            Posting(Account.CREATOR_COMMISSION_PAYABLE, clawed, transfer.merchant_id),
            Posting(Account.MERCHANT_PAYABLE, -clawed, transfer.merchant_id),
        ],
        memo="commission clawed back for a refund",
    )
    _take_back(transfer, row.refund_id, row.share_amount - row.fee_amount - clawed)


def _take_back(transfer: MerchantTransfer, refund_id: uuid.UUID, amount: int) -> None:
    """The merchant's share of a refund after settlement: less to send while its transfer
    waits; a reversal (sent by the transfer sweep) once it is being sent or was sent."""
    if amount <= 0:
        return
    if transfer.status == MerchantTransfer.Status.WAITING:
        transfer.amount -= min(amount, transfer.amount)
        if transfer.amount == 0:
            transfer.status = MerchantTransfer.Status.NOTHING
        transfer.save(update_fields=["amount", "status"])
        return
    if transfer.status == MerchantTransfer.Status.NOTHING:
        return
    reserved = sum(reversal.amount for reversal in transfer.reversals.all())
    amount = min(amount, transfer.amount - reserved)
    if amount > 0:
        TransferReversal.objects.create(transfer=transfer, refund_id=refund_id, amount=amount)


def settlement_post(transfer: MerchantTransfer) -> None:
    """The merchant's part settled: what it was owed pending is now the platform's fee,
    the creators' commission and the rest payable to the merchant."""
    entry_post(
        kind=LedgerEntry.Kind.SETTLEMENT,
        source_key=f"settlement:{transfer.order_id}:{transfer.merchant_id}",
        order_id=transfer.order_id,
        currency=transfer.currency,
        postings=[
            Posting(Account.MERCHANT_PENDING, transfer.gross_amount, transfer.merchant_id),
            Posting(Account.MERCHANT_PAYABLE, -transfer.amount, transfer.merchant_id),
            Posting(Account.PLATFORM_FEE_REVENUE, -transfer.fee_amount),
            Posting(
                Account.CREATOR_COMMISSION_PAYABLE,
                -transfer.commission_amount,
                transfer.merchant_id,
            ),
        ],
        memo="merchant part settled",
    )


def reversal_post(reversal: TransferReversal) -> None:
    """A reversal came back from the merchant's account into the platform's cash."""
    transfer = reversal.transfer
    entry_post(
        kind=LedgerEntry.Kind.TRANSFER_REVERSAL,
        source_key=f"reversal:{reversal.id}",
        order_id=transfer.order_id,
        currency=transfer.currency,
        postings=[
            Posting(Account.PLATFORM_CASH, reversal.amount),
            Posting(Account.MERCHANT_PAYABLE, -reversal.amount, transfer.merchant_id),
        ],
        memo=f"reversal {reversal.stripe_reversal_id}",
    )

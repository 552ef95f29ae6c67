"""The admin's side of money out (ADR 30): merchant transfers scoped per merchant like
the other admins, under each merchant's balance and exported as CSV; the ledger for
platform staff only and read-only, and the audit on the home."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from orders.admin.home import ledger_panel
from payments.ledger import Posting, entry_post
from payments.models import LedgerAccount, LedgerEntry, MerchantTransfer
from tests.admin.conftest import ADMIN

pytestmark = pytest.mark.django_db
TRANSFERS = f"{ADMIN}/payments/merchanttransfer/"
LEDGER = f"{ADMIN}/payments/ledgerentry/"


def _transfer(merchant_id: uuid.UUID) -> MerchantTransfer:
    return MerchantTransfer.objects.create(
        order_id=uuid.uuid4(),
        merchant_id=merchant_id,
        currency="EUR",
        gross_amount=1_000,
        fee_rate_bps=500,
        fee_amount=50,
        commission_amount=100,
        amount=850,
    )


def test_merchant_staff_see_their_transfers_only_and_not_the_ledger(
    staff_client, merchant_a, merchant_b
):
    mine, theirs = _transfer(merchant_a), _transfer(merchant_b)

    listed = staff_client.get(TRANSFERS)
    other = staff_client.get(f"{TRANSFERS}{theirs.id}/change/")
    ledger = staff_client.get(LEDGER)

    assert listed.status_code == 200
    assert [row.id for row in listed.context["cl"].result_list] == [mine.id]
    assert other.status_code == 404
    assert ledger.status_code == 403
    assert staff_client.post(f"{TRANSFERS}{mine.id}/delete/").status_code == 403


def test_platform_staff_read_the_ledger_and_the_home_shows_it_balanced(superuser_client):
    entry = entry_post(
        kind=LedgerEntry.Kind.REFUND,
        source_key="test:one",
        currency="EUR",
        postings=[
            Posting(LedgerAccount.PLATFORM_CASH, 250),
            Posting(LedgerAccount.PLATFORM_FEE_REVENUE, -250),
        ],
    )
    assert entry is not None
    _transfer(uuid.uuid4())

    listed = superuser_client.get(LEDGER)
    page = superuser_client.get(f"{LEDGER}{entry.id}/change/")
    panel = ledger_panel()

    assert [row.id for row in listed.context["cl"].result_list] == [entry.id]
    assert page.status_code == 200
    assert "platform_cash" in page.content.decode()
    assert superuser_client.post(f"{LEDGER}{entry.id}/delete/").status_code == 403
    figures = {figure.label: figure for figure in panel.figures}
    assert figures["Ledger audit"].value == "balanced"
    assert figures["Ledger audit"].hint.startswith("sum of postings per currency: €0.00")
    assert figures["Transfers waiting"].value == "1"
    waiting = superuser_client.get(figures["Transfers waiting"].url)
    assert waiting.context["cl"].result_count == 1


def _owed(merchant_id: uuid.UUID, key: str, *, pending: int, payable: int) -> None:
    """What the ledger owes a merchant: `pending` for a paid part, `payable` settled."""
    entry_post(
        kind=LedgerEntry.Kind.ORDER_PAID,
        source_key=f"test:{key}",
        currency="EUR",
        postings=[
            Posting(LedgerAccount.PLATFORM_CASH, pending + payable),
            Posting(LedgerAccount.MERCHANT_PENDING, -pending, merchant_id),
            Posting(LedgerAccount.MERCHANT_PAYABLE, -payable, merchant_id),
        ],
    )


def test_merchant_staff_see_their_balance_upcoming_and_past_transfers(
    staff_client, merchant_a, merchant_b
):
    _owed(merchant_a, "a", pending=4_000, payable=850)
    _owed(merchant_b, "b", pending=9_999, payable=0)
    _transfer(merchant_a)  # waiting: the upcoming transfer
    sent = _transfer(merchant_a)
    MerchantTransfer.objects.filter(id=sent.id).update(status="sent", reversed_amount=50)

    page = staff_client.get(TRANSFERS)

    assert page.status_code == 200
    [balance] = page.context["balances"]
    assert balance["merchant_id"] == merchant_a
    assert (balance["pending"], balance["payable"], balance["upcoming"]) == (
        "€40.00",
        "€8.50",
        "€8.50",
    )
    assert (balance["upcoming_count"], balance["transferred"]) == (1, "€8.00")
    text = page.content.decode()
    assert "merchant-balances" in text and "€40.00" in text and "€99.99" not in text


def test_merchant_staff_export_their_transfers_as_csv_with_the_filters(
    staff_client, merchant_a, merchant_b
):
    waiting, theirs = _transfer(merchant_a), _transfer(merchant_b)
    sent = _transfer(merchant_a)
    MerchantTransfer.objects.filter(id=sent.id).update(status="sent", stripe_transfer_id="tr_1")

    listed = staff_client.get(TRANSFERS, {"status__exact": "sent"})
    every = staff_client.get(f"{TRANSFERS}export/")
    only_sent = staff_client.get(f"{TRANSFERS}export/", {"status__exact": "sent"})

    assert f'href="{TRANSFERS}export/?status__exact=sent"' in listed.content.decode()
    assert every.status_code == 200
    assert every["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(every.content.decode())))
    assert {row["order_id"] for row in rows} == {str(waiting.order_id), str(sent.order_id)}
    assert str(theirs.order_id) not in every.content.decode()
    [row] = list(csv.DictReader(io.StringIO(only_sent.content.decode())))
    assert (row["status"], row["amount"], row["stripe_transfer_id"]) == ("sent", "850", "tr_1")

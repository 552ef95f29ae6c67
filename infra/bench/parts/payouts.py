"""Payouts part: bench_payouts.py seeds settled sales and times the creators' payout
batch against a plain SQL aggregation of the same payables, with the emulator running."""

from __future__ import annotations

import argparse
import io
import math
import subprocess
import sys
import time

from harness.processes import stripe_emulator
from harness.setup import (
    MERCHANT_PAYOUTS,
    PAYOUTS,
    BenchError,
    bench_environment,
    ensure_database,
    log_tail,
    migrate_and_seed,
)

PAYOUTS_RATIO_AIM = 5.0  # payout batch / plain-SQL aggregation, at most
STRIPE_KEY = "sk_test_clipcart_bench"


def run_payouts(arguments: argparse.Namespace) -> int:
    began = time.monotonic()
    emulator_log = io.StringIO()
    try:
        with stripe_emulator(emulator_log) as stripe_url:
            environment = bench_environment(PAYOUTS) | {
                "STRIPE_API_BASE": stripe_url,
                "STRIPE_SECRET_KEY": STRIPE_KEY,
            }
            ensure_database(environment["DATABASE_URL"], PAYOUTS.database)
            print(f"bench: migrating and seeding {PAYOUTS.database} …", flush=True)
            answer = migrate_and_seed(PAYOUTS, environment)
            merchant_environment = bench_environment(MERCHANT_PAYOUTS) | {
                "STRIPE_API_BASE": stripe_url,
                "STRIPE_SECRET_KEY": STRIPE_KEY,
            }
            ensure_database(merchant_environment["DATABASE_URL"], MERCHANT_PAYOUTS.database)
            print(f"bench: migrating and seeding {MERCHANT_PAYOUTS.database} …", flush=True)
            merchants = migrate_and_seed(MERCHANT_PAYOUTS, merchant_environment)
    except (BenchError, subprocess.CalledProcessError) as error:
        print(f"bench: setup failed: {error}", file=sys.stderr)
        if emulator_log.getvalue():
            print(f"  emulator's log:\n{log_tail(emulator_log.getvalue())}", file=sys.stderr)
        return 2
    floor, ours = answer["floor_seconds"], answer["payout_seconds"]
    ratio = ours / floor if floor else math.nan
    print(
        f"payouts: {answer['orders']:,} orders ({answer['lines']:,} lines) of "
        f"{answer['merchants']} merchants, {answer['creators']} creators: settle and pay "
        f"{ours:.2f} s ({answer['balance_entries']:,} balance entries, "
        f"{answer['payouts_sent']} payouts) | plain-SQL payables {floor:.2f} s | "
        f"ratio payouts/SQL {ratio:.1f}x (aim: at most {PAYOUTS_RATIO_AIM:.0f}x)"
    )
    steps = answer["steps"]
    print(
        f"  of which: freeze (settled lines and balance entries) {steps['freeze']:.2f} s, "
        f"payouts written {steps['make']:.2f} s, sent to Stripe {steps['send']:.2f} s"
    )
    print(
        f"stripe calls: {answer['stripe_calls']} ({', '.join(answer['stripe_operations'])}) "
        f"for {answer['creators']} creator accounts in one batch (aim: one per account) | "
        f"payouts equal the SQL sums: {answer['payouts_equal_floor']} | transfers on the "
        f"emulator: {answer['transfers_on_emulator']}, amounts match: "
        f"{answer['transfers_match']} | took {time.monotonic() - began:.0f} s"
    )
    problems = []
    if not answer["payouts_equal_floor"] or answer["floor_creators"] != answer["creators"]:
        problems.append("the payouts differ from the plain-SQL payables")
    if not answer["transfers_match"]:
        problems.append("the emulator's transfers differ from the payouts")
    if answer["stripe_calls"] != answer["creators"]:
        problems.append(f"{answer['stripe_calls']} Stripe calls for {answer['creators']} accounts")
    problems += merchants_report(merchants)
    both = ours + merchants["pay_seconds"]
    both_floor = floor + merchants["floor_seconds"]
    both_ratio = both / both_floor if both_floor else math.nan
    print(
        f"payouts, merchants and creators: {both:.2f} s | plain-SQL payables "
        f"{both_floor:.2f} s | ratio {both_ratio:.1f}x (aim: at most {PAYOUTS_RATIO_AIM:.0f}x) "
        f"| Stripe calls {answer['stripe_calls'] + merchants['stripe_calls']} for "
        f"{answer['creators'] + merchants['merchants']} accounts in one batch each"
    )
    for problem in problems:
        print(f"bench: FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def merchants_report(answer: dict) -> list[str]:
    """Print the merchants' batch figures; what falls short."""
    floor, ours = answer["floor_seconds"], answer["pay_seconds"]
    ratio = ours / floor if floor else math.nan
    print(
        f"merchant payouts: {answer['parts']:,} settled parts ({answer['orders']:,} orders) of "
        f"{answer['merchants']} merchants: batches {ours:.2f} s ({answer['batches_sent']} "
        f"transfers) | plain-SQL payables {floor:.3f} s | ratio {ratio:.1f}x | stripe calls: "
        f"{answer['stripe_calls']} ({', '.join(answer['stripe_operations'])}) for "
        f"{answer['merchants']} merchant accounts (aim: one per account) | batches equal the "
        f"SQL sums: {answer['batches_equal_floor']} | transfers match: "
        f"{answer['transfers_match']} | ledger balanced: {answer['ledger_balanced']}"
    )
    problems = []
    if not answer["batches_equal_floor"]:
        problems.append("the merchant batches differ from the plain-SQL payables")
    if not answer["transfers_match"]:
        problems.append("the emulator's transfers differ from the merchant batches")
    if answer["stripe_calls"] != answer["merchants"]:
        problems.append(
            f"{answer['stripe_calls']} Stripe calls for {answer['merchants']} merchants"
        )
    if not answer["ledger_balanced"] or answer["payables_left"] != [0]:
        problems.append(f"the ledger after the batches: payables left {answer['payables_left']}")
    return problems

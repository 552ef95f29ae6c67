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
    for problem in problems:
        print(f"bench: FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0

"""Processes that heal (issue 13): under the supervisor `make run` uses, a worker whose pool
processes are killed or hang is noticed by its liveness check and replaced, and a worker
killed outright is started again — each time the payment made meanwhile ends paid, once."""

from __future__ import annotations

import signal
import time

import psutil
import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.test_journey import _checkout

pytestmark = pytest.mark.e2e

PAID_WITHIN_SECONDS = 60
# A hung pool is found by two missed round trips, then the worker stopped (SIGKILL after
# its grace period) and started again: more than a crash takes.
HUNG_PAID_WITHIN_SECONDS = 120


def _pool_children(stack: RunningStack, worker: str) -> list[psutil.Process]:
    """The pool processes of a Celery worker (named by setproctitle), not its embedded beat."""
    main = psutil.Process(stack.stack.pid(worker))
    return [child for child in main.children() if "ForkPoolWorker" in " ".join(child.cmdline())]


def _signal_pool(stack: RunningStack, worker: str, signum: int) -> None:
    journey = stack.journey()
    journey.wait(f"the {worker}'s pool", lambda: len(_pool_children(stack, worker)) == 2)
    for child in _pool_children(stack, worker):
        child.send_signal(signum)


def _paid_events(stack: RunningStack, order_id: str) -> list[tuple[int]]:
    return stack.query(
        "checkout",
        "SELECT count(*) FROM outbox_outboxevent WHERE type = 'order.paid' AND subject = %s",
        order_id,
    )


def test_a_worker_whose_pool_processes_are_killed_is_replaced_and_the_order_still_paid(
    stack: RunningStack,
):
    journey = stack.journey()
    _signal_pool(stack, "checkout-worker", signal.SIGKILL)
    time.sleep(3)

    user = "e2e-killed-pool"
    checkout = _checkout(journey, user)
    order_id = checkout["order"]["id"]
    paid_at = time.monotonic()
    assert journey.pay(checkout) == "succeeded"

    journey.wait_for_status(user, order_id, "paid", timeout=PAID_WITHIN_SECONDS)
    assert time.monotonic() - paid_at < PAID_WITHIN_SECONDS
    assert _paid_events(stack, order_id) == [(1,)]
    # Whether the pool healed itself or the watchdog replaced the worker, it takes tasks:
    # the next payment is applied too.
    second = _checkout(journey, f"{user}-2")
    assert journey.pay(second) == "succeeded"
    journey.wait_for_status(f"{user}-2", second["order"]["id"], "paid", timeout=30)
    assert stack.stack.state("checkout-worker") == "RUNNING"


def test_a_worker_whose_pool_hangs_is_restarted_by_its_liveness_check(stack: RunningStack):
    # Stopped (SIGSTOP) pool processes are alive, so the worker's main process neither
    # replaces them nor exits: only a round trip through the pool finds it hung.
    hung = stack.stack.pid("checkout-worker")
    _signal_pool(stack, "checkout-worker", signal.SIGSTOP)
    journey = stack.journey()
    user = "e2e-hung-pool"
    checkout = _checkout(journey, user)
    order_id = checkout["order"]["id"]
    paid_at = time.monotonic()
    assert journey.pay(checkout) == "succeeded"

    journey.wait_for_status(user, order_id, "paid", timeout=HUNG_PAID_WITHIN_SECONDS)
    assert time.monotonic() - paid_at < HUNG_PAID_WITHIN_SECONDS
    assert _paid_events(stack, order_id) == [(1,)]
    assert stack.stack.pid("checkout-worker") != hung
    assert "restarting checkout-worker" in stack.stack.log("liveness", 200)


def test_a_worker_killed_outright_is_started_again_and_the_order_paid(stack: RunningStack):
    journey = stack.journey()
    killed = stack.stack.kill("checkout-worker")
    user = "e2e-killed-outright"
    checkout = _checkout(journey, user)
    order_id = checkout["order"]["id"]
    assert journey.pay(checkout) == "succeeded"

    journey.wait(
        "the supervisor to start the worker again",
        lambda: (
            stack.stack.state("checkout-worker") == "RUNNING"
            and stack.stack.pid("checkout-worker") != killed
        ),
        timeout=30,
    )
    journey.wait_for_status(user, order_id, "paid", timeout=PAID_WITHIN_SECONDS)
    assert _paid_events(stack, order_id) == [(1,)]
    assert "checkout-worker" in stack.stack.log("supervisord", 200)

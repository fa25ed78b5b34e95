"""Races against the bid task's claim, 200 randomized runs each.

The real functions race in two threads on the real store (moto DynamoDB):
``workflows.scheduling.cancel_snipe`` / ``edit_snipe`` against
``workflows.bidding._claim``, each starting after a random delay behind a
barrier. eBay (Browse, for a max-bid check) and Step Functions are the fakes
of ``tests/support/api.py``; the random delays are seeded.

DynamoDB applies each conditional write atomically per item; moto evaluates
the condition and applies the update in several Python steps, so the writes
are serialized here with a lock (the guarantee the code relies on, not a
change to what is raced).

Invariants:

* cancel vs claim: exactly one wins, every time; never a claim (so never a
  bid) after an acknowledged cancel, and the stored status says who won;
* edit vs claim: the claim returns a max bid that is exactly the old or the
  new one, never a mix; an acknowledged edit is always the one the claim (or,
  after an offset change, the successor's claim) reads; a refused edit
  (409 SNIPE_ALREADY_BIDDING) leaves the old max bid claimed.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from moto.dynamodb.models import DynamoDBBackend

from tests.support.api import ITEM_ID, START, Env
from tests.support.snipes import make_snipe
from workflows import scheduling
from workflows.bidding import PlaceBidInput, _claim
from workflows.errors import DomainError, SnipeNotActive
from workflows.models import Identity, Snipe, SnipeStatus
from workflows.money import Money
from workflows.scheduling import EditSnipeRequest, new_snipe_id

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

RUNS = 200
IDENTITY = Identity(user_id="user-a", email="a@example.com")
OLD_MAX = Money(amount_minor=25000, currency="USD")
END = START + timedelta(hours=1)


@pytest.fixture(autouse=True)
def atomic_item_writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    lock = threading.Lock()
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(
            self: Any, *args: Any, __original: Callable[..., Any] = original, **kw: Any
        ) -> Any:
            with lock:
                return __original(self, *args, **kw)

        monkeypatch.setattr(DynamoDBBackend, name, locked)
    yield


# Seeded per test (by its name): a failing run's delays come back on the next.
_rng = random.Random()


@pytest.fixture(autouse=True)
def _seeded(request: pytest.FixtureRequest) -> None:
    _rng.seed(request.node.name)


def race(
    first: Callable[[], Any], second: Callable[[], Any], spread: tuple[float, float]
) -> tuple[Any, Any, float, float]:
    """Run both after a shared barrier and random delays (seconds, up to
    ``spread``); returns their results (or exceptions) and completion times."""
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]
    done = [0.0, 0.0]

    def run(index: int, fn: Callable[[], Any], delay: float) -> None:
        barrier.wait()
        time.sleep(delay)
        try:
            results[index] = fn()
        except Exception as exc:  # the loser's refusal is an outcome too
            results[index] = exc
        done[index] = time.monotonic()

    threads = [
        threading.Thread(target=run, args=(0, first, _rng.uniform(0, spread[0]))),
        threading.Thread(target=run, args=(1, second, _rng.uniform(0, spread[1]))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results[0], results[1], done[0], done[1]


def scheduled(env: Env) -> str:
    """A SCHEDULED snipe of user-a, stored as create_snipe stores it."""
    env.clock.advance(0.001)
    snipe_id = new_snipe_id(env.clock.now)
    env.store.create(
        make_snipe(
            snipe_id=snipe_id,
            user_id=IDENTITY.user_id,
            user_email=IDENTITY.email,
            item_id=ITEM_ID,
            end_at=END,
            max_bid=OLD_MAX,
            created_at=env.clock.now,
            execution_name=snipe_id,
        )
    )
    return snipe_id


def claimer(env: Env, snipe_id: str, name: str | None = None) -> Callable[[], Snipe]:
    request = PlaceBidInput(snipe_id=snipe_id, execution_name=name or snipe_id)
    return lambda: _claim(env.services, request)


def test_cancel_vs_claim_exactly_one_wins_every_time(env: Env) -> None:
    env.link()
    env.auction()
    outcomes: Counter[str] = Counter()

    for _ in range(RUNS):
        snipe_id = scheduled(env)
        cancel = lambda sid=snipe_id: scheduling.cancel_snipe(  # noqa: E731
            env.services, IDENTITY, sid
        )
        cancelled, claimed, _, _ = race(
            cancel, claimer(env, snipe_id), spread=(0.003, 0.003)
        )

        cancel_won = isinstance(cancelled, Snipe)
        claim_won = isinstance(claimed, Snipe)
        assert cancel_won != claim_won, (cancelled, claimed)
        stored = env.store.get(snipe_id)
        if cancel_won:
            assert isinstance(claimed, SnipeNotActive)
            assert stored.status is SnipeStatus.CANCELLED
            outcomes["cancel"] += 1
        else:
            assert isinstance(cancelled, DomainError)
            assert cancelled.code == "SNIPE_ALREADY_BIDDING"
            assert stored.status is SnipeStatus.BIDDING
            outcomes["claim"] += 1

    assert sum(outcomes.values()) == RUNS
    # Both orders happened: the race was real.
    assert outcomes["cancel"] > 0 and outcomes["claim"] > 0, outcomes


def test_edit_vs_claim_the_claim_reads_exactly_the_max_bid_in_force(
    env: Env,
) -> None:
    env.link()
    env.auction()
    outcomes: Counter[str] = Counter()

    for run in range(RUNS):
        snipe_id = scheduled(env)
        new_max = Money(amount_minor=30000 + run, currency="USD")
        move = run % 2 == 1  # every other run also changes the bid offset
        change: dict[str, Any] = {
            "max_bid": {"value": new_max.value, "currency": "USD"}
        }
        if move:
            change["bid_offset_seconds"] = 3
        request = EditSnipeRequest.model_validate(change)
        edit = lambda sid=snipe_id, req=request: scheduling.edit_snipe(  # noqa: E731
            env.services, IDENTITY, sid, req
        )
        edited, claimed, _, _ = race(
            edit, claimer(env, snipe_id), spread=(0.001, 0.004)
        )

        if isinstance(claimed, Snipe):
            assert claimed.max_bid in (OLD_MAX, new_max)  # never a mix
        if isinstance(edited, Snipe):
            # Acknowledged: the edit's write preceded any claim.
            assert edited.max_bid == new_max
            if move:
                # The replaced execution cannot claim; its successor reads the
                # new max bid.
                assert isinstance(claimed, SnipeNotActive), claimed
                successor = claimer(env, snipe_id, f"{snipe_id}-v2")()
                assert successor.max_bid == new_max
                outcomes["edit, then successor claims"] += 1
            else:
                assert isinstance(claimed, Snipe), claimed
                assert claimed.max_bid == new_max
                outcomes["edit, then claim"] += 1
        else:
            assert isinstance(edited, DomainError), edited
            assert edited.code == "SNIPE_ALREADY_BIDDING"
            assert isinstance(claimed, Snipe), claimed
            assert claimed.max_bid == OLD_MAX
            outcomes["claim, edit refused"] += 1
        stored = env.store.get(snipe_id)
        assert stored.status is SnipeStatus.BIDDING
        assert stored.max_bid == (new_max if isinstance(edited, Snipe) else OLD_MAX)

    assert sum(outcomes.values()) == RUNS
    assert outcomes["claim, edit refused"] > 0, outcomes
    assert outcomes["edit, then claim"] + outcomes["edit, then successor claims"] > 0

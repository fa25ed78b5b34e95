"""Fire precision: when does each bid reach eBay, relative to its ``fire_at``?

For a run of N snipes whose auctions end inside a window (1 snipe; 100 in one
second; 1,000 in one minute):

1. link ``ceil(N / snipes_per_user)`` users (eBay simulator + sealed token);
2. create one auction per snipe, ending at ``base + U(0, window)``, and
   schedule a snipe on each through the scheduling use case, from a thread
   pool. ``base`` leaves room for all of it: every snipe is created before the
   first wake-up (``wake_at = end - offset - lead``), which the run checks;
3. let the real state machine run (moto) and wait for every execution;
4. the error of a snipe is the **arrival time of its placeProxyBid request at
   the eBay simulator** (stamped when the request line is read) minus its
   ``fire_at``. Lost: no request at all. Late: error > 250 ms.

Where the time goes, per snipe (probes, no product change): how late the
Wait woke the execution, the token step, the bid task's work before its sleep
and the sleep's slack (negative = the work overran ``fire_at``), how late the
sleep returned, and the send (arrival - the task's own ``sent_at``).

All of that runs in this process (one core at most). ``FireRun.shards = K > 1``
runs K engine processes instead, each a complete stack with a round-robin
share of the snipes, against one out-of-process simulator: ``bench/shard.py``.
The result has the same keys, plus ``config.shards`` and per-shard figures.
"""

from __future__ import annotations

import contextlib
import math
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import Stopwatch, machine, summarize, write_json
from bench.harness import BenchStack, SnipeSpec, bench_stack, create_snipes, wait_all
from bench.png import GREEN, ORANGE, RED, Marker, histogram_png
from workflows import ebay
from workflows.models import Identity, Snipe

LATE_MS = 250.0


@dataclass(frozen=True)
class FireRun:
    name: str
    snipes: int
    window_s: float  # auction ends spread uniformly over this window
    target_p99_ms: float | None
    lead_s: float = 10.0
    offset_s: int = 2
    settle_s: float = 2.0
    snipes_per_user: int = 10
    create_workers: int = 4
    # Creation budget per snipe before the first wake-up (measured ~20-60 ms
    # on 2 cores; the run checks the margin and reports it).
    create_budget_per_snipe_s: float = 0.08
    external_ebay: bool = True
    # Engine tuning (the sandbox process, not the product): the interpreter's
    # GIL switch interval (None: Python's 5 ms) and the keep-alive pool of the
    # eBay client shared by every in-process "Lambda" (None: the product's).
    switch_interval_s: float | None = None
    ebay_keepalive: int | None = None
    seed: int = 6
    # Engine processes (bench/shard.py). 1: everything in this process, as
    # always. K > 1: K complete sandbox stacks (own moto, table, users), each in
    # its own process with a round-robin share of the snipes, all bidding on
    # ONE out-of-process eBay simulator (requires ``external_ebay``).
    shards: int = 1


# "stock": the sandbox exactly as local_stack() builds it (eBay simulator in
# this process, Python's 5 ms GIL switch interval, the product's eBay client
# pool shared by every in-process "Lambda"). The others model AWS more closely
# (eBay is another machine; every Lambda has its own warm connection) and tune
# the interpreter: 1 ms switch interval where the engine is not saturated.
# Under saturation (1,000 in a minute) a short interval turns the engine's
# DynamoDB lock into a convoy (see docs/benchmarks.md), so that run keeps 5 ms.
POOL = 1000  # keep-alive connections: one per concurrent bid task at least
STANDARD_RUNS = (
    FireRun("1-snipe", 1, 0.0, None, switch_interval_s=0.001, ebay_keepalive=POOL),
    FireRun("100-in-1s-stock", 100, 1.0, 50.0, external_ebay=False),
    FireRun("100-in-1s", 100, 1.0, 50.0, switch_interval_s=0.001, ebay_keepalive=POOL),
    # The same second over 2 engine processes: in one process the first bids'
    # bookkeeping (record the bid: a DynamoDB write) competes with the later
    # bids' wake-up and send for one interpreter; on AWS each runs in its own
    # Lambda sandbox.
    FireRun(
        "100-in-1s-2-shards",
        100,
        1.0,
        50.0,
        switch_interval_s=0.001,
        ebay_keepalive=POOL,
        shards=2,
    ),
    # Creation slows as the table grows (moto scans for every index query).
    FireRun(
        "1000-in-60s-stock",
        1000,
        60.0,
        250.0,
        external_ebay=False,
        create_budget_per_snipe_s=0.1,
    ),
    FireRun(
        "1000-in-60s",
        1000,
        60.0,
        250.0,
        ebay_keepalive=POOL,
        create_budget_per_snipe_s=0.1,
    ),
    # The same burst over 2 engine processes (bench/shard.py), each a complete
    # stack with 500 snipes, one shared eBay simulator. The shards create in
    # parallel: the budget counts 500 snipes, at 100 ms each measured with 2
    # shards on 2 cores, + 60% because other work on the machine slows it
    # (an overrun fails the run: the late creates are refused as too soon).
    # Switch interval: Python's 5 ms. Each shard still needs ~0.8 core at the
    # window's rate (~100 ms of CPU per snipe), close to saturation, and in dev
    # runs on a shared 2-core machine 1 ms bought nothing (lost 232 vs 239,
    # p99 6.2 vs 7.2 s) while the token step's p50 went from 33 to 161 ms and
    # the bid task's work before its sleep from 45 to 83 ms: the DynamoDB lock
    # convoy of docs/benchmarks.md.
    FireRun(
        "1000-in-60s-2-shards",
        1000,
        60.0,
        250.0,
        ebay_keepalive=POOL,
        create_budget_per_snipe_s=0.16,
        shards=2,
    ),
)
SMOKE_RUNS = (
    FireRun("smoke-3", 3, 0.5, None, lead_s=2.0, settle_s=0.5, snipes_per_user=3),
    # The shard path (bench/shard.py): 4 snipes over 2 engine processes.
    FireRun(
        "smoke-4-2-shards",
        4,
        0.5,
        None,
        lead_s=2.0,
        settle_s=0.5,
        snipes_per_user=2,
        shards=2,
    ),
)


def _ms(seconds: float) -> float:
    return seconds * 1000.0


def auction_ends(
    run: FireRun, rng: random.Random, *, started: float, budget_s: float
) -> list[float]:
    """Every auction's end (sorted): ``base + U(0, window)``, where ``base``
    leaves ``budget_s`` for creating everything before the first wake-up."""
    base_end = started + budget_s + run.lead_s + run.offset_s + 1.0
    return sorted(base_end + rng.uniform(0.0, run.window_s) for _ in range(run.snipes))


def link_users(
    bench: BenchStack, run: FireRun, snipes: int, prefix: str
) -> list[Identity]:
    """One linked user per ``snipes_per_user`` snipes."""
    return [
        bench.link(f"{prefix}u{i}")
        for i in range(math.ceil(snipes / run.snipes_per_user))
    ]


def create_round_robin(
    bench: BenchStack, run: FireRun, users: list[Identity], item_ids: list[str]
) -> tuple[list[Snipe], float]:
    """A snipe on each item, users taken round robin; (snipes, seconds)."""
    specs = [
        SnipeSpec(
            # Round robin: a user's snipes are spread over the window, so the
            # later ones find the access token the first one refreshed.
            identity=users[i % len(users)],
            item_id=item,
            offset_s=run.offset_s,
        )
        for i, item in enumerate(item_ids)
    ]
    with Stopwatch() as create_sw:
        snipes = create_snipes(bench, specs, workers=run.create_workers)
    return snipes, create_sw.seconds


def wait_timeout_s(snipes: int) -> float:
    """How long a run waits for its executions once the last auction settled."""
    return 120.0 + snipes * 0.2


def run_to_completion(
    bench: BenchStack, run: FireRun, snipes: list[Snipe]
) -> tuple[dict[str, str], float, float]:
    """Sleep until the last auction settled, then wait for every execution.

    Returns (execution statuses, CPU seconds of this process, every thread:
    executions, task Lambdas, moto, from now on; wall seconds from the later of
    now and the first wake-up)."""
    last_end = max(s.plan.end_at.timestamp() for s in snipes)
    first_wake = min(s.plan.wake_at.timestamp() for s in snipes)
    cpu_start = time.process_time()
    wall_start = time.time()
    time.sleep(max(0.0, last_end + run.settle_s - time.time()))
    statuses = wait_all(bench, snipes, timeout=wait_timeout_s(len(snipes)))
    cpu_s = time.process_time() - cpu_start
    return statuses, cpu_s, time.time() - max(wall_start, first_wake)


def _schedule(
    bench: BenchStack, run: FireRun, rng: random.Random
) -> tuple[list[Snipe], dict[str, Any]]:
    users = link_users(bench, run, run.snipes, f"bench-{run.name}-")
    budget = 3.0 + run.snipes * run.create_budget_per_snipe_s
    started = time.time()
    ends = auction_ends(run, rng, started=started, budget_s=budget)
    with Stopwatch() as auctions_sw:
        items = [bench.ebay.create_auction(end_at=end) for end in ends]
    snipes, create_s = create_round_robin(bench, run, users, items)
    created_at = time.time()
    first_wake = min(s.plan.wake_at.timestamp() for s in snipes)
    schedule = {
        "users": len(users),
        "auctions_seconds": round(auctions_sw.seconds, 3),
        "create_seconds": round(create_s, 3),
        "create_per_snipe_ms": round(_ms(create_s) / run.snipes, 2),
        "create_workers": run.create_workers,
        "margin_before_first_wake_s": round(first_wake - created_at, 3),
        "all_created_before_first_wake": created_at < first_wake,
        "window_s": run.window_s,
        "first_end": min(ends),
        "last_end": max(ends),
    }
    return snipes, schedule


# The probes' share of the breakdown: raw per-snipe lists (ms), one per key.
PROBE_KEYS = (
    "wait_wake_late_ms",
    "refresh_task_ms",
    "bid_task_work_before_sleep_ms",
    "sleep_slack_ms",
    "sleep_overshoot_ms",
)


def probe_lists(bench: BenchStack, snipes: list[Snipe]) -> dict[str, list[float]]:
    """The raw probe figures (ms) of these snipes, by ``PROBE_KEYS``: how late
    the Wait woke the execution, the token step, the bid task's work before its
    sleep, the sleep's slack and overshoot."""
    by_snipe = {s.snipe_id: s for s in snipes}
    wake_late: list[float] = []
    refresh: list[float] = []
    prework: list[float] = []
    for inv in bench.probe.invocations:
        snipe = by_snipe.get(inv.snipe_id or "")
        if snipe is None:
            continue
        if inv.function == "RefreshTokenFunction":
            wake_late.append(_ms(inv.started - snipe.plan.wake_at.timestamp()))
            refresh.append(_ms(inv.seconds))
    place_start = {
        inv.snipe_id: inv.started
        for inv in bench.probe.invocations
        if inv.function == "PlaceBidFunction"
    }
    slack: list[float] = []
    overshoot: list[float] = []
    for sleep in bench.probe.sleeps:
        if sleep.snipe_id not in by_snipe:
            continue
        slack.append(_ms(sleep.slack_s))
        overshoot.append(_ms(sleep.overshoot_s))
        start = place_start.get(sleep.snipe_id)
        if start is not None:
            prework.append(_ms(sleep.entered - start))
    lists = (wake_late, refresh, prework, slack, overshoot)
    return dict(zip(PROBE_KEYS, lists, strict=True))


def bid_records(snipes: list[Snipe]) -> dict[str, tuple[float, float]]:
    """``snipe_id -> (sent_at epoch, the task's own fire error ms)`` of the
    (final) snipes that have a bid record."""
    return {
        s.snipe_id: (s.bid.sent_at.timestamp(), s.bid.fire_error_ms)
        for s in snipes
        if s.bid is not None
    }


def breakdown_summary(
    probes: dict[str, list[float]],
    bids: dict[str, tuple[float, float]],
    arrivals: dict[str, float],
) -> dict[str, Any]:
    """The breakdown: the probe lists summarized, plus, for every snipe whose
    bid arrived, the task's own fire error and the send (arrival - sent_at)."""
    send: list[float] = []
    task_error: list[float] = []
    for snipe_id, arrival in arrivals.items():
        bid = bids.get(snipe_id)
        if bid is None:
            continue
        sent_at, fire_error_ms = bid
        send.append(_ms(arrival - sent_at))
        task_error.append(fire_error_ms)
    summary = {key: summarize(probes.get(key, [])).as_dict() for key in PROBE_KEYS}
    summary["task_fire_error_ms"] = summarize(task_error).as_dict()
    summary["send_to_arrival_ms"] = summarize(send).as_dict()
    return summary


@dataclass(frozen=True)
class Matched:
    """The simulator's placeProxyBid arrivals matched to snipes."""

    arrivals: dict[str, float]  # snipe_id -> first arrival (epoch)
    errors_ms: list[float]  # first arrival - fire_at, per snipe that bid
    lost: list[str]  # snipe ids without any request
    requests_per_item: dict[str, int]
    # snipe ids whose first request arrived at or after the auction's end:
    # eBay refuses such a bid (AUCTION_ENDED), so for the user it is lost too.
    after_end: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.requests_per_item.values())


def match_arrivals(
    requests: list[dict[str, Any]],
    snipes: list[tuple[str, str, float]],
    ends: dict[str, float] | None = None,
) -> Matched:
    """``snipes``: (snipe_id, item_id, fire_at epoch). A snipe's error is the
    arrival of the first request for its item minus its ``fire_at``.
    ``ends``: snipe_id -> the auction's end (epoch), to count bids that
    arrived too late to count."""
    first_arrival: dict[str, float] = {}
    requests_per_item: dict[str, int] = {}
    for req in requests:
        item = str(req["item_id"])
        requests_per_item[item] = requests_per_item.get(item, 0) + 1
        first_arrival.setdefault(item, float(req["arrival"]))
    arrivals: dict[str, float] = {}
    errors_ms: list[float] = []
    lost: list[str] = []
    after_end: list[str] = []
    for snipe_id, item_id, fire_at in snipes:
        arrival = first_arrival.get(item_id)
        if arrival is None:
            lost.append(snipe_id)
            continue
        arrivals[snipe_id] = arrival
        errors_ms.append(_ms(arrival - fire_at))
        end = (ends or {}).get(snipe_id)
        if end is not None and arrival >= end:
            after_end.append(snipe_id)
    return Matched(arrivals, errors_ms, lost, requests_per_item, after_end)


def engine_cpu(run: FireRun, cpu_s: float, busy_s: float) -> dict[str, Any]:
    """CPU of the engine (every thread: the executions, the task Lambdas, moto)
    from the end of creation until every execution finished."""
    return {
        "cpu_seconds": round(cpu_s, 2),
        "cpu_ms_per_snipe": round(cpu_s * 1000 / run.snipes, 1),
        "wall_seconds_from_first_wake": round(busy_s, 1),
        "cores_used": round(cpu_s / busy_s, 2) if busy_s > 0 else None,
        # CPU per snipe x snipes per second of the window: what it would
        # take to keep up while the ends arrive (one process gets <= 1 core).
        "cores_needed_at_window_rate": (
            round(cpu_s / run.window_s, 2) if run.window_s else None
        ),
    }


@contextlib.contextmanager
def engine_tuning(run: FireRun) -> Iterator[None]:
    """Apply the run's interpreter/engine knobs for its duration."""
    interval = sys.getswitchinterval()
    limits = ebay.DEFAULT_LIMITS
    if run.switch_interval_s is not None:
        sys.setswitchinterval(run.switch_interval_s)
    if run.ebay_keepalive is not None:
        ebay.DEFAULT_LIMITS = httpx.Limits(
            max_connections=None,
            max_keepalive_connections=run.ebay_keepalive,
            keepalive_expiry=60.0,
        )
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        ebay.DEFAULT_LIMITS = limits


def run_fire(run: FireRun, out_dir: Path) -> dict[str, Any]:
    """One fire-precision run in this process; writes ``fire-<name>.json`` and
    ``.png`` (a run with ``shards > 1`` is ``bench.shard.run_sharded``'s)."""
    if run.shards > 1:
        raise ValueError("a sharded run is bench.shard.run_sharded's")
    rng = random.Random(run.seed)  # noqa: S311 - not security
    log_path = out_dir / f"fire-{run.name}.lambda.log"
    with (
        engine_tuning(run),
        bench_stack(
            lead_s=run.lead_s,
            settle_s=run.settle_s,
            external_ebay=run.external_ebay,
            log_path=log_path,
        ) as bench,
    ):
        snipes, schedule = _schedule(bench, run, rng)
        statuses, cpu_s, busy_s = run_to_completion(bench, run, snipes)
        matched = match_arrivals(
            bench.ebay.bid_requests(),
            [(s.snipe_id, s.item.item_id, s.plan.fire_at.timestamp()) for s in snipes],
            {s.snipe_id: s.plan.end_at.timestamp() for s in snipes},
        )
        final_snipes = [bench.stack.services.store.get(s.snipe_id) for s in snipes]
        breakdown = breakdown_summary(
            probe_lists(bench, snipes), bid_records(final_snipes), matched.arrivals
        )
        task_errors = count(
            f"{inv.function}:{inv.error}"
            for inv in bench.probe.invocations
            if inv.error is not None
        )
    return write_fire_result(
        run,
        out_dir,
        schedule=schedule,
        matched=matched,
        execution_statuses=count(statuses.values()),
        snipe_statuses=count(str(s.status.value) for s in final_snipes),
        reasons=count(str(s.reason.value) for s in final_snipes if s.reason),
        task_errors=task_errors,
        cpu=engine_cpu(run, cpu_s, busy_s),
        breakdown=breakdown,
    )


def write_fire_result(
    run: FireRun,
    out_dir: Path,
    *,
    schedule: dict[str, Any],
    matched: Matched,
    execution_statuses: dict[str, int],
    snipe_statuses: dict[str, int],
    reasons: dict[str, int],
    task_errors: dict[str, int],
    cpu: dict[str, Any],
    breakdown: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The run's result: ``fire-<name>.json`` (returned) and the histogram."""
    errors_ms = matched.errors_ms
    lost = matched.lost
    summary = summarize(errors_ms)
    late = [e for e in errors_ms if e > LATE_MS]
    config: dict[str, Any] = {
        "snipes": run.snipes,
        "window_s": run.window_s,
        "lead_s": run.lead_s,
        "offset_s": run.offset_s,
        "settle_s": run.settle_s,
        "snipes_per_user": run.snipes_per_user,
        "external_ebay": run.external_ebay,
        "switch_interval_s": run.switch_interval_s or sys.getswitchinterval(),
        "ebay_keepalive": run.ebay_keepalive,
    }
    if run.shards > 1:
        config["shards"] = run.shards
    result: dict[str, Any] = {
        "run": run.name,
        "config": config,
        "schedule": schedule,
        "fire_error_ms": summary.as_dict(),
        "lost": len(lost),
        "arrived_after_end": len(matched.after_end),
        "late_over_250ms": len(late),
        "early": len([e for e in errors_ms if e < 0]),
        "duplicate_bid_requests": matched.duplicates,
        "target_p99_ms": run.target_p99_ms,
        "target_met": (
            None
            if run.target_p99_ms is None
            else bool(
                summary.p99 <= run.target_p99_ms and not lost and not matched.after_end
            )
        ),
        "execution_statuses": execution_statuses,
        "snipe_statuses": snipe_statuses,
        "reasons": reasons,
        "task_errors": task_errors,
        "engine_cpu": cpu,
        "breakdown": breakdown,
        **(extra or {}),
        "machine": machine(),
    }
    markers = [
        Marker(summary.p50, f"P50 {summary.p50:.1f} MS", GREEN),
        Marker(summary.p99, f"P99 {summary.p99:.1f} MS", ORANGE),
    ]
    if run.target_p99_ms is not None:
        markers.append(
            Marker(run.target_p99_ms, f"TARGET P99 {run.target_p99_ms:g} MS", RED)
        )
    if errors_ms:
        shards = f" SHARDS={run.shards}" if run.shards > 1 else ""
        histogram_png(
            errors_ms,
            out_dir / f"fire-{run.name}.png",
            title=f"FIRE ERROR: {run.name}",
            subtitle=(
                f"N={run.snipes} WINDOW={run.window_s:g}S LEAD={run.lead_s:g}S{shards} "
                f"P50={summary.p50:.1f} P95={summary.p95:.1f} P99={summary.p99:.1f} "
                f"MAX={summary.max:.1f} MS LOST={len(lost)} LATE={len(late)}"
            ),
            markers=markers,
        )
    write_json(out_dir / f"fire-{run.name}.json", result)
    return result


def count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts

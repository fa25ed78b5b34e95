"""Fire precision over K engine processes ("shards"), one eBay simulator.

One CPython process gets at most one core, and the sandbox engine (moto, the
real ASL, every task Lambda) needs more than one at 1,000 snipes a minute. On
AWS, Step Functions, Lambda and DynamoDB are not one process either. So, for
``FireRun.shards = K > 1`` (:func:`run_sharded`):

1. the parent starts ONE out-of-process eBay simulator and K shards, each
   ``python -m bench.shard PLAN RESULT``: a complete, independent sandbox stack
   (``bench_stack(ebay_url=...)``: own moto, table and users) attached to that
   simulator. A shard starts, links its users (distinct names on the shared
   simulator) and says it is ready;
2. then, as ``bench.fire._schedule`` does once its users are linked, the
   parent draws the auction ends (``bench.fire.auction_ends``, same ``base``
   and seed; the budget counts one shard's share of the snipes, since the
   shards create in parallel), creates every auction on the simulator and deals
   them round robin, so every shard's ends span the whole window; each shard
   reads its items (id + end) on stdin and creates its snipes;
3. each shard sleeps until its last end + settle, waits for every execution and
   writes its raw figures (per snipe, the probes' lists, task errors, CPU from
   the end of its creation, schedule facts) as JSON;
4. the parent reads the arrivals from the simulator, whose stamps are the
   measurement, and writes the same ``fire-<name>.json`` as a one-process run
   (summaries over the merged raw lists, CPU summed), with ``config.shards``
   and the per-shard figures (``schedule.per_shard``, ``engine_cpu.per_shard``,
   ``per_shard``). A shard that fails, or does not finish in time, fails the
   run with the tail of its output.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from bench.common import REPO_ROOT, Stopwatch, summarize, write_json
from bench.fire import (
    LATE_MS,
    FireRun,
    Matched,
    auction_ends,
    bid_records,
    breakdown_summary,
    count,
    create_round_robin,
    engine_cpu,
    engine_tuning,
    link_users,
    match_arrivals,
    probe_lists,
    run_to_completion,
    wait_timeout_s,
    write_fire_result,
)
from bench.harness import ExternalEbay, bench_stack
from sandbox.processes import stop_process

# After every shard's last end + settle and its own wait for the executions:
# how long the parent still waits for a shard (tear-down, writing its JSON).
EXIT_GRACE_S = 60.0
# Spawn to ready (interpreter, imports, moto, the template, linking the users):
# 5-7 s measured with two shards on 2 busy cores.
READY_TIMEOUT_S = 180.0
TAIL_CHARS = 4000


def _ms(seconds: float) -> float:
    return seconds * 1000.0


# --------------------------------------------------------------------------- #
# The shard (child process)
# --------------------------------------------------------------------------- #
def run_shard(plan: dict[str, Any]) -> dict[str, Any]:
    """One engine process's part of the run; returns its raw figures."""
    run = FireRun(**plan["run"])
    expected = int(plan["snipes"])
    prefix = str(plan["user_prefix"])
    with (
        engine_tuning(run),
        bench_stack(
            lead_s=run.lead_s,
            settle_s=run.settle_s,
            external_ebay=True,
            ebay_url=str(plan["ebay_url"]),
            log_path=Path(plan["log_path"]),
        ) as bench,
    ):
        stack_at = time.time()
        with Stopwatch() as link_sw:
            users = link_users(bench, run, expected, prefix)
        ready_at = time.time()
        _announce(Path(plan["ready_path"]), ready_at)
        # The parent now creates the auctions and sends this shard its share.
        items: list[dict[str, Any]] = json.loads(sys.stdin.read() or "[]")
        if len(items) != expected:
            raise RuntimeError(f"expected {expected} items, got {len(items)}")
        items_at = time.time()
        snipes, create_s = create_round_robin(
            bench, run, users, [str(item["item_id"]) for item in items]
        )
        created_at = time.time()
        first_wake = min(s.plan.wake_at.timestamp() for s in snipes)
        last_end = max(s.plan.end_at.timestamp() for s in snipes)
        wall_start = time.time()
        statuses, cpu_s, _ = run_to_completion(bench, run, snipes)
        finished_at = time.time()
        final = [bench.stack.services.store.get(s.snipe_id) for s in snipes]
        bids = bid_records(final)
        records = [
            {
                "snipe_id": s.snipe_id,
                "item_id": s.item.item_id,
                "fire_at": s.plan.fire_at.timestamp(),
                "wake_at": s.plan.wake_at.timestamp(),
                "end_at": s.plan.end_at.timestamp(),
                "execution_status": statuses[s.snipe_id],
                "status": str(s.status.value),
                "reason": str(s.reason.value) if s.reason else None,
                "bid_sent_at": bids[s.snipe_id][0] if s.snipe_id in bids else None,
                "task_fire_error_ms": (
                    bids[s.snipe_id][1] if s.snipe_id in bids else None
                ),
            }
            for s in final
        ]
        probes = probe_lists(bench, snipes)
        task_errors = count(
            f"{inv.function}:{inv.error}"
            for inv in bench.probe.invocations
            if inv.error is not None
        )
    return {
        "shard": plan["shard"],
        "snipes": records,
        "probes": probes,
        "task_errors": task_errors,
        "cpu_seconds": cpu_s,
        "wall_start": wall_start,
        "first_wake": first_wake,
        "finished_at": finished_at,
        "schedule": {
            "snipes": len(snipes),
            "users": len(users),
            "stack_at": stack_at,
            "ready_at": ready_at,
            "items_at": items_at,
            "link_seconds": round(link_sw.seconds, 3),
            "create_seconds": round(create_s, 3),
            "create_per_snipe_ms": round(_ms(create_s) / len(snipes), 2),
            "created_at": created_at,
            "first_wake": first_wake,
            "margin_before_first_wake_s": round(first_wake - created_at, 3),
            "all_created_before_first_wake": created_at < first_wake,
            "first_end": min(s.plan.end_at.timestamp() for s in snipes),
            "last_end": last_end,
        },
    }


def _announce(path: Path, ready_at: float) -> None:
    """Tell the parent this shard is ready (atomically: write, then rename)."""
    partial = path.with_suffix(".partial")
    partial.write_text(repr(ready_at))
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.shard PLAN.json RESULT.json``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m bench.shard PLAN.json RESULT.json", file=sys.stderr)
        return 2
    plan = json.loads(Path(args[0]).read_text())
    write_json(Path(args[1]), run_shard(plan))
    return 0


# --------------------------------------------------------------------------- #
# The parent
# --------------------------------------------------------------------------- #
@dataclasses.dataclass
class _Child:
    index: int
    process: subprocess.Popen[bytes]
    output: IO[bytes]
    output_path: Path
    result_path: Path
    ready_path: Path
    spawned_at: float

    def tail(self) -> str:
        self.output.flush()
        text = self.output_path.read_bytes().decode(errors="replace")
        return text[-TAIL_CHARS:]

    def send_items(self, items: list[dict[str, Any]]) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(items).encode())
            stdin.close()
        except BrokenPipeError as exc:
            raise RuntimeError(
                f"fire shard {self.index} is gone; its output ends:\n{self.tail()}"
            ) from exc

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM, 10, group=False)


def _spawn(index: int, plan: dict[str, Any], work: Path) -> _Child:
    plan_path = work / f"shard{index}.plan.json"
    result_path = work / f"shard{index}.result.json"
    output_path = work / f"shard{index}.output.log"
    ready_path = work / f"shard{index}.ready"
    write_json(plan_path, {**plan, "ready_path": str(ready_path)})
    output = output_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "bench.shard", str(plan_path), str(result_path)],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT), "TZ": "UTC"},
    )
    return _Child(
        index, process, output, output_path, result_path, ready_path, time.time()
    )


def _wait_children(
    children: list[_Child],
    deadline: float,
    *,
    what: str,
    done: Callable[[_Child], bool],
) -> None:
    """Until ``done(child)`` holds for every child; raises (with the output's
    tail) as soon as one exits non-zero, or exits before it is done, or the
    deadline passes. The caller stops what is left."""
    while True:
        pending = 0
        for child in children:
            if done(child):
                continue
            code = child.process.poll()
            if code is None:
                pending += 1
                continue
            if code != 0 or not done(child):
                raise RuntimeError(
                    f"fire shard {child.index} exited {code} before it was {what};"
                    f" its output ends:\n{child.tail()}"
                )
        if not pending:
            return
        if time.time() > deadline:
            late = [c for c in children if not done(c)]
            tails = "\n".join(f"--- shard {c.index}:\n{c.tail()}" for c in late)
            raise RuntimeError(
                f"fire shard(s) {[c.index for c in late]} not {what} in time;"
                f" output ends:\n{tails}"
            )
        time.sleep(0.05)


def _merge_schedule(
    run: FireRun,
    shards: list[dict[str, Any]],
    children: list[_Child],
    *,
    auctions_s: float,
    ends: list[float],
) -> dict[str, Any]:
    parts = [shard["schedule"] for shard in shards]
    created_at = max(part["created_at"] for part in parts)
    first_wake = min(part["first_wake"] for part in parts)
    per_shard = []
    for part, child in zip(parts, children, strict=True):
        per_shard.append(
            {
                "shard": child.index,
                "snipes": part["snipes"],
                "users": part["users"],
                # Spawn to ready: interpreter, imports, moto, linking.
                "startup_seconds": round(part["ready_at"] - child.spawned_at, 3),
                # Ready to items received: the other shards' start, auctions.
                "waited_for_items_seconds": round(
                    part["items_at"] - part["ready_at"], 3
                ),
                "link_seconds": part["link_seconds"],
                "create_seconds": part["create_seconds"],
                "create_per_snipe_ms": part["create_per_snipe_ms"],
                "margin_before_first_wake_s": part["margin_before_first_wake_s"],
                "all_created_before_first_wake": part["all_created_before_first_wake"],
            }
        )
    return {
        "users": sum(part["users"] for part in parts),
        "auctions_seconds": round(auctions_s, 3),
        # The shards create in parallel: the slowest one's figures.
        "create_seconds": max(part["create_seconds"] for part in parts),
        "create_per_snipe_ms": max(part["create_per_snipe_ms"] for part in parts),
        "create_workers": run.create_workers,
        # Overall: the last shard to finish creating vs the first wake-up of all.
        "margin_before_first_wake_s": round(first_wake - created_at, 3),
        "all_created_before_first_wake": bool(
            created_at < first_wake
            and all(part["all_created_before_first_wake"] for part in parts)
        ),
        "window_s": run.window_s,
        "first_end": min(ends),
        "last_end": max(ends),
        "per_shard": per_shard,
    }


def _shard_figures(
    run: FireRun, shard: dict[str, Any], matched: Matched
) -> dict[str, Any]:
    """One shard's own fire figures, for the per-shard view."""
    own = {str(s["snipe_id"]) for s in shard["snipes"]}
    errors = [
        _ms(matched.arrivals[s["snipe_id"]] - float(s["fire_at"]))
        for s in shard["snipes"]
        if s["snipe_id"] in matched.arrivals
    ]
    arrivals = {k: v for k, v in matched.arrivals.items() if k in own}
    return {
        "shard": shard["shard"],
        "snipes": len(shard["snipes"]),
        "fire_error_ms": summarize(errors).as_dict(),
        "lost": len([s for s in matched.lost if s in own]),
        "late_over_250ms": len([e for e in errors if e > LATE_MS]),
        "snipe_statuses": count(s["status"] for s in shard["snipes"]),
        "reasons": count(s["reason"] for s in shard["snipes"] if s["reason"]),
        "task_errors": shard["task_errors"],
        "breakdown": breakdown_summary(shard["probes"], _bids(shard), arrivals),
    }


def _bids(shard: dict[str, Any]) -> dict[str, tuple[float, float]]:
    return {
        str(s["snipe_id"]): (float(s["bid_sent_at"]), float(s["task_fire_error_ms"]))
        for s in shard["snipes"]
        if s["bid_sent_at"] is not None
    }


def _busy(shard: dict[str, Any]) -> tuple[float, float]:
    """(start, end) of a shard's measured span: from the later of the end of
    its creation and its first wake-up, until its executions finished."""
    return max(shard["wall_start"], shard["first_wake"]), shard["finished_at"]


def run_sharded(run: FireRun, out_dir: Path) -> dict[str, Any]:
    """A fire run over ``run.shards`` engine processes (see the module doc)."""
    if run.shards < 2:
        raise ValueError("run_sharded needs shards >= 2")
    if not run.external_ebay:
        raise ValueError("shards > 1 need the eBay simulator out of process")
    if run.snipes < run.shards:
        raise ValueError("every shard needs at least one snipe")
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(run.seed)  # noqa: S311 - not security
    counts = [len(range(i, run.snipes, run.shards)) for i in range(run.shards)]
    fields = dataclasses.asdict(run)
    ebay = ExternalEbay()
    children: list[_Child] = []
    try:
        with tempfile.TemporaryDirectory(prefix=f"fire-{run.name}-") as tmp:
            work = Path(tmp)
            for index, n in enumerate(counts):
                plan = {
                    "shard": index,
                    "run": fields,
                    "snipes": n,
                    "ebay_url": ebay.url,
                    "user_prefix": f"bench-{run.name}-s{index}-",
                    "log_path": str(
                        out_dir / f"fire-{run.name}.shard{index}.lambda.log"
                    ),
                }
                children.append(_spawn(index, plan, work))
            _wait_children(
                children,
                time.time() + READY_TIMEOUT_S,
                what="ready",
                done=lambda c: c.ready_path.exists(),
            )
            # As _schedule, once the users are linked. The shards create in
            # parallel: the budget counts one shard's share of the snipes.
            budget = 3.0 + max(counts) * run.create_budget_per_snipe_s
            started = time.time()
            ends = auction_ends(run, rng, started=started, budget_s=budget)
            with Stopwatch() as auctions_sw:
                items = [ebay.create_auction(end_at=end) for end in ends]
            dealt = list(zip(items, ends, strict=True))
            for child in children:
                # Round robin: every shard's ends span the whole window.
                child.send_items(
                    [
                        {"item_id": item, "end_at": end}
                        for item, end in dealt[child.index :: run.shards]
                    ]
                )
            deadline = (
                max(ends) + run.settle_s + wait_timeout_s(max(counts)) + EXIT_GRACE_S
            )
            _wait_children(
                children,
                deadline,
                what="finished",
                done=lambda c: c.process.poll() == 0,
            )
            shards = [json.loads(c.result_path.read_text()) for c in children]
        requests = ebay.bid_requests()
    finally:
        for child in children:
            child.stop()
            child.output.close()
        ebay.close()

    snipes = [s for shard in shards for s in shard["snipes"]]
    matched = match_arrivals(
        requests,
        [(str(s["snipe_id"]), str(s["item_id"]), float(s["fire_at"])) for s in snipes],
        {str(s["snipe_id"]): float(s["end_at"]) for s in snipes},
    )
    probes: dict[str, list[float]] = {}
    for shard in shards:
        for key, values in shard["probes"].items():
            probes.setdefault(key, []).extend(values)
    bids: dict[str, tuple[float, float]] = {}
    for shard in shards:
        bids.update(_bids(shard))
    task_errors: dict[str, int] = {}
    for shard in shards:
        for key, n in shard["task_errors"].items():
            task_errors[key] = task_errors.get(key, 0) + n
    cpu_s = sum(float(shard["cpu_seconds"]) for shard in shards)
    spans = [_busy(shard) for shard in shards]
    busy_s = max(end for _, end in spans) - min(start for start, _ in spans)
    cpu = engine_cpu(run, cpu_s, busy_s)
    cpu["per_shard"] = [
        {"shard": shard["shard"]}
        | engine_cpu(
            dataclasses.replace(run, snipes=len(shard["snipes"])),
            float(shard["cpu_seconds"]),
            end - start,
        )
        for shard, (start, end) in zip(shards, spans, strict=True)
    ]
    return write_fire_result(
        run,
        out_dir,
        schedule=_merge_schedule(
            run, shards, children, auctions_s=auctions_sw.seconds, ends=ends
        ),
        matched=matched,
        execution_statuses=count(s["execution_status"] for s in snipes),
        snipe_statuses=count(s["status"] for s in snipes),
        reasons=count(s["reason"] for s in snipes if s["reason"]),
        task_errors=task_errors,
        cpu=cpu,
        breakdown=breakdown_summary(probes, bids, matched.arrivals),
        extra={"per_shard": [_shard_figures(run, s, matched) for s in shards]},
    )


if __name__ == "__main__":
    sys.exit(main())

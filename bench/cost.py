"""Cost per snipe at AWS list prices (``bench/prices.json``), by outcome.

Snipes that end WON, LOST, CANCELLED and SKIPPED (``per_outcome`` of each) run
on the sandbox stack with the template's default lead (10 s). Per snipe:

* **Step Functions**: state transitions counted from the execution's real
  history: every state entered, plus every retried task attempt.
* **Lambda**: every invocation the snipe caused: the API calls (create, and
  cancel for CANCELLED), timed around ``api.app.lambda_handler``, and the task
  Lambdas, timed around their handlers (the bid task includes its sleep
  through the lead); billed duration rounded up to 1 ms, times the function's
  ``MemorySize`` from ``template.yaml``; plus one request charge each.
* **DynamoDB**: request units from :class:`bench.meter.CapacityMeter`.
* **Other** (reported apart from the three above): KMS requests and Secrets
  Manager calls counted on the boto3 clients, API Gateway requests, CloudWatch
  Logs (the functions' log lines that name the snipe + 350 bytes of Lambda
  platform lines per invocation), and X-Ray at most one trace per execution and
  per API request (Tracing is Active in the template).

Every user is linked just before its one snipe, so every snipe refreshes its
eBay token (the dearest case: a refresh grant, a KMS Encrypt and a write). Postmark is
excluded. The eBay simulator answers on loopback, so the task durations other
than the bid task's lead are shorter than on AWS (see docs/benchmarks.md).
"""

from __future__ import annotations

import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.apigw import api_event, call_api
from bench.common import PRICES_PATH, machine, read_json, write_json
from bench.harness import BenchStack, bench_stack, working_on
from bench.meter import CallCounter, CapacityMeter
from sandbox.aws import load_template

OUTCOMES = ("WON", "LOST", "CANCELLED", "SKIPPED")
PLATFORM_LOG_BYTES_PER_INVOCATION = 350  # START + END + REPORT lines, estimate
TARGET_TRANSITIONS_WON = 8
TARGET_USD_PER_SNIPE = 0.0003


@dataclass
class Case:
    outcome: str
    user: str
    item_id: str
    snipe_id: str = ""
    api_calls: list[tuple[str, float]] = field(default_factory=list)  # (op, s)


def function_memory_mb() -> dict[str, int]:
    """Logical id -> MemorySize (MB) of every function in template.yaml."""
    template = load_template()
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    return {
        logical_id: int(resource.get("Properties", {}).get("MemorySize", default))
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }


def state_transitions(history: list[dict[str, Any]]) -> tuple[int, int]:
    """(states entered, retried task attempts) of one execution history."""
    entered = 0
    retries = 0
    attempts = 0
    for event in history:
        kind = str(event["type"])
        if kind.endswith("StateEntered"):
            entered += 1
            attempts = 0
        elif kind in ("LambdaFunctionScheduled", "TaskScheduled"):
            attempts += 1
            if attempts > 1:
                retries += 1
    return entered, retries


def _prices() -> dict[str, float]:
    data = read_json(PRICES_PATH)
    return {name: float(entry["usd"]) for name, entry in data["prices"].items()}


def _api(
    bench: BenchStack,
    meter: CapacityMeter,
    counter: CallCounter,
    case: Case,
    op: str,
    method: str,
    path: str,
    body: Any = None,
) -> tuple[int, Any]:
    pending = f"pending-{uuid.uuid4().hex}"
    with working_on(pending):
        started = time.perf_counter()
        status, answer = call_api(api_event(method, path, user=case.user, body=body))
        seconds = time.perf_counter() - started
    case.api_calls.append((op, seconds))
    key = case.snipe_id or (answer or {}).get("snipe_id", "")
    if key:
        meter.rename(pending, key)
        counter.rename(pending, key)
    return status, answer


def _log_bytes(log_path: Path, snipe_ids: list[str]) -> dict[str, int]:
    sizes = dict.fromkeys(snipe_ids, 0)
    if not log_path.exists():
        return sizes
    for line in log_path.read_text(errors="replace").splitlines():
        for snipe_id in snipe_ids:
            if snipe_id in line:
                sizes[snipe_id] += len(line.encode()) + 1
    return sizes


def _per_snipe(
    case: Case,
    bench: BenchStack,
    meter: CapacityMeter,
    counter: CallCounter,
    memory: dict[str, int],
    prices: dict[str, float],
    log_bytes: int,
) -> dict[str, Any]:
    snipe = bench.stack.services.store.get(case.snipe_id)
    arn = snipe.execution_arn
    history = bench.stack.aws.execution_history(arn) if arn else []
    entered, retries = state_transitions(history)
    transitions = entered + retries

    invocations: list[tuple[str, float]] = [
        ("ApiFunction", seconds) for _, seconds in case.api_calls
    ]
    invocations += [
        (inv.function, inv.seconds)
        for inv in bench.probe.invocations
        if inv.snipe_id == case.snipe_id
    ]
    gb_seconds = sum(
        memory[fn] / 1024 * math.ceil(seconds * 1000) / 1000
        for fn, seconds in invocations
    )
    durations: dict[str, float] = {}
    for fn, seconds in invocations:
        durations[fn] = durations.get(fn, 0.0) + seconds * 1000

    usage = meter.usage(case.snipe_id)
    calls = counter.calls(case.snipe_id)
    kms_calls = sum(n for name, n in calls.items() if name.startswith("kms."))
    secrets_calls = sum(
        n for name, n in calls.items() if name.startswith("secretsmanager.")
    )
    api_requests = len(case.api_calls)
    log_total = log_bytes + PLATFORM_LOG_BYTES_PER_INVOCATION * len(invocations)
    cost = {
        "step_functions": transitions
        * prices["stepfunctions_standard_state_transition"],
        "lambda_duration": gb_seconds * prices["lambda_arm64_gb_second"],
        "lambda_requests": len(invocations) * prices["lambda_request"],
        "dynamodb_writes": usage.wru * prices["dynamodb_on_demand_write_request_unit"],
        "dynamodb_reads": usage.rru * prices["dynamodb_on_demand_read_request_unit"],
        "kms": kms_calls * prices["kms_request"],
        "secrets_manager": secrets_calls * prices["secrets_manager_api_call"],
        "api_gateway": api_requests * prices["api_gateway_rest_request"],
        "cloudwatch_logs": log_total / 1e9 * prices["cloudwatch_logs_ingested_gb"],
        "xray_upper_bound": (1 + api_requests) * prices["xray_trace_recorded"],
    }
    core = (
        cost["step_functions"]
        + cost["lambda_duration"]
        + cost["lambda_requests"]
        + cost["dynamodb_writes"]
        + cost["dynamodb_reads"]
    )
    other = sum(v for k, v in cost.items() if k not in _CORE)
    return {
        "outcome": case.outcome,
        "snipe_id": case.snipe_id,
        "final_status": snipe.status.value,
        "reason": snipe.reason.value if snipe.reason else None,
        "states": [
            e["stateEnteredEventDetails"]["name"]
            for e in history
            if "stateEnteredEventDetails" in e
        ],
        "state_transitions": transitions,
        "retries": retries,
        "invocations": Counter(fn for fn, _ in invocations),
        "duration_ms": {fn: round(ms, 1) for fn, ms in durations.items()},
        "gb_seconds": round(gb_seconds, 4),
        "dynamodb": {
            "wru": usage.wru,
            "rru": usage.rru,
            "requests": dict(usage.requests),
        },
        "aws_calls": dict(calls),
        "log_bytes": log_total,
        "usd": {k: round(v, 9) for k, v in cost.items()},
        "usd_core": round(core, 9),
        "usd_all": round(core + other, 9),
    }


_CORE = {
    "step_functions",
    "lambda_duration",
    "lambda_requests",
    "dynamodb_writes",
    "dynamodb_reads",
}


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2


def run_cost(
    out_dir: Path,
    *,
    per_outcome: int = 3,
    lead_s: float = 10.0,
    settle_s: float = 2.0,
    offset_s: int = 2,
) -> dict[str, Any]:
    """Run ``per_outcome`` snipes of each outcome; writes ``cost.json``."""
    prices = _prices()
    memory = function_memory_mb()
    log_path = out_dir / "cost.lambda.log"
    with (
        bench_stack(
            lead_s=lead_s, settle_s=settle_s, external_ebay=False, log_path=log_path
        ) as bench,
        CapacityMeter().installed() as meter,
        CallCounter().installed() as counter,
    ):
        cases: list[Case] = []
        base = time.time() + 6.0 + lead_s + offset_s
        for n, outcome in enumerate(o for o in OUTCOMES for _ in range(per_outcome)):
            user = f"cost-{outcome.lower()}-{n}"
            bench.link(user)
            item = bench.ebay.create_auction(end_at=base + 0.2 * n)
            if outcome == "WON":
                bench.ebay.add_rival(item, "30.00", seconds_before_end=None)
            elif outcome == "LOST":  # after our bid (offset 2 s)
                bench.ebay.add_rival(item, "80.00", seconds_before_end=1.0)
            cases.append(Case(outcome=outcome, user=user, item_id=item))
        for case in cases:
            status, body = _api(
                bench,
                meter,
                counter,
                case,
                "create",
                "POST",
                "/api/snipes",
                {
                    "item_id": case.item_id,
                    "max_bid": {"value": "50.00", "currency": "USD"},
                    "bid_offset_seconds": offset_s,
                },
            )
            if status != 201:
                raise RuntimeError(f"create failed: {status} {body}")
            case.snipe_id = str(body["snipe_id"])
        for case in cases:
            if case.outcome == "CANCELLED":
                status, body = _api(
                    bench,
                    meter,
                    counter,
                    case,
                    "cancel",
                    "DELETE",
                    f"/api/snipes/{case.snipe_id}",
                )
                if status != 200:
                    raise RuntimeError(f"cancel failed: {status} {body}")
            elif case.outcome == "SKIPPED":
                bench.ebay.end_auction(case.item_id)  # the seller ends it early
        last_end = base + 0.2 * len(cases)
        time.sleep(max(0.0, last_end + settle_s - time.time()))
        for case in cases:
            arn = bench.stack.services.store.get(case.snipe_id).execution_arn
            if arn:
                bench.stack.aws.wait_for_execution(arn, timeout=120)
        logs = _log_bytes(log_path, [c.snipe_id for c in cases])
        snipes = [
            _per_snipe(c, bench, meter, counter, memory, prices, logs[c.snipe_id])
            for c in cases
        ]
        harness = meter.usage(None)
    outcomes: dict[str, Any] = {}
    for outcome in OUTCOMES:
        rows = [s for s in snipes if s["outcome"] == outcome]
        if not rows:
            continue
        outcomes[outcome] = {
            "snipes": len(rows),
            "final_statuses": dict(Counter(r["final_status"] for r in rows)),
            "state_transitions": _median([r["state_transitions"] for r in rows]),
            "gb_seconds": _median([r["gb_seconds"] for r in rows]),
            "wru": _median([r["dynamodb"]["wru"] for r in rows]),
            "rru": _median([r["dynamodb"]["rru"] for r in rows]),
            "kms_calls": _median(
                [
                    sum(n for k, n in r["aws_calls"].items() if k.startswith("kms."))
                    for r in rows
                ]
            ),
            "usd": {
                key: _median([r["usd"][key] for r in rows]) for key in rows[0]["usd"]
            },
            "usd_core": _median([r["usd_core"] for r in rows]),
            "usd_all": _median([r["usd_all"] for r in rows]),
            "duration_ms": {
                fn: _median([r["duration_ms"].get(fn, 0.0) for r in rows])
                for fn in sorted({fn for r in rows for fn in r["duration_ms"]})
            },
        }
    won = outcomes.get("WON", {})
    worst = max((o["usd_all"] for o in outcomes.values()), default=math.nan)
    result = {
        "config": {
            "per_outcome": per_outcome,
            "lead_s": lead_s,
            "settle_s": settle_s,
            "offset_s": offset_s,
            "memory_mb": memory,
        },
        "prices": read_json(PRICES_PATH),
        "outcomes": outcomes,
        "targets": {
            "transitions_won": TARGET_TRANSITIONS_WON,
            "transitions_won_met": bool(
                won and won["state_transitions"] <= TARGET_TRANSITIONS_WON
            ),
            "usd_per_snipe": TARGET_USD_PER_SNIPE,
            "usd_per_snipe_met": bool(worst <= TARGET_USD_PER_SNIPE),
        },
        "unattributed_dynamodb": {"wru": harness.wru, "rru": harness.rru},
        "snipes": snipes,
        "machine": machine(),
    }
    write_json(out_dir / "cost.json", result)
    return result

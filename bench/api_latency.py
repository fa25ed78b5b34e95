"""API latency over local HTTP: the sandbox's API Gateway stand-in
(``sandbox.local_api.LocalApi``: JWT check, proxy event) in front of
``api.app.lambda_handler``, on the sandbox stack.

p50/p99 of create (``POST /api/snipes``: Browse getItem at the eBay simulator,
DynamoDB writes, StartExecution), list and get, with 1 and 20 concurrent
clients. The clients run in a separate process (``bench.api_load``) so that
their own CPU does not share the server's interpreter lock; every client has
its own user (bearer token) and keep-alive connection. The auctions end an
hour later, so the executions only wait; they are stopped at the end.

The handler is called under a lock: one request at a time, as one warm Lambda
container serves them. ``LocalApi`` itself calls it from every server thread
at once, and Powertools' resolver keeps the request being handled on the
module-level ``app`` (event, context): concurrent requests then get each
other's status codes and identities (seen here: 201 answered 200, a user's own
snipe 404). On AWS each concurrent request has its own container, so the
20-client figures measure queueing behind one container, not AWS.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import REPO_ROOT, machine, read_json, summarize, write_json
from bench.harness import bench_stack
from sandbox.auth import issue_token
from sandbox.httpserver import BackgroundServer
from sandbox.local_api import LocalApi

LEVELS = (1, 20)
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def one_at_a_time(handler: Handler) -> Handler:
    """``handler`` behind a lock (one Lambda container: one request at a time)."""
    lock = threading.Lock()

    def serialized(event: dict[str, Any], context: Any) -> dict[str, Any]:
        with lock:
            return handler(event, context)

    return serialized


def _plan(
    bench: Any, url: str, key: bytes, levels: tuple[int, ...], per_op: int
) -> dict[str, Any]:
    end_at = time.time() + 3600
    plan_levels = []
    for clients in levels:
        each = max(1, per_op // clients)
        entries = []
        for c in range(clients):
            user = f"api-{clients}-{c}"
            bench.link(user)
            items = [bench.ebay.create_auction(end_at=end_at) for _ in range(each)]
            entries.append({"token": issue_token(user, key=key), "items": items})
        plan_levels.append({"clients": entries})
    return {"url": url, "levels": plan_levels}


def _warm_up(bench: Any, url: str, key: bytes) -> None:
    """One create, list and get first: the figures are a warm container's."""
    bench.link("api-warm-up")
    item = bench.ebay.create_auction(end_at=time.time() + 3600)
    headers = {"Authorization": f"Bearer {issue_token('api-warm-up', key=key)}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30.0) as http:
        created = http.post(
            "/api/snipes",
            json={
                "item_id": item,
                "max_bid": {"value": "50.00", "currency": "USD"},
                "bid_offset_seconds": 5,
            },
        )
        created.raise_for_status()
        snipe_id = created.json()["snipe_id"]
        http.get("/api/snipes").raise_for_status()
        http.get(f"/api/snipes/{snipe_id}").raise_for_status()
        http.delete(f"/api/snipes/{snipe_id}").raise_for_status()


def _stop_running(bench: Any) -> None:
    """Stop every execution still waiting (their auctions end in an hour)."""
    sfn = bench.stack.aws.stepfunctions
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=bench.stack.aws.state_machine_arn, statusFilter="RUNNING"
    )
    for page in pages:
        for execution in page["executions"]:
            sfn.stop_execution(
                executionArn=execution["executionArn"], cause="benchmark done"
            )


def run_api(
    out_dir: Path, *, per_op: int = 200, levels: tuple[int, ...] = LEVELS
) -> dict[str, Any]:
    """``per_op`` requests of each operation per level; writes ``api.json``."""
    key = secrets.token_hex(32).encode()
    with bench_stack(
        lead_s=10.0,
        settle_s=2.0,
        external_ebay=False,
        log_path=out_dir / "api.lambda.log",
    ) as bench:
        from api.app import lambda_handler

        server = BackgroundServer(
            LocalApi(one_at_a_time(lambda_handler), signing_key=key),
            name="bench-api",
        ).start()
        try:
            _warm_up(bench, server.url, key)
            plan = _plan(bench, server.url, key, levels, per_op)
            plan_path = out_dir / "api-plan.json"
            answer_path = out_dir / "api-raw.json"
            write_json(plan_path, plan)
            subprocess.run(  # noqa: S603 - our own module, loopback only
                [
                    sys.executable,
                    "-m",
                    "bench.api_load",
                    str(plan_path),
                    str(answer_path),
                ],
                cwd=REPO_ROOT,
                check=True,
                timeout=600,
            )
            plan_path.unlink()  # bearer tokens (sandbox-only) do not stay around
            raw = read_json(answer_path)
        finally:
            server.stop()
            _stop_running(bench)
    levels_out: dict[str, Any] = {}
    for clients, level in raw["levels"].items():
        levels_out[clients] = {
            op: summarize([s * 1000 for s in level[op]]).as_dict()
            for op in ("create", "list", "get")
        }
        levels_out[clients]["statuses"] = level["statuses"]
        levels_out[clients]["wall_seconds"] = round(level["wall_seconds"], 2)
    result = {
        "config": {"per_op": per_op, "levels": list(levels)},
        "latency_ms": levels_out,
        "machine": machine(),
    }
    write_json(out_dir / "api.json", result)
    return result

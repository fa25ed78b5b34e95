"""Load generator for the API benchmark (runs in its own process).

``python -m bench.api_load PLAN.json OUT.json``. The plan names the API's URL
and, per concurrency level, one client per entry (a bearer token and the
items it schedules snipes on). For each level, in order: every client creates
its snipes, then lists its snipes (``GET /api/snipes?limit=20``) as many times,
then reads each snipe it created (``GET /api/snipes/<id>``). Clients of a
level run in threads, each with its own keep-alive connection; each request's
latency is the wall time around the HTTP call. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx


def _client_run(
    url: str, client_plan: dict[str, Any], barrier: threading.Barrier
) -> dict[str, Any]:
    token = str(client_plan["token"])
    items: list[str] = list(client_plan["items"])
    offset = int(client_plan.get("offset_s", 5))
    latencies: dict[str, list[float]] = {"create": [], "list": [], "get": []}
    statuses: dict[str, int] = {}
    created: list[str] = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30.0) as http:
        http.get("/api/health")  # open the connection
        barrier.wait()
        for item in items:
            body = {
                "item_id": item,
                "max_bid": {"value": "50.00", "currency": "USD"},
                "bid_offset_seconds": offset,
            }
            started = time.perf_counter()
            response = http.post("/api/snipes", json=body)
            latencies["create"].append(time.perf_counter() - started)
            statuses[f"create:{response.status_code}"] = (
                statuses.get(f"create:{response.status_code}", 0) + 1
            )
            if response.status_code == 201:
                created.append(str(response.json()["snipe_id"]))
        barrier.wait()
        for _ in items:
            started = time.perf_counter()
            response = http.get("/api/snipes", params={"limit": "20"})
            latencies["list"].append(time.perf_counter() - started)
            statuses[f"list:{response.status_code}"] = (
                statuses.get(f"list:{response.status_code}", 0) + 1
            )
        barrier.wait()
        for snipe_id in created:
            started = time.perf_counter()
            response = http.get(f"/api/snipes/{snipe_id}")
            latencies["get"].append(time.perf_counter() - started)
            statuses[f"get:{response.status_code}"] = (
                statuses.get(f"get:{response.status_code}", 0) + 1
            )
    return {**latencies, "statuses": [statuses], "created": created}


def run_plan(plan: dict[str, Any]) -> dict[str, Any]:
    url = str(plan["url"])
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError("the API benchmark only talks to 127.0.0.1")
    levels: dict[str, Any] = {}
    for level in plan["levels"]:
        clients: list[dict[str, Any]] = level["clients"]
        barrier = threading.Barrier(len(clients))
        results: list[dict[str, Any]] = [{} for _ in clients]

        def work(
            i: int,
            client_plan: dict[str, Any],
            results: list[dict[str, Any]] = results,
            barrier: threading.Barrier = barrier,
        ) -> None:
            results[i] = _client_run(url, client_plan, barrier)

        threads = [
            threading.Thread(target=work, args=(i, c), name=f"client-{i}")
            for i, c in enumerate(clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        merged: dict[str, Any] = {"create": [], "list": [], "get": [], "statuses": {}}
        created: list[str] = []
        for result in results:
            for op in ("create", "list", "get"):
                merged[op].extend(result.get(op, []))
            for status in result.get("statuses", []):
                for key, count in status.items():
                    merged["statuses"][key] = merged["statuses"].get(key, 0) + count
            created.extend(result.get("created", []))
        merged["wall_seconds"] = wall
        merged["created"] = created
        levels[str(len(clients))] = merged
    return {"levels": levels}


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    plan = json.loads(Path(args[0]).read_text())
    Path(args[1]).write_text(json.dumps(run_plan(plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The local stack as a new user runs it: ``python -m sandbox dev`` in its own
process, poked over HTTP, driven by ``python -m sandbox demo``, stopped with
Ctrl-C (SIGINT)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sandbox.auth import issue_token
from sandbox.processes import stop_process
from tests.support.local import (
    DevStack,
    crash_after_the_send,
    hold_bid_answer,
    stack_env,
)

REPO = Path(__file__).resolve().parents[2]


def _listening() -> dict[int, set[str]]:
    """Listening TCP ports -> local addresses, from /proc/net/tcp{,6}."""
    found: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] != "0A":  # LISTEN
                continue
            address, port = fields[1].split(":")
            if len(address) == 8:
                ip = ".".join(str(int(address[i : i + 2], 16)) for i in (6, 4, 2, 0))
            else:
                ip = "::1" if address.endswith("01000000") else f"v6:{address}"
            found.setdefault(int(port, 16), set()).add(ip)
    return found


_TEST_CONFIGURATION = {
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "TABLE_NAME",
    "APP_SECRETS_ARN",
    "TOKEN_KMS_KEY_ID",
    "EMAIL_FROM",
}


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("sandbox")
    state_file = workdir / "stack.json"
    # As from a fresh shell: none of the configuration tests/conftest.py puts
    # into this process (Powertools', the functions') leaks into `make dev`.
    env = stack_env(
        {k: v for k, v in os.environ.items() if k not in _TEST_CONFIGURATION},
        workdir,
        SANDBOX_WEB="0",  # the web app has its own tests (make web-test)
    )
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "dev"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        while not state_file.exists():
            assert process.poll() is None, (
                process.stdout.read() if process.stdout else ""
            )
            assert time.monotonic() - started < 60, "the stack did not start in 60 s"
            time.sleep(0.2)
        state = json.loads(state_file.read_text())
        state.update(process=process, env=env, key=(workdir / "signing.key"))
        state["startup_seconds"] = time.monotonic() - started
        yield state
    finally:
        stop_process(process, signal.SIGINT, 20, group=False)


def _ports(state: dict[str, Any]) -> list[int]:
    return [
        int(urlsplit(state[k]).port or 0)
        for k in ("api_url", "ebay_url", "postmark_url", "moto_url")
    ]


def test_api_answers_within_a_minute_and_only_with_a_valid_token(
    dev_stack: dict[str, Any],
) -> None:
    api = dev_stack["api_url"]
    assert dev_stack["startup_seconds"] < 60
    assert httpx.get(f"{api}/api/health").json() == {"status": "ok"}

    anonymous = httpx.get(f"{api}/api/snipes")
    assert anonymous.status_code == 401
    assert anonymous.json() == {  # template.yaml's GatewayResponses
        "error": {"code": "UNAUTHORIZED", "message": "Unauthorized", "details": {}}
    }
    forged = issue_token("alice", key=b"not-the-sandbox-signing-key-0123456789")
    assert (
        httpx.get(
            f"{api}/api/snipes", headers={"Authorization": f"Bearer {forged}"}
        ).status_code
        == 401
    )

    token = subprocess.run(
        [sys.executable, "-m", "sandbox", "token", "alice"],
        cwd=REPO,
        env=dev_stack["env"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    mine = httpx.get(f"{api}/api/snipes", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200
    listing = mine.json()
    assert (listing["items"], listing["next_cursor"]) == ([], None)
    assert listing["server_time"] == mine.headers["X-Server-Time"]


def test_cors_preflight_for_the_frontend_origin(dev_stack: dict[str, Any]) -> None:
    response = httpx.options(
        f"{dev_stack['api_url']}/api/snipes",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_every_listener_binds_loopback_only(dev_stack: dict[str, Any]) -> None:
    listening = _listening()
    for port in _ports(dev_stack):
        assert listening.get(port) == {"127.0.0.1"}, (port, listening.get(port))


def test_demo_user_was_linked_through_the_consent_flow(
    dev_stack: dict[str, Any],
) -> None:
    ebay = dev_stack["ebay_url"]
    consent = httpx.get(
        f"{ebay}/sim/requests", params={"endpoint": "authorize", "user": "demo"}
    ).json()
    grants = httpx.get(
        f"{ebay}/sim/requests", params={"endpoint": "token", "user": "demo"}
    ).json()
    token = issue_token("demo", key=dev_stack["key"].read_bytes().strip())

    status = httpx.get(
        f"{dev_stack['api_url']}/api/ebay/status",
        headers={"Authorization": f"Bearer {token}"},
    )

    assert [r["status"] for r in consent] == [302]
    assert "authorization_code" in [r["grant_type"] for r in grants]
    assert status.status_code == 200
    assert status.json()["linked"] is True
    assert status.json()["needs_reconnect"] is False


def test_demo_wins_one_and_loses_one(dev_stack: dict[str, Any]) -> None:
    demo = subprocess.run(
        [sys.executable, "-m", "sandbox", "demo"],
        cwd=REPO,
        env=dev_stack["env"],
        capture_output=True,
        text=True,
        timeout=150,
    )
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "-> WON (expected WON) OK" in demo.stdout
    assert "-> LOST (expected LOST) OK" in demo.stdout
    outbox = httpx.get(f"{dev_stack['postmark_url']}/sim/outbox").json()
    subjects = [m["Subject"] for m in outbox]
    assert any(s.startswith("You won") for s in subjects)
    assert any(s.startswith("Outbid") for s in subjects)


def test_acceptance_held_answer_after_the_bid_still_wins(
    dev_stack: dict[str, Any],
) -> None:
    """Issue 10's acceptance: eBay records the bid and holds its answer 20 s;
    at offsets 3 s and 6 s the snipe ends WON with exactly one bid at eBay and
    a "You won" email (docs/reliability.md)."""
    dev = DevStack(dev_stack)
    api = dev.api()
    snipes = {}
    for offset in (3, 6):
        title = f"Held answer at offset {offset} {time.time_ns()}"
        item_id = dev.auction(title, end_in_s=offset + 14)
        hold_bid_answer(dev.ebay, item_id, 20)
        snipes[offset] = (dev.create(api, item_id, offset), item_id, title)

    deadline = time.monotonic() + 90
    for offset, (snipe_id, item_id, title) in snipes.items():
        snipe = dev.final(api, snipe_id, deadline)
        assert snipe["status"] == "WON", (offset, snipe)
        state = dev.auction_state(item_id)
        assert [b["username"] for b in state["bids"]] == ["demo"], state["bids"]
        assert state["winner"] == "demo"
        dev.wait_for_email(f"You won: {title}", deadline)


def test_a_tester_crashes_the_bid_task_over_http(dev_stack: dict[str, Any]) -> None:
    """``/dev/task-faults`` reaches the engine of ``make dev``: Place bid is
    killed right after eBay logged the bid (eBay holds its answer 1 s), and the
    snipe still ends WON with one bid at eBay and one "You won" email."""
    dev = DevStack(dev_stack)
    api = dev.api()
    title = f"Crash after the send {time.time_ns()}"
    item_id = dev.auction(title, end_in_s=3 + 12)
    hold_bid_answer(dev.ebay, item_id, 1.0)
    snipe_id = dev.create(api, item_id, 3)
    faults = f"{dev_stack['api_url']}/dev/task-faults"
    crash = crash_after_the_send(snipe_id)
    assert httpx.post(faults, json={**crash, "kind": "melt"}).status_code == 422
    injected = httpx.post(faults, json=crash)
    assert injected.status_code == 201, injected.text

    deadline = time.monotonic() + 90
    snipe = dev.final(api, snipe_id, deadline)
    (fault,) = httpx.get(faults).json()["faults"]
    assert fault["fault_id"] == injected.json()["fault_id"]
    assert (fault["hits"], len(fault["killed_at"])) == (1, 1)  # it fired
    assert snipe["status"] == "WON", snipe
    state = dev.auction_state(item_id)
    assert [b["username"] for b in state["bids"]] == ["demo"], state["bids"]
    assert state["winner"] == "demo"
    subjects = dev.wait_for_email(f"You won: {title}", deadline)
    assert subjects.count(f"You won: {title}") == 1
    assert httpx.delete(faults).json() == {"removed": 0}  # spent already
    assert httpx.get(faults).json() == {"faults": []}


def test_a_web_app_can_use_the_stack(dev_stack: dict[str, Any]) -> None:
    """Issue 12: the preflight allows Idempotency-Key, a bad token's 401 is
    readable by the browser, and eBay's consent page sends the browser to the
    web app's /ebay/callback with code and state."""
    api, web = dev_stack["api_url"], "http://127.0.0.1:3000"
    preflight = httpx.options(
        f"{api}/api/snipes",
        headers={
            "Origin": web,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": (
                "authorization,content-type,idempotency-key"
            ),
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == web
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]

    refused = httpx.get(
        f"{api}/api/snipes", headers={"Origin": web, "Authorization": "Bearer x"}
    )
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] in (web, "*")
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    assert refused.json()["error"]["code"] == "UNAUTHORIZED"

    token = issue_token("webapp-user", key=dev_stack["key"].read_bytes().strip())
    auth = {"Authorization": f"Bearer {token}"}
    consent = httpx.get(f"{api}/api/ebay/connect", headers=auth).json()["url"]
    agreed = httpx.get(f"{consent}&sim_user=webapp-user", follow_redirects=False)
    assert agreed.status_code == 302
    location = agreed.headers["Location"]
    assert location.startswith(f"{web}/ebay/callback?")
    assert "code=" in location and "state=" in location


def test_ctrl_c_stops_everything(dev_stack: dict[str, Any]) -> None:
    process: subprocess.Popen[str] = dev_stack["process"]
    ports = _ports(dev_stack)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=20) == 0
    output = process.stdout.read() if process.stdout else ""
    assert "Snipe sandbox stopped." in output
    still = _listening()
    assert [p for p in ports if p in still] == []
    assert not Path(dev_stack["env"]["SANDBOX_STATE_FILE"]).exists()

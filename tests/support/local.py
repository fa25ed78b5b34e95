"""Shared pieces for tests of the local stack (`make dev`, `make dev-sfn-local`)
and of the engines that run the state machine."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sandbox import engine
from sandbox.auth import issue_token
from workflows.models import SnipeStatus

PAST = "2020-01-01T00:00:00Z"

#: Stand-ins for the four task functions: the happy path, a snipe that wins.
HAPPY_TASKS: Mapping[str, engine.Handler] = {
    "RefreshTokenFunction": lambda event, context: {"expires_at": PAST},
    "PlaceBidFunction": lambda event, context: {
        "status": "BID_PLACED",
        "settle_at": PAST,
    },
    "CheckResultFunction": lambda event, context: {"status": "WON"},
    "NotifyFunction": lambda event, context: {"status": "WON"},
}


def hold_bid_answer(ebay_url: str, item_id: str, seconds: float) -> None:
    """Through the eBay simulator's admin HTTP: it records the item's next
    placeProxyBid and holds its answer ``seconds``."""
    fault = httpx.post(
        f"{ebay_url}/sim/faults",
        json={
            "endpoint": "place_proxy_bid",
            "item_id": item_id,
            "timeout_s": seconds,
            "count": 1,
        },
    )
    assert fault.status_code == 201, fault.text


def crash_after_the_send(snipe_id: str) -> dict[str, str]:
    """The ``POST /dev/task-faults`` body that kills the snipe's *Place bid*
    once eBay has logged its placeProxyBid."""
    return {
        "function": "PlaceBidFunction",
        "kind": "crash",
        "after_ebay_request": "place_proxy_bid",
        "snipe_id": snipe_id,
    }


@dataclass
class DevStack:
    """A running ``make dev`` as a tester drives it: over HTTP only, signed in
    as ``user`` (the demo user, linked to eBay)."""

    state: Mapping[str, Any]  # the stack's stack.json (+ the signing key path)
    user: str = "demo"

    @property
    def ebay(self) -> str:
        return str(self.state["ebay_url"])

    def api(self) -> httpx.Client:
        key = Path(self.state["key"]).read_bytes().strip()
        return httpx.Client(
            base_url=self.state["api_url"],
            headers={"Authorization": f"Bearer {issue_token(self.user, key=key)}"},
        )

    def auction(self, title: str, end_in_s: float) -> str:
        """A new auction at the eBay simulator: its item id."""
        auction = httpx.post(
            f"{self.ebay}/sim/auctions",
            json={"title": title, "start_price": "10.00", "end_in_s": end_in_s},
        )
        assert auction.status_code == 201, auction.text
        return str(auction.json()["item_id"])

    def auction_state(self, item_id: str) -> dict[str, Any]:
        """The simulator's record of the auction (bids, winner)."""
        quoted = item_id.replace("|", "%7C")
        state: dict[str, Any] = httpx.get(f"{self.ebay}/sim/auctions/{quoted}").json()
        return state

    def create(self, api: httpx.Client, item_id: str, offset: int) -> str:
        """``POST /api/snipes`` with a 50.00 USD max: the snipe id."""
        created = api.post(
            "/api/snipes",
            json={
                "item_id": item_id,
                "max_bid": {"value": "50.00", "currency": "USD"},
                "bid_offset_seconds": offset,
            },
        )
        assert created.status_code == 201, created.text
        return str(created.json()["snipe_id"])

    def final(self, api: httpx.Client, snipe_id: str, deadline: float) -> Any:
        """The snipe once its status is final (``deadline``: monotonic)."""
        while not SnipeStatus(
            (snipe := api.get(f"/api/snipes/{snipe_id}").json())["status"]
        ).is_final:
            assert time.monotonic() < deadline, snipe
            time.sleep(0.2)
        return snipe

    def wait_for_email(self, subject: str, deadline: float) -> list[str]:
        """Until the Postmark outbox has a message with ``subject``: every
        subject in the outbox."""
        outbox = f"{self.state['postmark_url']}/sim/outbox"
        while subject not in (
            found := [m["Subject"] for m in httpx.get(outbox).json()]
        ):
            assert time.monotonic() < deadline, f"no {subject!r} email"
            time.sleep(0.2)
        return found


def stack_env(base: Mapping[str, str], workdir: Path, **extra: str) -> dict[str, str]:
    """``base`` plus what starts a local stack in ``workdir``: its state file
    (``stack.json``), its signing key and every service on a free port."""
    return {
        **base,
        "SANDBOX_STATE_FILE": str(workdir / "stack.json"),
        "SANDBOX_KEY_FILE": str(workdir / "signing.key"),
        "SANDBOX_API_PORT": "0",
        "SANDBOX_EBAY_PORT": "0",
        "SANDBOX_POSTMARK_PORT": "0",
        "SANDBOX_MOTO_PORT": "0",
        **extra,
    }


def run_captured(
    command: Sequence[str], cwd: Path, env: Mapping[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run ``command`` to its end, its output captured as text; no check."""
    return subprocess.run(  # noqa: S603 - our own commands
        list(command),
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def json_fields(value: Any) -> set[str]:
    """Every object key anywhere in a JSON value."""
    if isinstance(value, dict):
        return set(value) | {f for v in value.values() for f in json_fields(v)}
    if isinstance(value, list):
        return {f for v in value for f in json_fields(v)}
    return set()

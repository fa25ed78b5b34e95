"""``python -m sandbox demo``: drive two snipes against a running ``dev`` stack.

Everything goes over HTTP as a client would: auctions and rivals through the
eBay simulator's admin API, snipes through the local API with the demo user's
token, emails from the Postmark simulator's outbox, and the execution history
from Step Functions (moto). One snipe must win against a rival with a lower
max, the other must lose against a higher max; exit status 0 only if both did
and both emails arrived.
"""

from __future__ import annotations

import json
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import httpx

from sandbox.auth import email_for, issue_token, load_key
from sandbox.dev import STATE_FILE, link_through_consent
from workflows.timing import parse_utc

FINAL = {"WON", "LOST", "FAILED", "SKIPPED", "CANCELLED"}


@dataclass
class Plan:
    label: str
    expected: str
    start_price: str
    max_bid: str
    rival_max: str
    rival_seconds_before_end: float


PLANS = [
    Plan("win", "WON", "10.00", "40.00", "25.00", 30),
    Plan("lose", "LOST", "10.00", "40.00", "65.00", 1),
]


def _state() -> dict[str, Any]:
    if not STATE_FILE.exists():
        raise SystemExit("demo: no running stack found; start it with `make dev`")
    state: dict[str, Any] = json.loads(STATE_FILE.read_text())
    return state


def _at(text: str | None) -> str:
    if not text:
        return "-"
    return parse_utc(text).strftime("%H:%M:%S.%f")[:-3]


def _timeline(
    snipe: dict[str, Any], history: list[dict[str, Any]], email: dict[str, Any] | None
) -> list[str]:
    def entered(name: str) -> str:
        for event in history:
            details = event.get("stateEnteredEventDetails")
            if details and details["name"] == name:
                stamp: datetime = event["timestamp"]
                return stamp.strftime("%H:%M:%S.%f")[:-3]
        return "-"

    bid = snipe.get("bid") or {}
    result = snipe.get("result") or {}
    price = result.get("final_price") or {}
    lines = [
        f"  created      {_at(snipe['created_at'])}",
        f"  woke         {entered('Refresh eBay token')}  (planned "
        f"{_at(snipe['plan']['wake_at'])})",
        f"  bid sent     {_at(bid.get('sent_at'))}  fire error "
        f"{bid.get('fire_error_ms', '-')} ms (fire_at {_at(snipe['plan']['fire_at'])})",
        f"  auction end  {_at(snipe['plan']['end_at'])}",
        f"  result       {snipe['status']}"
        + (f" at {price.get('value')} {price.get('currency')}" if price else "")
        + f"  (checked {_at(result.get('checked_at'))})",
        f"  email        {email['Subject'] if email else 'none'}",
    ]
    return lines


def run() -> int:
    state = _state()
    api = state["api_url"]
    ebay = httpx.Client(base_url=state["ebay_url"], timeout=10)
    postmark = httpx.Client(base_url=state["postmark_url"], timeout=10)
    # A fresh user each run: nothing an earlier run (or a person trying the
    # stack) changed, e.g. the demo user's email preferences, can get in the way.
    user = f"demo-{uuid.uuid4().hex[:8]}"
    token = issue_token(user, key=load_key(), email=email_for(user))
    link_through_consent(api, token, user)
    client = httpx.Client(
        base_url=api, timeout=15, headers={"Authorization": f"Bearer {token}"}
    )
    sfn = boto3.client(
        "stepfunctions",
        endpoint_url=state.get("stepfunctions_url") or state["moto_url"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 - moto only  # nosec B106
    )

    snipes: dict[str, dict[str, Any]] = {}
    for plan in PLANS:
        auction = (
            ebay.post(
                "/sim/auctions",
                json={
                    "title": f"Demo lot ({plan.label}) {int(time.time()) % 10000}",
                    "start_price": plan.start_price,
                    "end_in_s": 25,
                },
            )
            .raise_for_status()
            .json()
        )
        item_id = auction["item_id"]
        ebay.post(
            f"/sim/auctions/{item_id.replace('|', '%7C')}/rivals",
            json={
                "max_amount": plan.rival_max,
                "seconds_before_end": plan.rival_seconds_before_end,
            },
        ).raise_for_status()
        response = client.post(
            "/api/snipes",
            json={
                "item_id": item_id,
                "max_bid": {"value": plan.max_bid, "currency": "USD"},
                "bid_offset_seconds": 3,
            },
        )
        if response.status_code != 201:
            print(f"demo: creating the '{plan.label}' snipe failed: {response.text}")
            return 1
        snipes[plan.label] = response.json()
        ends = datetime.fromtimestamp(float(auction["end_time"]), tz=UTC)
        print(
            f"scheduled '{plan.label}': {item_id}, max {plan.max_bid} USD vs a rival "
            f"max of {plan.rival_max} USD; auction ends {ends:%H:%M:%S}",
            flush=True,
        )

    deadline = time.monotonic() + 120
    final: dict[str, dict[str, Any]] = {}
    while len(final) < len(snipes) and time.monotonic() < deadline:
        for label, snipe in snipes.items():
            if label in final:
                continue
            current = client.get(f"/api/snipes/{snipe['snipe_id']}").json()
            if current["status"] in FINAL:
                final[label] = current
        time.sleep(0.5)

    ok = True
    for plan in PLANS:
        done = final.get(plan.label)
        if done is None:
            print(f"\n'{plan.label}': did not finish in time")
            ok = False
            continue
        arn = (
            state["state_machine_arn"].replace(":stateMachine:", ":execution:")
            + f":{done['snipe_id']}"
        )
        events = sfn.get_execution_history(executionArn=arn, maxResults=1000)
        history = cast(list[dict[str, Any]], events["events"])
        email = _email_for(postmark, user, done["snipe_id"])
        passed = done["status"] == plan.expected and email is not None
        ok = ok and passed
        print(
            f"\n'{plan.label}' snipe {done['snipe_id']}: {done['item']['title']} "
            f"-> {done['status']} (expected {plan.expected}) "
            f"{'OK' if passed else 'UNEXPECTED'}"
        )
        print("\n".join(_timeline(done, history, email)))
    print("\ndemo:", "both outcomes as expected" if ok else "FAILED")
    return 0 if ok else 1


def _email_for(
    postmark: httpx.Client, user: str, snipe_id: str, timeout: float = 10
) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        outbox = postmark.get("/sim/outbox", params={"to": email_for(user)}).json()
        for message in outbox:
            if (message.get("Metadata") or {}).get("snipe_id") == snipe_id:
                return dict(message)
        time.sleep(0.2)
    return None


def main() -> int:
    try:
        return run()
    except httpx.HTTPError as exc:
        print(f"demo: the stack did not answer: {exc}", file=sys.stderr)
        return 1

"""A tester crashes the bid task over HTTP, as on ``make dev``: the local
gateway's ``POST /dev/task-faults`` kills *Place bid* right after eBay logged
its placeProxyBid, and the snipe still keeps the product's first promise: the
final status is eBay's truth (the simulator's record of the auction), exactly
one bid of the user reached eBay, and the user got the one email that says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sandbox import task_faults
from sandbox.dev_task_faults import PATH, TaskFaultAdmin
from sandbox.httpserver import BackgroundServer
from sandbox.local_api import LocalApi
from sandbox.stack import LocalStack
from tests.support.local import crash_after_the_send, hold_bid_answer
from tests.support.scenarios import Scenario
from workflows.models import SnipeStatus
from workflows.timing import parse_utc

pytestmark = pytest.mark.scenario

KEY = b"test-signing-key-0123456789abcdef0123456789"
OFFSET = 2


@pytest.fixture(scope="module")
def api_url(stack: LocalStack) -> Iterator[str]:
    """The local gateway over HTTP, with the task faults of this engine, as
    ``make dev`` serves it."""
    from api.app import lambda_handler

    gateway = LocalApi(
        lambda_handler, signing_key=KEY, task_faults=TaskFaultAdmin.for_stack(stack)
    )
    with BackgroundServer(gateway, name="local-api") as server:
        yield server.url
    task_faults.clear_task_faults()


@pytest.mark.parametrize(
    ("rival", "truth", "subject"),
    [("30.00", SnipeStatus.WON, "You won"), ("90.00", SnipeStatus.LOST, "Outbid")],
)
def test_a_crash_after_the_send_keeps_the_promise(
    scenario: Scenario,
    api_url: str,
    rival: str,
    truth: SnipeStatus,
    subject: str,
) -> None:
    stack, user_id = scenario.stack, scenario.user[0]
    item_id = scenario.auction(end_in_s=OFFSET + _lead(stack) + 5.0)
    stack.ebay.add_rival(item_id, rival, seconds_before_end=OFFSET + 2.5)
    # eBay records the bid and holds its answer 1 s: the task dies meanwhile.
    hold_bid_answer(stack.ebay_url, item_id, 1.0)
    snipe_id = scenario.create(item_id, offset=OFFSET)["snipe_id"]
    injected = httpx.post(f"{api_url}{PATH}", json=crash_after_the_send(snipe_id))
    assert injected.status_code == 201, injected.text

    run = scenario.finish(snipe_id)

    (fault,) = [
        f
        for f in httpx.get(f"{api_url}{PATH}").json()["faults"]
        if f["fault_id"] == injected.json()["fault_id"]
    ]
    assert (fault["hits"], len(fault["killed_at"]), fault["active"]) == (1, 1, False)
    sent = stack.ebay.requests(endpoint="place_proxy_bid", item_id=item_id)
    killed = parse_utc(fault["killed_at"][0]).timestamp()
    assert sent[0]["arrival"] < killed  # killed after eBay had the bid
    assert "Runtime.ExitError" in run.errors()  # Step Functions saw the crash
    # 1. The final status is eBay's truth.
    auction = stack.ebay.auction_state(item_id)
    assert (auction["status"], auction["settled"]) == ("ENDED", True)
    assert (auction["winner"] == user_id) is (truth is SnipeStatus.WON)
    assert run.snipe.status is truth, (run.snipe.status, run.snipe.reason)
    assert run.description["status"] == "SUCCEEDED"
    # 2. Exactly one bid of the user reached eBay.
    assert [b["username"] for b in auction["bids"]].count(user_id) == 1
    # 3. The user learns the truth, once.
    emails = [e["Subject"] for e in scenario.emails()]
    assert len(emails) == 1 and emails[0].startswith(subject), emails


def _lead(stack: LocalStack) -> float:
    """How long before the bid the workflow wakes up (the stack's lead)."""
    return float(stack.environment["SNIPE_LEAD_SECONDS"])

"""Issue 5 through the API Lambda in-process: edit (PATCH), idempotent create,
history filters, stats and notification preferences.

Same harness as ``test_api_snipes``: moto DynamoDB, a respx eBay (Browse), a
recording fake of ``ExecutionControl`` and a controllable clock.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.typing import LambdaContext as PowertoolsContext

from tests.support.api import (
    ITEM_ID,
    START,
    Env,
    assert_error,
    create,
    create_body,
    openapi,
    outcome_counts,
    scheduled_snipe,
    schema_validator,
)
from tests.support.apigw import USER_B, LambdaContext, api_event, call
from tests.support.snipes import make_snipe
from workflows import bidding, groups, idempotency, notifications, postmark
from workflows.bidding import PlaceBidInput
from workflows.errors import SnipeNotActive, TransitionRejected, WorkflowUnavailable
from workflows.executions import ExecutionNameTaken
from workflows.models import (
    BidRecord,
    Identity,
    NotificationStatus,
    Reason,
    ResultRecord,
    Snipe,
    SnipeStatus,
)
from workflows.money import Money
from workflows.notifications import EmailOutcome, NotifyInput
from workflows.scheduling import (
    CreateSnipeRequest,
    new_snipe_id,
)
from workflows.stats import compute_stats
from workflows.store import IDEMPOTENCY_PARTITION
from workflows.timing import SnipePlan, to_z

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

USER_A = ("user-a", "a@example.com")


def patch(
    snipe_id: str, body: Any, user: tuple[str, str] = USER_A
) -> tuple[int, dict[str, str], Any]:
    return call(api_event("PATCH", f"/api/snipes/{snipe_id}", user=user, body=body))


def claim(env: Env, snipe_id: str, name: str | None = None) -> Snipe:
    return bidding._claim(
        env.services, PlaceBidInput(snipe_id=snipe_id, execution_name=name or snipe_id)
    )


def new_group(env: Env, user_id: str = "user-a", wins: int = 1) -> str:
    request = groups.CreateGroupRequest(name="Cameras", wins_wanted=wins)
    return groups.create_group(env.services, user_id, request).group.group_id


# --- PATCH: max bid ----------------------------------------------------------


def test_max_bid_change_is_written_and_read_by_the_claim(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    before = env.store.get(snipe_id)
    browse_reads = len(env.ebay.item_requests)

    status, _, body = patch(
        snipe_id, {"max_bid": {"value": "300.00", "currency": "USD"}}
    )

    assert status == 200, body
    assert body["max_bid"] == {"value": "300.00", "currency": "USD"}
    assert body["warnings"] == []
    assert body["plan"]["wake_at"] == to_z(before.plan.wake_at)  # unchanged
    assert len(env.ebay.item_requests) == browse_reads + 1  # a fresh Browse read
    stored = env.store.get(snipe_id)
    assert stored.max_bid == Money(amount_minor=30000, currency="USD")
    assert stored.version == before.version + 1
    assert env.executions.started.keys() == {snipe_id}  # no new execution
    assert env.executions.stopped == []
    # The claim returns the record it wrote: the new max bid.
    assert claim(env, snipe_id).max_bid == Money(amount_minor=30000, currency="USD")


def test_max_bid_below_the_listings_current_minimum_is_422(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    # The price went up since the snipe was created.
    env.ebay.items["123456789012"]["minimumPriceToBid"] = {
        "value": "200.00",
        "currency": "USD",
    }

    result = patch(snipe_id, {"max_bid": {"value": "199.99", "currency": "USD"}})

    assert assert_error(result, 422, "MAX_BID_TOO_LOW") == {
        "minimum_bid": {"value": "200.00", "currency": "USD"}
    }
    assert env.store.get(snipe_id).max_bid.amount_minor == 25000
    ok = patch(snipe_id, {"max_bid": {"value": "200.00", "currency": "USD"}})
    assert ok[0] == 200, ok[2]


def test_max_bid_in_another_currency_is_422(env: Env) -> None:
    snipe_id = scheduled_snipe(env)

    result = patch(snipe_id, {"max_bid": {"value": "300.00", "currency": "EUR"}})

    assert assert_error(result, 422, "CURRENCY_MISMATCH") == {"listing_currency": "USD"}


def test_max_bid_change_on_an_ended_listing_is_409(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    env.ebay.items["123456789012"]["itemEndDate"] = "2026-05-01T11:59:00.000Z"

    result = patch(snipe_id, {"max_bid": {"value": "300.00", "currency": "USD"}})

    assert_error(result, 409, "AUCTION_ENDED")


def test_max_bid_change_with_ebay_down_is_502_and_changes_nothing(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    env.ebay.browse_status = 503

    result = patch(snipe_id, {"max_bid": {"value": "300.00", "currency": "USD"}})

    assert result[0] == 502
    assert env.store.get(snipe_id).max_bid.amount_minor == 25000


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"max_bid": None},
        {"bid_offset_seconds": None},
        {"max_bid": {"value": "0.00", "currency": "USD"}},
        {"max_bid": {"value": 300, "currency": "USD"}},
        {"bid_offset_seconds": 0},
        {"bid_offset_seconds": 61},
        {"bid_offset_seconds": "5"},
        {"group_id": ""},
        {"group_id": "grp x"},
        {"status": "CANCELLED"},
        {"user_id": "user-b"},
    ],
)
def test_invalid_edit_body_is_422(env: Env, body: dict[str, Any]) -> None:
    snipe_id = scheduled_snipe(env)
    version = env.store.get(snipe_id).version

    assert_error(patch(snipe_id, body), 422, "VALIDATION_FAILED")
    assert env.store.get(snipe_id).version == version


# --- PATCH: state and ownership ------------------------------------------------


@pytest.mark.parametrize("claimed", [SnipeStatus.BIDDING, SnipeStatus.BID_PLACED])
def test_edit_after_the_claim_is_409_already_bidding(
    env: Env, claimed: SnipeStatus
) -> None:
    snipe_id = scheduled_snipe(env)
    claim(env, snipe_id)
    if claimed is SnipeStatus.BID_PLACED:
        env.store.transition(
            snipe_id, allowed_from={SnipeStatus.BIDDING}, to=SnipeStatus.BID_PLACED
        )

    for body in (
        {"max_bid": {"value": "300.00", "currency": "USD"}},
        {"bid_offset_seconds": 3},
        {"group_id": None},
    ):
        details = assert_error(patch(snipe_id, body), 409, "SNIPE_ALREADY_BIDDING")
        assert details == {"status": claimed.value}
    assert env.store.get(snipe_id).max_bid.amount_minor == 25000
    assert env.executions.started.keys() == {snipe_id}


@pytest.mark.parametrize(
    "final",
    [SnipeStatus.CANCELLED, SnipeStatus.WON, SnipeStatus.SKIPPED, SnipeStatus.FAILED],
)
def test_edit_of_a_finished_snipe_is_409_already_finished(
    env: Env, final: SnipeStatus
) -> None:
    snipe_id = scheduled_snipe(env)
    env.store.transition(snipe_id, allowed_from={SnipeStatus.SCHEDULED}, to=final)

    result = patch(snipe_id, {"bid_offset_seconds": 3})

    assert assert_error(result, 409, "SNIPE_ALREADY_FINISHED") == {
        "status": final.value
    }


def test_edit_of_another_users_snipe_is_404(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    env.link("user-b")

    result = patch(
        snipe_id, {"max_bid": {"value": "999.00", "currency": "USD"}}, user=USER_B
    )

    assert_error(result, 404, "SNIPE_NOT_FOUND")
    assert env.store.get(snipe_id).max_bid.amount_minor == 25000
    assert_error(
        patch(new_snipe_id(START), {"bid_offset_seconds": 3}), 404, "SNIPE_NOT_FOUND"
    )


def test_edit_racing_the_claim_is_409_and_the_claim_keeps_the_old_max_bid(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read says SCHEDULED, but the claim lands before the conditional write."""
    snipe_id = scheduled_snipe(env)
    stale = env.store.get(snipe_id)
    claimed = claim(env, snipe_id)
    monkeypatch.setattr(env.store, "get_for_user", lambda user_id, sid: stale)

    result = patch(snipe_id, {"max_bid": {"value": "300.00", "currency": "USD"}})

    assert_error(result, 409, "SNIPE_ALREADY_BIDDING")
    assert claimed.max_bid.amount_minor == 25000
    assert env.store.get(snipe_id).max_bid.amount_minor == 25000


def test_an_edit_losing_to_another_edit_is_retried_on_a_fresh_read(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    snipe_id = scheduled_snipe(env)
    original = env.store.update_scheduled
    calls: list[int] = []

    def concurrent_edit_first(snipe_id: str, **kwargs: Any) -> Snipe:
        calls.append(kwargs["expected_version"])
        if len(calls) == 1:  # another request changes the group meanwhile
            current = env.store.get(snipe_id)
            original(
                snipe_id, expected_version=current.version, fields={"group_id": "grp_X"}
            )
        return original(snipe_id, **kwargs)

    monkeypatch.setattr(env.store, "update_scheduled", concurrent_edit_first)

    status, _, body = patch(
        snipe_id, {"max_bid": {"value": "300.00", "currency": "USD"}}
    )

    assert status == 200, body
    assert calls == [1, 2]
    stored = env.store.get(snipe_id)
    assert (stored.max_bid.amount_minor, stored.group_id, stored.version) == (
        30000,
        "grp_X",
        3,
    )


# --- PATCH: bid offset -> new execution ------------------------------------------


def test_offset_change_starts_v2_stops_the_old_execution_and_records_it(
    env: Env,
) -> None:
    snipe_id = scheduled_snipe(env)

    status, _, body = patch(snipe_id, {"bid_offset_seconds": 3})

    assert status == 200, body
    assert body["bid_offset_seconds"] == 3
    assert body["plan"] == {
        "wake_at": "2026-05-01T12:59:47.000Z",  # end - 3 s - lead 10 s
        "fire_at": "2026-05-01T12:59:57.000Z",
        "end_at": "2026-05-01T13:00:00.000Z",
        "settle_at": "2026-05-01T13:00:15.000Z",
    }
    v2 = f"{snipe_id}-v2"
    assert env.executions.started[v2] == {
        "snipe_id": snipe_id,
        "item_id": ITEM_ID,
        "plan": body["plan"],
    }
    assert env.executions.stopped == [env.executions.arn(snipe_id)]
    stored = env.store.get(snipe_id)
    assert stored.execution_name == v2
    assert stored.execution_arn == env.executions.arn(v2)
    assert stored.plan.fire_at == datetime(2026, 5, 1, 12, 59, 57, tzinfo=UTC)

    # Only the current execution may claim; the replaced one ends quietly.
    with pytest.raises(SnipeNotActive, match="another execution"):
        claim(env, snipe_id, name=snipe_id)
    assert env.store.get(snipe_id).status is SnipeStatus.SCHEDULED
    assert claim(env, snipe_id, name=v2).status is SnipeStatus.BIDDING


def test_each_offset_change_gets_the_next_execution_name(env: Env) -> None:
    snipe_id = scheduled_snipe(env)

    for offset, expected in ((3, "v2"), (8, "v3"), (5, "v4")):
        status, _, body = patch(snipe_id, {"bid_offset_seconds": offset})
        assert status == 200, body
        assert env.store.get(snipe_id).execution_name == f"{snipe_id}-{expected}"

    assert env.executions.stopped == [
        env.executions.arn(name)
        for name in (snipe_id, f"{snipe_id}-v2", f"{snipe_id}-v3")
    ]


def test_same_offset_starts_no_execution(env: Env) -> None:
    snipe_id = scheduled_snipe(env)

    status, _, body = patch(snipe_id, {"bid_offset_seconds": 6})

    assert status == 200, body
    assert env.executions.started.keys() == {snipe_id}
    assert env.store.get(snipe_id).execution_name == snipe_id


def test_offset_whose_wake_up_has_passed_is_409_and_changes_nothing(env: Env) -> None:
    snipe_id = scheduled_snipe(env, ends_in=40)  # wake-up 24 s ahead at offset 6
    env.clock.advance(20)  # 20 s before the end: offset 10 -> wake 0 s ahead

    result = patch(snipe_id, {"bid_offset_seconds": 10})

    details = assert_error(result, 409, "AUCTION_ENDING_TOO_SOON")
    assert details["wake_at"] == "2026-05-01T12:00:20.000Z"
    assert details["earliest_wake_at"] == "2026-05-01T12:00:22.000Z"
    assert env.executions.started.keys() == {snipe_id}
    assert env.store.get(snipe_id).bid_offset_seconds == 6
    # A later bid time still fits.
    assert patch(snipe_id, {"bid_offset_seconds": 2})[0] == 200


def test_successor_that_cannot_start_leaves_the_snipe_as_it_was(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    env.executions.start_error = WorkflowUnavailable("throttled")

    result = patch(snipe_id, {"bid_offset_seconds": 3})

    assert_error(result, 503, "WORKFLOW_UNAVAILABLE")
    stored = env.store.get(snipe_id)
    assert (stored.execution_name, stored.bid_offset_seconds) == (snipe_id, 6)
    assert env.executions.stopped == []


def test_a_taken_execution_name_is_skipped(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    snipe_id = scheduled_snipe(env)
    start = env.executions.start

    def start_with_v2_taken(name: str, execution_input: Any) -> str:
        if name == f"{snipe_id}-v2":  # left by an edit that crashed
            raise ExecutionNameTaken(name)
        return start(name, execution_input)

    monkeypatch.setattr(env.executions, "start", start_with_v2_taken)

    status, _, _ = patch(snipe_id, {"bid_offset_seconds": 3})

    assert status == 200
    assert env.store.get(snipe_id).execution_name == f"{snipe_id}-v3"


def test_successor_of_a_refused_edit_is_stopped(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claim lands between the successor's start and the edit's write."""
    snipe_id = scheduled_snipe(env)
    original = env.store.update_scheduled

    def claimed_first(snipe_id: str, **kwargs: Any) -> Snipe:
        claim(env, snipe_id)
        return original(snipe_id, **kwargs)

    monkeypatch.setattr(env.store, "update_scheduled", claimed_first)

    result = patch(snipe_id, {"bid_offset_seconds": 3})

    assert_error(result, 409, "SNIPE_ALREADY_BIDDING")
    v2 = f"{snipe_id}-v2"
    assert env.executions.stopped == [env.executions.arn(v2)]
    stored = env.store.get(snipe_id)
    assert (stored.status, stored.execution_name) == (SnipeStatus.BIDDING, snipe_id)


def test_crash_between_successor_start_and_write_keeps_the_old_execution(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Lambda dies after StartExecution: the old execution stays current and
    is the only one that can claim; the successor ends quietly at its wake-up."""
    snipe_id = scheduled_snipe(env)

    def crash(snipe_id: str, **kwargs: Any) -> Snipe:
        raise RuntimeError("Lambda timed out")

    monkeypatch.setattr(env.store, "update_scheduled", crash)

    assert_error(patch(snipe_id, {"bid_offset_seconds": 3}), 500, "INTERNAL_ERROR")
    monkeypatch.undo()

    assert f"{snipe_id}-v2" in env.executions.started
    with pytest.raises(SnipeNotActive):
        claim(env, snipe_id, name=f"{snipe_id}-v2")
    assert claim(env, snipe_id, name=snipe_id).status is SnipeStatus.BIDDING


def test_crash_after_the_write_leaves_only_the_successor_able_to_claim(
    env: Env,
) -> None:
    """Stopping the old execution fails (or never happens): it cannot claim."""
    snipe_id = scheduled_snipe(env)
    env.executions.stop_error = RuntimeError("Lambda timed out")

    status, _, _ = patch(snipe_id, {"bid_offset_seconds": 3})

    assert status == 200
    with pytest.raises(SnipeNotActive):
        claim(env, snipe_id, name=snipe_id)
    assert claim(env, snipe_id, name=f"{snipe_id}-v2").status is SnipeStatus.BIDDING


def test_a_retried_crashed_edit_reuses_or_skips_the_orphan(env: Env) -> None:
    """StartExecution is idempotent for an identical name and input."""
    snipe_id = scheduled_snipe(env)
    plan = SnipePlan.for_auction(
        START + timedelta(hours=1),
        bid_offset_seconds=3,
        lead_seconds=10,
        settle_seconds=15,
    )
    orphan = env.executions.start(
        f"{snipe_id}-v2",
        {"snipe_id": snipe_id, "item_id": ITEM_ID, "plan": plan.as_execution_input()},
    )

    assert patch(snipe_id, {"bid_offset_seconds": 3})[0] == 200

    assert env.store.get(snipe_id).execution_arn == orphan


def test_cancel_after_an_offset_change_stops_the_current_execution(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    assert patch(snipe_id, {"bid_offset_seconds": 3})[0] == 200

    status, _, _ = call(api_event("DELETE", f"/api/snipes/{snipe_id}"))

    assert status == 200
    assert env.executions.stopped[-1] == env.executions.arn(f"{snipe_id}-v2")


def test_snipes_without_a_recorded_execution_name_accept_any_claimer(
    env: Env,
) -> None:
    """Snipes stored before execution names were recorded keep working."""
    snipe_id = scheduled_snipe(env)
    env.store.update_scheduled(
        snipe_id,
        expected_version=env.store.get(snipe_id).version,
        fields={},
        remove=["execution_name"],
    )

    assert claim(env, snipe_id, name="anything").status is SnipeStatus.BIDDING


def test_snipes_storing_a_null_execution_name_accept_any_claimer(env: Env) -> None:
    snipe = seed_snipe(env, end_at=START + timedelta(hours=1))
    assert snipe.execution_name is None

    assert claim(env, snipe.snipe_id, name="exec-1").status is SnipeStatus.BIDDING


# --- groups on create and edit -------------------------------------------------


def test_edit_joins_and_leaves_a_group(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    group_id = new_group(env)

    status, _, body = patch(snipe_id, {"group_id": group_id})

    assert status == 200, body
    assert (body["group_id"], body["warnings"]) == (group_id, [])
    assert env.store.get(snipe_id).group_id == group_id

    status, _, body = patch(snipe_id, {"group_id": None})

    assert status == 200, body
    assert body["group_id"] is None
    assert env.store.get(snipe_id).group_id is None


def test_another_users_or_an_unknown_group_is_404(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    theirs = new_group(env, user_id="user-b")

    for group_id in (theirs, "grp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N", "nonsense"):
        assert_error(patch(snipe_id, {"group_id": group_id}), 404, "GROUP_NOT_FOUND")
        result = call(
            api_event("POST", "/api/snipes", body=create_body(group_id=group_id))
        )
        assert_error(result, 404, "GROUP_NOT_FOUND")
    assert env.store.get(snipe_id).group_id is None
    assert len(env.executions.started) == 1  # no snipe was created


def test_members_ending_within_30_s_are_warned_about(env: Env) -> None:
    env.link()
    group_id = new_group(env, wins=1)
    env.auction(ends_in=3600)
    env.ebay.add_auction(START + timedelta(seconds=3620), legacy_id="223456789012")
    env.ebay.add_auction(START + timedelta(seconds=3700), legacy_id="323456789012")

    status, _, first = call(
        api_event("POST", "/api/snipes", body=create_body(group_id=group_id))
    )
    assert (status, first["warnings"]) == (201, [])
    status, _, near = call(
        api_event(
            "POST",
            "/api/snipes",
            body=create_body(item_id="v1|223456789012|0", group_id=group_id),
        )
    )
    assert status == 201, near
    [warning] = near["warnings"]
    assert first["snipe_id"] in warning
    far = create_body(item_id="v1|323456789012|0")
    status, _, body = call(api_event("POST", "/api/snipes", body=far))
    assert status == 201

    status, _, edited = patch(body["snipe_id"], {"group_id": group_id})

    assert (status, edited["warnings"]) == (200, [])
    status, _, again = patch(first["snipe_id"], {"group_id": group_id})
    assert status == 200
    assert [near["snipe_id"] in w for w in again["warnings"]] == [True]


# --- idempotent create -----------------------------------------------------------


def idem_post(
    body: dict[str, Any], key: str, user: tuple[str, str] = USER_A
) -> tuple[int, dict[str, str], Any]:
    return call(
        api_event(
            "POST",
            "/api/snipes",
            user=user,
            body=body,
            headers={"Idempotency-Key": key},
        )
    )


def test_a_retried_create_returns_the_same_snipe_and_starts_one_execution(
    env: Env,
) -> None:
    env.link()
    env.auction()
    # Same body, other formatting: the key fields are the validated body.
    first = idem_post(create_body(bid_offset_seconds=5), "key-1")
    retried = call(
        api_event(
            "POST",
            "/api/snipes",
            body=json.dumps(create_body(bid_offset_seconds=5), indent=2),
            headers={"idempotency-key": "key-1"},
        )
    )

    assert (first[0], retried[0]) == (201, 201)
    assert retried[2] == first[2]
    assert list(env.executions.started) == [first[2]["snipe_id"]]
    items, _ = env.store.list_for_user("user-a")
    assert [s.snipe_id for s in items] == [first[2]["snipe_id"]]


def test_the_same_key_with_another_body_is_409(env: Env) -> None:
    env.link()
    env.auction()
    assert idem_post(create_body(), "key-1")[0] == 201

    result = idem_post(create_body(value="260.00"), "key-1")

    assert_error(result, 409, "IDEMPOTENCY_KEY_REUSED")
    assert len(env.executions.started) == 1


def test_the_same_key_from_two_users_makes_two_snipes(env: Env) -> None:
    env.link()
    env.link("user-b")
    env.auction()

    a = idem_post(create_body(), "shared-key")
    b = idem_post(create_body(), "shared-key", user=USER_B)

    assert (a[0], b[0]) == (201, 201)
    assert a[2]["snipe_id"] != b[2]["snipe_id"]
    assert env.store.get(b[2]["snipe_id"]).user_id == "user-b"
    # B's retry gets B's snipe, never A's.
    assert idem_post(create_body(), "shared-key", user=USER_B)[2] == b[2]


def test_a_request_in_progress_with_the_key_is_409(env: Env) -> None:
    env.link()
    env.auction()
    release = threading.Event()
    entered = threading.Event()
    browse = env.ebay._item

    def slow_item(request: Any) -> Any:
        entered.set()
        release.wait(5)
        return browse(request)

    env.ebay.router.routes[1].side_effect = slow_item
    results: list[Snipe] = []
    request = CreateSnipeRequest.model_validate(create_body())

    def first_request() -> None:  # the same create, still running elsewhere
        identity = Identity(user_id="user-a", email="a@example.com")
        results.append(
            idempotency.create_snipe_once(
                env.services,
                identity,
                request,
                key="k",
                lambda_context=cast(PowertoolsContext, LambdaContext()),
            )
        )

    first = threading.Thread(target=first_request)
    first.start()
    try:
        assert entered.wait(5)
        second = idem_post(create_body(), "k")
    finally:
        release.set()
        first.join(10)

    assert_error(second, 409, "IDEMPOTENCY_IN_PROGRESS")
    [snipe] = results
    assert idem_post(create_body(), "k")[2]["snipe_id"] == snipe.snipe_id
    assert list(env.executions.started) == [snipe.snipe_id]


def test_idempotency_records_expire_after_24_hours_and_are_scoped(env: Env) -> None:
    env.link()
    env.link("user-b")
    env.auction()
    idem_post(create_body(), "key-1")
    idem_post(create_body(), "key-1", user=USER_B)

    client = env.store._client
    items = client.query(
        TableName=env.store.table_name,
        KeyConditionExpression="PK = :p",
        ExpressionAttributeValues={":p": {"S": IDEMPOTENCY_PARTITION}},
    )["Items"]

    assert len(items) == 2
    assert len({item["SK"]["S"] for item in items}) == 2
    for item in items:
        assert item["SK"]["S"].startswith("create_snipe#")
        assert item["idempotency_status"]["S"] == "COMPLETED"
        expires = int(item["ttl"]["N"])
        assert abs(expires - (time.time() + 24 * 3600)) < 60
        assert "key-1" not in json.dumps(item)  # only hashes of the key


def test_a_failed_create_frees_its_key(env: Env) -> None:
    env.link()
    env.auction(ends_in=5)  # too soon

    assert_error(idem_post(create_body(), "key-1"), 409, "AUCTION_ENDING_TOO_SOON")
    env.auction(ends_in=3600)

    assert idem_post(create_body(), "key-1")[0] == 201


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "naïve"])
def test_an_invalid_idempotency_key_is_422(env: Env, key: str) -> None:
    env.link()
    env.auction()

    assert_error(idem_post(create_body(), key), 422, "VALIDATION_FAILED")
    assert env.executions.started == {}


def test_without_the_header_each_post_creates_a_snipe(env: Env) -> None:
    env.link()
    env.auction()

    ids = {create(env), create(env)}

    assert len(ids) == 2


# --- history filters ---------------------------------------------------------------


def seed_snipe(
    env: Env,
    *,
    end_at: datetime,
    status: SnipeStatus = SnipeStatus.SCHEDULED,
    user_id: str = "user-a",
    currency: str = "USD",
    max_minor: int = 10000,
    final_minor: int | None = None,
    fire_error_us: int | None = None,
    created_at: datetime | None = None,
) -> Snipe:
    created = created_at or env.clock.now
    env.clock.advance(0.001)
    max_bid = Money(amount_minor=max_minor, currency=currency)
    snipe = make_snipe(
        snipe_id=new_snipe_id(created),
        user_id=user_id,
        item_id=ITEM_ID,
        end_at=end_at,
        max_bid=max_bid,
        created_at=created,
        status=status,
        bid=None
        if fire_error_us is None
        else BidRecord(
            proxy_bid_id="p-1",
            max_bid=max_bid,
            sent_at=end_at,
            fire_error_us=fire_error_us,
        ),
        result=None
        if final_minor is None
        else ResultRecord(
            final_price=Money(amount_minor=final_minor, currency=currency),
            checked_at=end_at,
        ),
    )
    env.store.create(snipe)
    return snipe


def list_all(query: dict[str, str], user: tuple[str, str] = USER_A) -> list[list[str]]:
    """Every page's snipe ids, following the cursor."""
    pages = []
    while True:
        status, _, body = call(api_event("GET", "/api/snipes", user=user, query=query))
        assert status == 200, body
        pages.append([s["snipe_id"] for s in body["items"]])
        if not body["next_cursor"]:
            return pages
        query = {**query, "cursor": body["next_cursor"]}


def flat(pages: list[list[str]]) -> list[str]:
    return list(itertools.chain.from_iterable(pages))


def test_end_time_filters_combine_with_status_and_pages(env: Env) -> None:
    base = START + timedelta(days=1)
    snipes = [
        seed_snipe(
            env,
            end_at=base + timedelta(hours=i),
            status=SnipeStatus.WON if i % 2 else SnipeStatus.LOST,
        )
        for i in range(12)
    ]
    newest_first = list(reversed(snipes))

    def expected(lo: int, hi: int, status: SnipeStatus | None = None) -> list[str]:
        return [
            s.snipe_id
            for s in newest_first
            if base + timedelta(hours=lo) <= s.plan.end_at < base + timedelta(hours=hi)
            and (status is None or s.status is status)
        ]

    window = {
        "ends_after": to_z(base + timedelta(hours=2)),
        "ends_before": to_z(base + timedelta(hours=9)),
    }
    pages = list_all({**window, "limit": "3"})
    assert [len(p) for p in pages] == [3, 3, 1]
    assert flat(pages) == expected(2, 9)

    won = list_all({**window, "status": "WON", "limit": "2"})
    assert [len(p) for p in won[:-1]] == [2] * (len(won) - 1)
    assert flat(won) == expected(2, 9, SnipeStatus.WON)

    after_only = list_all({"ends_after": to_z(base + timedelta(hours=10))})
    assert flat(after_only) == expected(10, 99)
    before_only = list_all({"ends_before": "2026-05-02T13:00:00+01:00"})  # 12:00Z
    assert flat(before_only) == expected(0, 0)  # none end before base


def test_end_time_bounds_are_exact_to_the_millisecond(env: Env) -> None:
    end = datetime(2026, 5, 2, 12, 0, 0, 500000, tzinfo=UTC)
    at_second = seed_snipe(env, end_at=end.replace(microsecond=0))
    half = seed_snipe(env, end_at=end)

    def ids(query: dict[str, str]) -> set[str]:
        return set(flat(list_all(query)))

    assert ids({"ends_after": "2026-05-02T12:00:00.500Z"}) == {half.snipe_id}
    assert ids({"ends_after": "2026-05-02T12:00:00.501Z"}) == set()
    assert ids({"ends_before": "2026-05-02T12:00:00.500Z"}) == {at_second.snipe_id}
    assert ids({"ends_before": "2026-05-02T12:00:00.501Z"}) == {
        at_second.snipe_id,
        half.snipe_id,
    }


def test_sparse_matches_fill_the_page_across_queries(env: Env) -> None:
    """DynamoDB filters after Limit: the store keeps querying until the page
    is full; a page cut short by the query bound still has a cursor."""
    base = START + timedelta(days=1)
    match = [seed_snipe(env, end_at=base + timedelta(hours=1)) for _ in range(3)]
    for _ in range(7):
        seed_snipe(env, end_at=base + timedelta(days=30))
    match.append(seed_snipe(env, end_at=base + timedelta(hours=2)))
    expected = [s.snipe_id for s in reversed(match)]
    before = base + timedelta(days=1)

    items, cursor = env.store.list_for_user_ending_between(
        "user-a", ends_before=before, limit=4, batch_size=2, max_queries=20
    )
    assert ([s.snipe_id for s in items], cursor) == (expected, None)

    found: list[str] = []
    cursor = None
    pages = 0
    while True:
        items, cursor = env.store.list_for_user_ending_between(
            "user-a",
            ends_before=before,
            limit=4,
            batch_size=2,
            max_queries=2,
            cursor=cursor,
        )
        found += [s.snipe_id for s in items]
        pages += 1
        if cursor is None:
            break
    # Short pages carried a cursor: following it found every match.
    assert found == expected
    assert pages > 1


@pytest.mark.parametrize(
    "query",
    [
        {"ends_after": "2026-05-02T12:00:00"},  # no zone
        {"ends_before": "yesterday"},
        {"ends_after": "2026-05-02T12:00:00Z", "ends_before": "2026-05-02T12:00:00Z"},
    ],
)
def test_invalid_time_filters_are_422(env: Env, query: dict[str, str]) -> None:
    result = call(api_event("GET", "/api/snipes", query=query))

    assert result[0] == 422
    code = result[2]["error"]["code"]
    assert code == ("INVALID_TIME_RANGE" if len(query) == 2 else "VALIDATION_FAILED")


def test_a_cursor_of_another_user_is_refused_with_filters(env: Env) -> None:
    for _ in range(3):
        seed_snipe(env, end_at=START + timedelta(days=1))
    query = {"ends_after": "2026-05-01T00:00:00Z", "limit": "1"}
    _, _, page = call(api_event("GET", "/api/snipes", query=query))

    stolen = call(
        api_event(
            "GET",
            "/api/snipes",
            user=USER_B,
            query={**query, "cursor": page["next_cursor"]},
        )
    )

    assert_error(stolen, 400, "INVALID_CURSOR")


# --- stats ---------------------------------------------------------------------------


def test_stats_per_currency(env: Env) -> None:
    end = START + timedelta(days=1)
    seed_snipe(
        env,
        end_at=end,
        status=SnipeStatus.WON,
        max_minor=25000,
        final_minor=14250,
        fire_error_us=12000,
    )
    seed_snipe(
        env,
        end_at=end,
        status=SnipeStatus.WON,
        max_minor=5000,
        final_minor=5000,
        fire_error_us=-3000,
    )
    seed_snipe(env, end_at=end, status=SnipeStatus.WON, max_minor=5000)  # no price
    seed_snipe(
        env, end_at=end, status=SnipeStatus.LOST, final_minor=20000, fire_error_us=40000
    )
    seed_snipe(env, end_at=end, status=SnipeStatus.SKIPPED)
    seed_snipe(env, end_at=end, status=SnipeStatus.FAILED)
    seed_snipe(env, end_at=end, status=SnipeStatus.CANCELLED)
    seed_snipe(env, end_at=end, status=SnipeStatus.SCHEDULED)
    seed_snipe(env, end_at=end, status=SnipeStatus.BID_PLACED, fire_error_us=1000)
    seed_snipe(
        env,
        end_at=end,
        status=SnipeStatus.WON,
        currency="EUR",
        max_minor=9000,
        final_minor=8000,
        fire_error_us=5000,
    )
    seed_snipe(env, end_at=end, status=SnipeStatus.WON, user_id="user-b", final_minor=1)

    status, _, body = call(api_event("GET", "/api/stats"))

    assert status == 200, body
    assert body == {
        "currencies": [
            {
                "currency": "EUR",
                "counts": outcome_counts(WON=1),
                "total_spent": {"value": "80.00", "currency": "EUR"},
                "savings_on_wins": {"value": "10.00", "currency": "EUR"},
                "priced_wins": 1,
                "fire_error_ms": {"count": 1, "average": 5.0, "p95": 5.0},
            },
            {
                "currency": "USD",
                "counts": outcome_counts(
                    WON=3, LOST=1, SKIPPED=1, FAILED=1, CANCELLED=1, active=2
                ),
                "total_spent": {"value": "192.50", "currency": "USD"},
                "savings_on_wins": {"value": "107.50", "currency": "USD"},
                "priced_wins": 2,
                # errors: -3, 1, 12, 40 ms -> mean 12.5, p95 (nearest rank) 40
                "fire_error_ms": {"count": 4, "average": 12.5, "p95": 40.0},
            },
        ]
    }


def test_stats_of_a_user_without_snipes(env: Env) -> None:
    assert call(api_event("GET", "/api/stats"))[2] == {"currencies": []}


def test_fire_error_p95_is_the_nearest_rank() -> None:
    end = START
    snipes = []
    for i in range(1, 41):  # 1..40 ms
        snipes.append(
            make_snipe(
                snipe_id=f"snp_{i}",
                user_id="u",
                item_id=ITEM_ID,
                title="x",
                end_at=end,
                max_bid=Money(amount_minor=100, currency="USD"),
                created_at=end,
                settle_seconds=1,
                status=SnipeStatus.LOST,
                bid=BidRecord(
                    proxy_bid_id="p",
                    max_bid=Money(amount_minor=100, currency="USD"),
                    sent_at=end,
                    fire_error_us=i * 1000,
                ),
            )
        )
    [usd] = compute_stats(snipes)
    assert (usd.fire_error.average_ms, usd.fire_error.p95_ms) == (20.5, 38.0)


def test_stats_read_every_page_of_the_index(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(5):
        seed_snipe(env, end_at=START, status=SnipeStatus.LOST)
    query = env.store._client.query
    pages: list[int] = []

    def small_pages(**kwargs: Any) -> Any:
        response = query(**{**kwargs, "Limit": 2})
        pages.append(len(response["Items"]))
        return response

    monkeypatch.setattr(env.store._client, "query", small_pages)

    body = call(api_event("GET", "/api/stats"))[2]

    assert body["currencies"][0]["counts"]["LOST"] == 5
    assert pages[:3] == [2, 2, 1]


# --- notification preferences ---------------------------------------------------


ALL_ON = {"WON": True, "LOST": True, "SKIPPED": True, "FAILED": True}


def test_preferences_default_to_every_outcome_and_are_per_user(env: Env) -> None:
    assert call(api_event("GET", "/api/me/preferences"))[2] == {"email_on": ALL_ON}
    quiet = {**ALL_ON, "LOST": False, "SKIPPED": False}

    status, _, body = call(
        api_event("PUT", "/api/me/preferences", body={"email_on": quiet})
    )

    assert (status, body) == (200, {"email_on": quiet})
    assert call(api_event("GET", "/api/me/preferences"))[2] == {"email_on": quiet}
    assert call(api_event("GET", "/api/me/preferences", user=USER_B))[2] == {
        "email_on": ALL_ON
    }
    item = env.store._client.get_item(
        TableName=env.store.table_name,
        Key={"PK": {"S": "USER#user-a"}, "SK": {"S": "PREFS"}},
    )["Item"]
    assert item["kind"]["S"] == "preferences"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email_on": {"WON": True}},
        {"email_on": {**ALL_ON, "WON": "no"}},
        {"email_on": {**ALL_ON, "WON": 0}},
        {"email_on": {**ALL_ON, "CANCELLED": True}},
        {"email_on": ALL_ON, "user_id": "user-b"},
    ],
)
def test_invalid_preferences_are_422(env: Env, body: dict[str, Any]) -> None:
    assert_error(
        call(api_event("PUT", "/api/me/preferences", body=body)),
        422,
        "VALIDATION_FAILED",
    )


@dataclasses.dataclass
class FakePostmark(postmark.PostmarkClient):
    sent: list[postmark.EmailMessage] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(server_token="fake")

    def send(self, message: postmark.EmailMessage) -> postmark.SendResult:
        self.sent.append(message)
        return postmark.SendResult(
            message_id=f"m-{len(self.sent)}",
            submitted_at="2026-05-01T13:00:20Z",
            to=message.to,
        )


@pytest.mark.parametrize(
    "outcome",
    [SnipeStatus.WON, SnipeStatus.LOST, SnipeStatus.SKIPPED, SnipeStatus.FAILED],
)
def test_a_disabled_outcome_is_suppressed_and_sends_nothing(
    env: Env, outcome: SnipeStatus
) -> None:
    fake = FakePostmark()
    services = dataclasses.replace(env.services, postmark=fake)
    call(
        api_event(
            "PUT",
            "/api/me/preferences",
            body={"email_on": {**ALL_ON, outcome.value: False}},
        )
    )
    quiet = seed_snipe(env, end_at=START, status=outcome)
    other = next(s for s in (SnipeStatus.WON, SnipeStatus.LOST) if s is not outcome)
    loud = seed_snipe(env, end_at=START, status=other)

    output = notifications.finish_and_notify(
        services, NotifyInput(snipe_id=quiet.snipe_id)
    )

    assert (output.status, output.email) == (outcome, EmailOutcome.SUPPRESSED)
    stored = env.store.get(quiet.snipe_id)
    assert stored.status is outcome
    assert stored.notification is not None
    assert stored.notification.status is NotificationStatus.SUPPRESSED
    assert fake.sent == []
    # A retried notify stays quiet; another outcome is still emailed.
    again = notifications.finish_and_notify(
        services, NotifyInput(snipe_id=quiet.snipe_id)
    )
    assert again.email is EmailOutcome.SUPPRESSED and fake.sent == []
    sent = notifications.finish_and_notify(
        services, NotifyInput(snipe_id=loud.snipe_id)
    )
    assert sent.email is EmailOutcome.SENT and len(fake.sent) == 1


def test_a_failure_recorded_by_notify_respects_the_preferences(env: Env) -> None:
    fake = FakePostmark()
    services = dataclasses.replace(env.services, postmark=fake)
    call(
        api_event(
            "PUT", "/api/me/preferences", body={"email_on": {**ALL_ON, "FAILED": False}}
        )
    )
    snipe = seed_snipe(env, end_at=START, status=SnipeStatus.BIDDING)

    output = notifications.finish_and_notify(
        services,
        NotifyInput.model_validate(
            {"snipe_id": snipe.snipe_id, "failure": {"Error": "Runtime.ExitError"}}
        ),
    )

    # A BIDDING snipe may have a bid on eBay: "result unknown", never a plain
    # failure (docs/reliability.md).
    assert (output.status, output.reason, output.email) == (
        SnipeStatus.FAILED,
        Reason.RESULT_UNKNOWN,
        EmailOutcome.SUPPRESSED,
    )
    assert output.system_failure and output.error == "RESULT_UNKNOWN"
    assert fake.sent == []


# --- OpenAPI ----------------------------------------------------------------------

NEW_OPERATIONS = [
    ("/api/snipes/{snipe_id}", "patch", "200"),
    ("/api/snipes", "post", "201"),
    ("/api/stats", "get", "200"),
    ("/api/me/preferences", "get", "200"),
    ("/api/me/preferences", "put", "200"),
]


def test_openapi_documents_the_new_routes_with_valid_examples(env: Env) -> None:
    document = openapi(env)
    paths = document["paths"]
    checked = 0
    for path, method, code in NEW_OPERATIONS:
        operation = paths[path][method]
        assert operation["security"] == [{"CognitoIdToken": []}]
        content = operation["responses"][code]["content"]["application/json"]
        validator = schema_validator(document, content["schema"])
        assert content["examples"], (path, method)
        for example in content["examples"].values():
            validator.validate(example["value"])
            checked += 1
        if method in ("post", "put", "patch"):
            body = operation["requestBody"]["content"]["application/json"]
            request_validator = schema_validator(document, body["schema"])
            assert body["examples"], (path, method)
            for example in body["examples"].values():
                request_validator.validate(example["value"])
                checked += 1
    assert checked >= 15
    listing = {p["name"] for p in paths["/api/snipes"]["get"]["parameters"]}
    assert {"ends_after", "ends_before", "status", "cursor"} <= listing
    headers = [
        p for p in paths["/api/snipes"]["post"]["parameters"] if p["in"] == "header"
    ]
    assert [h["name"].lower() for h in headers] == ["idempotency-key"]
    codes = json.dumps(paths["/api/snipes/{snipe_id}"]["patch"]["responses"])
    for code in (
        "SNIPE_ALREADY_BIDDING",
        "SNIPE_ALREADY_FINISHED",
        "AUCTION_ENDING_TOO_SOON",
        "GROUP_NOT_FOUND",
    ):
        assert code in codes


def test_real_responses_match_the_new_schemas(env: Env) -> None:
    document = openapi(env)
    paths = document["paths"]
    env.link()
    env.auction()

    def validate(path: str, method: str, code: str, body: Any) -> None:
        content = paths[path][method]["responses"][code]["content"]["application/json"]
        schema_validator(document, content["schema"]).validate(body)

    created = call(
        api_event(
            "POST", "/api/snipes", body=create_body(), headers={"Idempotency-Key": "k"}
        )
    )
    validate("/api/snipes", "post", "201", created[2])
    edited = patch(created[2]["snipe_id"], {"bid_offset_seconds": 4})
    validate("/api/snipes/{snipe_id}", "patch", "200", edited[2])
    validate("/api/stats", "get", "200", call(api_event("GET", "/api/stats"))[2])
    validate(
        "/api/me/preferences",
        "get",
        "200",
        call(api_event("GET", "/api/me/preferences"))[2],
    )
    call(api_event("DELETE", f"/api/snipes/{created[2]['snipe_id']}"))
    conflict = patch(created[2]["snipe_id"], {"bid_offset_seconds": 5})
    assert conflict[0] == 409
    validate("/api/snipes/{snipe_id}", "patch", "409", conflict[2])


def test_the_claim_transition_is_refused_for_a_stale_execution_even_when_retried(
    env: Env,
) -> None:
    """A replaced execution is refused even with the claimer's idempotent path."""
    snipe_id = scheduled_snipe(env)
    assert patch(snipe_id, {"bid_offset_seconds": 3})[0] == 200

    with pytest.raises(TransitionRejected):
        env.store.transition(
            snipe_id,
            allowed_from={SnipeStatus.SCHEDULED},
            to=SnipeStatus.BIDDING,
            claimed_by=snipe_id,
            current_execution=snipe_id,
        )

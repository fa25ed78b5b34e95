"""Win-N groups through the real state machine (moto) and the eBay simulator.

Two members of a ``wins_wanted=1`` group end ~10 s apart (sandbox: lead 3 s,
settle 1 s, so the first result is recorded before the second member wakes).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.apigw import api_event, call
from tests.support.scenarios import Scenario
from workflows.models import Reason, SnipeStatus

pytestmark = pytest.mark.scenario


def create_group(scenario: Scenario, wins_wanted: int = 1) -> dict[str, Any]:
    status, _, body = call(
        api_event(
            "POST",
            "/api/groups",
            user=scenario.user,
            body={"name": "One camera is enough", "wins_wanted": wins_wanted},
        )
    )
    assert status == 201, body
    return dict(body)


def create_member(
    scenario: Scenario, item_id: str, group_id: str, *, offset: int = 2
) -> dict[str, Any]:
    return scenario.create(item_id, offset=offset, group_id=group_id)


def group_view(scenario: Scenario, group_id: str) -> dict[str, Any]:
    status, _, body = call(
        api_event("GET", f"/api/groups/{group_id}", user=scenario.user)
    )
    assert status == 200, body
    return dict(body)


def group_of_two_auctions(scenario: Scenario) -> tuple[dict[str, Any], str, str]:
    """A new group and two auctions, ending in about 8 and 18 seconds."""
    group = create_group(scenario)
    return group, scenario.auction(end_in_s=8), scenario.auction(end_in_s=18)


def test_a_won_member_satisfies_the_group_and_the_next_is_skipped(
    scenario: Scenario,
) -> None:
    group, first_item, second_item = group_of_two_auctions(scenario)
    first = create_member(scenario, first_item, group["group_id"])
    second = create_member(scenario, second_item, group["group_id"])

    won = scenario.finish(first["snipe_id"])
    skipped = scenario.finish(second["snipe_id"])

    assert won.snipe.status is SnipeStatus.WON
    assert skipped.snipe.status is SnipeStatus.SKIPPED
    assert skipped.snipe.reason is Reason.GROUP_SATISFIED
    assert skipped.description["status"] == "SUCCEEDED"
    assert "SnipeSkipped" in skipped.errors()
    assert "Wait for auction end" not in skipped.states
    # No bid reached eBay for the second item.
    assert scenario.offer_requests(second_item, "place_proxy_bid") == []
    assert len(scenario.offer_requests(first_item, "place_proxy_bid")) == 1
    # The user hears about both: the win and the skip with its reason.
    subjects = {e["Subject"]: e for e in scenario.emails()}
    assert any(s.startswith("You won") for s in subjects)
    [skip_mail] = [e for s, e in subjects.items() if "skipped" in s]
    assert "GROUP_SATISFIED" in skip_mail["TextBody"]
    view = group_view(scenario, group["group_id"])
    assert (view["wins"], view["pending"], view["slots_free"]) == (1, 0, 0)
    members = {m["snipe_id"]: m for m in view["members"]}
    assert members[first["snipe_id"]]["status"] == "WON"
    assert members[first["snipe_id"]]["holds_slot"] is True
    assert members[second["snipe_id"]]["status"] == "SKIPPED"
    assert members[second["snipe_id"]]["reason"] == "GROUP_SATISFIED"


def test_a_lost_member_gives_its_slot_back_and_the_next_one_bids(
    scenario: Scenario,
) -> None:
    group, first_item, second_item = group_of_two_auctions(scenario)
    # A rival outbids the first member after its bid has gone in.
    scenario.stack.ebay.add_rival(first_item, "80.00", seconds_before_end=1)
    first = create_member(scenario, first_item, group["group_id"])
    second = create_member(scenario, second_item, group["group_id"])

    lost = scenario.finish(first["snipe_id"])
    won = scenario.finish(second["snipe_id"])

    assert lost.snipe.status is SnipeStatus.LOST
    assert lost.snipe.group_slot is None
    assert won.snipe.status is SnipeStatus.WON
    assert len(scenario.offer_requests(second_item, "place_proxy_bid")) == 1
    view = group_view(scenario, group["group_id"])
    assert (view["wins"], view["pending"]) == (1, 0)
    holders = {m["snipe_id"] for m in view["members"] if m["holds_slot"]}
    assert holders == {second["snipe_id"]}

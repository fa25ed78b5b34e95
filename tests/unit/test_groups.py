"""Win-N groups at the store and domain level (moto DynamoDB, scripted eBay).

Slots: taken with the claim, kept when WON (or FAILED while a bid may be out),
given back exactly once with any other ending; the claim-time check asks eBay
about holders whose result is open.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.support.groups import (
    START,
    TOKEN,
    GroupWorld,
    make_services,
)
from tests.support.table import moto_table
from workflows import groups
from workflows.errors import (
    GroupNotFound,
    SnipeNotActive,
    SnipeSkipped,
    WinsWantedTooLow,
)
from workflows.groups import CreateGroupRequest, UpdateGroupRequest
from workflows.models import REASON_TEXT, Group, Reason, Snipe, SnipeStatus
from workflows.settlement import CheckResultInput, check_result
from workflows.store import SlotReservation

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture
def world() -> Iterator[GroupWorld]:
    with moto_table("groups-unit") as (client, table):
        services, fake = make_services(client, table)
        yield GroupWorld(services=services, ebay=fake)


def slots(world: GroupWorld, group_id: str) -> tuple[int, set[str]]:
    group = world.store.get_group(group_id)
    return group.slots_used, set(group.holders)


def _one_win_group_with_a_bid(world: GroupWorld) -> tuple[Group, Snipe]:
    """A group that wants one win, and its first member, which has bid."""
    group = world.group(wins_wanted=1)
    return group, world.placed(group.group_id)


# --- CRUD ----------------------------------------------------------------------


def test_a_group_is_created_read_listed_and_belongs_to_its_user(
    world: GroupWorld,
) -> None:
    details = groups.create_group(
        world.services, "user-g", CreateGroupRequest(name="Cameras", wins_wanted=2)
    )
    group = details.group
    assert group.group_id.startswith("grp_") and len(group.group_id) == 30
    assert (group.name, group.wins_wanted, group.slots_used) == ("Cameras", 2, 0)
    assert groups.require_group(world.services, "user-g", group.group_id) == group
    with pytest.raises(GroupNotFound):
        groups.require_group(world.services, "someone-else", group.group_id)
    with pytest.raises(GroupNotFound):
        groups.require_group(world.services, "user-g", "grp_nope")
    page = groups.list_groups(world.services, "user-g")
    assert [g.group_id for g in page.items] == [group.group_id]
    assert groups.list_groups(world.services, "someone-else").items == []


def test_group_requests_are_validated() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CreateGroupRequest(name="", wins_wanted=1)
    with pytest.raises(ValueError, match="at most 100"):
        CreateGroupRequest(name="x" * 101, wins_wanted=1)
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        CreateGroupRequest(name="x", wins_wanted=0)
    with pytest.raises(ValueError, match="name and/or wins_wanted"):
        UpdateGroupRequest()
    assert CreateGroupRequest(name="x").wins_wanted == 1


def test_the_view_has_members_wins_and_pending(world: GroupWorld) -> None:
    group = world.group(wins_wanted=3)
    won, bidding, waiting = (world.snipe(group.group_id) for _ in range(3))
    world.snipe(None)  # not a member
    world.settle(world.bid(world.claim_and_check(won.snipe_id)), SnipeStatus.WON)
    world.claim_and_check(bidding.snipe_id)

    details = groups.get_group(world.services, "user-g", group.group_id)

    assert {m.snipe_id for m in details.members} == {
        won.snipe_id,
        bidding.snipe_id,
        waiting.snipe_id,
    }
    assert (details.wins, details.pending) == (1, 1)
    assert details.group.slots_used == 2


def test_wins_wanted_cannot_go_below_the_slots_in_use(world: GroupWorld) -> None:
    group = world.group(wins_wanted=3)
    a, b = world.snipe(group.group_id), world.snipe(group.group_id)
    world.settle(world.bid(world.claim_and_check(a.snipe_id)), SnipeStatus.WON)
    world.claim_and_check(b.snipe_id)

    with pytest.raises(WinsWantedTooLow) as refused:
        groups.update_group(
            world.services, "user-g", group.group_id, UpdateGroupRequest(wins_wanted=1)
        )
    assert refused.value.details == {"slots_used": 2}
    changed = groups.update_group(
        world.services,
        "user-g",
        group.group_id,
        UpdateGroupRequest(name="Rangefinders", wins_wanted=2),
    )
    assert (changed.group.name, changed.group.wins_wanted) == ("Rangefinders", 2)
    with pytest.raises(GroupNotFound):
        groups.update_group(
            world.services, "other", group.group_id, UpdateGroupRequest(name="x")
        )


def test_deleting_a_group_detaches_its_snipes(world: GroupWorld) -> None:
    group = world.group(wins_wanted=1)
    scheduled = world.snipe(group.group_id)
    bidding = world.snipe(group.group_id)
    world.claim_and_check(bidding.snipe_id)
    other = world.snipe(None)

    deleted = groups.delete_group(world.services, "user-g", group.group_id)

    assert deleted.detached == sorted([scheduled.snipe_id, bidding.snipe_id])
    with pytest.raises(GroupNotFound):
        world.store.get_group(group.group_id)
    for snipe_id in (scheduled.snipe_id, bidding.snipe_id):
        snipe = world.store.get(snipe_id)
        assert snipe.group_id is None and snipe.group_slot is None
    assert world.store.get(other.snipe_id).group_id is None
    # The member already bidding goes on alone; its ending touches no group.
    done = world.bid(world.store.get(bidding.snipe_id))
    assert world.settle(done, SnipeStatus.LOST) is SnipeStatus.LOST
    # Once deleted, the group is not found (again) for its owner either.
    with pytest.raises(GroupNotFound):
        groups.delete_group(world.services, "user-g", group.group_id)


def test_proximity_warnings_name_active_members_ending_within_30_s(
    world: GroupWorld,
) -> None:
    group = world.group()
    near = world.snipe(group.group_id, ends_in=620)
    world.snipe(group.group_id, ends_in=700)  # 100 s away
    edited = world.snipe(group.group_id, ends_in=600)
    finished = world.snipe(group.group_id, ends_in=590)
    world.store.transition(
        finished.snipe_id,
        allowed_from={SnipeStatus.SCHEDULED},
        to=SnipeStatus.CANCELLED,
        reason=Reason.USER_CANCELLED,
    )

    end = START + timedelta(seconds=600)
    warnings = groups.proximity_warnings(
        world.services, "user-g", group.group_id, end, exclude_snipe_id=edited.snipe_id
    )

    assert len(warnings) == 1
    assert near.snipe_id in warnings[0] and "20 s after" in warnings[0]
    assert "possible win" in warnings[0]
    assert (
        groups.proximity_warnings(
            world.services, "user-g", group.group_id, end + timedelta(seconds=200)
        )
        == []
    )


# --- slots ---------------------------------------------------------------------


def test_the_first_member_takes_the_slot_and_the_second_is_skipped(
    world: GroupWorld,
) -> None:
    group = world.group(wins_wanted=1)
    first, second = world.snipe(group.group_id), world.snipe(group.group_id)

    mine = world.claim_and_check(first.snipe_id)
    assert mine.group_slot == group.group_id
    assert slots(world, group.group_id) == (1, {first.snipe_id})
    world.bid(mine)  # its result is open: eBay says ACTIVE -> a possible win
    with pytest.raises(SnipeSkipped) as skipped:
        world.claim_and_check(second.snipe_id)

    assert skipped.value.reason == "GROUP_SATISFIED"
    snipe = world.store.get(second.snipe_id)
    assert (snipe.status, snipe.reason) == (SnipeStatus.SKIPPED, Reason.GROUP_SATISFIED)
    assert snipe.group_slot is None
    assert world.ebay.calls == [first.item.item_id]
    assert slots(world, group.group_id) == (1, {first.snipe_id})
    assert "no bid was sent" in REASON_TEXT[Reason.GROUP_SATISFIED]


def test_a_retried_task_keeps_its_slot(world: GroupWorld) -> None:
    group = world.group(wins_wanted=1)
    snipe = world.snipe(group.group_id)
    claimed = world.claim(snipe.snipe_id)
    reserve = world.store.reserve_group_slot

    first = reserve(
        snipe.snipe_id, group.group_id, user_id="user-g", claimed_by=snipe.snipe_id
    )
    again = reserve(
        snipe.snipe_id, group.group_id, user_id="user-g", claimed_by=snipe.snipe_id
    )
    # The retry's claim is idempotent, and the group check sees the slot held.
    retried = groups.claim_group_slot(
        world.services, world.claim(snipe.snipe_id), TOKEN
    )

    assert (first, again) == (
        (SlotReservation.RESERVED, None),
        (SlotReservation.HELD, None),
    )
    assert claimed.group_slot is None and retried.group_slot == group.group_id
    assert slots(world, group.group_id) == (1, {snipe.snipe_id})


def test_only_the_claiming_execution_reserves(world: GroupWorld) -> None:
    group = world.group(wins_wanted=1)
    snipe = world.snipe(group.group_id)
    world.claim(snipe.snipe_id)

    with pytest.raises(SnipeNotActive):
        groups.claim_group_slot(
            world.services,
            world.store.get(snipe.snipe_id).model_copy(update={"claimed_by": "old"}),
            TOKEN,
        )
    assert slots(world, group.group_id) == (0, set())


@pytest.mark.parametrize(
    ("ending", "reason", "released"),
    [
        (SnipeStatus.LOST, None, True),
        (SnipeStatus.WON, None, False),
        (SnipeStatus.FAILED, Reason.RESULT_UNKNOWN, False),  # the bid may have won
        (SnipeStatus.FAILED, Reason.INTERNAL_ERROR, False),
    ],
)
def test_a_placed_bid_gives_its_slot_back_only_when_it_cannot_win(
    world: GroupWorld, ending: SnipeStatus, reason: Reason | None, released: bool
) -> None:
    group, placed = _one_win_group_with_a_bid(world)

    ended = world.store.transition(
        placed.snipe_id,
        allowed_from={SnipeStatus.BID_PLACED},
        to=ending,
        reason=reason,
        user_id=placed.user_id,
    )

    assert ended.status is ending
    assert (ended.group_slot is None) is released
    assert slots(world, group.group_id) == (
        (0, set()) if released else (1, {placed.snipe_id})
    )


@pytest.mark.parametrize(
    ("ending", "reason", "released"),
    [
        (SnipeStatus.SKIPPED, Reason.OUTBID_BEFORE_FIRE, True),
        (SnipeStatus.FAILED, Reason.BID_TOO_LOW, True),  # eBay refused: no bid
        (SnipeStatus.FAILED, Reason.EBAY_UNAVAILABLE, False),  # may have landed
        # On a retried attempt the first attempt's bid may be on eBay:
        (SnipeStatus.FAILED, Reason.BID_WINDOW_MISSED, False),
        (SnipeStatus.FAILED, Reason.CANNOT_LOWER_BID, False),
        (SnipeStatus.SKIPPED, Reason.EBAY_RECONNECT_REQUIRED, False),
        (SnipeStatus.SCHEDULED, None, True),  # rescheduled: a new claim later
    ],
)
def test_a_claimed_member_gives_its_slot_back_with_its_ending(
    world: GroupWorld, ending: SnipeStatus, reason: Reason | None, released: bool
) -> None:
    group = world.group(wins_wanted=1)
    claimed = world.claim_and_check(world.snipe(group.group_id).snipe_id)

    world.end_bidding(claimed, ending, reason)

    assert slots(world, group.group_id)[0] == (0 if released else 1)
    assert ("group_slot" in world.raw_snipe(claimed.snipe_id)) is not released


def test_a_slot_is_given_back_once(world: GroupWorld) -> None:
    group = world.group(wins_wanted=2)
    a = world.placed(group.group_id)
    world.claim_and_check(world.snipe(group.group_id).snipe_id)
    world.settle(a, SnipeStatus.LOST)

    # A second ending (a retried task, notify recording the email) changes
    # nothing in the group.
    world.store.transition(
        a.snipe_id,
        allowed_from={SnipeStatus.LOST},
        to=SnipeStatus.LOST,
        fields={"note": "again"},
        user_id=a.user_id,
    )
    assert world.settle(a, SnipeStatus.LOST) is SnipeStatus.LOST
    assert slots(world, group.group_id)[0] == 1


def test_an_ending_after_the_group_was_deleted_still_succeeds(
    world: GroupWorld,
) -> None:
    group, placed = _one_win_group_with_a_bid(world)
    world.store.delete_group("user-g", group.group_id)  # members not detached yet

    lost = world.store.transition(
        placed.snipe_id,
        allowed_from={SnipeStatus.BID_PLACED},
        to=SnipeStatus.LOST,
        user_id=placed.user_id,
    )
    assert lost.status is SnipeStatus.LOST and lost.group_slot is None


def test_a_refused_transition_of_a_holder_is_still_refused(world: GroupWorld) -> None:
    group = world.group(wins_wanted=1)
    claimed = world.claim_and_check(world.snipe(group.group_id).snipe_id)
    from workflows.errors import TransitionRejected

    with pytest.raises(TransitionRejected) as refused:
        world.store.transition(
            claimed.snipe_id,
            allowed_from={SnipeStatus.BID_PLACED},
            to=SnipeStatus.LOST,
            user_id=claimed.user_id,
        )
    assert refused.value.current_status == "BIDDING"
    assert slots(world, group.group_id)[0] == 1


# --- the claim-time check ----------------------------------------------------------


def test_an_earlier_member_eBay_reports_lost_is_settled_and_frees_the_slot(
    world: GroupWorld,
) -> None:
    group, first = _one_win_group_with_a_bid(world)
    second = world.snipe(group.group_id)
    world.ebay.state[first.item.item_id] = "LOST"  # ended, someone else on top

    mine = world.claim_and_check(second.snipe_id)

    assert mine.group_slot == group.group_id
    earlier = world.store.get(first.snipe_id)
    assert earlier.status is SnipeStatus.LOST and earlier.group_slot is None
    assert earlier.result is not None and earlier.result.final_price is not None
    assert earlier.result.final_price.to_decimal() == Decimal("31.00")
    assert slots(world, group.group_id) == (1, {second.snipe_id})
    # The earlier member's own check_result finds LOST and keeps it (no eBay call).
    calls = len(world.ebay.calls)
    output = check_result(world.services, CheckResultInput(snipe_id=first.snipe_id))
    assert output.status is SnipeStatus.LOST and len(world.ebay.calls) == calls


@pytest.mark.parametrize("answer", ["WON", "ACTIVE", "DOWN", "NONE"])
def test_an_earlier_member_that_won_or_may_win_satisfies_the_group(
    world: GroupWorld, answer: str
) -> None:
    group, first = _one_win_group_with_a_bid(world)
    world.ebay.state[first.item.item_id] = answer

    with pytest.raises(SnipeSkipped):
        world.claim_and_check(world.snipe(group.group_id).snipe_id)
    assert world.store.get(first.snipe_id).status is SnipeStatus.BID_PLACED


def test_a_won_member_is_not_asked_again(world: GroupWorld) -> None:
    group, first = _one_win_group_with_a_bid(world)
    world.settle(first, SnipeStatus.WON)
    world.ebay.calls.clear()

    with pytest.raises(SnipeSkipped):
        world.claim_and_check(world.snipe(group.group_id).snipe_id)
    assert world.ebay.calls == []


def test_a_member_still_bidding_counts_as_a_possible_win(world: GroupWorld) -> None:
    group = world.group(wins_wanted=1)
    world.claim_and_check(world.snipe(group.group_id).snipe_id)  # not bid yet

    with pytest.raises(SnipeSkipped):
        world.claim_and_check(world.snipe(group.group_id).snipe_id)
    assert world.ebay.calls == []


@pytest.mark.parametrize(
    ("answer", "freed"),
    [("NONE", True), ("LOST", True), ("WON", False), ("DOWN", False)],
)
@pytest.mark.parametrize(
    ("ending", "reason"),
    [
        (SnipeStatus.FAILED, Reason.EBAY_UNAVAILABLE),  # bid sent, never confirmed
        (SnipeStatus.SKIPPED, Reason.EBAY_RECONNECT_REQUIRED),  # on a retry
    ],
)
def test_an_ended_member_that_kept_its_slot_is_asked_about(
    world: GroupWorld,
    ending: SnipeStatus,
    reason: Reason,
    answer: str,
    freed: bool,
) -> None:
    group = world.group(wins_wanted=1)
    first = world.claim_and_check(world.snipe(group.group_id).snipe_id)
    world.end_bidding(first, ending, reason)
    world.ebay.state[first.item.item_id] = answer
    second = world.snipe(group.group_id)

    if freed:
        assert world.claim_and_check(second.snipe_id).group_slot == group.group_id
        assert world.store.get(first.snipe_id).status is ending
        assert slots(world, group.group_id) == (1, {second.snipe_id})
    else:
        with pytest.raises(SnipeSkipped):
            world.claim_and_check(second.snipe_id)
        assert slots(world, group.group_id) == (1, {first.snipe_id})


def test_a_member_of_a_deleted_group_bids_alone(world: GroupWorld) -> None:
    group = world.group(wins_wanted=1)
    snipe = world.snipe(group.group_id)
    claimed = world.claim(snipe.snipe_id)
    world.store.delete_group("user-g", group.group_id)  # before the detach pass

    alone = groups.claim_group_slot(world.services, claimed, TOKEN)

    assert alone.group_id is None and alone.group_slot is None
    assert world.store.get(snipe.snipe_id).group_id is None


def test_a_snipe_without_a_group_is_not_touched(world: GroupWorld) -> None:
    claimed = world.claim(world.snipe(None).snipe_id)
    assert groups.claim_group_slot(world.services, claimed, TOKEN) == claimed


def test_wins_wanted_two_lets_two_members_bid(world: GroupWorld) -> None:
    group = world.group(wins_wanted=2)
    members = [world.snipe(group.group_id) for _ in range(3)]
    for member in members[:2]:
        world.settle(world.bid(world.claim_and_check(member.snipe_id)), SnipeStatus.WON)

    with pytest.raises(SnipeSkipped):
        world.claim_and_check(members[2].snipe_id)
    assert world.bids == [members[0].snipe_id, members[1].snipe_id]


def test_check_result_keeps_a_loss_recorded_while_it_asked_ebay(
    world: GroupWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    group, first = _one_win_group_with_a_bid(world)
    world.ebay.state[first.item.item_id] = "LOST"
    monkeypatch.setattr(
        "workflows.settlement.user_access_token", lambda *a, **k: (TOKEN, "CACHED")
    )
    ask = world.ebay.get_bidding
    interleaved: list[str] = []

    def second_member_settles_it_first(item_id: str, token: object) -> object:
        # Another member's claim records the LOST between our read and write.
        if not interleaved:
            interleaved.append(item_id)
            world.claim_and_check(world.snipe(group.group_id).snipe_id)
        return ask(item_id, TOKEN)

    monkeypatch.setattr(world.ebay, "get_bidding", second_member_settles_it_first)

    output = check_result(world.services, CheckResultInput(snipe_id=first.snipe_id))

    assert interleaved == [first.item.item_id]
    assert output.status is SnipeStatus.LOST
    assert world.store.get(first.snipe_id).status is SnipeStatus.LOST

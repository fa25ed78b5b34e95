"""Win-N groups: at most ``wins_wanted`` of a group's snipes may win.

Use cases for ``api/groups.py`` (create, list, read, change, delete) and the
claim-time check of the bid task (``claim_group_slot``), with two helpers for
snipe create/edit: ``require_group`` and ``proximity_warnings``.

The guarantee rests on slots, not on counting snipes (docs/architecture.md,
"Groups"): the group item has ``slots_used`` and ``holders``. A member's bid
task takes a slot right after its claim, in one DynamoDB transaction with the
snipe (``SnipeStore.reserve_group_slot``: ``slots_used < wins_wanted`` ->
``+1``), and bids only with a slot. The slot stays with a WON member (and with
a FAILED or SKIPPED one whose bid may be on eBay) and goes back, in the same
transaction as the status change, when the member's ending proves it cannot
win: LOST, SKIPPED before any bid, FAILED because eBay refused the bid. So
``wins <= slots_used <= wins_wanted`` at all times.

When every slot is taken the claiming member asks eBay (``getBidding``) about
the holders whose bid is out but not settled: ENDED and not the high bidder is
a loss, recorded here (LOST, slot released; the holder's own ``check_result``
then finds LOST and keeps it); ENDED and high bidder is a win; still ACTIVE or
no answer is a possible win. If no slot came free, the member ends SKIPPED
``GROUP_SATISFIED`` without a bid and is emailed like any SKIPPED snipe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Self

from pydantic import ConfigDict, Field, model_validator

from workflows import ebay
from workflows.errors import (
    GroupNotFound,
    SnipeNotActive,
    SnipeSkipped,
    TransitionRejected,
)
from workflows.ids import is_ulid, new_ulid
from workflows.json_types import WholeNumbers
from workflows.models import (
    REASON_TEXT,
    Group,
    Reason,
    ResultRecord,
    Snipe,
    SnipeStatus,
    text_field,
)
from workflows.money import Money
from workflows.observability import logger, metrics
from workflows.services import Services
from workflows.store import SlotReservation
from workflows.timing import to_z

# Members ending closer together than this cannot learn each other's result
# in time: the later one counts the earlier one as a possible win.
PROXIMITY = timedelta(seconds=30)
GROUP_ID_PREFIX = "grp_"
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_WINS_WANTED = 100
# Rounds of "every slot taken -> ask eBay about the holders -> try again".
_MAX_ROUNDS = 3

GroupName = Annotated[
    str,
    text_field(
        100,
        "Your name for the group (1-100 characters)",
        examples=["Film cameras: one is enough"],
    ),
]
WinsWanted = Annotated[
    int,
    Field(
        strict=True,
        ge=1,
        le=MAX_WINS_WANTED,
        description="Stop bidding once this many of the group's snipes won",
        examples=[1],
    ),
]


class CreateGroupRequest(WholeNumbers):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: GroupName
    wins_wanted: WinsWanted = 1


class UpdateGroupRequest(WholeNumbers):
    """Change the name and/or ``wins_wanted`` (not below the slots in use)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: GroupName | None = None
    wins_wanted: WinsWanted | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        for name in ("name", "wins_wanted"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        if self.name is None and self.wins_wanted is None:
            raise ValueError("give name and/or wins_wanted")
        return self


@dataclass(frozen=True)
class GroupDetails:
    """A group with its members as the owner sees it."""

    group: Group
    members: list[Snipe]
    wins: int
    pending: int


@dataclass(frozen=True)
class GroupPage:
    items: list[Group]
    next_cursor: str | None


# --- helpers for snipe create / edit (workflows.scheduling) ------------------


def require_group(services: Services, user_id: str, group_id: str) -> Group:
    """The user's group; raises 404 ``GROUP_NOT_FOUND`` otherwise (another
    user's group included)."""
    if not _valid_group_id(group_id):
        raise GroupNotFound(f"no group {group_id[:40]}")
    return services.store.get_group_for_user(user_id, group_id)


def proximity_warnings(
    services: Services,
    user_id: str,
    group_id: str,
    end_at: datetime,
    exclude_snipe_id: str | None = None,
) -> list[str]:
    """A warning for each other active member ending within 30 s of ``end_at``.

    With ends that close, the earlier member's result is not known when the
    later one bids, so the later one counts it as a possible win (and may skip).
    Reads an eventually consistent index: a member created a moment ago may be
    missed.
    """
    warnings = []
    members = services.store.group_members(user_id, group_id, active_only=True)
    for member in sorted(members, key=lambda s: s.plan.end_at):
        if member.snipe_id == exclude_snipe_id:
            continue
        gap = abs((member.plan.end_at - end_at).total_seconds())
        if gap <= PROXIMITY.total_seconds():
            warnings.append(
                f"snipe {member.snipe_id} of this group ends {gap:.0f} s"
                f" {'after' if member.plan.end_at > end_at else 'before'} this one"
                f" ({to_z(member.plan.end_at)}): the earlier result cannot be"
                " known before the later bid, so the later snipe counts the"
                " earlier one as a possible win and may be skipped"
            )
    return warnings


# --- use cases ---------------------------------------------------------------


def new_group_id(now: datetime) -> str:
    """``grp_`` + a ULID (``workflows.ids``)."""
    return new_ulid(GROUP_ID_PREFIX, now)


def create_group(
    services: Services, user_id: str, request: CreateGroupRequest
) -> GroupDetails:
    now = services.now()
    group = Group(
        group_id=new_group_id(now),
        user_id=user_id,
        name=request.name,
        wins_wanted=request.wins_wanted,
        created_at=now,
        updated_at=now,
    )
    services.store.create_group(group)
    metrics.add_metric(name="GroupsCreated", unit="Count", value=1)
    logger.info("group created", extra={"group_id": group.group_id})
    return GroupDetails(group=group, members=[], wins=0, pending=0)


def list_groups(
    services: Services,
    user_id: str,
    *,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> GroupPage:
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    items, next_cursor = services.store.list_groups(user_id, limit=limit, cursor=cursor)
    return GroupPage(items=items, next_cursor=next_cursor)


def get_group(services: Services, user_id: str, group_id: str) -> GroupDetails:
    return _details(services, require_group(services, user_id, group_id))


def update_group(
    services: Services, user_id: str, group_id: str, request: UpdateGroupRequest
) -> GroupDetails:
    """Rename, or change ``wins_wanted``: 409 ``WINS_WANTED_TOO_LOW`` below the
    slots in use (wins plus bids whose result is not known yet)."""
    require_group(services, user_id, group_id)
    group = services.store.update_group(
        user_id, group_id, name=request.name, wins_wanted=request.wins_wanted
    )
    logger.info(
        "group changed", extra={"group_id": group_id, "wins_wanted": group.wins_wanted}
    )
    return _details(services, group)


@dataclass(frozen=True)
class DeletedGroup:
    group: Group
    detached: list[str]


def delete_group(services: Services, user_id: str, group_id: str) -> DeletedGroup:
    """Delete the group, then detach its members (``group_id`` cleared).

    The group item goes first: from then on no member can take a slot, and a
    member whose claim finds the group gone detaches itself and bids on its own.
    Each member is detached with a condition (still in this group). A member
    already bidding keeps going: its bid is out or about to be, and with the
    group gone nothing limits it any more.
    """
    require_group(services, user_id, group_id)
    group = services.store.delete_group(user_id, group_id)
    members = services.store.group_members(user_id, group_id)
    ids = set(group.holders) | {m.snipe_id for m in members}
    detached = sorted(
        sid for sid in ids if services.store.detach_from_group(sid, group_id)
    )
    metrics.add_metric(name="GroupsDeleted", unit="Count", value=1)
    logger.info(
        "group deleted", extra={"group_id": group_id, "detached": len(detached)}
    )
    return DeletedGroup(group=group, detached=detached)


def _details(services: Services, group: Group) -> GroupDetails:
    members = services.store.group_members(group.user_id, group.group_id)
    known = {m.snipe_id: m for m in members}
    wins = pending = 0
    # Holders are read consistently: they are the group's wins and open bids.
    for snipe_id in sorted(group.holders):
        holder = known.get(snipe_id) or _get_quietly(services, snipe_id)
        if holder is None:
            continue
        known[snipe_id] = holder
        if holder.status is SnipeStatus.WON:
            wins += 1
        else:
            pending += 1
    ordered = sorted(known.values(), key=lambda s: (s.plan.end_at, s.snipe_id))
    return GroupDetails(group=group, members=ordered, wins=wins, pending=pending)


def _get_quietly(services: Services, snipe_id: str) -> Snipe | None:
    try:
        return services.store.get(snipe_id)
    except Exception:
        logger.warning("group holder not readable", extra={"snipe_id": snipe_id})
        return None


def _valid_group_id(group_id: str) -> bool:
    return is_ulid(group_id, GROUP_ID_PREFIX)


# --- the bid task: a slot before the bid ---------------------------------------


def claim_group_slot(
    services: Services, snipe: Snipe, token: ebay.AccessToken
) -> Snipe:
    """Right after the bid task's claim: take a slot, or end SKIPPED.

    Returns the snipe as it may bid (holding a slot, or detached when its group
    was deleted). Raises ``SnipeSkipped`` (``GROUP_SATISFIED``, recorded) when
    the group has (or may have) all the wins it wants.
    """
    group_id = snipe.group_id
    if group_id is None or snipe.group_slot == group_id:
        return snipe
    claimed_by = snipe.claimed_by or ""
    for _ in range(_MAX_ROUNDS):
        try:
            outcome, full = services.store.reserve_group_slot(
                snipe.snipe_id, group_id, user_id=snipe.user_id, claimed_by=claimed_by
            )
        except TransitionRejected as exc:
            raise SnipeNotActive(
                f"snipe is {exc.current_status}; no bid was sent"
            ) from exc
        if outcome in (SlotReservation.RESERVED, SlotReservation.HELD):
            logger.info("group slot taken", extra={"group_id": group_id})
            return snipe.model_copy(update={"group_slot": group_id})
        if outcome is SlotReservation.NO_GROUP:
            services.store.detach_from_group(snipe.snipe_id, group_id)
            logger.info("group gone; bidding alone", extra={"group_id": group_id})
            return snipe.model_copy(update={"group_id": None, "group_slot": None})
        if full is None or not _free_settled_slots(services, snipe, full, token):
            break
    services.store.end(snipe, SnipeStatus.SKIPPED, Reason.GROUP_SATISFIED)
    metrics.add_metric(name="SnipesSkipped", unit="Count", value=1)
    logger.info("group satisfied; no bid", extra={"group_id": group_id})
    raise SnipeSkipped(
        Reason.GROUP_SATISFIED.value, REASON_TEXT[Reason.GROUP_SATISFIED]
    )


def _free_settled_slots(
    services: Services, claimant: Snipe, group: Group, token: ebay.AccessToken
) -> bool:
    """Ask eBay about the holders of a full group whose outcome is open; True
    if a slot came free."""
    freed = False
    for holder_id in sorted(group.holders - {claimant.snipe_id}):
        try:
            holder = services.store.get(holder_id)
        except Exception:
            logger.warning("group holder not readable", extra={"snipe_id": holder_id})
            continue
        if holder.status is SnipeStatus.BID_PLACED:
            freed = _settle_if_lost(services, holder, token) or freed
        elif holder.status in (SnipeStatus.FAILED, SnipeStatus.SKIPPED):
            freed = _release_if_no_winning_bid(services, holder, token) or freed
        # BIDDING (a bid about to go out) and WON hold their slot.
    return freed


def _bidding(
    services: Services, snipe: Snipe, token: ebay.AccessToken
) -> ebay.Bidding | None:
    """getBidding for a holder's item; None when eBay cannot say."""
    try:
        return services.ebay.get_bidding(snipe.item.item_id, token)
    except ebay.EbayError as exc:
        logger.info(
            "holder's result unknown; counted as a possible win",
            extra={"snipe_id": snipe.snipe_id, "error": type(exc).__name__},
        )
        if isinstance(exc, ebay.EbayApiError) and (
            exc.error_id == ebay.NO_BIDDING_ACTIVITY
        ):
            raise
        return None


def _settle_if_lost(services: Services, holder: Snipe, token: ebay.AccessToken) -> bool:
    """A holder whose bid is out: if eBay says it lost, record LOST now (the
    slot goes back with it). Its own ``check_result`` keeps the LOST."""
    try:
        bidding = _bidding(services, holder, token)
    except ebay.EbayApiError:
        return False  # no bid of ours on eBay, yet BID_PLACED: stay careful
    if bidding is None or bidding.auction_status != "ENDED" or bidding.high_bidder:
        return False
    price = bidding.current_price
    record = ResultRecord(
        final_price=Money.from_decimal(price.value, price.currency) if price else None,
        bid_count=bidding.bid_count,
        checked_at=services.now(),
    )
    try:
        services.store.transition(
            holder.snipe_id,
            allowed_from={SnipeStatus.BID_PLACED},
            to=SnipeStatus.LOST,
            fields={"result": record.model_dump(mode="json")},
            user_id=holder.user_id,
        )
    except TransitionRejected as exc:
        # Its own check_result got there first; LOST released the slot too.
        return exc.current_status == SnipeStatus.LOST.value
    metrics.add_metric(name="SnipesLost", unit="Count", value=1)
    logger.info("earlier group member lost", extra={"snipe_id": holder.snipe_id})
    return True


def _release_if_no_winning_bid(
    services: Services, holder: Snipe, token: ebay.AccessToken
) -> bool:
    """A FAILED or SKIPPED holder kept its slot because a bid may be on eBay
    (an earlier attempt's): give it back once eBay shows no bid of ours, or the
    auction ENDED without us on top."""
    if holder.group_slot is None:
        return False
    try:
        bidding = _bidding(services, holder, token)
    except ebay.EbayApiError:  # no bidding activity: nothing of ours on eBay
        bidding = None
        lost = True
    else:
        lost = (
            bidding is not None
            and bidding.auction_status == "ENDED"
            and not bidding.high_bidder
        )
    if not lost:
        return False
    released = services.store.release_group_slot(holder.snipe_id, holder.group_slot)
    if released:
        logger.info(
            "ended group member had no winning bid; slot released",
            extra={"snipe_id": holder.snipe_id},
        )
    return released

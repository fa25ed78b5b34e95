"""Win-N group slots: which endings give a slot back, and the group item."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from workflows.models import (
    Group,
    Reason,
    SnipeStatus,
)
from workflows.timing import to_z, utc_now

if TYPE_CHECKING:
    pass
from workflows.store.table import _KEY_ATTRS, Table, _from_item, _plain, _to_item

# --- win-N groups ---------------------------------------------------------------
# Statuses a slot holder moves to keeping its slot (no guard on the plain write).
_KEEPS_SLOT = frozenset({SnipeStatus.BIDDING, SnipeStatus.BID_PLACED, SnipeStatus.WON})


# Endings that prove no bid of the snipe is on eBay: SKIPPED before any bid
# went out, FAILED because eBay refused the bid. Any other SKIPPED/FAILED keeps
# the slot (a retried attempt's earlier bid may have landed); a later member's
# claim asks eBay and gives it back (``release_group_slot``).
_NO_BID_SKIPS = frozenset(
    {Reason.GROUP_SATISFIED, Reason.ENDED_EARLY, Reason.OUTBID_BEFORE_FIRE}
)


_EBAY_REFUSED_THE_BID = frozenset(
    {
        Reason.AUCTION_ENDED,
        Reason.ENDED_BY_BUY_IT_NOW,
        Reason.BID_TOO_LOW,
        Reason.CURRENCY_MISMATCH,
        Reason.BID_ABOVE_BUY_IT_NOW,
        Reason.NOT_ELIGIBLE,
        Reason.ITEM_NOT_FOUND,
        Reason.BID_INVALID,
        # The result check found no bid of ours at eBay after the end.
        Reason.BID_NOT_PLACED,
    }
)


_CHECK_FAILED = "ConditionalCheckFailed"


_SLOT_ATTEMPTS = 8


class SlotReservation(StrEnum):
    RESERVED = "RESERVED"  # this call took a slot
    HELD = "HELD"  # the snipe already held one (a retried task)
    FULL = "FULL"  # every slot is taken (won, or a bid whose result is unknown)
    NO_GROUP = "NO_GROUP"  # the group is gone, or the snipe left it


def _gives_slot_back(old: SnipeStatus, to: SnipeStatus, reason: Reason | None) -> bool:
    """Whether a slot holder moving ``old -> to`` gives its slot back: only when
    no bid of it can win (LOST, or no bid on eBay at all)."""
    if to in _KEEPS_SLOT:
        return False
    if to is SnipeStatus.SKIPPED:
        return reason in _NO_BID_SKIPS
    if to is SnipeStatus.FAILED:
        return old is SnipeStatus.BIDDING and reason in _EBAY_REFUSED_THE_BID
    return True  # LOST; SCHEDULED (rescheduled) and CANCELLED hold none


def _group_key(group_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"GROUP#{group_id}"}, "SK": {"S": "GROUP"}}


def _groups_partition(user_id: str) -> str:
    return f"GROUPS#{user_id}"


def _group_from_item(item: Mapping[str, Any]) -> Group:
    data = {k: v for k, v in _from_item(item).items() if k not in _KEY_ATTRS}
    return Group.model_validate(_plain(data))


def _slot_release_update(store: Table, snipe_id: str, group_id: str) -> dict[str, Any]:
    """The group half of a release: one slot back, once (``contains``)."""
    return {
        "Update": {
            "TableName": store.table_name,
            "Key": _group_key(group_id),
            "UpdateExpression": "SET slots_used = slots_used - :one,"
            " updated_at = :now DELETE holders :ids",
            "ConditionExpression": "contains(holders, :id)",
            "ExpressionAttributeValues": _to_item(
                {
                    ":one": 1,
                    ":now": to_z(utc_now()),
                    ":ids": {snipe_id},
                    ":id": snipe_id,
                }
            ),
        }
    }


def _outside_transaction(operation: Mapping[str, Any]) -> dict[str, Any]:
    """A transaction's Update as ``update_item`` arguments (``_call`` adds the
    table name)."""
    return {k: v for k, v in operation.items() if k != "TableName"}


def _backoff(attempt: int) -> None:
    """A short, jittered pause before retrying a refused group transaction."""
    time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311  # nosec B311

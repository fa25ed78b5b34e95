"""Snipes built directly for the store, bypassing the API (seeding tests)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.models import ItemSnapshot, Snipe
from workflows.money import Money
from workflows.timing import SnipePlan


def make_snipe(
    *,
    snipe_id: str,
    user_id: str,
    item_id: str,
    end_at: datetime,
    max_bid: Money,
    created_at: datetime,
    title: str = "Camera",
    user_email: str | None = None,
    bid_offset_seconds: int = 6,
    lead_seconds: float = 10,
    settle_seconds: float = 15,
    **fields: Any,
) -> Snipe:
    """A snipe on ``item_id`` ending at ``end_at``, planned with the given
    offset, lead and settle times; ``fields`` sets any other Snipe field."""
    return Snipe(
        snipe_id=snipe_id,
        user_id=user_id,
        user_email=user_email or f"{user_id}@example.com",
        item=ItemSnapshot(item_id=item_id, title=title, end_at=end_at),
        max_bid=max_bid,
        bid_offset_seconds=bid_offset_seconds,
        plan=SnipePlan.for_auction(
            end_at,
            bid_offset_seconds=bid_offset_seconds,
            lead_seconds=lead_seconds,
            settle_seconds=settle_seconds,
        ),
        created_at=created_at,
        updated_at=created_at,
        **fields,
    )

"""Public JSON shapes of the API (responses and error bodies).

Views are built from the domain models in ``workflows.models`` and expose only
what the caller may see: never another user's email, never a token, and no
execution ARN. Timestamps are UTC strings with a ``Z`` suffix and milliseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from workflows.live import time_left_seconds
from workflows.models import (
    BidRecord,
    Group,
    ItemSnapshot,
    NotificationRecord,
    NotificationStatus,
    Reason,
    ResultRecord,
    Snipe,
    SnipeStatus,
    same_named,
)
from workflows.money import MoneyView, minor_exponent
from workflows.timing import SnipePlan, to_z

if TYPE_CHECKING:
    from datetime import datetime

    from workflows.groups import GroupDetails
    from workflows.item_cache import LiveItem
    from workflows.live import LiveValues

UtcTimestamp = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$",
        json_schema_extra={"format": "date-time"},
        examples=["2026-11-26T13:30:55.123Z"],
    ),
]


NotSnipeableReason = Literal["NOT_AN_AUCTION", "ENDED", "ENDING_TOO_SOON"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def _of(cls, source: object, **computed: Any) -> Self:
        """The view of ``source``: the fields not ``computed`` are its
        same-named attributes."""
        names = [name for name in cls.model_fields if name not in computed]
        return cls(**same_named(source, *names), **computed)


class ItemView(_View):
    item_id: str = Field(description="eBay RESTful item id, e.g. v1|123456789012|0")
    title: str
    image_url: str | None
    item_url: str | None
    seller: str | None
    end_at: UtcTimestamp
    current_price: MoneyView | None = Field(
        description="Price when the snipe was created"
    )

    @classmethod
    def of(cls, item: ItemSnapshot) -> ItemView:
        return cls._of(
            item,
            end_at=to_z(item.end_at),
            current_price=MoneyView.of(item.current_price)
            if item.current_price
            else None,
        )


class PlanView(_View):
    """When the execution wakes, the bid fires, the auction ends, the result is read."""

    wake_at: UtcTimestamp
    fire_at: UtcTimestamp
    end_at: UtcTimestamp
    settle_at: UtcTimestamp

    @classmethod
    def of(cls, plan: SnipePlan) -> PlanView:
        return cls.model_validate(plan.as_execution_input())


class BidView(_View):
    proxy_bid_id: str
    sent_at: UtcTimestamp
    fire_error_ms: float = Field(description="sent_at - fire_at in milliseconds")

    @classmethod
    def of(cls, bid: BidRecord) -> BidView:
        return cls(
            proxy_bid_id=bid.proxy_bid_id,
            sent_at=to_z(bid.sent_at),
            fire_error_ms=bid.fire_error_ms,
        )


class ResultView(_View):
    final_price: MoneyView | None
    checked_at: UtcTimestamp

    @classmethod
    def of(cls, result: ResultRecord) -> ResultView:
        return cls(
            final_price=MoneyView.of(result.final_price)
            if result.final_price
            else None,
            checked_at=to_z(result.checked_at),
        )


class NotificationView(_View):
    status: NotificationStatus
    at: UtcTimestamp

    @classmethod
    def of(cls, notification: NotificationRecord) -> NotificationView:
        return cls(status=notification.status, at=to_z(notification.at))


def _age_seconds(as_of: datetime, now: datetime) -> int:
    """``now - as_of`` in whole seconds (never negative)."""
    return max(0, int((now - as_of).total_seconds()))


class LiveItemView(_View):
    """The listing now: from a cache at most 30 s old, or, when eBay cannot be
    read (or the daily call budget is short), the last known values with
    their age."""

    current_price: MoneyView | None = Field(
        description="Current price; null if never known"
    )
    bid_count: int | None = Field(description="Bids so far; null if not known yet")
    time_left_seconds: int = Field(ge=0, description="Until the auction ends")
    as_of: UtcTimestamp = Field(description="When these values were read from eBay")
    age_seconds: int = Field(ge=0, description="server_time - as_of, in seconds")

    @classmethod
    def of(cls, live: LiveValues, now: datetime) -> LiveItemView:
        return cls(
            current_price=MoneyView.of(live.current_price)
            if live.current_price
            else None,
            bid_count=live.bid_count,
            time_left_seconds=time_left_seconds(live.end_at, now),
            as_of=to_z(live.as_of),
            age_seconds=_age_seconds(live.as_of, now),
        )


class SnipeView(_View):
    """A snipe as its owner sees it."""

    snipe_id: str = Field(examples=["snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"])
    status: SnipeStatus
    reason: Reason | None = Field(
        description="Why the snipe ended CANCELLED, SKIPPED or FAILED"
    )
    item: ItemView
    max_bid: MoneyView
    bid_offset_seconds: int
    plan: PlanView
    bid: BidView | None
    result: ResultView | None
    notification: NotificationView | None
    group_id: str | None = Field(
        description="The win-N group the snipe belongs to, if any",
        examples=["grp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"],
    )
    created_at: UtcTimestamp
    updated_at: UtcTimestamp
    live: LiveItemView | None = Field(
        description=(
            "The auction now (price, bids, time left) while the snipe is active;"
            " null once it has finished"
        )
    )
    server_time: UtcTimestamp = Field(description="The server's clock at answering")

    @classmethod
    def of(
        cls, snipe: Snipe, *, now: datetime, live: LiveValues | None = None
    ) -> SnipeView:
        return cls(
            snipe_id=snipe.snipe_id,
            status=snipe.status,
            reason=snipe.reason,
            item=ItemView.of(snipe.item),
            max_bid=MoneyView.of(snipe.max_bid),
            bid_offset_seconds=snipe.bid_offset_seconds,
            plan=PlanView.of(snipe.plan),
            bid=BidView.of(snipe.bid) if snipe.bid else None,
            result=ResultView.of(snipe.result) if snipe.result else None,
            notification=NotificationView.of(snipe.notification)
            if snipe.notification
            else None,
            group_id=snipe.group_id,
            created_at=to_z(snipe.created_at),
            updated_at=to_z(snipe.updated_at),
            live=LiveItemView.of(live, now) if live is not None else None,
            server_time=to_z(now),
        )


class ScheduledSnipeView(SnipeView):
    """A snipe just scheduled or changed, with warnings about its group."""

    warnings: list[str] = Field(
        default_factory=list,
        description=(
            "Members of the snipe's group ending within 30 s of it: the later one"
            " cannot know the earlier result and may be skipped"
        ),
    )

    @classmethod
    def with_warnings(cls, view: SnipeView, warnings: list[str]) -> ScheduledSnipeView:
        return cls.model_validate({**view.model_dump(), "warnings": list(warnings)})


class SnipeListView(_View):
    items: list[SnipeView] = Field(description="Newest first")
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page"
    )
    server_time: UtcTimestamp = Field(description="The server's clock at answering")


class ItemPreview(_View):
    """An eBay listing as it is now, and whether it can be sniped."""

    item_id: str = Field(examples=["v1|123456789012|0"])
    legacy_item_id: str = Field(examples=["123456789012"])
    title: str
    image_url: str | None
    item_url: str | None
    current_price: MoneyView = Field(description="Current bid (or the price)")
    minimum_bid: MoneyView | None = Field(
        description="The least eBay accepts as the next bid; null if not offered"
    )
    bid_count: int = Field(ge=0)
    end_at: UtcTimestamp
    time_left_seconds: int = Field(ge=0)
    buying_options: list[str] = Field(examples=[["AUCTION"]])
    snipeable: bool = Field(description="Whether POST /api/snipes can schedule it")
    not_snipeable_reason: NotSnipeableReason | None = Field(
        description="Why not (null when snipeable)"
    )
    currency_decimals: int = Field(
        ge=0, description="Decimal places the currency allows in amounts", examples=[2]
    )
    as_of: UtcTimestamp = Field(description="When eBay was read")
    age_seconds: int = Field(ge=0, description="server_time - as_of, in seconds")
    server_time: UtcTimestamp = Field(description="The server's clock at answering")

    @classmethod
    def of(
        cls,
        item: LiveItem,
        *,
        now: datetime,
        earliest_end: datetime,
    ) -> ItemPreview:
        price = item.current_price or item.minimum_bid
        if price is None or item.end_at is None:
            raise ValueError("eBay gave no price or no end time")
        reason: NotSnipeableReason | None = None
        if "AUCTION" not in item.buying_options:
            reason = "NOT_AN_AUCTION"
        elif item.end_at <= now:
            reason = "ENDED"
        elif item.end_at < earliest_end:
            reason = "ENDING_TOO_SOON"
        return cls(
            item_id=item.item_id,
            legacy_item_id=item.legacy_item_id or item.item_id,
            title=item.title,
            image_url=item.image_url,
            item_url=item.item_url,
            current_price=MoneyView.of(price),
            minimum_bid=MoneyView.of(item.minimum_bid) if item.minimum_bid else None,
            bid_count=item.bid_count or 0,
            end_at=to_z(item.end_at),
            time_left_seconds=time_left_seconds(item.end_at, now),
            buying_options=list(item.buying_options),
            snipeable=reason is None,
            not_snipeable_reason=reason,
            currency_decimals=minor_exponent(price.currency),
            as_of=to_z(item.fetched_at),
            age_seconds=_age_seconds(item.fetched_at, now),
            server_time=to_z(now),
        )


class HealthView(_View):
    status: str = Field(examples=["ok"])


# --- errors --------------------------------------------------------------------


class FieldError(_View):
    """One invalid input: where it is, pydantic's error type and a message."""

    loc: list[str | int] = Field(examples=[["body", "max_bid", "value"]])
    type: str = Field(examples=["string_pattern_mismatch"])
    message: str


class ErrorDetails(BaseModel):
    """Code-specific details; ``errors`` is present for VALIDATION_FAILED."""

    model_config = ConfigDict(frozen=True, extra="allow")

    errors: list[FieldError] | SkipJsonSchema[None] = None


def _code_enum(schema: dict[str, Any]) -> None:
    from api.errors import error_codes

    schema["enum"] = error_codes()


class ErrorInfo(_View):
    code: str = Field(
        description="Machine-readable error code",
        examples=["AUCTION_ENDED"],
        json_schema_extra=_code_enum,
    )
    message: str = Field(description="Human-readable explanation")
    details: ErrorDetails


class ErrorResponse(_View):
    """The one error shape every failure of this API has."""

    error: ErrorInfo

    @classmethod
    def body(
        cls, code: str, message: str, details: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The JSON body, validated against this model."""
        shape = cls(
            error=ErrorInfo(
                code=code,
                message=message,
                details=ErrorDetails.model_validate(details or {}),
            )
        )
        return shape.model_dump(mode="json", exclude_unset=True)


# --- eBay account link ---------------------------------------------------------


class EbayConnectView(_View):
    """Where to send the user to agree, and the state eBay will hand back."""

    url: str = Field(description="eBay's consent page; open it in the browser")
    state: str = Field(
        description=(
            "Single use, bound to you; eBay returns it with the code. Pass both"
            " to POST /api/ebay/callback before expires_at."
        )
    )
    expires_at: UtcTimestamp


class EbayLinkView(_View):
    """Whether your eBay account is linked. Never contains a token."""

    linked: bool
    linked_at: UtcTimestamp | None
    refresh_expires_at: UtcTimestamp | None = Field(
        description="When eBay's authorization ends; connect again before then"
    )
    needs_reconnect: bool = Field(
        description="eBay no longer accepts the authorization: connect again"
    )


class EbayUnlinkView(_View):
    unlinked: bool = Field(description="Always true: no eBay token is kept")
    was_linked: bool = Field(description="Whether an account was linked")
    skipped_snipes: int = Field(
        description="Your SCHEDULED snipes that ended SKIPPED (EBAY_NOT_LINKED)"
    )


# --- win-N groups --------------------------------------------------------------

GroupId = Annotated[str, Field(examples=["grp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"])]


class GroupMemberView(_View):
    """One snipe of the group."""

    snipe_id: str = Field(examples=["snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"])
    status: SnipeStatus
    reason: Reason | None
    title: str = Field(description="The listing's title")
    end_at: UtcTimestamp
    holds_slot: bool = Field(
        description=(
            "Counts against wins_wanted: won, bidding, or a bid whose result is"
            " not known yet"
        )
    )


class GroupView(_View):
    """A win-N group: at most ``wins_wanted`` of its snipes win."""

    group_id: GroupId
    name: str = Field(examples=["Film cameras: one is enough"])
    wins_wanted: int = Field(examples=[1])
    wins: int = Field(description="Members that won", examples=[0])
    pending: int = Field(
        description=(
            "Members holding a slot whose result is not known yet (bidding, bid"
            " placed, or failed while a bid may be on eBay): possible wins"
        ),
        examples=[1],
    )
    slots_free: int = Field(
        description="wins_wanted - wins - pending: members that may still bid",
        examples=[0],
    )
    members: list[GroupMemberView] = Field(description="By auction end")
    created_at: UtcTimestamp
    updated_at: UtcTimestamp

    @classmethod
    def of(cls, details: GroupDetails) -> GroupView:
        group = details.group
        return cls(
            group_id=group.group_id,
            name=group.name,
            wins_wanted=group.wins_wanted,
            wins=details.wins,
            pending=details.pending,
            slots_free=max(0, group.wins_wanted - group.slots_used),
            members=[
                GroupMemberView(
                    snipe_id=m.snipe_id,
                    status=m.status,
                    reason=m.reason,
                    title=m.item.title,
                    end_at=to_z(m.plan.end_at),
                    holds_slot=m.snipe_id in group.holders,
                )
                for m in details.members
            ],
            created_at=to_z(group.created_at),
            updated_at=to_z(group.updated_at),
        )


class GroupSummaryView(_View):
    group_id: GroupId
    name: str = Field(examples=["Film cameras: one is enough"])
    wins_wanted: int = Field(examples=[1])
    slots_used: int = Field(
        description="Wins plus bids whose result is not known yet", examples=[0]
    )
    created_at: UtcTimestamp
    updated_at: UtcTimestamp

    @classmethod
    def of(cls, group: Group) -> GroupSummaryView:
        return cls._of(
            group,
            created_at=to_z(group.created_at),
            updated_at=to_z(group.updated_at),
        )


class GroupListView(_View):
    items: list[GroupSummaryView] = Field(description="Newest first")
    next_cursor: str | None = Field(
        description="Pass as ?cursor= for the next page; null on the last page"
    )


class GroupDeletedView(_View):
    group_id: GroupId
    deleted: bool = Field(description="Always true")
    detached_snipes: list[str] = Field(
        description=(
            "Snipes that left the group (their group_id is cleared); they go on"
            " as ordinary snipes"
        )
    )

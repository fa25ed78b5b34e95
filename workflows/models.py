"""The snipe and its lifecycle.

States::

    SCHEDULED -> BIDDING -> BID_PLACED -> WON | LOST
    SCHEDULED -> CANCELLED                      (the user cancelled in time)
    any non-final -> SKIPPED | FAILED           (with a reason code)

Every change is a conditional write in ``workflows.store``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from workflows.money import Money
from workflows.timing import SnipePlan


def text_field(max_length: int, description: str, **extra: Any) -> Any:
    """A request field: a JSON string (never coerced) of 1 to ``max_length``
    characters; ``extra`` as pydantic's ``Field`` takes it (pattern, examples)."""
    return Field(
        strict=True,
        min_length=1,
        max_length=max_length,
        description=description,
        **extra,
    )


@dataclass(frozen=True)
class Identity:
    """The caller, as API Gateway's Cognito authorizer vouches for them."""

    user_id: str
    email: str


class SnipeStatus(StrEnum):
    SCHEDULED = "SCHEDULED"
    BIDDING = "BIDDING"
    BID_PLACED = "BID_PLACED"
    WON = "WON"
    LOST = "LOST"
    CANCELLED = "CANCELLED"
    SKIPPED = "SKIPPED"
    FAILED = "FAILED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


FINAL_STATUSES = frozenset(
    {
        SnipeStatus.WON,
        SnipeStatus.LOST,
        SnipeStatus.CANCELLED,
        SnipeStatus.SKIPPED,
        SnipeStatus.FAILED,
    }
)
ACTIVE_STATUSES = frozenset(SnipeStatus) - FINAL_STATUSES
BID_CLAIMED_STATUSES = frozenset({SnipeStatus.BIDDING, SnipeStatus.BID_PLACED})
"""The bid task has claimed the snipe: a bid may be on eBay, and only eBay's
answer (the result check) ends it."""


class Reason(StrEnum):
    """Why a snipe ended CANCELLED, SKIPPED or FAILED (machine-readable)."""

    USER_CANCELLED = "USER_CANCELLED"
    # SKIPPED
    EBAY_NOT_LINKED = "EBAY_NOT_LINKED"
    EBAY_RECONNECT_REQUIRED = "EBAY_RECONNECT_REQUIRED"
    ENDED_EARLY = "ENDED_EARLY"
    OUTBID_BEFORE_FIRE = "OUTBID_BEFORE_FIRE"
    GROUP_SATISFIED = "GROUP_SATISFIED"
    # FAILED: eBay refused the bid
    AUCTION_ENDED = "AUCTION_ENDED"
    ENDED_BY_BUY_IT_NOW = "ENDED_BY_BUY_IT_NOW"
    BID_TOO_LOW = "BID_TOO_LOW"
    CANNOT_LOWER_BID = "CANNOT_LOWER_BID"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    BID_ABOVE_BUY_IT_NOW = "BID_ABOVE_BUY_IT_NOW"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    ITEM_NOT_FOUND = "ITEM_NOT_FOUND"
    BID_INVALID = "BID_INVALID"
    # FAILED: we could not act in time / at all
    BID_WINDOW_MISSED = "BID_WINDOW_MISSED"
    # The outcome of a send was unknown; after the end eBay showed no bid of ours.
    BID_NOT_PLACED = "BID_NOT_PLACED"
    EBAY_UNAVAILABLE = "EBAY_UNAVAILABLE"
    EBAY_AUTH_FAILED = "EBAY_AUTH_FAILED"
    RESULT_UNKNOWN = "RESULT_UNKNOWN"
    INTERNAL_ERROR = "INTERNAL_ERROR"


REASON_TEXT: dict[Reason, str] = {
    Reason.USER_CANCELLED: "You cancelled the snipe.",
    Reason.EBAY_NOT_LINKED: "Your eBay account is not linked.",
    Reason.EBAY_RECONNECT_REQUIRED: (
        "eBay no longer accepts our authorization for your account; reconnect it."
    ),
    Reason.ENDED_EARLY: (
        "The listing ended before the bid time (ended by the seller or sold with "
        "Buy It Now); no bid was sent."
    ),
    Reason.OUTBID_BEFORE_FIRE: (
        "The current price had already reached your maximum bid; no bid was sent."
    ),
    Reason.GROUP_SATISFIED: (
        "Its group already has as many wins (won, or bids whose result is not known"
        " yet) as you wanted; no bid was sent."
    ),
    Reason.AUCTION_ENDED: "The auction had already ended when the bid arrived.",
    Reason.ENDED_BY_BUY_IT_NOW: "The item was sold with Buy It Now.",
    Reason.BID_TOO_LOW: "Your maximum bid was below the minimum eBay accepted.",
    Reason.CANNOT_LOWER_BID: "You already had a higher bid on this item.",
    Reason.CURRENCY_MISMATCH: "The bid currency differs from the listing currency.",
    Reason.BID_ABOVE_BUY_IT_NOW: "The bid was above the Buy It Now price.",
    Reason.NOT_ELIGIBLE: "eBay says your account is not eligible to bid on this item.",
    Reason.ITEM_NOT_FOUND: "eBay no longer knows this item.",
    Reason.BID_INVALID: "eBay refused the bid as invalid.",
    Reason.BID_WINDOW_MISSED: "The bid could not be placed before the auction ended.",
    Reason.BID_NOT_PLACED: (
        "Our bid did not get through: after the auction ended eBay showed no bid"
        " from you on this item."
    ),
    Reason.EBAY_UNAVAILABLE: "eBay was unavailable when the bid had to be placed.",
    Reason.EBAY_AUTH_FAILED: "eBay refused our access to your account.",
    Reason.RESULT_UNKNOWN: "eBay did not report a final result in time.",
    Reason.INTERNAL_ERROR: "An internal error stopped the snipe.",
}


def same_named(source: object, *names: str) -> dict[str, Any]:
    """``{name: source.<name>}`` for each of ``names``: the fields a model takes
    unchanged from the same-named attributes of another."""
    return {name: getattr(source, name) for name in names}


class ItemSnapshot(BaseModel):
    """What we knew about the listing when the snipe was created."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    legacy_item_id: str | None = None
    title: str
    image_url: str | None = None
    item_url: str | None = None
    seller: str | None = None
    end_at: AwareDatetime
    current_price: Money | None = None
    minimum_to_bid: Money | None = None
    marketplace_id: str = "EBAY_US"


class SendOutcome(StrEnum):
    """What one placeProxyBid request of the bid task came to."""

    ACCEPTED = "ACCEPTED"  # eBay answered with a proxyBidId
    REFUSED = "REFUSED"  # eBay answered with a business error (409 ...)
    NOT_SENT = "NOT_SENT"  # failed before the request left (connect error)
    REJECTED_UNPROCESSED = "REJECTED_UNPROCESSED"  # 401/429/503: not processed
    UNKNOWN = "UNKNOWN"  # timeout, reset after the write, 500/502/504, garbled


class BidSend(BaseModel):
    """One placeProxyBid request: when it left and what came of it."""

    model_config = ConfigDict(frozen=True)

    sent_at: AwareDatetime
    outcome: SendOutcome
    detail: str | None = None  # e.g. "HTTP 503", "ReadTimeout" (never a token)


class BidRecord(BaseModel):
    """The bid on eBay. ``sent_at`` is the send of the *first* request (the
    fire time); re-sends are in ``retries``. ``confirmed_by`` says how we know
    the bid is there: eBay's answer to the send, or getBidding afterwards."""

    model_config = ConfigDict(frozen=True)

    proxy_bid_id: str
    max_bid: Money
    sent_at: AwareDatetime
    fire_error_us: int = Field(description="sent_at - fire_at, microseconds")
    attempt: int = 0
    retries: tuple[BidSend, ...] = ()
    confirmed_by: str = "RESPONSE"

    @classmethod
    def from_sends(
        cls,
        sends: Sequence[BidSend],
        *,
        proxy_bid_id: str,
        max_bid: Money,
        fire_at: datetime,
        confirmed_by: str,
    ) -> BidRecord:
        """The bid of a send log: the first send is the fire time, the others
        are retries."""
        first, *rest = sends
        fire_error = first.sent_at - fire_at
        return cls(
            proxy_bid_id=proxy_bid_id,
            max_bid=max_bid,
            sent_at=first.sent_at,
            fire_error_us=fire_error // timedelta(microseconds=1),
            attempt=len(rest),
            retries=tuple(rest),
            confirmed_by=confirmed_by,
        )

    @property
    def fire_error_ms(self) -> float:
        return round(self.fire_error_us / 1000, 3)


class ResultRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    final_price: Money | None = None
    bid_count: int | None = None
    checked_at: AwareDatetime


class NotificationStatus(StrEnum):
    SENT = "SENT"
    REJECTED = "REJECTED"
    # The user's preferences turned this outcome's email off: nothing was sent.
    SUPPRESSED = "SUPPRESSED"
    # Claimed before the send (the "result pending" notice is at most once).
    ATTEMPTED = "ATTEMPTED"


class NotificationRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: NotificationStatus
    message_id: str | None = None
    error_code: int | None = None
    detail: str | None = None
    at: AwareDatetime


class Snipe(BaseModel):
    model_config = ConfigDict(frozen=True)

    snipe_id: str
    user_id: str
    user_email: str
    item: ItemSnapshot
    max_bid: Money
    bid_offset_seconds: int
    plan: SnipePlan
    status: SnipeStatus = SnipeStatus.SCHEDULED
    reason: Reason | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    execution_arn: str | None = None
    # The name of the snipe's current execution: only that execution may claim
    # the snipe (an edit or a reschedule hands it to ``<id>-v<n>``). None on
    # snipes stored before names were recorded (then any execution may claim).
    execution_name: str | None = None
    claimed_by: str | None = None
    bid: BidRecord | None = None
    result: ResultRecord | None = None
    notification: NotificationRecord | None = None
    # Sends of a bid task whose outcome it could not confirm (written only on
    # the outcome-unknown path; the result check reads them).
    bid_sends: tuple[BidSend, ...] = ()
    # The one "result pending" email (patient reconciliation), at most once.
    pending_notice: NotificationRecord | None = None
    version: int = 1
    # Win-N groups (workflows.groups). ``group_slot`` is the group whose slot the
    # snipe holds (set with the claim, cleared with the release); it is written
    # only by the store's group transactions, never by ``SnipeStore.create``.
    group_id: str | None = None
    group_slot: str | None = Field(default=None, exclude=True)


class EbayAccount(BaseModel):
    """A user's link to eBay. Token values never leave the store/task layer."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    refresh_token: str = Field(repr=False)
    refresh_expires_at: datetime | None = None
    access_token: str | None = Field(default=None, repr=False)
    access_expires_at: datetime | None = None
    needs_reconnect: bool = False


class EbayAccess(BaseModel):
    """A user's link with only its cached access token opened (the common path
    of the token tasks: the refresh token stays sealed unless it is needed)."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    access_token: str | None = Field(default=None, repr=False)
    access_expires_at: datetime | None = None
    needs_reconnect: bool = False


class EbayLinkStatus(BaseModel):
    """What may be said about a user's eBay link without decrypting anything.

    ``email`` is where expiry warnings go; ``expiry_warned_for`` is the refresh
    token expiry the user was last warned about.
    """

    model_config = ConfigDict(frozen=True)

    user_id: str
    linked_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    needs_reconnect: bool = False
    email: str | None = Field(default=None, repr=False)
    expiry_warned_for: datetime | None = None


class Group(BaseModel):
    """A win-N group: at most ``wins_wanted`` of its member snipes may win.

    ``holders`` are the member snipes holding one of the group's slots: reserved
    atomically with the bid task's claim (BIDDING), kept while the bid is out
    (BID_PLACED) and when WON, released atomically with any other final status.
    ``slots_used == len(holders) <= wins_wanted`` always (``workflows.groups``).
    """

    model_config = ConfigDict(frozen=True)

    group_id: str
    user_id: str
    name: str
    wins_wanted: int = Field(ge=1)
    slots_used: int = 0
    holders: frozenset[str] = frozenset()
    created_at: AwareDatetime
    updated_at: AwareDatetime
    version: int = 1


class EmailOn(BaseModel):
    """Per final outcome: is the user emailed? (CANCELLED never emails.)"""

    model_config = ConfigDict(frozen=True, extra="forbid")

    WON: bool = True
    LOST: bool = True
    SKIPPED: bool = True
    FAILED: bool = True


class NotificationPreferences(BaseModel):
    """Which final outcomes the user is emailed about (all by default)."""

    model_config = ConfigDict(frozen=True)

    email_on: EmailOn = EmailOn()

    def emails(self, status: SnipeStatus) -> bool:
        """Whether a snipe that ended ``status`` is emailed."""
        return bool(getattr(self.email_on, status.value, True))

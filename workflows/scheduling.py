"""The API's use cases: create, list, read and cancel a user's snipes.

No HTTP types here: the functions take ``Services`` and an ``Identity`` and raise
``DomainError`` subclasses (``workflows.errors``: a machine-readable code, no
HTTP status) that ``api/errors.py`` turns into responses.

Creating a snipe checks the listing with Browse ``getItem`` and refuses what
cannot be sniped, writes the snipe (SCHEDULED), then starts its Step Functions
execution, named by the snipe id. If the execution cannot be started the snipe
is deleted again, so a failed request leaves nothing half-created behind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from workflows import active_items, budget, ebay, groups, live
from workflows.errors import (
    AuctionEnded,
    AuctionEndingTooSoon,
    CurrencyMismatch,
    DomainError,
    EbayBadResponse,
    EbayNotLinked,
    EbayRelinkRequired,
    InvalidItemId,
    InvalidTimeRange,
    ItemNotFound,
    MaxBidTooLow,
    NotAnAuction,
    SnipeAlreadyBidding,
    SnipeAlreadyFinished,
    SnipeModified,
    SnipeNotFound,
    StoreUnavailable,
    TooManyActiveSnipes,
    TransitionRejected,
    UpstreamUnavailable,
)
from workflows.executions import (
    execution_input,
    start_successor,
    stop_execution,
    stop_unless_current,
)
from workflows.ids import new_ulid
from workflows.json_types import WholeNumbers
from workflows.models import (
    BID_CLAIMED_STATUSES,
    Identity,
    ItemSnapshot,
    Reason,
    Snipe,
    SnipeStatus,
    same_named,
    text_field,
)
from workflows.money import CurrencyCode, Money, MoneyView, minor_exponent
from workflows.observability import logger, metrics
from workflows.services import Services
from workflows.store import SnipeStore
from workflows.timing import SnipePlan, to_z

# The execution needs a moment to be scheduled and to wake up on time: a snipe
# is refused unless the wake-up lies at least this far in the future.
START_MARGIN = timedelta(seconds=2)
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# An edit that loses a race with another edit reads the snipe again and retries
# this many times in all (an offset change tries
# ``executions.MAX_EXECUTION_NAME_TRIES`` execution names).
MAX_EDIT_ATTEMPTS = 3

# Crockford base32 ULID after a prefix: 30 characters, sortable by creation time,
# and a valid Step Functions execution name ([A-Za-z0-9-_], at most 80).
SNIPE_ID_PREFIX = "snp_"
SNIPE_ID_PATTERN = re.compile(r"snp_[0-9A-HJKMNP-TV-Z]{26}")


# --- inputs ------------------------------------------------------------------


class MaxBidInput(BaseModel):
    """An amount as a decimal string in the listing's currency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: Annotated[
        str,
        Field(
            strict=True,
            pattern=r"^(?:[1-9][0-9]{0,8}|0)(?:\.[0-9]{1,3})?$",
            description=(
                'Decimal amount as a string (never a JSON number), e.g. "123.45";'
                " at most the currency's number of decimals."
            ),
            examples=["123.45"],
        ),
    ]
    currency: Annotated[
        CurrencyCode,
        Field(strict=True, description="ISO 4217 code", examples=["USD"]),
    ]

    @field_validator("value")
    @classmethod
    def _positive(cls, value: str) -> str:
        if not any(ch in "123456789" for ch in value):
            raise ValueError("the maximum bid must be greater than zero")
        return value

    @model_validator(mode="after")
    def _fits_currency(self) -> Self:
        places = len(self.value.partition(".")[2])
        if places > minor_exponent(self.currency):
            raise ValueError(
                f"{self.currency} amounts have at most"
                f" {minor_exponent(self.currency)} decimal places; got {self.value}"
            )
        return self

    def to_money(self) -> Money:
        return Money.from_decimal(self.value, self.currency)


GroupIdInput = Annotated[
    str,
    text_field(
        64,
        "A win-N group of yours (POST /api/groups)",
        pattern=r"^[A-Za-z0-9_-]+$",
    ),
]


class CreateSnipeRequest(WholeNumbers):
    model_config = ConfigDict(frozen=True, extra="forbid")

    item_id: Annotated[
        str,
        text_field(
            2048,
            "eBay item: RESTful id (v1|123456789012|0), legacy item number"
            " (123456789012) or listing URL (https://www.ebay.com/itm/...)",
            examples=["v1|123456789012|0"],
        ),
    ]
    max_bid: MaxBidInput
    bid_offset_seconds: Annotated[
        int,
        Field(
            strict=True,
            ge=1,
            le=60,
            description="Seconds before the auction ends at which the bid is sent",
        ),
    ] = 6
    group_id: GroupIdInput | None = Field(
        default=None, description="Win-N group the snipe joins (optional)"
    )


class EditSnipeRequest(WholeNumbers):
    """The changes to a SCHEDULED snipe; at least one field.

    ``group_id: null`` takes the snipe out of its group; an absent field is
    left as it is.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_bid: MaxBidInput | None = Field(
        default=None,
        description=(
            "New maximum bid, in the snipe's currency and at least the listing's"
            " current minimum to bid"
        ),
    )
    bid_offset_seconds: Annotated[
        int | None,
        Field(
            strict=True,
            ge=1,
            le=60,
            description=(
                "New seconds before the end at which the bid is sent; the snipe"
                " gets a new execution (<snipe id>-v<n>)"
            ),
        ),
    ] = None
    group_id: GroupIdInput | None = Field(
        default=None, description="Win-N group to join; null leaves the group"
    )

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError(
                "nothing to change: send max_bid, bid_offset_seconds or group_id"
            )
        for name in ("max_bid", "bid_offset_seconds"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self

    @property
    def changes_group(self) -> bool:
        return "group_id" in self.model_fields_set


@dataclass(frozen=True)
class SnipePage:
    items: list[Snipe]
    next_cursor: str | None


# --- use cases ---------------------------------------------------------------


def new_snipe_id(now: datetime) -> str:
    """``snp_`` + a ULID (``workflows.ids``)."""
    return new_ulid(SNIPE_ID_PREFIX, now)


def create_snipe(
    services: Services, identity: Identity, request: CreateSnipeRequest
) -> Snipe:
    """Check the listing, store the snipe and start its execution."""
    executions = services.executions
    if executions is None:
        raise RuntimeError("STATE_MACHINE_ARN is not configured")
    try:
        ref = ebay.parse_item_reference(request.item_id)
    except ebay.InvalidItemReference as exc:
        raise InvalidItemId(str(exc)) from exc
    _require_ebay_link(services, identity)
    _require_room_for_another(services, identity)
    if request.group_id is not None:
        groups.require_group(services, identity.user_id, request.group_id)

    item = _fetch_item(services, ref)
    max_bid = request.max_bid.to_money()
    now = services.now()
    end_at = _check_biddable(services, item, request, max_bid, now)

    plan = SnipePlan.for_auction(
        end_at,
        bid_offset_seconds=request.bid_offset_seconds,
        lead_seconds=services.settings.snipe_lead_seconds,
        settle_seconds=services.settings.snipe_settle_seconds,
    )
    snipe_id = new_snipe_id(now)
    # One active snipe per user and item (409 SNIPE_EXISTS names the other).
    active_items.claim(services, identity.user_id, item.item_id, snipe_id)
    snipe = Snipe(
        snipe_id=snipe_id,
        user_id=identity.user_id,
        user_email=identity.email,
        item=_snapshot(item, end_at, services.settings.ebay_marketplace_id),
        max_bid=max_bid,
        bid_offset_seconds=request.bid_offset_seconds,
        plan=plan,
        created_at=now,
        updated_at=now,
        # The first execution is named by the snipe id; only it may claim.
        execution_name=snipe_id,
        group_id=request.group_id,
    )
    # From here the snipe is written, its execution started, or the snipe
    # deleted again: refuse (nothing written) unless that can still finish.
    budget.require_time_for_critical_writes()
    services.store.create(snipe)
    try:
        execution_arn = executions.start(snipe.snipe_id, execution_input(snipe, plan))
    except Exception:
        logger.warning(
            "execution did not start; removing the snipe",
            extra={"snipe_id": snipe.snipe_id},
        )
        _delete_quietly(services, snipe.snipe_id)
        raise
    try:
        services.store.set_execution_arn(snipe.snipe_id, execution_arn)
    except StoreUnavailable:
        # The execution runs and finds the snipe by its id; the ARN is a
        # convenience that cancel_snipe can derive again.
        logger.warning("execution ARN not recorded", extra={"snipe_id": snipe.snipe_id})
    else:
        snipe = snipe.model_copy(update={"execution_arn": execution_arn})

    metrics.add_metric(name="SnipesCreated", unit="Count", value=1)
    logger.info(
        "snipe scheduled",
        extra={
            "snipe_id": snipe.snipe_id,
            "item_id": snipe.item.item_id,
            "wake_at": to_z(plan.wake_at),
            "fire_at": to_z(plan.fire_at),
        },
    )
    return snipe


def list_snipes(
    services: Services,
    identity: Identity,
    *,
    status: SnipeStatus | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
    ends_after: datetime | None = None,
    ends_before: datetime | None = None,
) -> SnipePage:
    """One page of the caller's snipes, newest first.

    ``ends_after``/``ends_before`` keep the snipes whose auction ends (the
    plan's end) in ``[ends_after, ends_before)``; they combine with ``status``
    and the cursor. A cursor belongs to one status; keep the same filters
    while paging.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    if ends_after is None and ends_before is None:
        items, next_cursor = services.store.list_for_user(
            identity.user_id, status=status, limit=limit, cursor=cursor
        )
        return SnipePage(items=items, next_cursor=next_cursor)
    if ends_after is not None and ends_before is not None and ends_before <= ends_after:
        raise InvalidTimeRange(
            "ends_before must be later than ends_after",
            details={"ends_after": to_z(ends_after), "ends_before": to_z(ends_before)},
        )
    items, next_cursor = services.store.list_for_user_ending_between(
        identity.user_id,
        status=status,
        ends_after=ends_after,
        ends_before=ends_before,
        limit=limit,
        cursor=cursor,
    )
    return SnipePage(items=items, next_cursor=next_cursor)


def get_snipe(services: Services, identity: Identity, snipe_id: str) -> Snipe:
    """The caller's snipe; another user's snipe does not exist for them."""
    if not SNIPE_ID_PATTERN.fullmatch(snipe_id):
        raise SnipeNotFound(f"no snipe {snipe_id[:40]}")
    return services.store.get_for_user(identity.user_id, snipe_id)


def cancel_snipe(services: Services, identity: Identity, snipe_id: str) -> Snipe:
    """SCHEDULED -> CANCELLED (conditional write), then stop the execution."""
    snipe = get_snipe(services, identity, snipe_id)  # another user's: 404
    cancelled = cancel_scheduled(services.store, snipe)
    metrics.add_metric(name="SnipesCancelled", unit="Count", value=1)
    logger.info("snipe cancelled", extra={"snipe_id": snipe_id})
    stop_execution(services, cancelled)
    return cancelled


def cancel_scheduled(store: SnipeStore, snipe: Snipe) -> Snipe:
    """SCHEDULED -> CANCELLED in one conditional write (the user's or an
    operator's cancel). A snipe the bid task has claimed, or that has finished
    or gone, raises the domain error saying so; the execution is not touched.
    """
    if snipe.status is not SnipeStatus.SCHEDULED:
        raise _not_cancellable(snipe.snipe_id, snipe.status.value)
    try:
        return store.end(
            snipe,
            SnipeStatus.CANCELLED,
            Reason.USER_CANCELLED,
            allowed_from={SnipeStatus.SCHEDULED},
        )
    except TransitionRejected as exc:
        raise _not_cancellable(snipe.snipe_id, exc.current_status) from exc


def edit_snipe(
    services: Services, identity: Identity, snipe_id: str, request: EditSnipeRequest
) -> Snipe:
    """Change a SCHEDULED snipe's max bid, bid offset and/or group.

    Every change lands in one conditional write that requires the status
    SCHEDULED and the version read (``SnipeStore.update_scheduled``): after
    the bid task's claim the edit is refused (409 SNIPE_ALREADY_BIDDING), and
    a claim after the write reads the new max bid (the claim returns the
    record it wrote). An offset change moves the wake-up: the successor
    execution ``<id>-v<n>`` is started *before* the write that makes it the
    snipe's current execution (``execution_name``, which the claim requires),
    and the old one is stopped after it. A crash in between leaves either the
    old execution current (the new one cannot claim and ends quietly) or the
    new one current (the old one cannot claim): never none, never two that
    can bid. A write that loses to another edit is retried on a fresh read.
    """
    snipe = get_snipe(services, identity, snipe_id)  # another user's: 404
    _require_editable(snipe)
    if request.changes_group and request.group_id is not None:
        groups.require_group(services, identity.user_id, request.group_id)
    max_bid = request.max_bid.to_money() if request.max_bid is not None else None
    if max_bid is not None:
        _check_new_max_bid(services, snipe, max_bid)
    for _ in range(MAX_EDIT_ATTEMPTS):
        _require_editable(snipe)
        fields: dict[str, Any] = {}
        remove: list[str] = []
        if max_bid is not None:
            fields["max_bid"] = max_bid.model_dump(mode="json")
        if request.changes_group:
            if request.group_id is None:
                remove.append("group_id")
            else:
                fields["group_id"] = request.group_id
        successor: tuple[str, str] | None = None
        offset = request.bid_offset_seconds
        if offset is not None and offset != snipe.bid_offset_seconds:
            plan = _plan_for_offset(services, snipe, offset)
            successor = start_successor(services, snipe, plan)
            fields.update(
                bid_offset_seconds=offset,
                plan=plan.model_dump(mode="json"),
                execution_name=successor[0],
                execution_arn=successor[1],
            )
        try:
            edited = services.store.update_scheduled(
                snipe_id, expected_version=snipe.version, fields=fields, remove=remove
            )
        except TransitionRejected as exc:
            if successor is not None:
                stop_unless_current(services, snipe_id, successor)
            if exc.current_status != SnipeStatus.SCHEDULED.value:
                raise _not_editable(snipe_id, exc.current_status) from exc
            snipe = services.store.get_for_user(identity.user_id, snipe_id)
            continue
        if successor is not None:
            stop_execution(
                services, snipe, cause=f"the snipe was rescheduled ({successor[0]})"
            )
        metrics.add_metric(name="SnipesEdited", unit="Count", value=1)
        logger.info(
            "snipe edited",
            extra={
                "snipe_id": snipe_id,
                "changed": sorted([*fields, *remove]),
                "execution": edited.execution_name,
                "wake_at": to_z(edited.plan.wake_at),
            },
        )
        return edited
    raise SnipeModified(
        "the snipe kept changing while it was being edited; read it and retry"
    )


def group_warnings(services: Services, snipe: Snipe) -> list[str]:
    """Warnings about the snipe's group: members ending within 30 s of it."""
    if snipe.group_id is None:
        return []
    return groups.proximity_warnings(
        services, snipe.user_id, snipe.group_id, snipe.plan.end_at, snipe.snipe_id
    )


# --- helpers -----------------------------------------------------------------


def _require_ebay_link(services: Services, identity: Identity) -> None:
    # The link's status only: creating a snipe decrypts no token.
    account = services.store.ebay_link_status(identity.user_id)
    if account is None:
        raise EbayNotLinked("link your eBay account before creating a snipe")
    if account.needs_reconnect:
        raise EbayRelinkRequired(
            "eBay no longer accepts the authorization for your account; link it again"
        )


def _require_room_for_another(services: Services, identity: Identity) -> None:
    """Refuse a snipe beyond the per-user cap of active snipes (429).

    Best effort: the count and the write are not one transaction, and the count
    reads an eventually consistent index, so concurrent creates by one user can
    overshoot the cap by about their number (docs/security.md, "Abuse limits").
    """
    limit = services.settings.max_active_snipes_per_user
    active = services.store.count_active_for_user(identity.user_id)
    if active >= limit:
        logger.info(
            "active snipe cap reached", extra={"limit": limit, "active": active}
        )
        raise TooManyActiveSnipes(
            f"you already have {active} active snipes; the limit is {limit}."
            " Cancel one or wait for one to finish",
            details={"limit": limit, "active": active},
        )


def _fetch_item(services: Services, ref: ebay.ItemRef) -> ebay.EbayItem:
    try:
        item = services.ebay.get_item(ref)
    except ebay.EbayItemNotFound as exc:
        raise ItemNotFound(
            f"eBay has no item {ref.value}", details={"item_id": ref.value}
        ) from exc
    except ebay.EbayUnavailable as exc:
        raise UpstreamUnavailable("eBay is unavailable; try again shortly") from exc
    except ebay.EbayError as exc:
        logger.error(
            "unexpected answer from eBay getItem",
            extra={"error": type(exc).__name__, "http_status": exc.http_status},
        )
        raise EbayBadResponse("eBay returned an unexpected answer") from exc
    # A fresh read: the live values of the shared item cache (workflows.live).
    live.remember(services, item, ref)
    return item


def earliest_end_for(
    services: Services, offset_seconds: int, now: datetime
) -> datetime:
    """The earliest auction end a snipe with ``offset_seconds`` can be
    scheduled for at ``now``: room for the wake-up lead, the offset and a
    start margin (an earlier end is AUCTION_ENDING_TOO_SOON)."""
    lead = offset_seconds + services.settings.snipe_lead_seconds
    return now + timedelta(seconds=lead) + START_MARGIN


def _check_biddable(
    services: Services,
    item: ebay.EbayItem,
    request: CreateSnipeRequest,
    max_bid: Money,
    now: datetime,
) -> datetime:
    """Refuse what cannot be sniped; returns the auction's end."""
    if not item.is_auction:
        raise NotAnAuction(
            "the listing is not an auction",
            details={"buying_options": list(item.buying_options)},
        )
    if item.end_at is None:
        raise EbayBadResponse("eBay did not say when the auction ends")
    if item.end_at <= now:
        raise AuctionEnded(
            "the auction has ended", details={"end_at": to_z(item.end_at)}
        )
    earliest_end = earliest_end_for(services, request.bid_offset_seconds, now)
    if item.end_at < earliest_end:
        raise AuctionEndingTooSoon(
            "the auction ends too soon to schedule a snipe",
            details={
                "end_at": to_z(item.end_at),
                "earliest_end_at": to_z(earliest_end),
            },
        )
    listing_currency = item.currency
    if listing_currency is not None and listing_currency != max_bid.currency:
        raise CurrencyMismatch(
            f"the listing is in {listing_currency}",
            details={"listing_currency": listing_currency},
        )
    minimum = _money(item.minimum_price_to_bid)
    if minimum is not None and max_bid < minimum:
        raise MaxBidTooLow(
            f"the maximum bid must be at least {minimum}",
            details={"minimum_bid": MoneyView.of(minimum).model_dump()},
        )
    return item.end_at


def _money(amount: ebay.Amount | None) -> Money | None:
    return None if amount is None else amount.to_money()


def _snapshot(item: ebay.EbayItem, end_at: datetime, marketplace: str) -> ItemSnapshot:
    return ItemSnapshot(
        **same_named(item, "item_id", "legacy_item_id", "title", "image_url"),
        item_url=item.item_web_url,
        seller=item.seller_username,
        end_at=end_at,
        current_price=_money(item.current_bid_price),
        minimum_to_bid=_money(item.minimum_price_to_bid),
        marketplace_id=item.marketplace_id or marketplace,
    )


def _delete_quietly(services: Services, snipe_id: str) -> None:
    try:
        services.store.delete(snipe_id)
    except Exception:
        logger.exception("could not remove the snipe", extra={"snipe_id": snipe_id})


def _not_cancellable(snipe_id: str, current: str | None) -> DomainError:
    return _too_late(snipe_id, current, "it can no longer be cancelled")


def _too_late(snipe_id: str, current: str | None, consequence: str) -> DomainError:
    """The error for a snipe that is gone (404), bidding or finished (409)."""
    if current is None:
        return SnipeNotFound(f"no snipe {snipe_id}")
    status = SnipeStatus(current)
    details: dict[str, Any] = {"status": status.value}
    if status in BID_CLAIMED_STATUSES:
        return SnipeAlreadyBidding(
            f"the bid is already being placed; {consequence}", details=details
        )
    return SnipeAlreadyFinished(
        f"the snipe has already finished ({status.value})", details=details
    )


def _require_editable(snipe: Snipe) -> None:
    if snipe.status is not SnipeStatus.SCHEDULED:
        raise _not_editable(snipe.snipe_id, snipe.status.value)


def _not_editable(snipe_id: str, current: str | None) -> DomainError:
    return _too_late(snipe_id, current, "the snipe can no longer be changed")


def _check_new_max_bid(services: Services, snipe: Snipe, max_bid: Money) -> None:
    """Like create: the snipe's currency, at least the listing's minimum to bid
    now (a fresh Browse read) and an auction that has not ended."""
    currency = snipe.max_bid.currency
    if max_bid.currency != currency:
        raise CurrencyMismatch(
            f"the snipe bids in {currency}", details={"listing_currency": currency}
        )
    item = _fetch_item(services, ebay.ItemRef("restful", snipe.item.item_id))
    if item.end_at is not None and item.end_at <= services.now():
        raise AuctionEnded(
            "the auction has ended", details={"end_at": to_z(item.end_at)}
        )
    if item.currency is not None and item.currency != max_bid.currency:
        raise CurrencyMismatch(
            f"the listing is in {item.currency}",
            details={"listing_currency": item.currency},
        )
    minimum = _money(item.minimum_price_to_bid)
    same_currency = minimum is not None and minimum.currency == max_bid.currency
    if minimum is not None and same_currency and max_bid < minimum:
        raise MaxBidTooLow(
            f"the maximum bid must be at least {minimum}",
            details={"minimum_bid": MoneyView.of(minimum).model_dump()},
        )


def _plan_for_offset(services: Services, snipe: Snipe, offset: int) -> SnipePlan:
    """The plan for a new offset; refused unless its wake-up can still be met."""
    settings = services.settings
    plan = SnipePlan.for_auction(
        snipe.plan.end_at,
        bid_offset_seconds=offset,
        lead_seconds=settings.snipe_lead_seconds,
        settle_seconds=settings.snipe_settle_seconds,
    )
    earliest_wake = services.now() + START_MARGIN
    if plan.wake_at < earliest_wake:
        raise AuctionEndingTooSoon(
            "the auction ends too soon for that bid offset",
            details={
                "end_at": to_z(plan.end_at),
                "wake_at": to_z(plan.wake_at),
                "earliest_wake_at": to_z(earliest_wake),
            },
        )
    return plan

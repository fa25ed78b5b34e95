"""Constants, money and time helpers, and the simulator's records."""

from __future__ import annotations

import heapq
import itertools
import re
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, get_args

from sandbox.faults import InjectedFault

API_SCOPE: Final = "https://api.ebay.com/oauth/api_scope"


OFFER_SCOPE: Final = "https://api.ebay.com/oauth/api_scope/buy.offer.auction"


DEFAULT_USER_SCOPES: Final = (API_SCOPE, OFFER_SCOPE)


# Scopes an application (client-credentials) token may never carry.
USER_ONLY_SCOPES: Final = frozenset({OFFER_SCOPE})


ACCESS_TOKEN_TTL_S: Final = 7200


REFRESH_TOKEN_TTL_S: Final = 47_304_000


AUTH_CODE_TTL_S: Final = 299


# token_type values of eBay's token responses, and its "no refresh token".
APPLICATION_GRANT: Final = "Application Access Token"


USER_GRANT: Final = "User Access Token"


NOT_APPLICABLE: Final = "N/A"


OFFER_MARKETPLACES: Final = (
    "EBAY_AU",
    "EBAY_CA",
    "EBAY_DE",
    "EBAY_ES",
    "EBAY_FR",
    "EBAY_GB",
    "EBAY_IT",
    "EBAY_US",
)


BROWSE_MARKETPLACES: Final = (
    *OFFER_MARKETPLACES,
    "EBAY_AT",
    "EBAY_BE",
    "EBAY_CH",
    "EBAY_HK",
    "EBAY_IE",
    "EBAY_NL",
    "EBAY_PL",
    "EBAY_SG",
    "EBAY_MOTORS_US",
)


Endpoint = Literal[
    "token",
    "authorize",
    "get_item",
    "get_item_by_legacy_id",
    "place_proxy_bid",
    "get_bidding",
]


ENDPOINTS: Final[tuple[str, ...]] = get_args(Endpoint)


_FAULT_ENDPOINTS: Final = frozenset({*ENDPOINTS, "*"})


_BEARER_ENDPOINTS: Final = frozenset(
    {"get_item", "get_item_by_legacy_id", "place_proxy_bid", "get_bidding"}
)


_BROWSE_ENDPOINTS: Final = frozenset({"get_item", "get_item_by_legacy_id"})


# US bid increments (external-apis.md §4.1): (price below, increment), in cents.
_INCREMENTS: Final = (
    (100, 5),
    (500, 25),
    (2_500, 50),
    (10_000, 100),
    (25_000, 250),
    (50_000, 500),
    (100_000, 1_000),
    (250_000, 2_500),
    (500_000, 5_000),
)


_TOP_INCREMENT: Final = 10_000


# placeProxyBid rejects larger amounts with 120011 (the real limit is undocumented).
MAX_BID_CENTS: Final = 9_999_999_999


_COMPACT_FIELDS: Final = frozenset(
    {
        "itemId",
        "bidCount",
        "currentBidPrice",
        "eligibleForInlineCheckout",
        "estimatedAvailabilities",
        "gtin",
        "immediatePay",
        "itemAffiliateWebUrl",
        "itemCreationDate",
        "itemWebUrl",
        "legacyItemId",
        "minimumPriceToBid",
        "price",
        "priorityListing",
        "reservePriceMet",
        "sellerItemRevision",
        "shippingOptions",
        "taxes",
        "topRatedBuyingExperience",
        "uniqueBidderCount",
    }
)


_FIELDGROUPS: Final = ("COMPACT", "PRODUCT", "ADDITIONAL_SELLER_DETAILS")


_ITEM_ID_RE: Final = re.compile(r"^v1\|(\d{1,19})\|(\d{1,19})$")


_MONEY_RE: Final = re.compile(r"^\d{1,13}(\.\d{1,2})?$")


_CURRENCY_RE: Final = re.compile(r"^[A-Z]{3}$")


MoneyLike = str | int | Decimal


def to_cents(value: MoneyLike) -> int:
    """Convert ``"25.00"`` / ``25`` / ``Decimal("25")`` to integer cents.

    Raises ValueError for negatives, more than two decimals, floats or garbage.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"money must be str, int or Decimal, not {value!r}")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"invalid money value {value!r}") from exc
    if not amount.is_finite() or amount < 0:
        raise ValueError(f"invalid money value {value!r}")
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"money value {value!r} has more than two decimals")
    return int(cents)


def format_cents(cents: int) -> str:
    """``2500`` -> ``"25.00"``."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def bid_increment_cents(price_cents: int) -> int:
    """The eBay US bid increment for a current price, in cents."""
    for below, increment in _INCREMENTS:
        if price_cents < below:
            return increment
    return _TOP_INCREMENT


def iso_ms(epoch: float) -> str:
    """Epoch seconds -> eBay's UTC ``yyyy-MM-ddTHH:mm:ss.sssZ`` (truncated to ms)."""
    millis = int(epoch * 1000)
    moment = datetime.fromtimestamp(millis // 1000, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis % 1000:03d}Z"


def _to_epoch(value: float | int | datetime | str) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("end_at datetime must be timezone-aware")
        return value.timestamp()
    if isinstance(value, str):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return float(value)


def _amount(cents: int, currency: str) -> dict[str, str]:
    return {"currency": currency, "value": format_cents(cents)}


@dataclass(frozen=True)
class Bid:
    """One accepted placeProxyBid (from the API, a rival or the admin API)."""

    seq: int
    proxy_bid_id: str
    username: str
    max_cents: int
    placed_at: float
    source: str

    def to_dict(self, currency: str) -> dict[str, Any]:
        return {
            "proxy_bid_id": self.proxy_bid_id,
            "username": self.username,
            "max_amount": _amount(self.max_cents, currency),
            "placed_at": self.placed_at,
            "source": self.source,
        }


@dataclass
class _Bidder:
    username: str
    max_cents: int
    max_seq: int  # seq of the bid that set max_cents: earlier wins ties
    proxy_bid_id: str


@dataclass
class Rival:
    """A scheduled competing bid placed through the same engine."""

    rival_id: str
    item_id: str
    username: str
    max_cents: int
    fire_at: float
    status: str = "pending"  # pending | placed | rejected | cancelled
    error_id: int | None = None
    placed_at: float | None = None
    proxy_bid_id: str | None = None

    def to_dict(self, currency: str) -> dict[str, Any]:
        return {
            "rival_id": self.rival_id,
            "item_id": self.item_id,
            "username": self.username,
            "max_amount": _amount(self.max_cents, currency),
            "fire_at": self.fire_at,
            "status": self.status,
            "error_id": self.error_id,
            "placed_at": self.placed_at,
            "proxy_bid_id": self.proxy_bid_id,
        }


@dataclass
class Auction:
    """A listing. Mutable engine state; read it through ``sim.auction_state()``."""

    item_id: str
    legacy_item_id: str
    title: str
    currency: str
    start_cents: int
    end_time: float  # scheduled end (epoch seconds, ms precision)
    created_at: float
    seller: str
    listing_type: str = "AUCTION"  # AUCTION | FIXED_PRICE
    reserve_cents: int | None = None
    bin_cents: int | None = None
    settle_delay_s: float = 0.0
    marketplace_id: str = "EBAY_US"
    image_url: str = ""
    seller_feedback_score: int = 1234
    seller_feedback_percentage: str = "99.8"
    bids: list[Bid] = field(default_factory=list)
    bidders: dict[str, _Bidder] = field(default_factory=dict)
    ended_early_at: float | None = None
    end_reason: str | None = None  # None | ended_early | buy_it_now
    bin_buyer: str | None = None

    @property
    def closes_at(self) -> float:
        """When bidding actually closes (scheduled end or early end)."""
        if self.ended_early_at is not None:
            return min(self.ended_early_at, self.end_time)
        return self.end_time

    @property
    def item_web_url(self) -> str:
        return f"https://www.ebay.com/itm/{self.legacy_item_id}"


@dataclass(frozen=True)
class _TokenInfo:
    kind: Literal["user", "application"]
    username: str | None
    client_id: str
    scopes: frozenset[str]
    expires_at: float


@dataclass
class _RefreshToken:
    username: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float
    revoked: bool = False


@dataclass
class _AuthCode:
    username: str
    client_id: str
    scopes: frozenset[str]
    expires_at: float
    used: bool = False


@dataclass(kw_only=True)
class Fault(InjectedFault):
    """An injected fault. ``remaining=None`` means until cleared.

    Effects, in order: sleep ``latency_ms`` before the request is processed;
    then either answer ``status`` (with an eBay envelope, ``error_id`` picking the
    error; the request is NOT processed) or 401/1001 when ``token_expired`` or
    process normally; finally hold the response for ``timeout_s`` (the request's
    effect, e.g. a bid, has already happened) so the client times out. With
    ``reset`` the connection is then shut down instead of answered: the
    request was read (and processed unless ``status`` is set), the answer is
    lost ("connection reset after the request was sent"). ``item_id`` limits
    the fault to requests for that item.
    """

    item_id: str | None = None
    error_id: int | None = None
    token_expired: bool = False
    reset: bool = False


@dataclass
class _Ctx:
    """Per-request facts the handlers fill in for the request log."""

    endpoint: str
    item_id: str | None = None
    user: str | None = None
    token_type: str | None = None
    client_id: str | None = None
    grant_type: str | None = None
    max_amount: dict[str, Any] | None = None
    proxy_bid_id: str | None = None


@dataclass(kw_only=True)
class _RequestRecord(_Ctx):
    """A request log entry: the handlers' facts plus what the server saw."""

    seq: int
    arrival: float
    method: str
    path: str
    raw_path: str
    status: int = 0
    marketplace_id: str | None = None
    error_id: int | None = None
    oauth_error: str | None = None
    fault_id: str | None = None
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Scheduler:
    """One daemon thread firing callbacks at absolute epoch times."""

    def __init__(self, fire: Callable[[str], None]) -> None:
        self._fire = fire
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def schedule(self, at: float, key: str) -> None:
        with self._cond:
            if self._stopped:
                raise RuntimeError("simulator is closed")
            heapq.heappush(self._heap, (at, next(self._seq), key))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ebay-sim-rivals", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def clear(self) -> None:
        with self._cond:
            self._heap.clear()
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(2.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopped:
                    return
                if not self._heap:
                    self._cond.wait()
                    continue
                delay = self._heap[0][0] - time.time()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                _, _, key = heapq.heappop(self._heap)
            self._fire(key)

"""eBay simulator: OAuth, Browse getItem, Offer bidding and a real-time auction engine.

It serves real HTTP (see :mod:`sandbox.httpserver`) on 127.0.0.1 for integration
tests, the local stack and benchmarks. Auctions end at wall-clock times; there is
no fake clock. State lives in one :class:`EbaySimulator` guarded by a lock, so the
Python API (used by tests) and the HTTP admin API under ``/sim`` see the same data.

Quick start::

    sim, server = start_ebay_simulator(client_id="cid", client_secret="csec")
    auction = sim.create_auction(start_price="10.00", end_in_s=2)
    refresh_token = sim.register_user("alice")
    ...
    server.stop()

See docs/simulators.md for what is and is not modelled.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import html
import itertools
import json
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Flask, Response, request

from sandbox.faults import FaultRegistry, check_fault_args
from sandbox.httpserver import BackgroundServer, request_arrival_time

__all__ = [
    "API_SCOPE",
    "ENDPOINTS",
    "OFFER_MARKETPLACES",
    "OFFER_SCOPE",
    "Auction",
    "Bid",
    "EbayApiError",
    "EbaySimulator",
    "Fault",
    "OAuthError",
    "Rival",
    "bid_increment_cents",
    "create_app",
    "format_cents",
    "iso_ms",
    "start_ebay_simulator",
    "to_cents",
]

# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------

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
ENDPOINTS: Final[tuple[str, ...]] = (
    "token",
    "authorize",
    "get_item",
    "get_item_by_legacy_id",
    "place_proxy_bid",
    "get_bidding",
)
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

# ---------------------------------------------------------------------------
# Money and time helpers
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

_OFFER_ERRORS: Final[dict[int, tuple[int, str, str]]] = {
    120000: (
        500,
        "APPLICATION",
        "There was a problem with an eBay internal system or process. "
        "Contact eBay developer support for assistance.",
    ),
    120001: (
        404,
        "REQUEST",
        "The item ID {item_id} was not found. "
        "Check that this is an active auction item ID.",
    ),
    120002: (
        409,
        "BUSINESS",
        "The auction was ended because the item was purchased with Buy It Now "
        "(fixed_price).",
    ),
    120003: (409, "BUSINESS", "A seller cannot place a bid."),
    120004: (409, "BUSINESS", "You are not eligible to bid on this item."),
    120005: (
        409,
        "BUSINESS",
        "The bid price cannot be greater than the Buy It Now price.",
    ),
    120008: (409, "BUSINESS", "The bid amount is too low."),
    120009: (
        409,
        "BUSINESS",
        "The bid currency needs to match the item price currency.",
    ),
    120010: (409, "BUSINESS", "You cannot lower your proxy bid."),
    120011: (400, "REQUEST", "The bid amount exceeds the limit."),
    120012: (409, "BUSINESS", "The auction has ended."),
    120013: (400, "REQUEST", "The bid amount is missing or invalid."),
    120014: (
        400,
        "REQUEST",
        "The bid currency is invalid. "
        "Refer to the documentation for a list of currency codes.",
    ),
    120015: (
        400,
        "REQUEST",
        "The X-EBAY-C-MARKETPLACE-ID header is missing. This is a required header.",
    ),
    120016: (400, "REQUEST", "The maximum bid amount is missing."),
    120017: (
        400,
        "REQUEST",
        "The Marketplace {marketplace_id} is not supported. "
        "Supported values are {allowed}.",
    ),
    120024: (409, "BUSINESS", "The item is currently unavailable."),
    120033: (
        404,
        "REQUEST",
        "There is no bidding activity for this auction (item ID {item_id}).",
    ),
}

_BROWSE_ERRORS: Final[dict[int, tuple[int, str, str]]] = {
    11000: (
        500,
        "APPLICATION",
        "There was a problem with an eBay internal system or process. "
        "Contact eBay developer support for assistance.",
    ),
    11001: (404, "REQUEST", "The specified item ID was not found."),
    11003: (404, "REQUEST", "The specified legacy item ID was not found."),
    11004: (
        400,
        "REQUEST",
        "The item is not available for purchase. This can be for many reasons, "
        "such as when the listing is being updated by the seller. "
        "Wait a few minutes and try the call again.",
    ),
    11011: (
        400,
        "REQUEST",
        "The marketplace value {marketplace_id} is not supported. "
        "The supported values are: {allowed}",
    ),
    11012: (
        400,
        "REQUEST",
        "The specified item IDs are invalid, or the format of the specified "
        "values are invalid.",
    ),
    11018: (
        400,
        "REQUEST",
        "The specified fieldgroups are invalid. "
        "The COMPACT fieldgroup cannot be combined with another fieldgroup.",
    ),
    11501: (
        400,
        "REQUEST",
        "The 'fieldgroups' value(s) are invalid: {fieldgroups}. "
        "The supported fieldgroups are: {allowed}",
    ),
}


class EbayApiError(Exception):
    """An error answered in eBay's ``{"errors": [...]}`` envelope."""

    def __init__(
        self,
        status: int,
        error_id: int,
        message: str,
        *,
        domain: str,
        category: str,
        long_message: str | None = None,
        parameters: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error_id} {message}")
        self.status = status
        self.error_id = error_id
        self.message = message
        self.domain = domain
        self.category = category
        self.long_message = long_message
        self.parameters = parameters or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "errorId": self.error_id,
            "domain": self.domain,
            "category": self.category,
            "message": self.message,
        }
        if self.long_message:
            error["longMessage"] = self.long_message
        if self.parameters:
            error["parameters"] = [
                {"name": name, "value": value}
                for name, value in self.parameters.items()
            ]
        return {"errors": [error]}


def offer_error(
    error_id: int, status: int | None = None, **params: str
) -> EbayApiError:
    """Build an Offer API (domain ``API_OFFER``) error from the spec's catalogue."""
    default_status, category, template = _OFFER_ERRORS.get(
        error_id, (409, "BUSINESS", "The bid could not be placed.")
    )
    return EbayApiError(
        status or default_status,
        error_id,
        template.format_map(_Defaulting(params)),
        domain="API_OFFER",
        category=category,
        parameters=params,
    )


def browse_error(
    error_id: int, status: int | None = None, **params: str
) -> EbayApiError:
    """Build a Browse API (domain ``API_BROWSE``) error from the spec's catalogue."""
    default_status, category, template = _BROWSE_ERRORS.get(
        error_id, (400, "REQUEST", "The request could not be processed.")
    )
    return EbayApiError(
        status or default_status,
        error_id,
        template.format_map(_Defaulting(params)),
        domain="API_BROWSE",
        category=category,
        parameters=params,
    )


def invalid_token_error() -> EbayApiError:
    return EbayApiError(
        401,
        1001,
        "Invalid access token",
        domain="OAuth",
        category="REQUEST",
        long_message=(
            "Invalid access token. "
            "Check the value of the Authorization HTTP request header."
        ),
    )


def access_denied_error() -> EbayApiError:
    return EbayApiError(
        403,
        1100,
        "Access denied",
        domain="ACCESS",
        category="REQUEST",
        long_message="Insufficient permissions to fulfill the request.",
    )


def rate_limit_error() -> EbayApiError:
    return EbayApiError(
        429,
        2001,
        "Too many requests. The request limit has been reached for the resource.",
        domain="ACCESS",
        category="REQUEST",
    )


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class OAuthError(Exception):
    """An OAuth error answered as ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


_INVALID_GRANT = (
    "the provided authorization grant code is invalid or was issued to another client"
)

# ---------------------------------------------------------------------------
# State records
# ---------------------------------------------------------------------------


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


@dataclass
class Fault:
    """An injected fault. ``remaining=None`` means until cleared.

    Effects, in order: sleep ``latency_ms`` before the request is processed;
    then either answer ``status`` (with an eBay envelope, ``error_id`` picking the
    error; the request is NOT processed) or 401/1001 when ``token_expired`` or
    process normally; finally hold the response for ``timeout_s`` (the request's
    effect, e.g. a bid, has already happened) so the client times out. With
    ``reset`` the connection is then shut down instead of answered: the
    request was read (and processed unless ``status`` is set), the answer is
    lost ("connection reset after the request was sent").
    """

    fault_id: str
    endpoint: str
    item_id: str | None = None
    status: int | None = None
    error_id: int | None = None
    message: str | None = None
    latency_ms: int = 0
    timeout_s: float | None = None
    token_expired: bool = False
    reset: bool = False
    remaining: int | None = None
    hits: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "fault_id": self.fault_id,
            "reset": self.reset,
            "endpoint": self.endpoint,
            "item_id": self.item_id,
            "status": self.status,
            "error_id": self.error_id,
            "message": self.message,
            "latency_ms": self.latency_ms,
            "timeout_s": self.timeout_s,
            "token_expired": self.token_expired,
            "remaining": self.remaining,
            "hits": self.hits,
        }


@dataclass
class _RequestRecord:
    seq: int
    arrival: float
    method: str
    path: str
    raw_path: str
    endpoint: str
    item_id: str | None
    status: int = 0
    user: str | None = None
    token_type: str | None = None
    client_id: str | None = None
    marketplace_id: str | None = None
    error_id: int | None = None
    oauth_error: str | None = None
    grant_type: str | None = None
    max_amount: dict[str, Any] | None = None
    proxy_bid_id: str | None = None
    fault_id: str | None = None
    duration_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "arrival": self.arrival,
            "method": self.method,
            "path": self.path,
            "raw_path": self.raw_path,
            "endpoint": self.endpoint,
            "item_id": self.item_id,
            "status": self.status,
            "user": self.user,
            "token_type": self.token_type,
            "client_id": self.client_id,
            "marketplace_id": self.marketplace_id,
            "error_id": self.error_id,
            "oauth_error": self.oauth_error,
            "grant_type": self.grant_type,
            "max_amount": self.max_amount,
            "proxy_bid_id": self.proxy_bid_id,
            "fault_id": self.fault_id,
            "duration_ms": self.duration_ms,
        }


# ---------------------------------------------------------------------------
# Rival scheduler
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# The simulator
# ---------------------------------------------------------------------------


def _new_token(prefix: str, nbytes: int = 48) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


class EbaySimulator(FaultRegistry):
    """All simulator state plus the Python API that tests use directly."""

    def __init__(  # nosec B107 # simulator defaults, not real credentials
        self,
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",  # noqa: S107 - simulator default
        ru_name: str = "sim-ru-name",
        accept_url: str = "http://127.0.0.1/ebay/oauth/accepted",
        declined_url: str | None = None,
        *,
        access_token_ttl_s: float = ACCESS_TOKEN_TTL_S,
        auth_code_ttl_s: float = AUTH_CODE_TTL_S,
        browse_not_found_status: int = 404,
        request_log_limit: int = 100_000,
    ) -> None:
        self.client_id = client_id
        self.ru_name = ru_name
        self.accept_url = accept_url
        self.declined_url = declined_url or accept_url
        self.access_token_ttl_s = access_token_ttl_s
        self.auth_code_ttl_s = auth_code_ttl_s
        self.browse_not_found_status = browse_not_found_status
        self.request_log_limit = request_log_limit
        self._default_app = (client_id, client_secret)
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._scheduler = _Scheduler(self._fire_rival)
        self._ids = itertools.count(1)
        self._init_state()

    def _init_state(self) -> None:
        self._apps: dict[str, str] = {self._default_app[0]: self._default_app[1]}
        self._auctions: dict[str, Auction] = {}
        self._legacy: dict[str, str] = {}
        self._rivals: dict[str, Rival] = {}
        self._users: set[str] = set()
        self._access_tokens: dict[str, _TokenInfo] = {}
        self._refresh_tokens: dict[str, _RefreshToken] = {}
        self._auth_codes: dict[str, _AuthCode] = {}
        self._faults: list[Fault] = []
        self._requests: deque[_RequestRecord] = deque(maxlen=self.request_log_limit)
        self._bid_seq = itertools.count(1)
        self._request_seq = itertools.count(1)

    # -- lifecycle ---------------------------------------------------------

    def reset(self) -> None:
        """Forget auctions, rivals, users, tokens, faults and the request log.

        The constructor's app credentials and settings are kept.
        """
        self._scheduler.clear()
        with self._lock:
            self._init_state()

    def close(self) -> None:
        """Stop the rival scheduler and wake any request sleeping in a fault."""
        self._closed.set()
        self._scheduler.stop()

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._closed.wait(seconds)

    def now(self) -> float:
        return time.time()

    # -- apps, users, tokens ----------------------------------------------

    def app_credentials(self, client_id: str, client_secret: str) -> None:
        """Register (or replace) an application keyset accepted by the token API."""
        with self._lock:
            self._apps[client_id] = client_secret

    def issued_secrets(self) -> list[str]:
        """Every secret value the simulator knows: client secrets, refresh and
        access tokens, authorization codes. Tests search logs and execution
        histories for these (none may appear)."""
        with self._lock:
            return [
                *self._apps.values(),
                *self._refresh_tokens,
                *self._access_tokens,
                *self._auth_codes,
            ]

    def register_user(self, username: str, refresh_token: str | None = None) -> str:
        """Create a simulated eBay user and return a refresh token for them.

        Pass ``refresh_token`` to register a known value (e.g. from a fixture).
        The token belongs to the default client id and carries the Offer scope.
        """
        if not username:
            raise ValueError("username is required")
        with self._lock:
            self._users.add(username)
            token = refresh_token or _new_token("v^1.1#i^1#r^1#p^3#I^3#f^0#t^")
            existing = self._refresh_tokens.get(token)
            if existing is not None and existing.username != username:
                raise ValueError("refresh token already belongs to another user")
            self._refresh_tokens[token] = _RefreshToken(
                username=username,
                client_id=self.client_id,
                scopes=frozenset(DEFAULT_USER_SCOPES),
                expires_at=time.time() + REFRESH_TOKEN_TTL_S,
            )
            return token

    def users(self) -> list[str]:
        with self._lock:
            return sorted(self._users)

    def issue_access_token(
        self,
        username: str | None = None,
        *,
        scopes: Iterable[str] | None = None,
        ttl_s: float | None = None,
    ) -> str:
        """Mint an access token without OAuth: a user token, or an app token."""
        with self._lock:
            if username is not None:
                self._users.add(username)
                granted = frozenset(scopes or DEFAULT_USER_SCOPES)
                return self._mint_access(username, self.client_id, granted, ttl_s)
            return self._mint_access(
                None, self.client_id, frozenset(scopes or (API_SCOPE,)), ttl_s
            )

    def _mint_access(
        self,
        username: str | None,
        client_id: str,
        scopes: frozenset[str],
        ttl_s: float | None = None,
    ) -> str:
        if username is None:
            token = _new_token("v^1.1#i^1#p^1#r^0#I^3#f^0#t^H4sI", 64)
        else:
            token = _new_token("v^1.1#i^1#p^3#r^1#I^3#f^0#t^H4sI", 64)
        ttl = self.access_token_ttl_s if ttl_s is None else ttl_s
        self._access_tokens[token] = _TokenInfo(
            kind="application" if username is None else "user",
            username=username,
            client_id=client_id,
            scopes=scopes,
            expires_at=time.time() + ttl,
        )
        return token

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Revoke a refresh token: later refresh grants get 400 invalid_grant."""
        with self._lock:
            info = self._refresh_tokens.get(refresh_token)
            if info is None:
                raise KeyError("unknown refresh token")
            info.revoked = True

    def revoke_user_refresh_tokens(self, username: str) -> int:
        """Revoke every refresh token of a user (e.g. a password change)."""
        with self._lock:
            count = 0
            for info in self._refresh_tokens.values():
                if info.username == username and not info.revoked:
                    info.revoked = True
                    count += 1
            return count

    def expire_access_tokens(self, username: str | None = None) -> int:
        """Expire a user's access tokens (all app tokens when username is None)."""
        with self._lock:
            expired = time.time() - 1
            count = 0
            for token, info in list(self._access_tokens.items()):
                if info.username == username and info.expires_at > expired:
                    self._access_tokens[token] = _TokenInfo(
                        info.kind, info.username, info.client_id, info.scopes, expired
                    )
                    count += 1
            return count

    def _authenticate(self, authorization: str | None) -> _TokenInfo | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        with self._lock:
            info = self._access_tokens.get(token.strip())
        if info is None or info.expires_at <= time.time():
            return None
        return info

    # -- OAuth -------------------------------------------------------------

    def _check_client(self, client_id: str | None, client_secret: str | None) -> str:
        with self._lock:
            expected = self._apps.get(client_id or "")
        if (
            client_id is None
            or expected is None
            or not secrets.compare_digest(expected, client_secret or "")
        ):
            raise OAuthError(401, "invalid_client", "client authentication failed")
        return client_id

    def create_auth_code(
        self, username: str, scopes: Iterable[str], client_id: str | None = None
    ) -> str:
        """Issue a consent code as if ``username`` pressed "Agree"."""
        with self._lock:
            self._users.add(username)
            code = _new_token("v^1.1#i^1#f^0#I^3#p^3#r^1#t^Ul41XzA6", 48)
            self._auth_codes[code] = _AuthCode(
                username=username,
                client_id=client_id or self.client_id,
                scopes=frozenset(scopes),
                expires_at=time.time() + self.auth_code_ttl_s,
            )
            return code

    def token_grant(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[dict[str, Any], str | None]:
        """Run one token-endpoint grant for an authenticated client.

        Returns the JSON body and the username concerned (None for app tokens).
        """
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(
                400, "invalid_request", "request is missing a required parameter"
            )
        if grant_type == "client_credentials":
            return self._grant_client_credentials(client_id, form), None
        if grant_type == "refresh_token":
            return self._grant_refresh(client_id, form)
        if grant_type == "authorization_code":
            return self._grant_auth_code(client_id, form)
        raise OAuthError(
            400,
            "unsupported_grant_type",
            "grant type in request is not supported by the authorization server",
        )

    def _grant_client_credentials(
        self, client_id: str, form: dict[str, str]
    ) -> dict[str, Any]:
        requested = frozenset(form.get("scope", "").split())
        if not requested:
            raise OAuthError(
                400, "invalid_request", "request is missing a required parameter: scope"
            )
        if requested & USER_ONLY_SCOPES or not all(
            s.startswith(API_SCOPE) for s in requested
        ):
            raise OAuthError(
                400,
                "invalid_scope",
                "The requested scope is invalid, unknown, malformed, "
                "or exceeds the scope granted to the client",
            )
        with self._lock:
            token = self._mint_access(None, client_id, requested)
        return {
            "access_token": token,
            "expires_in": int(self.access_token_ttl_s),
            "refresh_token": NOT_APPLICABLE,
            "token_type": APPLICATION_GRANT,
        }

    def _grant_refresh(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[dict[str, Any], str | None]:
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            raise OAuthError(
                400,
                "invalid_request",
                "request is missing a required parameter: refresh_token",
            )
        with self._lock:
            info = self._refresh_tokens.get(refresh_token)
            if (
                info is None
                or info.revoked
                or info.expires_at <= time.time()
                or info.client_id != client_id
            ):
                raise OAuthError(400, "invalid_grant", _INVALID_GRANT)
            requested = frozenset(form.get("scope", "").split()) or info.scopes
            if not requested <= info.scopes:
                raise OAuthError(
                    400,
                    "invalid_scope",
                    "The requested scope is invalid, unknown, malformed, "
                    "or exceeds the scope granted to the client",
                )
            token = self._mint_access(info.username, client_id, requested)
            username = info.username
        return {
            "access_token": token,
            "expires_in": int(self.access_token_ttl_s),
            "token_type": USER_GRANT,
        }, username

    def _grant_auth_code(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[dict[str, Any], str | None]:
        code = form.get("code")
        redirect_uri = form.get("redirect_uri")
        if not code or not redirect_uri:
            raise OAuthError(
                400,
                "invalid_request",
                "request is missing a required parameter: code or redirect_uri",
            )
        with self._lock:
            info = self._auth_codes.get(code)
            if (
                info is None
                or info.used
                or info.expires_at <= time.time()
                or info.client_id != client_id
            ):
                raise OAuthError(400, "invalid_grant", _INVALID_GRANT)
            if redirect_uri != self.ru_name:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    "the provided authorization grant code is invalid or was "
                    "issued to another client (redirect_uri does not match the RuName)",
                )
            info.used = True
            refresh = _new_token("v^1.1#i^1#r^1#p^3#I^3#f^0#t^")
            self._refresh_tokens[refresh] = _RefreshToken(
                username=info.username,
                client_id=client_id,
                scopes=info.scopes,
                expires_at=time.time() + REFRESH_TOKEN_TTL_S,
            )
            access = self._mint_access(info.username, client_id, info.scopes)
        return {
            "access_token": access,
            "expires_in": int(self.access_token_ttl_s),
            "refresh_token": refresh,
            "refresh_token_expires_in": REFRESH_TOKEN_TTL_S,
            "token_type": USER_GRANT,
        }, info.username

    def accept_redirect(self, state: str | None, code: str) -> str:
        """The RuName's accept URL with ``state``, ``code`` and ``expires_in``."""
        query: dict[str, str] = {}
        if state is not None:
            query["state"] = state
        query["code"] = code
        query["expires_in"] = str(int(self.auth_code_ttl_s))
        return _append_query(self.accept_url, query)

    # -- auctions ----------------------------------------------------------

    def create_auction(
        self,
        *,
        title: str = "Simulated auction item",
        start_price: MoneyLike = "0.99",
        currency: str = "USD",
        end_in_s: float | None = None,
        end_at: float | datetime | str | None = None,
        reserve_price: MoneyLike | None = None,
        buy_it_now_price: MoneyLike | None = None,
        seller: str = "sim_seller",
        item_id: str | None = None,
        settle_delay_s: float = 0.0,
        listing_type: Literal["AUCTION", "FIXED_PRICE"] = "AUCTION",
        marketplace_id: str = "EBAY_US",
        image_url: str | None = None,
        seller_feedback_score: int = 1234,
        seller_feedback_percentage: str = "99.8",
    ) -> Auction:
        """Create a listing ending ``end_in_s`` from now (default 60 s) or ``end_at``.

        ``item_id`` may be ``v1|<digits>|<digits>`` or bare legacy digits;
        by default a ``v1|<12 digits>|0`` id is generated.
        """
        now = time.time()
        if end_in_s is not None and end_at is not None:
            raise ValueError("give end_in_s or end_at, not both")
        if end_at is not None:
            end = _to_epoch(end_at)
        else:
            end = now + (60.0 if end_in_s is None else end_in_s)
        end = int(end * 1000) / 1000  # ms precision, like itemEndDate
        if not _CURRENCY_RE.match(currency):
            raise ValueError(f"invalid currency {currency!r}")
        if listing_type not in ("AUCTION", "FIXED_PRICE"):
            raise ValueError(f"invalid listing_type {listing_type!r}")
        if settle_delay_s < 0:
            raise ValueError("settle_delay_s must be >= 0")
        start_cents = to_cents(start_price)
        reserve_cents = None if reserve_price is None else to_cents(reserve_price)
        bin_cents = None if buy_it_now_price is None else to_cents(buy_it_now_price)
        if listing_type == "AUCTION" and start_cents <= 0:
            raise ValueError("start_price must be > 0")
        if listing_type == "FIXED_PRICE":
            bin_cents = bin_cents or start_cents
            if bin_cents <= 0:
                raise ValueError("a FIXED_PRICE listing needs a price")
            reserve_cents = None
        if (
            bin_cents is not None
            and listing_type == "AUCTION"
            and (bin_cents <= start_cents)
        ):
            raise ValueError("buy_it_now_price must be above start_price")
        with self._lock:
            restful, legacy = self._allocate_item_id(item_id)
            auction = Auction(
                item_id=restful,
                legacy_item_id=legacy,
                title=title[:80],
                currency=currency,
                start_cents=start_cents,
                end_time=end,
                created_at=now,
                seller=seller,
                listing_type=listing_type,
                reserve_cents=reserve_cents,
                bin_cents=bin_cents,
                settle_delay_s=settle_delay_s,
                marketplace_id=marketplace_id,
                image_url=image_url
                or f"https://i.ebayimg.com/images/g/sim{legacy}/s-l1600.jpg",
                seller_feedback_score=seller_feedback_score,
                seller_feedback_percentage=seller_feedback_percentage,
            )
            self._auctions[restful] = auction
            if restful.endswith("|0"):
                self._legacy[legacy] = restful
            return auction

    def _allocate_item_id(self, item_id: str | None) -> tuple[str, str]:
        if item_id is None:
            while True:
                legacy = str(100_000_000_000 + secrets.randbelow(900_000_000_000))
                restful = f"v1|{legacy}|0"
                if restful not in self._auctions:
                    return restful, legacy
        if item_id.isdigit():
            item_id = f"v1|{item_id}|0"
        match = _ITEM_ID_RE.match(item_id)
        if match is None:
            raise ValueError(
                f"item_id must look like v1|<digits>|<digits>: {item_id!r}"
            )
        if item_id in self._auctions:
            raise ValueError(f"item {item_id} already exists")
        return item_id, match.group(1)

    def get_auction(self, item_id: str) -> Auction:
        """Look up by RESTful id or legacy id; KeyError if unknown."""
        with self._lock:
            return self._find(item_id)

    def _find(self, item_id: str) -> Auction:
        auction = self._auctions.get(item_id)
        if auction is None and item_id.isdigit():
            auction = self._auctions.get(self._legacy.get(item_id, ""))
        if auction is None:
            raise KeyError(item_id)
        return auction

    def end_auction(self, item_id: str) -> dict[str, Any]:
        """End an auction now (seller ended early). Bids after this get 120012."""
        with self._lock:
            auction = self._find(item_id)
            now = time.time()
            if now < auction.closes_at:
                auction.ended_early_at = now
                auction.end_reason = "ended_early"
            return self._state(auction, now)

    def change_end(self, item_id: str, end_in_s: float) -> dict[str, Any]:
        """Move a running auction's scheduled end (as eBay does after an outage).

        Rival bids scheduled "seconds before end" keep their absolute times.
        """
        with self._lock:
            auction = self._find(item_id)
            now = time.time()
            if now >= auction.closes_at:
                raise ValueError("the listing has ended")
            auction.end_time = int((now + float(end_in_s)) * 1000) / 1000
            return self._state(auction, now)

    def buy_it_now(self, item_id: str, buyer: str = "bin_buyer") -> dict[str, Any]:
        """Purchase with Buy It Now: ends the auction; later bids get 120002."""
        with self._lock:
            auction = self._find(item_id)
            now = time.time()
            if auction.bin_cents is None:
                raise ValueError("this listing has no Buy It Now price")
            if now >= auction.closes_at:
                raise ValueError("the listing has ended")
            if auction.listing_type == "AUCTION" and auction.bids:
                raise ValueError("Buy It Now was removed by the first bid")
            if buyer == auction.seller:
                raise ValueError("the seller cannot buy their own item")
            self._users.add(buyer)
            auction.ended_early_at = now
            auction.end_reason = "buy_it_now"
            auction.bin_buyer = buyer
            return self._state(auction, now)

    # -- engine ------------------------------------------------------------

    @staticmethod
    def _ranked(auction: Auction) -> list[_Bidder]:
        return sorted(auction.bidders.values(), key=lambda b: (-b.max_cents, b.max_seq))

    def _price_cents(self, auction: Auction) -> int:
        """Current price from the proxy-bidding rules (see docs/simulators.md)."""
        ranked = self._ranked(auction)
        if not ranked:
            return auction.start_cents
        leader = ranked[0]
        if len(ranked) == 1:
            base = auction.start_cents
        else:
            second = ranked[1].max_cents
            base = min(leader.max_cents, second + bid_increment_cents(second))
        base = max(base, auction.start_cents)
        reserve = auction.reserve_cents
        if reserve is None:
            return base
        if leader.max_cents >= reserve:
            return max(base, reserve)
        # Below the reserve the bidder's whole max is used to try to meet it.
        return leader.max_cents

    def _min_to_bid_cents(self, auction: Auction) -> int:
        if not auction.bids:
            return auction.start_cents
        price = self._price_cents(auction)
        return price + bid_increment_cents(price)

    def _reserve_met(self, auction: Auction) -> bool | None:
        if auction.reserve_cents is None:
            return None
        ranked = self._ranked(auction)
        return bool(ranked) and ranked[0].max_cents >= auction.reserve_cents

    def _bin_available(self, auction: Auction, now: float) -> bool:
        return (
            auction.bin_cents is not None
            and auction.listing_type == "AUCTION"
            and not auction.bids
            and now < auction.closes_at
        )

    def _leader(self, auction: Auction) -> str | None:
        ranked = self._ranked(auction)
        return ranked[0].username if ranked else None

    def _winner(self, auction: Auction) -> str | None:
        """The buyer once bidding has closed (None: unsold)."""
        if auction.bin_buyer is not None:
            return auction.bin_buyer
        if auction.listing_type != "AUCTION":
            return None
        if self._reserve_met(auction) is False:
            return None
        return self._leader(auction)

    def place_bid(
        self,
        item_id: str,
        username: str,
        max_amount: MoneyLike,
        currency: str | None = None,
        *,
        source: str = "admin",
    ) -> str:
        """Place a proxy bid through the engine; returns the proxyBidId.

        Raises :class:`EbayApiError` with the placeProxyBid error ids.
        """
        try:
            cents = to_cents(max_amount)
        except ValueError:
            raise offer_error(120013) from None
        if cents <= 0:
            raise offer_error(120013)
        if cents > MAX_BID_CENTS:
            raise offer_error(120011)
        with self._lock:
            return self._place(item_id, username, cents, currency, source)

    def _place(
        self,
        item_id: str,
        username: str,
        cents: int,
        currency: str | None,
        source: str,
    ) -> str:
        now = time.time()
        try:
            auction = self._find(item_id)
        except KeyError:
            raise offer_error(120001, item_id=item_id) from None
        if auction.listing_type != "AUCTION":
            raise offer_error(120001, item_id=item_id)
        if currency is not None and currency != auction.currency:
            raise offer_error(120009)
        if username == auction.seller:
            raise offer_error(120003)
        if auction.end_reason == "buy_it_now":
            raise offer_error(120002)
        if now >= auction.closes_at:
            raise offer_error(120012)
        if (
            self._bin_available(auction, now)
            and auction.bin_cents is not None
            and cents > auction.bin_cents
        ):
            raise offer_error(120005)
        current = auction.bidders.get(username)
        if current is not None and cents <= current.max_cents:
            raise offer_error(120010)
        is_leader = current is not None and self._leader(auction) == username
        if not is_leader and cents < self._min_to_bid_cents(auction):
            raise offer_error(120008)
        seq = next(self._bid_seq)
        proxy_bid_id = str(10_000_000_000 + secrets.randbelow(89_999_999_999))
        auction.bids.append(
            Bid(
                seq=seq,
                proxy_bid_id=proxy_bid_id,
                username=username,
                max_cents=cents,
                placed_at=now,
                source=source,
            )
        )
        auction.bidders[username] = _Bidder(username, cents, seq, proxy_bid_id)
        self._users.add(username)
        return proxy_bid_id

    # -- rivals ------------------------------------------------------------

    def add_rival(
        self,
        item_id: str,
        max_amount: MoneyLike,
        *,
        at: float | None = None,
        seconds_before_end: float | None = None,
        username: str | None = None,
    ) -> Rival:
        """Schedule a competing proxy bid at epoch ``at`` or N s before the end.

        With neither given the bid fires immediately (on the scheduler thread).
        The same ``username`` twice means one bidder raising their max.
        """
        if at is not None and seconds_before_end is not None:
            raise ValueError("give at or seconds_before_end, not both")
        cents = to_cents(max_amount)
        with self._lock:
            auction = self._find(item_id)
            if at is not None:
                fire_at = float(at)
            elif seconds_before_end is not None:
                fire_at = auction.end_time - float(seconds_before_end)
            else:
                fire_at = time.time()
            rival_id = f"rival-{next(self._ids)}"
            rival = Rival(
                rival_id=rival_id,
                item_id=auction.item_id,
                username=username or f"rival_{rival_id.split('-')[1]}",
                max_cents=cents,
                fire_at=fire_at,
            )
            if rival.username == auction.seller:
                raise ValueError("a rival cannot be the seller")
            self._rivals[rival_id] = rival
        self._scheduler.schedule(fire_at, rival_id)
        return rival

    def _fire_rival(self, rival_id: str) -> None:
        with self._lock:
            rival = self._rivals.get(rival_id)
            if rival is None or rival.status != "pending":
                return
            rival.placed_at = time.time()
            try:
                rival.proxy_bid_id = self._place(
                    rival.item_id, rival.username, rival.max_cents, None, "rival"
                )
                rival.status = "placed"
            except EbayApiError as exc:
                rival.status = "rejected"
                rival.error_id = exc.error_id

    def rivals(self, item_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            result = []
            for rival in self._rivals.values():
                if item_id is not None and rival.item_id != self._find(item_id).item_id:
                    continue
                currency = self._auctions[rival.item_id].currency
                result.append(rival.to_dict(currency))
            return result

    def cancel_rival(self, rival_id: str) -> None:
        with self._lock:
            rival = self._rivals[rival_id]
            if rival.status == "pending":
                rival.status = "cancelled"

    # -- views -------------------------------------------------------------

    def auction_state(self, item_id: str) -> dict[str, Any]:
        """A JSON-able snapshot: prices, bids, leader/winner, rivals."""
        with self._lock:
            return self._state(self._find(item_id), time.time())

    def auctions(self) -> list[dict[str, Any]]:
        with self._lock:
            now = time.time()
            return [self._state(a, now) for a in self._auctions.values()]

    def _state(self, auction: Auction, now: float) -> dict[str, Any]:
        cur = auction.currency
        closed = now >= auction.closes_at
        settled = now >= auction.closes_at + auction.settle_delay_s
        price = self._price_cents(auction)
        winner = self._winner(auction) if closed else None
        final: int | None = price if winner is not None else None
        if auction.bin_buyer is not None and auction.bin_cents is not None:
            final = auction.bin_cents
        return {
            "item_id": auction.item_id,
            "legacy_item_id": auction.legacy_item_id,
            "title": auction.title,
            "listing_type": auction.listing_type,
            "seller": auction.seller,
            "currency": cur,
            "marketplace_id": auction.marketplace_id,
            "start_price": _amount(auction.start_cents, cur),
            "reserve_price": None
            if auction.reserve_cents is None
            else _amount(auction.reserve_cents, cur),
            "buy_it_now_price": None
            if auction.bin_cents is None
            else _amount(auction.bin_cents, cur),
            "buy_it_now_available": self._bin_available(auction, now),
            "created_at": auction.created_at,
            "end_time": auction.closes_at,
            "end_date": iso_ms(auction.closes_at),
            "scheduled_end_time": auction.end_time,
            "settle_delay_s": auction.settle_delay_s,
            "status": "ENDED" if closed else "ACTIVE",
            "settled": settled,
            "end_reason": (auction.end_reason or "scheduled") if closed else None,
            "current_price": _amount(price, cur),
            "minimum_price_to_bid": _amount(self._min_to_bid_cents(auction), cur),
            "bid_count": len(auction.bids),
            "unique_bidder_count": len(auction.bidders),
            "reserve_met": self._reserve_met(auction),
            "high_bidder": self._leader(auction),
            "winner": winner,
            "final_price": None if final is None else _amount(final, cur),
            "bids": [bid.to_dict(cur) for bid in auction.bids],
            "bidders": [
                {
                    "username": b.username,
                    "max_amount": _amount(b.max_cents, cur),
                    "proxy_bid_id": b.proxy_bid_id,
                }
                for b in self._ranked(auction)
            ],
            "rivals": [
                r.to_dict(cur)
                for r in self._rivals.values()
                if r.item_id == auction.item_id
            ],
        }

    def item_view(
        self, item_id: str, fieldgroups: Iterable[str] = ()
    ) -> dict[str, Any]:
        """The Browse ``Item`` body for getItem / getItemByLegacyId."""
        groups = set(fieldgroups)
        with self._lock:
            auction = self._find(item_id)
            now = time.time()
            body = self._item_json(auction, now, "ADDITIONAL_SELLER_DETAILS" in groups)
        if "COMPACT" in groups:
            body = {k: v for k, v in body.items() if k in _COMPACT_FIELDS}
        return body

    def _item_json(
        self, auction: Auction, now: float, seller_details: bool
    ) -> dict[str, Any]:
        cur = auction.currency
        closed = now >= auction.closes_at
        sold = closed and self._winner(auction) is not None
        seller: dict[str, Any] = {
            "username": auction.seller,
            "feedbackPercentage": auction.seller_feedback_percentage,
            "feedbackScore": auction.seller_feedback_score,
        }
        if seller_details:
            seller["sellerAccountType"] = "INDIVIDUAL"
            seller["userId"] = f"sim-{auction.seller}"
        item: dict[str, Any] = {
            "itemId": auction.item_id,
            "legacyItemId": auction.legacy_item_id,
            "title": auction.title,
            "shortDescription": f"Simulated listing {auction.legacy_item_id}",
            "categoryId": "177",
            "categoryPath": "Computers/Tablets & Networking|PC Laptops & Netbooks",
            "condition": "Used",
            "conditionId": "3000",
            "itemCreationDate": iso_ms(auction.created_at),
            "itemEndDate": iso_ms(auction.closes_at),
            "image": {"imageUrl": auction.image_url},
            "itemWebUrl": auction.item_web_url,
            "itemLocation": {
                "city": "San Jose",
                "stateOrProvince": "CA",
                "postalCode": "951**",
                "country": "US",
            },
            "seller": seller,
            "listingMarketplaceId": auction.marketplace_id,
            "adultOnly": False,
            "immediatePay": False,
            "estimatedAvailabilities": [
                {
                    "estimatedAvailabilityStatus": "OUT_OF_STOCK"
                    if closed
                    else "IN_STOCK",
                    "estimatedAvailableQuantity": 0 if closed else 1,
                    "estimatedSoldQuantity": 1 if sold else 0,
                    "estimatedRemainingQuantity": 0 if closed else 1,
                }
            ],
        }
        if auction.listing_type == "FIXED_PRICE":
            item["buyingOptions"] = ["FIXED_PRICE"]
            item["price"] = _amount(auction.bin_cents or auction.start_cents, cur)
            return item
        price = self._price_cents(auction)
        bin_available = self._bin_available(auction, now)
        item["buyingOptions"] = (
            ["AUCTION", "FIXED_PRICE"] if bin_available else ["AUCTION"]
        )
        show_bin = auction.bin_buyer is not None or bin_available
        if show_bin and auction.bin_cents is not None:
            item["price"] = _amount(auction.bin_cents, cur)
        else:
            item["price"] = _amount(price, cur)
        item["currentBidPrice"] = _amount(price, cur)
        item["minimumPriceToBid"] = _amount(self._min_to_bid_cents(auction), cur)
        item["bidCount"] = len(auction.bids)
        item["uniqueBidderCount"] = len(auction.bidders)
        reserve_met = self._reserve_met(auction)
        if reserve_met is not None:
            item["reservePriceMet"] = reserve_met
        return item

    def bidding_view(self, item_id: str, username: str) -> dict[str, Any]:
        """The Offer ``Bidding`` body for ``username``; raises EbayApiError."""
        with self._lock:
            try:
                auction = self._find(item_id)
            except KeyError:
                raise offer_error(120001, item_id=item_id) from None
            if auction.listing_type != "AUCTION":
                raise offer_error(120001, item_id=item_id)
            bidder = auction.bidders.get(username)
            if bidder is None:
                raise offer_error(120033, item_id=auction.item_id)
            now = time.time()
            cur = auction.currency
            closed = now >= auction.closes_at
            reported_ended = now >= auction.closes_at + auction.settle_delay_s
            if reported_ended:
                high = self._winner(auction) == username
            else:
                high = self._leader(auction) == username
            price = self._price_cents(auction)
            body: dict[str, Any] = {
                "itemId": auction.item_id,
                "auctionStatus": "ENDED" if reported_ended else "ACTIVE",
                "auctionEndDate": iso_ms(auction.closes_at),
                "highBidder": high,
                "currentPrice": _amount(price, cur),
                "currentProxyBid": {
                    "proxyBidId": bidder.proxy_bid_id,
                    "maxAmount": _amount(bidder.max_cents, cur),
                },
                "bidCount": len(auction.bids),
            }
            reserve_met = self._reserve_met(auction)
            if reserve_met is not None:
                body["reservePriceMet"] = reserve_met
            if not closed:
                first = self._min_to_bid_cents(auction)
                second = first + bid_increment_cents(first)
                third = second + bid_increment_cents(second)
                body["suggestedBidAmounts"] = [
                    _amount(v, cur) for v in (first, second, third)
                ]
            return body

    # -- faults ------------------------------------------------------------

    def inject_fault(
        self,
        endpoint: str,
        *,
        status: int | None = None,
        error_id: int | None = None,
        message: str | None = None,
        latency_ms: int = 0,
        timeout_s: float | None = None,
        token_expired: bool = False,
        count: int | None = None,
        item_id: str | None = None,
        reset: bool = False,
    ) -> Fault:
        """Inject a fault for ``endpoint`` (one of :data:`ENDPOINTS` or ``"*"``).

        ``count`` = apply to the next N matching requests (None: until cleared).
        ``error_id`` alone picks the status from the spec's catalogue.
        """
        check_fault_args(
            endpoint,
            _FAULT_ENDPOINTS,
            status=status,
            count=count,
            latency_ms=latency_ms,
            timeout_s=timeout_s,
        )
        if token_expired and endpoint in ("token", "authorize"):
            raise ValueError("token_expired applies to Bearer endpoints only")
        if status is None and error_id is not None:
            catalogue = {**_OFFER_ERRORS, **_BROWSE_ERRORS}
            if error_id not in catalogue:
                raise ValueError(f"unknown error_id {error_id}; give a status")
            status = catalogue[error_id][0]
        if not (status or latency_ms or timeout_s or token_expired or reset):
            raise ValueError(
                "a fault needs status, latency_ms, timeout_s, token_expired or reset"
            )
        with self._lock:
            fault = Fault(
                fault_id=f"fault-{next(self._ids)}",
                endpoint=endpoint,
                item_id=None if item_id is None else self._normalize_id(item_id),
                status=status,
                error_id=error_id,
                message=message,
                latency_ms=latency_ms,
                timeout_s=timeout_s,
                token_expired=token_expired,
                reset=reset,
                remaining=count,
            )
            self._faults.append(fault)
            return fault

    def _take_fault(self, endpoint: str, item_id: str | None) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.endpoint not in ("*", endpoint):
                    continue
                if fault.item_id is not None and fault.item_id != item_id:
                    continue
                fault.hits += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return Fault(**{**fault.__dict__})
            return None

    def _normalize_id(self, item_id: str) -> str:
        if item_id.isdigit():
            return self._legacy.get(item_id, f"v1|{item_id}|0")
        return item_id

    # -- request log -------------------------------------------------------

    def requests(
        self,
        endpoint: str | None = None,
        item_id: str | None = None,
        user: str | None = None,
    ) -> list[dict[str, Any]]:
        """The request log (oldest arrival first). Never contains token values."""
        with self._lock:
            wanted = None if item_id is None else self._normalize_id(item_id)
            records = [
                r.to_dict()
                for r in self._requests
                if (endpoint is None or r.endpoint == endpoint)
                and (wanted is None or r.item_id == wanted)
                and (user is None or r.user == user)
            ]
        return sorted(records, key=lambda r: (r["arrival"], r["seq"]))

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, record: _RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def _next_request_seq(self) -> int:
        with self._lock:
            return next(self._request_seq)


def _append_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode(params)
    merged = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, merged, parts.fragment))


# ---------------------------------------------------------------------------
# HTTP layer
# ---------------------------------------------------------------------------


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


def _json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(body),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def _fault_response(fault: Fault, ctx: _Ctx) -> Response:
    status = fault.status or 500
    if ctx.endpoint in ("token", "authorize"):
        error = {
            400: "invalid_request",
            401: "invalid_client",
            429: "too_many_requests",
            503: "temporarily_unavailable",
        }.get(status, "server_error")
        return _json_response(
            {"error": error, "error_description": fault.message or "simulated fault"},
            status,
        )
    browse = ctx.endpoint in _BROWSE_ENDPOINTS
    exc: EbayApiError
    if fault.error_id is not None:
        exc = (browse_error if browse else offer_error)(
            fault.error_id, status, item_id=ctx.item_id or ""
        )
    elif status == 401:
        exc = invalid_token_error()
    elif status == 403:
        exc = access_denied_error()
    elif status == 429:
        exc = rate_limit_error()
    elif status >= 500:
        exc = browse_error(11000, status) if browse else offer_error(120000, status)
    else:
        exc = browse_error(11004, status) if browse else offer_error(120024, status)
    if fault.message:
        exc.message = fault.message
    return _json_response(exc.body(), exc.status)


def _drop_connection(environ: dict[str, Any]) -> None:
    """Shut the client's connection down without an answer (the server's own
    write of the response then fails quietly: werkzeug drops the connection)."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _raw_path(environ: dict[str, Any]) -> str:
    """The path as the client sent it (``%7C`` kept), without the query string."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw:
        return urlsplit(raw).path
    return str(environ.get("PATH_INFO", ""))


def _error_id_of(response: Response) -> int | None:
    if response.mimetype != "application/json" or response.status_code < 400:
        return None
    try:
        body = json.loads(response.get_data())
        return int(body["errors"][0]["errorId"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _oauth_error_of(response: Response) -> str | None:
    if response.mimetype != "application/json" or response.status_code < 400:
        return None
    try:
        body = json.loads(response.get_data())
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def create_app(sim: EbaySimulator) -> Flask:
    """The Flask app: eBay API routes plus the ``/sim`` admin API."""
    app = Flask("sandbox.ebay_sim")

    def serve(ctx: _Ctx, handler: Callable[[_Ctx], Response]) -> Response:
        arrival = request_arrival_time(request.environ)
        seq = sim._next_request_seq()
        marketplace = request.headers.get("X-EBAY-C-MARKETPLACE-ID")
        if ctx.endpoint in _BEARER_ENDPOINTS:
            info = sim._authenticate(request.headers.get("Authorization"))
            if info is not None:
                ctx.user = info.username
                ctx.token_type = info.kind
                ctx.client_id = info.client_id
        fault = sim._take_fault(ctx.endpoint, ctx.item_id)
        if fault is not None and fault.latency_ms:
            sim._sleep(fault.latency_ms / 1000)
        if fault is not None and fault.status is not None:
            response = _fault_response(fault, ctx)
        elif fault is not None and fault.token_expired:
            response = _json_response(invalid_token_error().body(), 401)
        else:
            try:
                response = handler(ctx)
            except EbayApiError as exc:
                response = _json_response(exc.body(), exc.status)
            except OAuthError as exc:
                response = _json_response(exc.body(), exc.status)
        record = _RequestRecord(
            seq=seq,
            arrival=arrival,
            method=request.method,
            path=request.path,
            raw_path=_raw_path(request.environ),
            endpoint=ctx.endpoint,
            item_id=ctx.item_id,
            status=response.status_code,
            user=ctx.user,
            token_type=ctx.token_type,
            client_id=ctx.client_id,
            marketplace_id=marketplace,
            error_id=_error_id_of(response),
            oauth_error=_oauth_error_of(response) if ctx.endpoint == "token" else None,
            grant_type=ctx.grant_type,
            max_amount=ctx.max_amount,
            proxy_bid_id=ctx.proxy_bid_id,
            fault_id=None if fault is None else fault.fault_id,
            duration_ms=round((time.time() - arrival) * 1000, 3),
        )
        sim._record(record)
        if fault is not None and fault.timeout_s:
            sim._sleep(fault.timeout_s)
        if fault is not None and fault.reset:
            _drop_connection(request.environ)
        return response

    def require_token(ctx: _Ctx) -> _TokenInfo:
        info = sim._authenticate(request.headers.get("Authorization"))
        if info is None:
            raise invalid_token_error()
        return info

    def require_user(ctx: _Ctx) -> str:
        info = require_token(ctx)
        if (
            info.kind != "user"
            or info.username is None
            or OFFER_SCOPE not in info.scopes
        ):
            raise access_denied_error()
        return info.username

    def require_offer_marketplace() -> str:
        marketplace = request.headers.get("X-EBAY-C-MARKETPLACE-ID")
        if not marketplace:
            raise offer_error(120015)
        if marketplace not in OFFER_MARKETPLACES:
            raise offer_error(
                120017,
                marketplace_id=marketplace,
                allowed=", ".join(OFFER_MARKETPLACES),
            )
        return marketplace

    def check_browse_request() -> list[str]:
        marketplace = request.headers.get("X-EBAY-C-MARKETPLACE-ID")
        if marketplace is not None and marketplace not in BROWSE_MARKETPLACES:
            raise browse_error(
                11011,
                marketplace_id=marketplace,
                allowed=", ".join(BROWSE_MARKETPLACES),
            )
        raw = request.args.get("fieldgroups", "")
        groups = [g.strip() for g in raw.split(",") if g.strip()]
        bad = [g for g in groups if g not in _FIELDGROUPS]
        if bad:
            raise browse_error(
                11501, fieldgroups=",".join(bad), allowed=", ".join(_FIELDGROUPS)
            )
        if "COMPACT" in groups and len(groups) > 1:
            raise browse_error(11018)
        return groups

    # -- OAuth -------------------------------------------------------------

    @app.post("/identity/v1/oauth2/token")
    def token() -> Response:
        def handle(ctx: _Ctx) -> Response:
            auth = request.authorization
            client_id = sim._check_client(
                auth.username if auth is not None and auth.type == "basic" else None,
                auth.password if auth is not None and auth.type == "basic" else None,
            )
            ctx.client_id = client_id
            if request.mimetype != "application/x-www-form-urlencoded":
                raise OAuthError(
                    400,
                    "invalid_request",
                    "Content-Type must be application/x-www-form-urlencoded",
                )
            form = dict(request.form.items())
            ctx.grant_type = form.get("grant_type")
            body, username = sim.token_grant(client_id, form)
            ctx.user = username
            ctx.token_type = "user" if username is not None else "application"
            return _json_response(body, 200, {"Cache-Control": "no-store"})

        return serve(_Ctx("token"), handle)

    @app.route("/oauth2/authorize", methods=["GET", "POST"])
    def authorize() -> Response:
        def handle(ctx: _Ctx) -> Response:
            params = request.args if request.method == "GET" else request.form
            client_id = params.get("client_id", "")
            ctx.client_id = client_id
            with sim._lock:
                known = client_id in sim._apps
            if not known:
                raise OAuthError(400, "invalid_client", "unknown client_id")
            if params.get("redirect_uri") != sim.ru_name:
                raise OAuthError(
                    400, "invalid_request", "redirect_uri must be the app's RuName"
                )
            if params.get("response_type", "code") != "code":
                raise OAuthError(
                    400, "unsupported_response_type", "response_type must be code"
                )
            scopes = params.get("scope", "").split()
            if not scopes:
                raise OAuthError(400, "invalid_scope", "scope is required")
            state = params.get("state")
            username = params.get("sim_user") or (
                params.get("username") if request.method == "POST" else None
            )
            if request.method == "POST" and params.get("action") == "decline":
                query = {"error": "access_denied"}
                if state is not None:
                    query["state"] = state
                return Response(
                    status=302,
                    headers={"Location": _append_query(sim.declined_url, query)},
                )
            if not username:
                return Response(
                    _consent_html(client_id, sim.ru_name, " ".join(scopes), state),
                    status=200,
                    mimetype="text/html",
                )
            ctx.user = username
            code = sim.create_auth_code(username, scopes, client_id)
            return Response(
                status=302, headers={"Location": sim.accept_redirect(state, code)}
            )

        return serve(_Ctx("authorize"), handle)

    # -- Browse ------------------------------------------------------------

    @app.get("/buy/browse/v1/item/get_item_by_legacy_id")
    def get_item_by_legacy_id() -> Response:
        legacy = request.args.get("legacy_item_id", "")
        item_id = sim._normalize_id(legacy) if legacy.isdigit() else None

        def handle(ctx: _Ctx) -> Response:
            require_token(ctx)
            groups = check_browse_request()
            if not legacy.isdigit():
                raise browse_error(11003, sim.browse_not_found_status)
            try:
                body = sim.item_view(legacy, groups)
            except KeyError:
                raise browse_error(11003, sim.browse_not_found_status) from None
            return _json_response(body)

        return serve(_Ctx("get_item_by_legacy_id", item_id=item_id), handle)

    @app.get("/buy/browse/v1/item/<item_id>")
    def get_item(item_id: str) -> Response:
        def handle(ctx: _Ctx) -> Response:
            require_token(ctx)
            groups = check_browse_request()
            if _ITEM_ID_RE.match(item_id) is None:
                raise browse_error(11012)
            try:
                body = sim.item_view(item_id, groups)
            except KeyError:
                raise browse_error(11001, sim.browse_not_found_status) from None
            return _json_response(body)

        return serve(_Ctx("get_item", item_id=item_id), handle)

    # -- Offer -------------------------------------------------------------

    @app.post("/buy/offer/v1_beta/bidding/<item_id>/place_proxy_bid")
    def place_proxy_bid(item_id: str) -> Response:
        def handle(ctx: _Ctx) -> Response:
            username = require_user(ctx)
            require_offer_marketplace()
            try:
                payload = json.loads(request.get_data() or b"null")
            except ValueError:
                raise offer_error(120013) from None
            max_amount = payload.get("maxAmount") if isinstance(payload, dict) else None
            if max_amount is None:
                raise offer_error(120016)
            if not isinstance(max_amount, dict):
                raise offer_error(120013)
            ctx.max_amount = max_amount
            value = max_amount.get("value")
            currency = max_amount.get("currency")
            if not isinstance(value, str) or not _MONEY_RE.match(value):
                raise offer_error(120013)
            if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
                raise offer_error(120014)
            proxy_bid_id = sim.place_bid(
                item_id, username, value, currency, source="api"
            )
            ctx.proxy_bid_id = proxy_bid_id
            return _json_response({"proxyBidId": proxy_bid_id})

        return serve(_Ctx("place_proxy_bid", item_id=item_id), handle)

    @app.get("/buy/offer/v1_beta/bidding/<item_id>")
    def get_bidding(item_id: str) -> Response:
        def handle(ctx: _Ctx) -> Response:
            username = require_user(ctx)
            require_offer_marketplace()
            return _json_response(sim.bidding_view(item_id, username))

        return serve(_Ctx("get_bidding", item_id=item_id), handle)

    _register_admin_routes(app, sim)
    return app


def _consent_html(client_id: str, ru_name: str, scope: str, state: str | None) -> str:
    esc = html.escape
    hidden = "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
        for k, v in (
            ("client_id", client_id),
            ("redirect_uri", ru_name),
            ("response_type", "code"),
            ("scope", scope),
            *((("state", state),) if state is not None else ()),
        )
    )
    scopes = "".join(f"<li>{esc(s)}</li>" for s in scope.split())
    return (
        "<!doctype html><html><head><title>eBay simulator - grant access</title>"
        "</head><body><h1>Grant application access</h1>"
        f"<p>Application <b>{esc(client_id)}</b> asks for:</p><ul>{scopes}</ul>"
        '<form method="post" action="/oauth2/authorize">'
        f"{hidden}"
        '<label>Simulated eBay user <input name="username" value="sim_buyer">'
        "</label> "
        '<button type="submit" name="action" value="agree">Agree</button> '
        '<button type="submit" name="action" value="decline">I disagree</button>'
        "</form></body></html>"
    )


# ---------------------------------------------------------------------------
# Admin API (/sim/...)
# ---------------------------------------------------------------------------


def _admin_money(value: Any, name: str) -> MoneyLike:
    if value is None:
        raise ValueError(f"{name} is required")
    if isinstance(value, float):
        return str(value)  # JSON numbers from curl: exact for 2-decimal inputs
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be a string or number")


def _admin_opt_money(value: Any, name: str) -> MoneyLike | None:
    return None if value is None else _admin_money(value, name)


def _register_admin_routes(app: Flask, sim: EbaySimulator) -> None:
    admin = Blueprint("sim_admin", __name__, url_prefix="/sim")

    def body() -> dict[str, Any]:
        data = request.get_json(silent=True, force=True)
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ValueError("JSON object expected")
        return data

    @admin.errorhandler(ValueError)
    def value_error(exc: ValueError) -> Response:
        return _json_response({"error": str(exc)}, 400)

    @admin.errorhandler(KeyError)
    def key_error(exc: KeyError) -> Response:
        return _json_response({"error": f"not found: {exc.args[0]}"}, 404)

    @admin.errorhandler(EbayApiError)
    def ebay_error(exc: EbayApiError) -> Response:
        return _json_response(exc.body(), exc.status)

    @admin.get("/health")
    def health() -> Response:
        return _json_response({"ok": True, "now": time.time()})

    @admin.get("/time")
    def sim_time() -> Response:
        now = time.time()
        return _json_response({"now": now, "iso": iso_ms(now)})

    @admin.post("/reset")
    def reset() -> Response:
        sim.reset()
        return _json_response({"reset": True})

    @admin.post("/auctions")
    def create_auction() -> Response:
        data = body()
        end_in_s = data.get("end_in_s")
        auction = sim.create_auction(
            title=str(data.get("title", "Simulated auction item")),
            start_price=_admin_money(data.get("start_price", "0.99"), "start_price"),
            currency=str(data.get("currency", "USD")),
            end_in_s=None if end_in_s is None else float(end_in_s),
            end_at=data.get("end_at"),
            reserve_price=_admin_opt_money(data.get("reserve_price"), "reserve_price"),
            buy_it_now_price=_admin_opt_money(
                data.get("buy_it_now_price"), "buy_it_now_price"
            ),
            seller=str(data.get("seller", "sim_seller")),
            item_id=data.get("item_id"),
            settle_delay_s=float(data.get("settle_delay_s", 0.0)),
            listing_type=data.get("listing_type", "AUCTION"),
            marketplace_id=str(data.get("marketplace_id", "EBAY_US")),
            image_url=data.get("image_url"),
        )
        return _json_response(sim.auction_state(auction.item_id), 201)

    @admin.get("/auctions")
    def list_auctions() -> Response:
        return _json_response(sim.auctions())

    @admin.get("/auctions/<item_id>")
    def auction_state(item_id: str) -> Response:
        return _json_response(sim.auction_state(item_id))

    @admin.post("/auctions/<item_id>/end")
    def end_auction(item_id: str) -> Response:
        return _json_response(sim.end_auction(item_id))

    @admin.post("/auctions/<item_id>/end_time")
    def change_end(item_id: str) -> Response:
        return _json_response(sim.change_end(item_id, float(body()["end_in_s"])))

    @admin.post("/auctions/<item_id>/buy_it_now")
    def buy_it_now(item_id: str) -> Response:
        buyer = str(body().get("buyer", "bin_buyer"))
        return _json_response(sim.buy_it_now(item_id, buyer))

    @admin.post("/auctions/<item_id>/bids")
    def admin_bid(item_id: str) -> Response:
        data = body()
        username = data.get("username")
        if not isinstance(username, str) or not username:
            raise ValueError("username is required")
        proxy_bid_id = sim.place_bid(
            item_id,
            username,
            _admin_money(data.get("max_amount"), "max_amount"),
            data.get("currency"),
        )
        return _json_response({"proxyBidId": proxy_bid_id}, 201)

    @admin.post("/auctions/<item_id>/rivals")
    def add_rival(item_id: str) -> Response:
        data = body()
        at = data.get("at")
        before = data.get("seconds_before_end")
        rival = sim.add_rival(
            item_id,
            _admin_money(data.get("max_amount"), "max_amount"),
            at=None if at is None else _to_epoch(at),
            seconds_before_end=None if before is None else float(before),
            username=data.get("username"),
        )
        currency = sim.get_auction(item_id).currency
        return _json_response(rival.to_dict(currency), 201)

    @admin.get("/rivals")
    def list_rivals() -> Response:
        return _json_response(sim.rivals(request.args.get("item_id")))

    @admin.post("/users")
    def register_user() -> Response:
        data = body()
        username = data.get("username")
        if not isinstance(username, str) or not username:
            raise ValueError("username is required")
        refresh = sim.register_user(username, data.get("refresh_token"))
        return _json_response({"username": username, "refresh_token": refresh}, 201)

    @admin.post("/users/<username>/access_token")
    def issue_user_token(username: str) -> Response:
        token = sim.issue_access_token(username)
        return _json_response(
            {"access_token": token, "expires_in": int(sim.access_token_ttl_s)}, 201
        )

    @admin.post("/users/<username>/expire_tokens")
    def expire_tokens(username: str) -> Response:
        return _json_response({"expired": sim.expire_access_tokens(username)})

    @admin.post("/users/<username>/revoke")
    def revoke_user(username: str) -> Response:
        return _json_response({"revoked": sim.revoke_user_refresh_tokens(username)})

    @admin.post("/refresh_tokens/revoke")
    def revoke_refresh() -> Response:
        token = body().get("refresh_token")
        if not isinstance(token, str):
            raise ValueError("refresh_token is required")
        sim.revoke_refresh_token(token)
        return _json_response({"revoked": True})

    @admin.post("/apps")
    def add_app() -> Response:
        data = body()
        client_id, secret = data.get("client_id"), data.get("client_secret")
        if not isinstance(client_id, str) or not isinstance(secret, str):
            raise ValueError("client_id and client_secret are required")
        sim.app_credentials(client_id, secret)
        return _json_response({"client_id": client_id}, 201)

    @admin.post("/faults")
    def inject_fault() -> Response:
        data = body()
        count = data.get("count")
        timeout_s = data.get("timeout_s")
        fault = sim.inject_fault(
            str(data.get("endpoint", "")),
            status=data.get("status"),
            error_id=data.get("error_id"),
            message=data.get("message"),
            latency_ms=int(data.get("latency_ms", 0)),
            timeout_s=None if timeout_s is None else float(timeout_s),
            token_expired=bool(data.get("token_expired", False)),
            count=None if count is None else int(count),
            item_id=data.get("item_id"),
            reset=bool(data.get("reset", False)),
        )
        return _json_response(fault.to_dict(), 201)

    @admin.get("/faults")
    def list_faults() -> Response:
        return _json_response(sim.faults())

    @admin.delete("/faults")
    def clear_faults() -> Response:
        return _json_response(
            {"removed": sim.clear_faults(request.args.get("endpoint"))}
        )

    @admin.delete("/faults/<fault_id>")
    def remove_fault(fault_id: str) -> Response:
        sim.remove_fault(fault_id)
        return _json_response({"removed": 1})

    @admin.get("/requests")
    def list_requests() -> Response:
        return _json_response(
            sim.requests(
                endpoint=request.args.get("endpoint"),
                item_id=request.args.get("item_id"),
                user=request.args.get("user"),
            )
        )

    @admin.delete("/requests")
    def clear_requests() -> Response:
        sim.clear_requests()
        return _json_response({"cleared": True})

    app.register_blueprint(admin)


# ---------------------------------------------------------------------------
# Convenience
# ---------------------------------------------------------------------------


def start_ebay_simulator(
    port: int = 0, sim: EbaySimulator | None = None, **sim_kwargs: Any
) -> tuple[EbaySimulator, BackgroundServer]:
    """Start a simulator on 127.0.0.1:``port`` (0 = ephemeral) in a thread.

    ``server.stop()`` also closes the simulator (rival scheduler, fault sleeps).
    """
    simulator = sim or EbaySimulator(**sim_kwargs)
    server = BackgroundServer(
        create_app(simulator), port=port, name="ebay-sim", on_stop=simulator.close
    ).start()
    return simulator, server


def main(argv: list[str] | None = None) -> None:
    """``python -m sandbox.ebay_sim --port 8081``: serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="eBay simulator on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--client-id", default="sim-client-id")
    parser.add_argument("--client-secret", default="sim-client-secret")
    parser.add_argument("--ru-name", default="sim-ru-name")
    parser.add_argument("--accept-url", default="http://127.0.0.1/ebay/oauth/accepted")
    args = parser.parse_args(argv)
    _sim, server = start_ebay_simulator(
        args.port,
        client_id=args.client_id,
        client_secret=args.client_secret,
        ru_name=args.ru_name,
        accept_url=args.accept_url,
    )
    print(f"eBay simulator listening on {server.url}", flush=True)
    try:
        while server.running:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()

"""eBay REST client: OAuth tokens, Browse getItem, Offer bidding.

The only module that talks to eBay over HTTP. Never logs request headers, and
exception messages never carry tokens, secrets or authorization codes.
"""

from __future__ import annotations

import base64
import contextlib
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Protocol, TypeVar
from urllib.parse import quote, urlencode

import httpx

from workflows.ebay_errors import EbayApiError as EbayApiError
from workflows.ebay_errors import EbayAuthError as EbayAuthError
from workflows.ebay_errors import EbayError as EbayError
from workflows.ebay_errors import EbayInvalidGrant as EbayInvalidGrant
from workflows.ebay_errors import EbayItemNotFound as EbayItemNotFound
from workflows.ebay_errors import EbayProtocolError as EbayProtocolError
from workflows.ebay_errors import EbayUnavailable as EbayUnavailable
from workflows.http import DEFAULT_TIMEOUT, HttpClientOwner
from workflows.item_reference import InvalidItemReference as InvalidItemReference
from workflows.item_reference import ItemRef as ItemRef
from workflows.item_reference import parse_item_reference as parse_item_reference
from workflows.money import Money

APP_SCOPE = "https://api.ebay.com/oauth/api_scope"
OFFER_SCOPE = "https://api.ebay.com/oauth/api_scope/buy.offer.auction"
# httpx drops idle pooled connections after 5 s by default; keep them longer so a
# warm_up() a few seconds before the bid still saves the TLS handshake.
DEFAULT_LIMITS = httpx.Limits(max_keepalive_connections=10, keepalive_expiry=60.0)
OAUTH_PATH = "/identity/v1/oauth2/token"
BROWSE_PATH = "/buy/browse/v1"
OFFER_PATH = "/buy/offer/v1_beta"
ANALYTICS_PATH = "/developer/analytics/v1_beta"
NO_BIDDING_ACTIVITY = 120033
ITEM_NOT_FOUND_ERROR_IDS = frozenset({11001, 11003, 11006, 11012})

_T = TypeVar("_T")
_REDACTED = "[REDACTED]"


# --- value types -----------------------------------------------------------


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True)
class Amount:
    """A money amount; ``value`` is always a Decimal, never a float."""

    value: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.value, Decimal) or not self.value.is_finite():
            raise ValueError("Amount.value must be a finite Decimal")

    def to_money(self) -> Money | None:
        """As ``Money`` (minor units), or None when eBay's value does not fit
        the currency (more decimals than it has, or an unknown code)."""
        try:
            return Money.from_decimal(self.value, self.currency)
        except ValueError:
            return None

    def to_json(self) -> dict[str, str]:
        """eBay's Amount shape; the value is plain notation (``"25.00"``)."""
        return {"currency": self.currency, "value": format(self.value, "f")}


@dataclass(frozen=True)
class AccessToken:
    """An OAuth access token; ``value`` never appears in repr/str."""

    value: str = field(repr=False)
    expires_at: datetime

    def __post_init__(self) -> None:
        _require_aware(self.expires_at, "expires_at")

    def is_fresh(self, now: datetime, margin: timedelta = timedelta(minutes=5)) -> bool:
        """True while the token stays valid for more than ``margin``."""
        return now + margin < self.expires_at


@dataclass(frozen=True)
class UserTokens:
    """Result of the authorization-code exchange."""

    access_token: AccessToken
    refresh_token: str = field(repr=False)
    refresh_expires_at: datetime


@dataclass(frozen=True)
class EbayItem:
    """The parts of a Browse ``Item`` the sniper uses."""

    item_id: str
    legacy_item_id: str | None
    title: str
    buying_options: tuple[str, ...]
    end_at: datetime | None
    current_bid_price: Amount | None
    minimum_price_to_bid: Amount | None
    price: Amount | None
    image_url: str | None
    item_web_url: str | None
    seller_username: str | None
    marketplace_id: str | None
    bid_count: int | None
    reserve_price_met: bool | None

    @property
    def is_auction(self) -> bool:
        return "AUCTION" in self.buying_options

    @property
    def currency(self) -> str | None:
        for amount in (self.current_bid_price, self.minimum_price_to_bid, self.price):
            if amount is not None:
                return amount.currency
        return None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> EbayItem:
        return cls(
            item_id=str(data["itemId"]),
            legacy_item_id=_opt_str(data.get("legacyItemId")),
            title=str(data.get("title") or ""),
            buying_options=tuple(str(o) for o in data.get("buyingOptions") or ()),
            end_at=_opt_datetime(data.get("itemEndDate")),
            current_bid_price=_opt_amount(data.get("currentBidPrice")),
            minimum_price_to_bid=_opt_amount(data.get("minimumPriceToBid")),
            price=_opt_amount(data.get("price")),
            image_url=_opt_str(_get(data, "image", "imageUrl")),
            item_web_url=_opt_str(data.get("itemWebUrl")),
            seller_username=_opt_str(_get(data, "seller", "username")),
            marketplace_id=_opt_str(data.get("listingMarketplaceId")),
            bid_count=_opt_int(data.get("bidCount")),
            reserve_price_met=_opt_bool(data.get("reservePriceMet")),
        )


@dataclass(frozen=True)
class Bidding:
    """The buyer's view of an auction (Offer ``getBidding``)."""

    item_id: str
    auction_status: Literal["ACTIVE", "ENDED"] | str
    high_bidder: bool
    current_price: Amount | None
    proxy_bid_id: str | None
    max_amount: Amount | None
    bid_count: int | None
    auction_end_at: datetime | None
    reserve_price_met: bool | None

    @property
    def won(self) -> bool:
        return self.auction_status == "ENDED" and self.high_bidder

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Bidding:
        return cls(
            item_id=str(data["itemId"]),
            auction_status=str(data["auctionStatus"]),
            high_bidder=data.get("highBidder") is True,
            current_price=_opt_amount(data.get("currentPrice")),
            proxy_bid_id=_opt_str(_get(data, "currentProxyBid", "proxyBidId")),
            max_amount=_opt_amount(_get(data, "currentProxyBid", "maxAmount")),
            bid_count=_opt_int(data.get("bidCount")),
            auction_end_at=_opt_datetime(data.get("auctionEndDate")),
            reserve_price_met=_opt_bool(data.get("reservePriceMet")),
        )


@dataclass(frozen=True)
class RateLimit:
    """One rate of eBay's rate-limit report (Developer Analytics getRateLimits)."""

    api_context: str
    api_name: str
    resource: str
    limit: int
    remaining: int
    time_window_seconds: int
    reset_at: datetime | None

    @classmethod
    def list_from_json(cls, data: Mapping[str, Any]) -> list[RateLimit]:
        rates: list[RateLimit] = []
        for api in data.get("rateLimits") or ():
            for resource in api.get("resources") or ():
                for rate in resource.get("rates") or ():
                    rates.append(
                        cls(
                            api_context=str(api.get("apiContext") or ""),
                            api_name=str(api.get("apiName") or ""),
                            resource=str(resource["name"]),
                            limit=int(rate["limit"]),
                            remaining=int(rate["remaining"]),
                            time_window_seconds=int(rate["timeWindow"]),
                            reset_at=_opt_datetime(rate.get("reset")),
                        )
                    )
        return rates


def _get(data: Mapping[str, Any], outer: str, inner: str) -> Any:
    nested = data.get(outer)
    return nested.get(inner) if isinstance(nested, Mapping) else None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _opt_int(value: Any) -> int | None:
    return None if value is None or isinstance(value, bool) else int(value)


def _opt_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _opt_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _opt_amount(value: Any) -> Amount | None:
    """Parse Amount/ConvertedAmount, preferring the listing's own currency."""
    if not isinstance(value, Mapping):
        return None
    if value.get("convertedFromValue") and value.get("convertedFromCurrency"):
        raw, currency = value["convertedFromValue"], value["convertedFromCurrency"]
    else:
        raw, currency = value["value"], value["currency"]
    return Amount(Decimal(str(raw)), str(currency))


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
            text = text.replace(quote(secret, safe=""), _REDACTED)
    return text


def _redact_json(value: Any, secrets: Sequence[str]) -> Any:
    if isinstance(value, str):
        return _redact(value, secrets)
    if isinstance(value, Mapping):
        return {str(k): _redact_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_json(v, secrets) for v in value]
    return value


def _json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


# --- client ----------------------------------------------------------------


class AppTokenSource(Protocol):
    """Where ``EbayClient`` gets its application token (``workflows.app_token``:
    one token shared by all containers)."""

    def get(self) -> AccessToken: ...

    def rejected(self, token: AccessToken) -> None: ...


class EbayClient(HttpClientOwner):
    """Synchronous eBay client. One httpx.Client (and connection pool) each."""

    def __init__(
        self,
        *,
        api_base_url: str = "https://api.ebay.com",
        client_id: str,
        client_secret: str,
        marketplace_id: str = "EBAY_US",
        http: httpx.Client | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        clock: Callable[[], datetime] = _utc_now,
        on_call: Callable[[str], None] | None = None,
    ) -> None:
        self._base = api_base_url.rstrip("/")
        # Told of every metered call ("browse", "oauth_client_credentials"):
        # the daily budget counter (workflows.ebay_budget).
        self._on_call = on_call
        self._client_id = client_id
        self._marketplace_id = marketplace_id
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self._basic_auth = f"Basic {basic}"
        self._secrets = (client_secret, basic)
        self._clock = clock
        super().__init__(http, timeout, DEFAULT_LIMITS)
        self._app_token: AccessToken | None = None
        self._app_tokens: AppTokenSource | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"EbayClient(api_base_url={self._base!r}, client_id={self._client_id!r},"
            f" marketplace_id={self._marketplace_id!r})"
        )

    # OAuth

    def use_app_tokens(self, source: AppTokenSource) -> None:
        """Take application tokens from ``source`` instead of minting them."""
        self._app_tokens = source

    def mint_app_token(self) -> AccessToken:
        """A new application token (client credentials grant; metered)."""
        form = {"grant_type": "client_credentials", "scope": APP_SCOPE}
        self._metered("oauth_client_credentials")
        return self._token_grant("client_credentials", form, ())[0]

    def app_token(self) -> AccessToken:
        """Application token (client credentials), cached until 5 min before expiry."""
        if self._app_tokens is not None:
            return self._app_tokens.get()
        with self._lock:
            token = self._app_token
            if token is None or not token.is_fresh(self._clock()):
                token = self.mint_app_token()
                self._app_token = token
            return token

    def refresh_user_token(
        self, refresh_token: str, scopes: Sequence[str] = (OFFER_SCOPE,)
    ) -> AccessToken:
        """Mint a user access token from a refresh token."""
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "scope": " ".join(scopes),
        }
        return self._token_grant("refresh_token", form, (refresh_token,))[0]

    def exchange_code(self, code: str, redirect_uri: str) -> UserTokens:
        """Exchange a consent authorization code for user tokens."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
        }
        op = "authorization_code"
        token, body, issued_at = self._token_grant(op, form, (code,))
        try:
            refresh = str(body["refresh_token"])
            refresh_ttl = timedelta(seconds=int(body["refresh_token_expires_in"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise EbayProtocolError(f"{op}: response lacks refresh token") from exc
        return UserTokens(token, refresh, issued_at + refresh_ttl)

    def consent_url(
        self,
        *,
        auth_base_url: str,
        redirect_uri: str,
        state: str,
        scopes: Sequence[str] = (OFFER_SCOPE,),
    ) -> str:
        """Browser URL for user consent; ``redirect_uri`` is the app's RuName."""
        query = urlencode(
            {
                "client_id": self._client_id,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": " ".join(scopes),
                "state": state,
            },
            quote_via=quote,
        )
        return f"{auth_base_url.rstrip('/')}/oauth2/authorize?{query}"

    # Browse

    def get_item(
        self,
        ref: ItemRef,
        *,
        timeout: httpx.Timeout | float | None = None,
        metered: bool = True,
    ) -> EbayItem:
        """Fetch an item by RESTful or legacy id with the application token.

        ``metered=False``: the caller already counted the call against the
        daily budget (``workflows.live``); ``timeout`` overrides the client's.
        """
        if ref.kind == "restful":
            url = f"{self._base}{BROWSE_PATH}/item/{quote(ref.value, safe='')}"
            params: dict[str, str] | None = None
        else:
            url = f"{self._base}{BROWSE_PATH}/item/get_item_by_legacy_id"
            params = {"legacy_item_id": ref.value}
        op = "getItem" if ref.kind == "restful" else "getItemByLegacyId"
        token = self.app_token()
        if metered:
            self._metered("browse")
        try:
            data = self._api_call(
                op, "GET", url, token, params=params, browse=True, timeout=timeout
            )
        except EbayAuthError:
            if self._app_tokens is not None:
                self._app_tokens.rejected(token)
            with self._lock:  # cached token was rejected early: mint a new one once
                if self._app_token is token:
                    self._app_token = None
            token = self.app_token()
            data = self._api_call(
                op, "GET", url, token, params=params, browse=True, timeout=timeout
            )
        return self._parse(op, EbayItem.from_json, data)

    # Developer Analytics

    def get_rate_limits(self) -> list[RateLimit]:
        """This application's call limits and what is left (app token)."""
        url = f"{self._base}{ANALYTICS_PATH}/rate_limit/"
        data = self._api_call("getRateLimits", "GET", url, self.app_token())
        return self._parse("getRateLimits", RateLimit.list_from_json, data)

    # Offer

    def get_bidding(
        self,
        item_id: str,
        user_token: AccessToken,
        *,
        timeout: httpx.Timeout | float | None = None,
    ) -> Bidding:
        """The buyer's bidding status for an auction."""
        data = self._api_call(
            "getBidding",
            "GET",
            self._bidding_url(item_id),
            user_token,
            timeout=timeout,
        )
        return self._parse("getBidding", Bidding.from_json, data)

    def warm_up(
        self,
        item_id: str,
        user_token: AccessToken,
        *,
        timeout: httpx.Timeout | float | None = None,
    ) -> Bidding | None:
        """Open (or reuse) the HTTPS connection ahead of a bid via getBidding.

        Returns None when the buyer has no bidding activity on the item yet.
        """
        try:
            return self.get_bidding(item_id, user_token, timeout=timeout)
        except EbayApiError as exc:
            if exc.error_id == NO_BIDDING_ACTIVITY:
                return None
            raise

    def place_proxy_bid(
        self,
        item_id: str,
        max_amount: Amount,
        user_token: AccessToken,
        *,
        adult_only_consent: bool = False,
        timeout: httpx.Timeout | float | None = None,
    ) -> str:
        """Place (or raise) the buyer's proxy bid; returns eBay's proxyBidId."""
        if max_amount.value <= 0 or not re.fullmatch(r"[A-Z]{3}", max_amount.currency):
            raise ValueError("max_amount must be positive with an ISO 4217 currency")
        body = {
            "maxAmount": max_amount.to_json(),
            "userConsent": {"adultOnlyItem": adult_only_consent},
        }
        url = f"{self._bidding_url(item_id)}/place_proxy_bid"
        data = self._api_call(
            "placeProxyBid", "POST", url, user_token, json=body, timeout=timeout
        )
        bid_id = data.get("proxyBidId")
        if not isinstance(bid_id, str) or not bid_id:
            raise EbayProtocolError("placeProxyBid: response has no proxyBidId")
        return bid_id

    # plumbing

    def _metered(self, api: str) -> None:
        if self._on_call is not None:
            with contextlib.suppress(Exception):  # counting never stops a call
                self._on_call(api)

    def _bidding_url(self, item_id: str) -> str:
        return f"{self._base}{OFFER_PATH}/bidding/{quote(item_id, safe='')}"

    def _send(
        self,
        op: str,
        method: str,
        url: str,
        *,
        timeout: httpx.Timeout | float | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        try:
            return self._http.request(
                method,
                url,
                timeout=self._timeout if timeout is None else timeout,
                **kwargs,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise EbayUnavailable(
                f"{op}: could not connect to eBay ({type(exc).__name__})",
                request_sent=False,
            ) from exc
        except httpx.TimeoutException as exc:
            raise EbayUnavailable(f"{op}: eBay request timed out") from exc
        except httpx.TransportError as exc:
            raise EbayUnavailable(
                f"{op}: eBay connection failed ({type(exc).__name__})"
            ) from exc

    def _token_grant(
        self, op: str, form: dict[str, str], secrets: tuple[str, ...]
    ) -> tuple[AccessToken, Mapping[str, Any], datetime]:
        issued_at = self._clock()
        headers = {"Authorization": self._basic_auth, "Accept": "application/json"}
        response = self._send(
            op, "POST", f"{self._base}{OAUTH_PATH}", data=form, headers=headers
        )
        status = response.status_code
        body = _json_or_none(response)
        if 200 <= status < 300 and isinstance(body, Mapping):
            try:
                expires_at = issued_at + timedelta(seconds=int(body["expires_in"]))
                token = AccessToken(str(body["access_token"]), expires_at)
            except (KeyError, TypeError, ValueError) as exc:
                raise EbayProtocolError(
                    f"{op}: malformed token response", http_status=status
                ) from exc
            return token, body, issued_at
        if status == 429 or status >= 500:
            raise EbayUnavailable(
                f"{op}: eBay OAuth unavailable (HTTP {status})", http_status=status
            )
        envelope = body if isinstance(body, Mapping) else {}
        all_secrets = (*self._secrets, *secrets)
        error = _redact(str(envelope.get("error") or ""), all_secrets)
        description = _redact(str(envelope.get("error_description") or ""), all_secrets)
        summary = f"{op}: OAuth HTTP {status} {error or 'error'}"
        if description:
            summary = f"{summary}: {description}"
        if error == "invalid_grant":
            raise EbayInvalidGrant(summary, http_status=status)
        if status == 401 or error == "invalid_client":
            raise EbayAuthError(summary, http_status=status)
        if 400 <= status < 500:
            detail = {"error": error, "error_description": description}
            raise EbayApiError(
                description or error or f"HTTP {status}",
                http_status=status,
                error_id=None,
                errors=[detail],
                summary=summary,
            )
        raise EbayProtocolError(f"{op}: unexpected HTTP {status}", http_status=status)

    def _api_call(
        self,
        op: str,
        method: str,
        url: str,
        token: AccessToken,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        timeout: httpx.Timeout | float | None = None,
        browse: bool = False,
    ) -> Mapping[str, Any]:
        headers = {
            "Authorization": f"Bearer {token.value}",
            "X-EBAY-C-MARKETPLACE-ID": self._marketplace_id,
            "Accept": "application/json",
        }
        if json is not None:
            headers["Content-Type"] = "application/json"
        response = self._send(
            op, method, url, params=params, json=json, headers=headers, timeout=timeout
        )
        status = response.status_code
        if 200 <= status < 300:
            body = _json_or_none(response)
            if not isinstance(body, Mapping):
                raise EbayProtocolError(
                    f"{op}: response is not a JSON object", http_status=status
                )
            return body
        if status == 401:
            raise EbayAuthError(
                f"{op}: eBay rejected the access token (HTTP 401)", http_status=401
            )
        if status == 429 or status >= 500:
            raise EbayUnavailable(
                f"{op}: eBay unavailable (HTTP {status})", http_status=status
            )
        if not 400 <= status < 500:
            raise EbayProtocolError(
                f"{op}: unexpected HTTP {status}", http_status=status
            )
        raise self._api_error(op, response, token, browse=browse)

    def _api_error(
        self, op: str, response: httpx.Response, token: AccessToken, *, browse: bool
    ) -> EbayApiError:
        status = response.status_code
        body = _json_or_none(response)
        raw = body.get("errors") if isinstance(body, Mapping) else None
        secrets = (*self._secrets, token.value)
        errors = [_redact_json(e, secrets) for e in raw or () if isinstance(e, Mapping)]
        first = errors[0] if errors else {}
        try:
            error_id = _opt_int(first.get("errorId"))
        except (TypeError, ValueError):
            error_id = None
        message = str(
            first.get("message") or first.get("longMessage") or f"HTTP {status}"
        )
        not_found = browse and (status == 404 or error_id in ITEM_NOT_FOUND_ERROR_IDS)
        cls = EbayItemNotFound if not_found else EbayApiError
        return cls(
            message,
            http_status=status,
            error_id=error_id,
            errors=errors,
            summary=f"{op}: HTTP {status}, errorId {error_id}: {message}",
        )

    @staticmethod
    def _parse(
        op: str, parser: Callable[[Mapping[str, Any]], _T], data: Mapping[str, Any]
    ) -> _T:
        try:
            return parser(data)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise EbayProtocolError(
                f"{op}: unexpected response shape ({type(exc).__name__})"
            ) from exc

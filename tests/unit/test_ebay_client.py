"""Unit tests for workflows.ebay.EbayClient (HTTP mocked with respx)."""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx

from tests.support.clock import Clock
from tests.support.ebay_samples import (
    APP_TOKEN,
    AUTH_CODE,
    BASIC,
    BID_URL,
    BIDDING_JSON,
    BIDDING_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    CONVERTED_ITEM_JSON,
    ERROR_AUCTION_ENDED,
    ERROR_BID_TOO_LOW,
    ERROR_BROWSE_LEGACY_NOT_FOUND,
    ERROR_BROWSE_NOT_FOUND,
    ERROR_BROWSE_UNAVAILABLE,
    ERROR_INVALID_TOKEN,
    ERROR_NO_BIDDING,
    ERROR_OFFER_INTERNAL,
    ERROR_OFFER_ITEM_NOT_FOUND,
    ITEM_ID,
    ITEM_ID_ENC,
    ITEM_JSON,
    ITEM_URL,
    LEGACY_URL,
    NOW,
    PROXY_BID_JSON,
    REFRESH_TOKEN,
    SECRETS,
    TOKEN_URL,
    USER_TOKEN,
    ebay_errors,
    token_json,
)
from tests.support.http import TRANSPORT_FAILURES, answer
from workflows.ebay import (
    APP_SCOPE,
    OFFER_SCOPE,
    AccessToken,
    Amount,
    Bidding,
    EbayApiError,
    EbayAuthError,
    EbayClient,
    EbayError,
    EbayInvalidGrant,
    EbayItem,
    EbayItemNotFound,
    EbayProtocolError,
    EbayUnavailable,
    ItemRef,
    UserTokens,
)

# --- fixtures ----------------------------------------------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def client(clock: Clock) -> Iterator[EbayClient]:
    with EbayClient(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, clock=clock
    ) as instance:
        yield instance


@pytest.fixture
def user_token() -> AccessToken:
    return AccessToken(USER_TOKEN, NOW + timedelta(hours=2))


@pytest.fixture
def token_route(respx_mock: respx.MockRouter) -> respx.Route:
    return respx_mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json=token_json())
    )


def assert_sent(route: respx.Route, path: str, token: str) -> httpx.Request:
    """The route's last request went to ``path`` for EBAY_US with ``token``."""
    request: httpx.Request = route.calls.last.request
    assert request.url.raw_path == path.encode()
    assert request.headers["Authorization"] == f"Bearer {token}"
    assert request.headers["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_US"
    return request


@pytest.fixture
def bid_route(respx_mock: respx.MockRouter) -> respx.Route:
    """place_proxy_bid answers 200 with eBay's sample body."""
    return respx_mock.post(BID_URL).mock(
        return_value=httpx.Response(200, json=PROXY_BID_JSON)
    )


def form(request: httpx.Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.content.decode()).items()}


def assert_secret_free(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.args)
    if isinstance(exc, EbayApiError):
        text += json.dumps(exc.errors) + exc.message
    for secret in SECRETS:
        assert secret not in text


# --- value types -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("25.00", "25.00"),
        ("25", "25"),
        ("1E+2", "100"),
        ("2.5E+1", "25"),
        ("1.0E-7", "0.00000010"),
        ("1234567.89", "1234567.89"),
    ],
)
def test_amount_to_json_uses_plain_decimal_notation(value: str, expected: str) -> None:
    assert Amount(Decimal(value), "USD").to_json() == {
        "currency": "USD",
        "value": expected,
    }


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), 25.0])
def test_amount_rejects_non_finite_or_float(value: Any) -> None:
    with pytest.raises(ValueError, match="finite Decimal"):
        Amount(value, "USD")


def test_access_token_value_never_in_repr_or_str() -> None:
    token = AccessToken(USER_TOKEN, NOW)
    assert USER_TOKEN not in repr(token)
    assert USER_TOKEN not in str(token)
    assert "expires_at" in repr(token)


def test_user_tokens_repr_hides_both_tokens() -> None:
    tokens = UserTokens(AccessToken(USER_TOKEN, NOW), REFRESH_TOKEN, NOW)
    assert USER_TOKEN not in repr(tokens)
    assert REFRESH_TOKEN not in repr(tokens)


def test_access_token_requires_timezone() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        AccessToken("x", datetime(2026, 1, 1))  # noqa: DTZ001


@pytest.mark.parametrize(
    ("remaining", "fresh"),
    [
        (timedelta(hours=1), True),
        (timedelta(minutes=5, seconds=1), True),
        (timedelta(minutes=5), False),
        (timedelta(minutes=1), False),
        (-timedelta(minutes=1), False),
    ],
)
def test_access_token_is_fresh_uses_five_minute_margin(
    remaining: timedelta, fresh: bool
) -> None:
    assert AccessToken("x", NOW + remaining).is_fresh(NOW) is fresh


def test_is_fresh_accepts_custom_margin() -> None:
    token = AccessToken("x", NOW + timedelta(seconds=30))
    assert token.is_fresh(NOW, margin=timedelta(seconds=10))
    assert not token.is_fresh(NOW, margin=timedelta(minutes=1))


def test_client_repr_hides_secret(client: EbayClient) -> None:
    assert CLIENT_SECRET not in repr(client)
    assert BASIC not in repr(client)
    assert CLIENT_ID in repr(client)


# --- OAuth -------------------------------------------------------------------


def test_app_token_uses_client_credentials_grant(
    client: EbayClient, token_route: respx.Route
) -> None:
    token = client.app_token()

    assert token == AccessToken(APP_TOKEN, NOW + timedelta(seconds=7200))
    request = token_route.calls.last.request
    assert request.headers["Authorization"] == f"Basic {BASIC}"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form(request) == {"grant_type": "client_credentials", "scope": APP_SCOPE}


def test_app_token_cached_until_five_minutes_before_expiry(
    client: EbayClient, clock: Clock, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=token_json("first")),
            httpx.Response(200, json=token_json("second")),
        ]
    )

    assert client.app_token().value == "first"
    clock.advance(timedelta(hours=1, minutes=54, seconds=59))
    assert client.app_token().value == "first"
    assert route.call_count == 1

    clock.advance(timedelta(seconds=1))  # exactly 5 minutes left: refresh
    assert client.app_token().value == "second"
    assert client.app_token().value == "second"
    assert route.call_count == 2


def test_app_token_is_fetched_once_under_concurrency(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    def slow_token(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        return httpx.Response(200, json=token_json())

    route = respx_mock.post(TOKEN_URL).mock(side_effect=slow_token)
    results: list[AccessToken] = []
    threads = [
        threading.Thread(target=lambda: results.append(client.app_token()))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert route.call_count == 1
    assert len(results) == 8
    assert len(set(results)) == 1


def test_refresh_user_token_sends_refresh_grant_and_is_not_cached(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json=token_json(USER_TOKEN))
    )

    token = client.refresh_user_token(REFRESH_TOKEN)
    client.refresh_user_token(REFRESH_TOKEN)

    assert token == AccessToken(USER_TOKEN, NOW + timedelta(hours=2))
    assert route.call_count == 2
    assert form(route.calls.last.request) == {
        "grant_type": "refresh_token",
        "refresh_token": REFRESH_TOKEN,
        "scope": OFFER_SCOPE,
    }


def test_refresh_user_token_joins_scopes_with_spaces(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json=token_json(USER_TOKEN))
    )
    client.refresh_user_token(REFRESH_TOKEN, scopes=(APP_SCOPE, OFFER_SCOPE))
    assert form(route.calls.last.request)["scope"] == f"{APP_SCOPE} {OFFER_SCOPE}"


def test_exchange_code_returns_user_tokens(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            200,
            json={
                "access_token": USER_TOKEN,
                "expires_in": 7200,
                "refresh_token": REFRESH_TOKEN,
                "refresh_token_expires_in": 47304000,
                "token_type": "User Access Token",
            },
        )
    )

    tokens = client.exchange_code(AUTH_CODE, "Snipe_App-SnipeApp-PRD-abcdef")

    assert tokens == UserTokens(
        AccessToken(USER_TOKEN, NOW + timedelta(hours=2)),
        REFRESH_TOKEN,
        NOW + timedelta(seconds=47304000),
    )
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Basic {BASIC}"
    assert form(request) == {
        "grant_type": "authorization_code",
        "code": AUTH_CODE,
        "redirect_uri": "Snipe_App-SnipeApp-PRD-abcdef",
    }


def test_exchange_code_without_refresh_token_is_protocol_error(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(200, json=token_json(USER_TOKEN))
    )
    with pytest.raises(EbayProtocolError) as info:
        client.exchange_code(AUTH_CODE, "ru-name")
    assert_secret_free(info.value)


def test_consent_url(client: EbayClient) -> None:
    url = client.consent_url(
        auth_base_url="https://auth.sandbox.ebay.com/",
        redirect_uri="Snipe_App-RuName",
        state="st/ate+1",
        scopes=(APP_SCOPE, OFFER_SCOPE),
    )

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://auth.sandbox.ebay.com/oauth2/authorize"
    )
    assert "%20" in parts.query
    assert "+" not in parts.query
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "client_id": CLIENT_ID,
        "redirect_uri": "Snipe_App-RuName",
        "response_type": "code",
        "scope": f"{APP_SCOPE} {OFFER_SCOPE}",
        "state": "st/ate+1",
    }
    assert CLIENT_SECRET not in url


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {
                "error": "invalid_grant",
                "error_description": "the provided authorization grant code is "
                "invalid or was issued to another client",
            },
            EbayInvalidGrant,
        ),
        (401, {"error": "invalid_client", "error_description": "bad"}, EbayAuthError),
        (400, {"error": "invalid_client"}, EbayAuthError),
        (400, {"error": "invalid_scope", "error_description": "bad"}, EbayApiError),
        (429, {}, EbayUnavailable),
        (500, {}, EbayUnavailable),
        (503, None, EbayUnavailable),
        (200, {"token_type": "x"}, EbayProtocolError),
        (302, None, EbayProtocolError),
    ],
)
def test_token_errors_are_mapped(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    status: int,
    body: dict[str, Any] | None,
    expected: type[EbayError],
) -> None:
    respx_mock.post(TOKEN_URL).mock(return_value=httpx.Response(status, json=body))

    with pytest.raises(expected) as info:
        client.refresh_user_token(REFRESH_TOKEN)

    assert type(info.value) is expected
    assert info.value.http_status == status
    assert_secret_free(info.value)


def test_invalid_scope_error_keeps_oauth_detail(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400, json={"error": "invalid_scope", "error_description": "scope bad"}
        )
    )
    with pytest.raises(EbayApiError) as info:
        client.app_token()
    assert info.value.error_id is None
    assert info.value.message == "scope bad"
    assert info.value.errors == [
        {"error": "invalid_scope", "error_description": "scope bad"}
    ]


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.ReadTimeout("timed out")]
)
def test_token_transport_errors_are_unavailable(
    client: EbayClient, respx_mock: respx.MockRouter, error: Exception
) -> None:
    respx_mock.post(TOKEN_URL).mock(side_effect=error)
    with pytest.raises(EbayUnavailable) as info:
        client.exchange_code(AUTH_CODE, "ru-name")
    assert info.value.http_status is None
    assert_secret_free(info.value)


# --- Browse ------------------------------------------------------------------


def test_get_item_restful(
    client: EbayClient, token_route: respx.Route, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.get(ITEM_URL).mock(
        return_value=httpx.Response(200, json=ITEM_JSON)
    )

    item = client.get_item(ItemRef("restful", ITEM_ID))

    assert_sent(route, f"/buy/browse/v1/item/{ITEM_ID_ENC}", APP_TOKEN)
    assert item == EbayItem(
        item_id=ITEM_ID,
        legacy_item_id="123456789012",
        title="Vintage Omega Seamaster 1968",
        buying_options=("AUCTION",),
        end_at=datetime(2026, 5, 1, 18, 30, tzinfo=UTC),
        current_bid_price=Amount(Decimal("127.50"), "USD"),
        minimum_price_to_bid=Amount(Decimal("130.00"), "USD"),
        price=Amount(Decimal("127.50"), "USD"),
        image_url="https://i.ebayimg.com/images/g/abc/s-l1600.jpg",
        item_web_url="https://www.ebay.com/itm/123456789012",
        seller_username="watch_seller",
        marketplace_id="EBAY_US",
        bid_count=7,
        reserve_price_met=True,
    )
    assert item.is_auction
    assert item.currency == "USD"
    assert item.end_at is not None and item.end_at.tzinfo is UTC


def test_get_item_legacy_uses_get_item_by_legacy_id(
    clock: Clock, token_route: respx.Route, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.get(LEGACY_URL).mock(
        return_value=httpx.Response(200, json=ITEM_JSON)
    )
    with EbayClient(
        client_id=CLIENT_ID, client_secret="s", marketplace_id="EBAY_GB", clock=clock
    ) as gb_client:
        item = gb_client.get_item(ItemRef("legacy", "123456789012"))

    request = route.calls.last.request
    assert dict(request.url.params) == {"legacy_item_id": "123456789012"}
    assert request.headers["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_GB"
    assert item.item_id == ITEM_ID


def test_get_item_reuses_cached_app_token(
    client: EbayClient, token_route: respx.Route, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(ITEM_URL).mock(return_value=httpx.Response(200, json=ITEM_JSON))
    client.get_item(ItemRef("restful", ITEM_ID))
    client.get_item(ItemRef("restful", ITEM_ID))
    assert token_route.call_count == 1


def test_converted_amounts_keep_the_listing_currency(
    client: EbayClient, token_route: respx.Route, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(LEGACY_URL).mock(
        return_value=httpx.Response(200, json=CONVERTED_ITEM_JSON)
    )
    item = client.get_item(ItemRef("legacy", "223456789012"))
    assert item.current_bid_price == Amount(Decimal("1000.00"), "EUR")
    assert item.currency == "EUR"
    assert item.minimum_price_to_bid is None
    assert item.seller_username is None
    assert item.image_url is None
    assert item.bid_count is None
    assert item.reserve_price_met is None


@pytest.mark.parametrize(
    ("fields", "currency"),
    [
        ({"minimumPriceToBid": {"value": "1", "currency": "GBP"}}, "GBP"),
        ({"price": {"value": "1", "currency": "CAD"}}, "CAD"),
        ({}, None),
    ],
)
def test_item_currency_fallbacks(fields: dict[str, Any], currency: str | None) -> None:
    item = EbayItem.from_json({"itemId": ITEM_ID, **fields})
    assert item.currency == currency
    assert not item.is_auction
    assert item.title == ""


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, ERROR_BROWSE_NOT_FOUND),
        (400, ERROR_BROWSE_LEGACY_NOT_FOUND),
        (400, ebay_errors(11006, "legacy id is an item group", domain="API_BROWSE")),
        (400, ebay_errors(11012, "invalid item id", domain="API_BROWSE")),
        (404, None),
    ],
)
def test_get_item_not_found(
    client: EbayClient,
    token_route: respx.Route,
    respx_mock: respx.MockRouter,
    status: int,
    body: dict[str, Any] | None,
) -> None:
    respx_mock.get(ITEM_URL).mock(return_value=httpx.Response(status, json=body))
    with pytest.raises(EbayItemNotFound) as info:
        client.get_item(ItemRef("restful", ITEM_ID))
    assert info.value.http_status == status
    if body:
        assert info.value.error_id == body["errors"][0]["errorId"]
        assert info.value.message == body["errors"][0]["message"]
        assert info.value.errors == body["errors"]


def test_get_item_other_4xx_is_api_error(
    client: EbayClient, token_route: respx.Route, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(ITEM_URL).mock(
        return_value=httpx.Response(400, json=ERROR_BROWSE_UNAVAILABLE)
    )
    with pytest.raises(EbayApiError) as info:
        client.get_item(ItemRef("restful", ITEM_ID))
    assert type(info.value) is EbayApiError
    assert info.value.error_id == 11004
    assert "11004" in str(info.value)


def test_get_item_retries_once_with_new_app_token_after_401(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    tokens = respx_mock.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json=token_json("stale")),
            httpx.Response(200, json=token_json("fresh")),
        ]
    )
    items = respx_mock.get(ITEM_URL).mock(
        side_effect=[
            httpx.Response(401, json=ERROR_INVALID_TOKEN),
            httpx.Response(200, json=ITEM_JSON),
        ]
    )

    assert client.get_item(ItemRef("restful", ITEM_ID)).item_id == ITEM_ID
    assert tokens.call_count == 2
    assert items.calls.last.request.headers["Authorization"] == "Bearer fresh"


def test_get_item_persistent_401_is_auth_error(
    client: EbayClient, token_route: respx.Route, respx_mock: respx.MockRouter
) -> None:
    items = respx_mock.get(ITEM_URL).mock(
        return_value=httpx.Response(401, json=ERROR_INVALID_TOKEN)
    )
    with pytest.raises(EbayAuthError) as info:
        client.get_item(ItemRef("restful", ITEM_ID))
    assert info.value.http_status == 401
    assert items.call_count == 2
    assert_secret_free(info.value)


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (httpx.Response(500, json=ERROR_OFFER_INTERNAL), 500),
        (httpx.Response(502, text="<html>Bad gateway</html>"), 502),
        (httpx.Response(503), 503),
        (httpx.Response(429, json={}), 429),
        *TRANSPORT_FAILURES,
    ],
)
def test_transient_failures_are_unavailable(
    client: EbayClient,
    token_route: respx.Route,
    respx_mock: respx.MockRouter,
    user_token: AccessToken,
    response: httpx.Response | Exception,
    status: int | None,
) -> None:
    answer(respx_mock.get(ITEM_URL), response)
    answer(respx_mock.get(BIDDING_URL), response)

    with pytest.raises(EbayUnavailable) as browse:
        client.get_item(ItemRef("restful", ITEM_ID))
    with pytest.raises(EbayUnavailable) as offer:
        client.get_bidding(ITEM_ID, user_token)

    for info in (browse, offer):
        assert info.value.http_status == status
        assert_secret_free(info.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"title": "no itemId"}),
        httpx.Response(200, json={**ITEM_JSON, "itemEndDate": "tomorrow"}),
        httpx.Response(
            200, json={**ITEM_JSON, "price": {"value": "x", "currency": "U"}}
        ),
        httpx.Response(304),
    ],
)
def test_malformed_browse_response_is_protocol_error(
    client: EbayClient,
    token_route: respx.Route,
    respx_mock: respx.MockRouter,
    response: httpx.Response,
) -> None:
    respx_mock.get(ITEM_URL).mock(return_value=response)
    with pytest.raises(EbayProtocolError):
        client.get_item(ItemRef("restful", ITEM_ID))


# --- Offer -------------------------------------------------------------------


def test_get_bidding(
    client: EbayClient, respx_mock: respx.MockRouter, user_token: AccessToken
) -> None:
    route = respx_mock.get(BIDDING_URL).mock(
        return_value=httpx.Response(200, json=BIDDING_JSON)
    )

    bidding = client.get_bidding(ITEM_ID, user_token)

    assert_sent(route, f"/buy/offer/v1_beta/bidding/{ITEM_ID_ENC}", USER_TOKEN)
    assert bidding == Bidding(
        item_id=ITEM_ID,
        auction_status="ACTIVE",
        high_bidder=True,
        current_price=Amount(Decimal("130.00"), "USD"),
        proxy_bid_id="8934756201",
        max_amount=Amount(Decimal("250.00"), "USD"),
        bid_count=8,
        auction_end_at=datetime(2026, 5, 1, 18, 30, tzinfo=UTC),
        reserve_price_met=True,
    )
    assert not bidding.won


@pytest.mark.parametrize(
    ("status", "high_bidder", "won"),
    [("ENDED", True, True), ("ENDED", False, False), ("ACTIVE", True, False)],
)
def test_bidding_won(status: str, high_bidder: bool, won: bool) -> None:
    data = {"itemId": ITEM_ID, "auctionStatus": status, "highBidder": high_bidder}
    assert Bidding.from_json(data).won is won


def test_bidding_minimal_payload() -> None:
    bidding = Bidding.from_json({"itemId": ITEM_ID, "auctionStatus": "ENDED"})
    assert not bidding.high_bidder
    assert bidding.current_price is None
    assert bidding.proxy_bid_id is None
    assert bidding.max_amount is None
    assert bidding.auction_end_at is None


def test_warm_up_returns_bidding(
    client: EbayClient, respx_mock: respx.MockRouter, user_token: AccessToken
) -> None:
    respx_mock.get(BIDDING_URL).mock(
        return_value=httpx.Response(200, json=BIDDING_JSON)
    )
    result = client.warm_up(ITEM_ID, user_token)
    assert result is not None
    assert result.item_id == ITEM_ID


def test_warm_up_without_bidding_activity_returns_none(
    client: EbayClient, respx_mock: respx.MockRouter, user_token: AccessToken
) -> None:
    respx_mock.get(BIDDING_URL).mock(
        return_value=httpx.Response(404, json=ERROR_NO_BIDDING)
    )
    assert client.warm_up(ITEM_ID, user_token) is None


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (404, ERROR_OFFER_ITEM_NOT_FOUND, EbayApiError),
        (401, ERROR_INVALID_TOKEN, EbayAuthError),
        (500, ERROR_OFFER_INTERNAL, EbayUnavailable),
    ],
)
def test_warm_up_propagates_other_errors(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    user_token: AccessToken,
    status: int,
    body: dict[str, Any],
    expected: type[EbayError],
) -> None:
    respx_mock.get(BIDDING_URL).mock(return_value=httpx.Response(status, json=body))
    with pytest.raises(expected) as info:
        client.warm_up(ITEM_ID, user_token)
    assert type(info.value) is expected  # Offer 404s are never EbayItemNotFound


def test_place_proxy_bid(
    client: EbayClient, bid_route: respx.Route, user_token: AccessToken
) -> None:

    bid_id = client.place_proxy_bid(
        ITEM_ID, Amount(Decimal("25.00"), "USD"), user_token
    )

    assert bid_id == "8934756201"
    request = assert_sent(
        bid_route,
        f"/buy/offer/v1_beta/bidding/{ITEM_ID_ENC}/place_proxy_bid",
        USER_TOKEN,
    )
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "maxAmount": {"currency": "USD", "value": "25.00"},
        "userConsent": {"adultOnlyItem": False},
    }


def test_place_proxy_bid_adult_consent_and_plain_decimal(
    client: EbayClient, bid_route: respx.Route, user_token: AccessToken
) -> None:
    client.place_proxy_bid(
        ITEM_ID, Amount(Decimal("1E+3"), "GBP"), user_token, adult_only_consent=True
    )
    assert json.loads(bid_route.calls.last.request.content) == {
        "maxAmount": {"currency": "GBP", "value": "1000"},
        "userConsent": {"adultOnlyItem": True},
    }


def test_place_proxy_bid_timeouts(
    client: EbayClient, bid_route: respx.Route, user_token: AccessToken
) -> None:
    amount = Amount(Decimal("25.00"), "USD")

    client.place_proxy_bid(ITEM_ID, amount, user_token)
    default = bid_route.calls.last.request.extensions["timeout"]
    client.place_proxy_bid(ITEM_ID, amount, user_token, timeout=1.5)
    fast = bid_route.calls.last.request.extensions["timeout"]

    assert (default["connect"], default["read"]) == (3.0, 5.0)
    assert (fast["connect"], fast["read"]) == (1.5, 1.5)


@pytest.mark.parametrize(
    ("status", "body", "error_id"),
    [
        (409, ERROR_BID_TOO_LOW, 120008),
        (409, ERROR_AUCTION_ENDED, 120012),
        (404, ERROR_OFFER_ITEM_NOT_FOUND, 120001),
        (
            400,
            ebay_errors(120015, "X-EBAY-C-MARKETPLACE-ID header is missing."),
            120015,
        ),
        (403, None, None),
    ],
)
def test_place_proxy_bid_api_errors(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    user_token: AccessToken,
    status: int,
    body: dict[str, Any] | None,
    error_id: int | None,
) -> None:
    respx_mock.post(BID_URL).mock(return_value=httpx.Response(status, json=body))
    with pytest.raises(EbayApiError) as info:
        client.place_proxy_bid(ITEM_ID, Amount(Decimal("10"), "USD"), user_token)
    assert type(info.value) is EbayApiError
    assert info.value.http_status == status
    assert info.value.error_id == error_id
    assert info.value.errors == (body["errors"] if body else [])


@pytest.mark.parametrize(
    "amount",
    [
        Amount(Decimal("0"), "USD"),
        Amount(Decimal("-1.00"), "USD"),
        Amount(Decimal("10"), "usd"),
        Amount(Decimal("10"), "US"),
    ],
)
def test_place_proxy_bid_rejects_bad_amount_without_calling_ebay(
    client: EbayClient, user_token: AccessToken, amount: Amount
) -> None:
    with respx.mock(assert_all_called=False), pytest.raises(ValueError):
        client.place_proxy_bid(ITEM_ID, amount, user_token)


@pytest.mark.parametrize("body", [{}, {"proxyBidId": ""}, {"proxyBidId": 5}])
def test_place_proxy_bid_without_id_is_protocol_error(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    user_token: AccessToken,
    body: dict[str, Any],
) -> None:
    respx_mock.post(BID_URL).mock(return_value=httpx.Response(200, json=body))
    with pytest.raises(EbayProtocolError):
        client.place_proxy_bid(ITEM_ID, Amount(Decimal("10"), "USD"), user_token)


# --- connection reuse, lifecycle, secrets --------------------------------------


def test_one_long_lived_http_client_serves_warm_up_and_bid(
    monkeypatch: pytest.MonkeyPatch,
    respx_mock: respx.MockRouter,
    user_token: AccessToken,
) -> None:
    created: list[httpx.Client] = []
    spy_kwargs: list[dict[str, Any]] = []
    real_client = httpx.Client

    def spy(*args: Any, **kwargs: Any) -> httpx.Client:
        spy_kwargs.append(kwargs)
        instance = real_client(*args, **kwargs)
        created.append(instance)
        return instance

    monkeypatch.setattr(httpx, "Client", spy)
    respx_mock.get(BIDDING_URL).mock(
        return_value=httpx.Response(200, json=BIDDING_JSON)
    )
    respx_mock.post(BID_URL).mock(return_value=httpx.Response(200, json=PROXY_BID_JSON))

    client = EbayClient(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client.warm_up(ITEM_ID, user_token)
    client.place_proxy_bid(ITEM_ID, Amount(Decimal("10"), "USD"), user_token)
    client.close()

    assert len(created) == 1
    assert created[0].is_closed
    assert spy_kwargs[0]["limits"].keepalive_expiry >= 30


def test_injected_http_client_is_used_and_not_closed(user_token: AccessToken) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=BIDDING_JSON)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = EbayClient(
        api_base_url="http://sim.local:8080/",
        client_id="id",
        client_secret="s",
        http=http,
    )
    client.get_bidding(ITEM_ID, user_token)
    client.close()

    assert (
        str(seen[0].url)
        == f"http://sim.local:8080/buy/offer/v1_beta/bidding/{ITEM_ID_ENC}"
    )
    assert not http.is_closed
    http.close()


def test_echoed_secrets_are_redacted(
    client: EbayClient, respx_mock: respx.MockRouter, user_token: AccessToken
) -> None:
    echo = ebay_errors(120004, f"token {USER_TOKEN} / secret {CLIENT_SECRET}")
    echo["errors"][0]["parameters"] = [
        {"name": "auth", "value": f"Bearer {USER_TOKEN}"}
    ]
    respx_mock.get(BIDDING_URL).mock(return_value=httpx.Response(409, json=echo))
    respx_mock.post(TOKEN_URL).mock(
        return_value=httpx.Response(
            400,
            json={
                "error": "invalid_grant",
                "error_description": f"bad {REFRESH_TOKEN} for {BASIC}",
            },
        )
    )

    with pytest.raises(EbayApiError) as api:
        client.get_bidding(ITEM_ID, user_token)
    with pytest.raises(EbayInvalidGrant) as grant:
        client.refresh_user_token(REFRESH_TOKEN)

    for info in (api, grant):
        assert_secret_free(info.value)
        assert "[REDACTED]" in str(info.value)


def test_no_secrets_in_logs(
    client: EbayClient,
    token_route: respx.Route,
    respx_mock: respx.MockRouter,
    user_token: AccessToken,
    caplog: pytest.LogCaptureFixture,
) -> None:
    respx_mock.get(ITEM_URL).mock(return_value=httpx.Response(200, json=ITEM_JSON))
    respx_mock.post(BID_URL).mock(return_value=httpx.Response(200, json=PROXY_BID_JSON))
    with caplog.at_level(logging.DEBUG):
        client.get_item(ItemRef("restful", ITEM_ID))
        client.place_proxy_bid(ITEM_ID, Amount(Decimal("10"), "USD"), user_token)
    for secret in SECRETS:
        assert secret not in caplog.text

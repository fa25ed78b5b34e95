"""Contract tests: our eBay requests and sample responses vs eBay's OpenAPI specs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from tests.support import contract as contract_support
from tests.support import ebay_samples as samples
from tests.support.contract import (
    ContractViolation,
    SpecName,
    validate_request,
    validate_response,
)
from workflows.ebay import AccessToken, Amount, EbayClient, ItemRef

BROWSE = "https://api.ebay.com/buy/browse/v1"
OFFER = "https://api.ebay.com/buy/offer/v1_beta"
ITEM_URL = samples.ITEM_URL
LEGACY_URL = f"{samples.LEGACY_URL}?legacy_item_id=123456789012"
BIDDING_URL = samples.BIDDING_URL
BID_URL = samples.BID_URL
JSON = {"Content-Type": "application/json"}
MULTI_SKU = "v1|112259821206|412674842751"


@pytest.fixture
def client() -> Iterator[EbayClient]:
    with EbayClient(client_id="app", client_secret="secret") as instance:
        yield instance


@pytest.fixture
def user_token() -> AccessToken:
    return AccessToken("user-token", samples.NOW + timedelta(hours=2))


@pytest.fixture
def oauth(respx_mock: respx.MockRouter) -> None:
    respx_mock.post(samples.TOKEN_URL).mock(
        return_value=httpx.Response(200, json=samples.token_json())
    )


def check_sent(spec: SpecName, route: respx.Route) -> httpx.Request:
    request: httpx.Request = route.calls.last.request
    validate_request(
        spec,
        request.method,
        str(request.url),
        request.headers.multi_items(),
        request.content or None,
    )
    return request


# --- requests our client sends -------------------------------------------------


@pytest.mark.parametrize("item_id", [samples.ITEM_ID, MULTI_SKU])
@pytest.mark.usefixtures("oauth")
def test_get_item_request(
    client: EbayClient, respx_mock: respx.MockRouter, item_id: str
) -> None:
    route = respx_mock.get(url__startswith=f"{BROWSE}/item/").mock(
        return_value=httpx.Response(200, json=samples.ITEM_JSON)
    )
    client.get_item(ItemRef("restful", item_id))
    check_sent("browse", route)


@pytest.mark.usefixtures("oauth")
def test_get_item_by_legacy_id_request(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.get(samples.LEGACY_URL).mock(
        return_value=httpx.Response(200, json=samples.ITEM_JSON)
    )
    client.get_item(ItemRef("legacy", "123456789012"))
    request = check_sent("browse", route)
    assert request.url.params["legacy_item_id"] == "123456789012"


@pytest.mark.parametrize("item_id", [samples.ITEM_ID, MULTI_SKU])
def test_get_bidding_request(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    user_token: AccessToken,
    item_id: str,
) -> None:
    route = respx_mock.get(url__startswith=f"{OFFER}/bidding/").mock(
        return_value=httpx.Response(200, json=samples.BIDDING_JSON)
    )
    client.get_bidding(item_id, user_token)
    client.warm_up(item_id, user_token)
    check_sent("offer", route)


@pytest.mark.parametrize("value", ["25.00", "1E+3", "0.5", "1234567.89"])
@pytest.mark.parametrize("adult", [False, True])
def test_place_proxy_bid_request(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    user_token: AccessToken,
    value: str,
    adult: bool,
) -> None:
    route = respx_mock.post(BID_URL).mock(
        return_value=httpx.Response(200, json=samples.PROXY_BID_JSON)
    )
    amount = Amount(Decimal(value), "USD")
    client.place_proxy_bid(
        samples.ITEM_ID, amount, user_token, adult_only_consent=adult
    )
    check_sent("offer", route)


# --- sample responses used by the client tests ----------------------------------

SAMPLE_RESPONSES: list[tuple[SpecName, str, str, int, dict[str, Any]]] = [
    ("browse", "GET", ITEM_URL, 200, samples.ITEM_JSON),
    ("browse", "GET", LEGACY_URL, 200, samples.ITEM_JSON),
    ("browse", "GET", LEGACY_URL, 200, samples.CONVERTED_ITEM_JSON),
    ("browse", "GET", ITEM_URL, 400, samples.ERROR_BROWSE_NOT_FOUND),
    ("browse", "GET", LEGACY_URL, 400, samples.ERROR_BROWSE_LEGACY_NOT_FOUND),
    ("browse", "GET", ITEM_URL, 400, samples.ERROR_BROWSE_UNAVAILABLE),
    ("browse", "GET", ITEM_URL, 401, samples.ERROR_INVALID_TOKEN),
    ("offer", "GET", BIDDING_URL, 200, samples.BIDDING_JSON),
    ("offer", "GET", BIDDING_URL, 404, samples.ERROR_NO_BIDDING),
    ("offer", "GET", BIDDING_URL, 404, samples.ERROR_OFFER_ITEM_NOT_FOUND),
    ("offer", "GET", BIDDING_URL, 401, samples.ERROR_INVALID_TOKEN),
    ("offer", "GET", BIDDING_URL, 500, samples.ERROR_OFFER_INTERNAL),
    ("offer", "POST", BID_URL, 200, samples.PROXY_BID_JSON),
    ("offer", "POST", BID_URL, 409, samples.ERROR_BID_TOO_LOW),
    ("offer", "POST", BID_URL, 409, samples.ERROR_AUCTION_ENDED),
    ("offer", "POST", BID_URL, 404, samples.ERROR_OFFER_ITEM_NOT_FOUND),
    ("offer", "POST", BID_URL, 500, samples.ERROR_OFFER_INTERNAL),
]


@pytest.mark.parametrize(
    ("spec", "method", "url", "status", "body"),
    SAMPLE_RESPONSES,
    ids=[f"{s}-{m}-{st}-{i}" for i, (s, m, _, st, _) in enumerate(SAMPLE_RESPONSES)],
)
def test_sample_responses_conform(
    spec: SpecName, method: str, url: str, status: int, body: dict[str, Any]
) -> None:
    validate_response(spec, method, url, status, JSON, body)


@pytest.mark.usefixtures("oauth")
def test_client_parses_every_sample_success(
    client: EbayClient, respx_mock: respx.MockRouter, user_token: AccessToken
) -> None:
    respx_mock.get(ITEM_URL).mock(
        return_value=httpx.Response(200, json=samples.ITEM_JSON)
    )
    respx_mock.get(BIDDING_URL).mock(
        return_value=httpx.Response(404, json=samples.ERROR_NO_BIDDING)
    )
    assert client.get_item(ItemRef("restful", samples.ITEM_ID)).is_auction
    assert client.warm_up(samples.ITEM_ID, user_token) is None


# --- the validator itself catches violations -------------------------------------

AUTH = {"Authorization": "Bearer t", "X-EBAY-C-MARKETPLACE-ID": "EBAY_US"}
BID_BODY = {"maxAmount": {"currency": "USD", "value": "25.00"}}


@pytest.mark.parametrize(
    ("spec", "method", "url", "headers", "body", "problem"),
    [
        (
            "offer",
            "GET",
            f"{OFFER}/bidding/v1|1|0",
            AUTH,
            None,
            "not percent-encoded",
        ),
        (
            "offer",
            "GET",
            BIDDING_URL,
            {"Authorization": "Bearer t"},
            None,
            "MARKETPLACE",
        ),
        (
            "offer",
            "GET",
            BIDDING_URL,
            {"X-EBAY-C-MARKETPLACE-ID": "EBAY_US"},
            None,
            "Authorization",
        ),
        ("offer", "POST", BID_URL, AUTH, BID_BODY, "Content-Type"),
        (
            "offer",
            "POST",
            BID_URL,
            {**AUTH, **JSON},
            {"maxAmount": {"currency": "USD", "value": 25}},
            "not of type 'string'",
        ),
        (
            "offer",
            "POST",
            BID_URL,
            {**AUTH, **JSON},
            {**BID_BODY, "maxBid": 1},
            "'maxBid' was unexpected",
        ),
        ("browse", "GET", samples.LEGACY_URL, AUTH, None, "legacy_item_id"),
        ("offer", "GET", f"{OFFER}/bids/{samples.ITEM_ID_ENC}", AUTH, None, "Path"),
    ],
)
def test_request_violations_are_reported(
    spec: SpecName,
    method: str,
    url: str,
    headers: dict[str, str],
    body: dict[str, Any] | None,
    problem: str,
) -> None:
    with pytest.raises(ContractViolation, match=problem):
        validate_request(spec, method, url, headers, body)


@pytest.mark.parametrize(
    ("spec", "method", "url", "status", "body", "problem"),
    [
        (
            "offer",
            "GET",
            BIDDING_URL,
            200,
            {**samples.BIDDING_JSON, "auctionEndTime": "x"},
            "'auctionEndTime' was unexpected",
        ),
        (
            "offer",
            "GET",
            BIDDING_URL,
            200,
            {**samples.BIDDING_JSON, "bidCount": "8"},
            "not of type 'integer'",
        ),
        (
            "browse",
            "GET",
            ITEM_URL,
            200,
            {**samples.ITEM_JSON, "price": {"value": 127.5, "currency": "USD"}},
            "not of type 'string'",
        ),
        (
            "offer",
            "GET",
            BIDDING_URL,
            404,
            samples.ebay_errors(120008, "too low"),
            "errorId 120008 is not documented",
        ),
        (
            "browse",
            "GET",
            LEGACY_URL,
            400,
            samples.ERROR_BROWSE_NOT_FOUND,
            "errorId 11001 is not documented",
        ),
        ("offer", "GET", BIDDING_URL, 409, samples.ERROR_BID_TOO_LOW, "409"),
        ("offer", "GET", BIDDING_URL, 404, {"error": "x"}, "'error' was unexpected"),
    ],
)
def test_response_violations_are_reported(
    spec: SpecName,
    method: str,
    url: str,
    status: int,
    body: dict[str, Any],
    problem: str,
) -> None:
    with pytest.raises(ContractViolation, match=problem):
        validate_response(spec, method, url, status, JSON, body)


def test_response_without_content_type_is_reported() -> None:
    with pytest.raises(ContractViolation, match="mimetype"):
        validate_response("offer", "GET", BIDDING_URL, 200, {}, samples.BIDDING_JSON)


def test_any_host_validates_for_simulators() -> None:
    url = f"http://127.0.0.1:8080/buy/offer/v1_beta/bidding/{samples.ITEM_ID_ENC}"
    validate_request("offer", "GET", url, AUTH)
    validate_response("offer", "GET", url, 200, JSON, samples.BIDDING_JSON)


def test_lenient_mode_allows_unknown_fields() -> None:
    body = {**samples.BIDDING_JSON, "futureField": 1}
    validate_response("offer", "GET", BIDDING_URL, 200, JSON, body, strict=False)


def test_specs_dir_defaults_to_the_vendored_copy_and_honours_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("EBAY_SPECS_DIR", raising=False)
    default = contract_support.specs_dir()
    assert (default / "buy_offer_v1_beta_oas3.json").is_file()
    assert default == contract_support.REPO_ROOT / "sandbox" / "ebay-specs"

    monkeypatch.setenv("EBAY_SPECS_DIR", str(tmp_path))
    assert contract_support.specs_dir() == tmp_path


@pytest.mark.parametrize(
    "name", ["buy_offer_v1_beta_oas3.json", "buy_browse_v1_oas3.json"]
)
def test_vendored_specs_are_byte_identical_to_the_reference(name: str) -> None:
    reference = contract_support.REFERENCE_SPECS_DIR / name
    if not reference.is_file():
        pytest.skip(f"no reference copy at {reference}")
    vendored = contract_support.REPO_ROOT / "sandbox" / "ebay-specs" / name
    assert vendored.read_bytes() == reference.read_bytes()


def test_parsed_specs_are_cached() -> None:
    assert contract_support.openapi("browse") is contract_support.openapi("browse")
    assert contract_support.raw_spec("offer")["info"]["version"] == "v1_beta.0.1"

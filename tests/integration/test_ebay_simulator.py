"""The eBay simulator over real HTTP on 127.0.0.1 (httpx against a background server).

Covers the auction engine (proxy bidding, ties, reserve, increments, Buy It Now),
rivals, getBidding status and settle delay, OAuth grants, fault injection, the
request log, the admin API and a contract check of every response shape against
eBay's published OpenAPI (via tests/support/contract.py).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from sandbox.ebay_sim import (
    API_SCOPE,
    OFFER_SCOPE,
    Auction,
    EbayApiError,
    EbaySimulator,
    bid_increment_cents,
    create_app,
    format_cents,
    iso_ms,
    start_ebay_simulator,
    to_cents,
)
from sandbox.httpserver import BackgroundServer
from tests.support.contract import ContractViolation, validate_response
from tests.support.simulators import client_of, reset, serving

CID, CSEC, RU = "cid", "csec", "sim-ru-name"
ACCEPT_URL = "http://127.0.0.1:9/ebay/accepted"
BROWSE = "/buy/browse/v1/item"
OFFER = "/buy/offer/v1_beta/bidding"
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# -- fixtures and helpers -----------------------------------------------------


@pytest.fixture(scope="module")
def ebay() -> Iterator[tuple[EbaySimulator, BackgroundServer]]:
    yield from serving(
        lambda: start_ebay_simulator(
            client_id=CID, client_secret=CSEC, ru_name=RU, accept_url=ACCEPT_URL
        )
    )


@pytest.fixture
def sim(ebay: tuple[EbaySimulator, BackgroundServer]) -> EbaySimulator:
    return reset(ebay)


@pytest.fixture
def client(ebay: tuple[EbaySimulator, BackgroundServer]) -> Iterator[httpx.Client]:
    yield from client_of(ebay)


def enc(item_id: str) -> str:
    return quote(item_id, safe="")


def offer_headers(token: str, marketplace: str | None = "EBAY_US") -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if marketplace is not None:
        headers["X-EBAY-C-MARKETPLACE-ID"] = marketplace
    return headers


def bid(
    client: httpx.Client,
    token: str,
    item_id: str,
    value: str,
    currency: str = "USD",
    marketplace: str | None = "EBAY_US",
) -> httpx.Response:
    return client.post(
        f"{OFFER}/{enc(item_id)}/place_proxy_bid",
        headers=offer_headers(token, marketplace),
        json={"maxAmount": {"currency": currency, "value": value}},
    )


def bidding(client: httpx.Client, token: str, item_id: str) -> httpx.Response:
    return client.get(f"{OFFER}/{enc(item_id)}", headers=offer_headers(token))


def get_item(
    client: httpx.Client, token: str, item_id: str, **params: str
) -> httpx.Response:
    return client.get(
        f"{BROWSE}/{enc(item_id)}",
        headers={"Authorization": f"Bearer {token}"},
        params=params,
    )


def token_request(
    client: httpx.Client,
    data: dict[str, str],
    auth: tuple[str, str] | None = (CID, CSEC),
) -> httpx.Response:
    if auth is None:
        return client.post("/identity/v1/oauth2/token", data=data)
    return client.post("/identity/v1/oauth2/token", data=data, auth=auth)


def granted(
    client: httpx.Client, data: dict[str, str], token_type: str
) -> dict[str, Any]:
    """The body of a token grant that succeeds with a two-hour ``token_type``."""
    response = token_request(client, data)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    assert body["token_type"] == token_type
    assert body["expires_in"] == 7200
    return body


def error_of(response: httpx.Response) -> dict[str, Any]:
    errors = response.json()["errors"]
    assert len(errors) == 1
    error: dict[str, Any] = errors[0]
    return error


def assert_offer_error(response: httpx.Response, status: int, error_id: int) -> None:
    assert response.status_code == status, response.text
    error = error_of(response)
    assert error["errorId"] == error_id
    assert error["domain"] == "API_OFFER"
    assert error["category"] in {"REQUEST", "BUSINESS", "APPLICATION"}
    assert isinstance(error["message"], str) and error["message"]


def wait_until_past(epoch: float, margin: float = 0.05) -> None:
    time.sleep(max(0.0, epoch - time.time() + margin))


def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def price(sim: EbaySimulator, item_id: str) -> str:
    value: str = sim.auction_state(item_id)["current_price"]["value"]
    return value


def alice_bidding(
    sim: EbaySimulator, end_in_s: float = 30, **fields: Any
) -> tuple[Auction, str]:
    """A $10.00 auction (with ``fields``) and an access token for alice."""
    auction = sim.create_auction(start_price="10.00", end_in_s=end_in_s, **fields)
    return auction, sim.issue_access_token("alice")


def two_bidders(
    sim: EbaySimulator, end_in_s: float = 30, reserve_price: str | None = None
) -> tuple[Auction, str, str]:
    """A $10.00 auction and access tokens for its bidders alice and bob."""
    auction, alice = alice_bidding(sim, end_in_s=end_in_s, reserve_price=reserve_price)
    return auction, alice, sim.issue_access_token("bob")


def alice_then_bob(
    sim: EbaySimulator,
    client: httpx.Client,
    alice_max: str,
    bob_max: str,
    end_in_s: float = 30,
) -> tuple[Auction, str, str]:
    """``two_bidders``, then alice's and bob's proxy bids over HTTP, both taken."""
    auction, alice, bob = two_bidders(sim, end_in_s=end_in_s)
    for token, max_amount in ((alice, alice_max), (bob, bob_max)):
        assert bid(client, token, auction.item_id, max_amount).status_code == 200
    return auction, alice, bob


# -- money helpers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("price_cents", "increment"),
    [
        (1, 5),
        (99, 5),
        (100, 25),
        (499, 25),
        (500, 50),
        (2499, 50),
        (2500, 100),
        (9999, 100),
        (10000, 250),
        (24999, 250),
        (25000, 500),
        (49999, 500),
        (50000, 1000),
        (99999, 1000),
        (100000, 2500),
        (249999, 2500),
        (250000, 5000),
        (499999, 5000),
        (500000, 10000),
        (10_000_000, 10000),
    ],
)
def test_increment_table(price_cents: int, increment: int) -> None:
    assert bid_increment_cents(price_cents) == increment


def test_money_helpers() -> None:
    assert to_cents("25.00") == 2500
    assert to_cents("0.5") == 50
    assert to_cents(7) == 700
    assert format_cents(2500) == "25.00"
    assert format_cents(5) == "0.05"
    for bad in ("1.234", "-1", "abc", "NaN"):
        with pytest.raises(ValueError):
            to_cents(bad)
    with pytest.raises(ValueError):
        to_cents(1.5)  # type: ignore[arg-type]  # floats are refused
    assert iso_ms(0.0) == "1970-01-01T00:00:00.000Z"
    assert iso_ms(1.2349) == "1970-01-01T00:00:01.234Z"


# -- proxy bidding ------------------------------------------------------------


def test_two_bidders_price_is_second_max_plus_increment(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice, bob = two_bidders(sim)

    first = bid(client, alice, auction.item_id, "20.00")
    assert first.status_code == 200
    assert first.json()["proxyBidId"]
    assert price(sim, auction.item_id) == "10.00"  # lone bidder: start price

    assert bid(client, bob, auction.item_id, "15.00").status_code == 200

    mine = bidding(client, alice, auction.item_id).json()
    theirs = bidding(client, bob, auction.item_id).json()
    assert mine["auctionStatus"] == "ACTIVE"
    assert mine["highBidder"] is True
    assert theirs["highBidder"] is False
    assert mine["currentPrice"] == {"currency": "USD", "value": "15.50"}
    assert mine["currentProxyBid"]["maxAmount"] == {"currency": "USD", "value": "20.00"}
    assert mine["currentProxyBid"]["proxyBidId"] == first.json()["proxyBidId"]
    assert mine["bidCount"] == 2
    assert mine["suggestedBidAmounts"][0] == {"currency": "USD", "value": "16.00"}

    item = get_item(client, alice, auction.item_id).json()
    assert item["currentBidPrice"] == {"currency": "USD", "value": "15.50"}
    assert item["minimumPriceToBid"] == {"currency": "USD", "value": "16.00"}
    assert item["bidCount"] == 2
    assert item["uniqueBidderCount"] == 2


def test_new_leader_price_never_above_their_max(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    # Bob outbids by less than a full increment: he pays his own max.
    auction, alice, bob = alice_then_bob(sim, client, "20.00", "20.10")
    assert price(sim, auction.item_id) == "20.10"
    assert bidding(client, bob, auction.item_id).json()["highBidder"] is True
    assert bidding(client, alice, auction.item_id).json()["highBidder"] is False


def test_tie_goes_to_the_earlier_bid(sim: EbaySimulator, client: httpx.Client) -> None:
    auction, _, bob = alice_then_bob(sim, client, "20.00", "20.00")
    assert price(sim, auction.item_id) == "20.00"
    assert sim.auction_state(auction.item_id)["high_bidder"] == "alice"
    assert bidding(client, bob, auction.item_id).json()["highBidder"] is False


def test_raised_max_loses_tie_to_an_earlier_equal_max(sim: EbaySimulator) -> None:
    auction = sim.create_auction(start_price="10.00", end_in_s=30)
    sim.place_bid(auction.item_id, "alice", "15.00")
    sim.place_bid(auction.item_id, "bob", "30.00")
    sim.place_bid(auction.item_id, "alice", "30.00")  # same max, placed later
    state = sim.auction_state(auction.item_id)
    assert state["high_bidder"] == "bob"
    assert state["current_price"]["value"] == "30.00"


def test_raising_own_max_does_not_raise_the_price(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice, _ = alice_then_bob(sim, client, "20.00", "15.00")
    assert price(sim, auction.item_id) == "15.50"
    assert bid(client, alice, auction.item_id, "30.00").status_code == 200
    assert price(sim, auction.item_id) == "15.50"
    body = bidding(client, alice, auction.item_id).json()
    assert body["currentProxyBid"]["maxAmount"]["value"] == "30.00"
    assert body["bidCount"] == 3
    assert sim.auction_state(auction.item_id)["unique_bidder_count"] == 2


def test_leader_may_raise_below_minimum_price_to_bid(sim: EbaySimulator) -> None:
    auction = sim.create_auction(start_price="10.00", end_in_s=30)
    sim.place_bid(auction.item_id, "alice", "10.00")
    sim.place_bid(auction.item_id, "bob", "10.50")
    state = sim.auction_state(auction.item_id)
    assert (state["high_bidder"], state["current_price"]["value"]) == ("bob", "10.50")
    assert state["minimum_price_to_bid"]["value"] == "11.00"
    sim.place_bid(auction.item_id, "bob", "10.60")  # the leader only has to go up
    with pytest.raises(EbayApiError) as info:
        sim.place_bid(auction.item_id, "alice", "10.60")  # others need 11.00
    assert info.value.error_id == 120008
    assert price(sim, auction.item_id) == "10.50"


def test_raising_own_max_meets_the_reserve(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice = alice_bidding(sim, reserve_price="25.00")
    assert bid(client, alice, auction.item_id, "20.00").status_code == 200
    # Below the reserve, the whole max is used to try to meet it.
    assert price(sim, auction.item_id) == "20.00"
    assert bidding(client, alice, auction.item_id).json()["reservePriceMet"] is False
    assert bid(client, alice, auction.item_id, "40.00").status_code == 200
    assert price(sim, auction.item_id) == "25.00"
    body = bidding(client, alice, auction.item_id).json()
    assert body["reservePriceMet"] is True
    assert get_item(client, alice, auction.item_id).json()["reservePriceMet"] is True


def test_price_jumps_to_reserve_then_proxy_bidding_continues(
    sim: EbaySimulator,
) -> None:
    auction = sim.create_auction(start_price="1.00", reserve_price="25.00", end_in_s=30)
    sim.place_bid(auction.item_id, "alice", "100.00")
    assert price(sim, auction.item_id) == "25.00"
    sim.place_bid(auction.item_id, "bob", "30.00")
    assert price(sim, auction.item_id) == "31.00"
    assert sim.auction_state(auction.item_id)["high_bidder"] == "alice"


def test_reserve_not_met_at_end_nobody_wins(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice = alice_bidding(sim, end_in_s=1, reserve_price="50.00")
    assert bid(client, alice, auction.item_id, "30.00").status_code == 200
    assert bidding(client, alice, auction.item_id).json()["highBidder"] is True
    wait_until_past(auction.end_time)
    body = bidding(client, alice, auction.item_id).json()
    assert body["auctionStatus"] == "ENDED"
    assert body["highBidder"] is False
    assert body["reservePriceMet"] is False
    state = sim.auction_state(auction.item_id)
    assert state["winner"] is None
    assert state["final_price"] is None


@pytest.mark.parametrize(
    ("second_max", "expected"),
    [
        ("0.99", "1.04"),
        ("1.00", "1.25"),
        ("4.99", "5.24"),
        ("5.00", "5.50"),
        ("24.99", "25.49"),
        ("25.00", "26.00"),
        ("99.99", "100.99"),
        ("100.00", "102.50"),
        ("249.99", "252.49"),
        ("250.00", "255.00"),
        ("499.99", "504.99"),
        ("500.00", "510.00"),
        ("999.99", "1009.99"),
        ("1000.00", "1025.00"),
        ("2499.99", "2524.99"),
        ("2500.00", "2550.00"),
        ("4999.99", "5049.99"),
        ("5000.00", "5100.00"),
    ],
)
def test_increments_at_table_boundaries(
    sim: EbaySimulator, second_max: str, expected: str
) -> None:
    auction = sim.create_auction(start_price="0.01", end_in_s=30)
    sim.place_bid(auction.item_id, "leader", "9999.00")
    sim.place_bid(auction.item_id, "second", second_max)
    state = sim.auction_state(auction.item_id)
    assert state["current_price"]["value"] == expected
    expected_min = to_cents(expected) + bid_increment_cents(to_cents(expected))
    assert state["minimum_price_to_bid"]["value"] == format_cents(expected_min)


# -- placeProxyBid errors -----------------------------------------------------


def test_bid_too_low(sim: EbaySimulator, client: httpx.Client) -> None:
    auction, alice, bob = two_bidders(sim)
    assert_offer_error(bid(client, alice, auction.item_id, "9.99"), 409, 120008)
    assert bid(client, alice, auction.item_id, "10.00").status_code == 200
    # minimumPriceToBid is now 10.50.
    assert_offer_error(bid(client, bob, auction.item_id, "10.49"), 409, 120008)
    assert bid(client, bob, auction.item_id, "10.50").status_code == 200


def test_bid_after_end(sim: EbaySimulator, client: httpx.Client) -> None:
    auction, alice = alice_bidding(sim, end_in_s=0.5)
    wait_until_past(auction.end_time)
    assert_offer_error(bid(client, alice, auction.item_id, "50.00"), 409, 120012)
    assert sim.auction_state(auction.item_id)["bid_count"] == 0


def test_cannot_lower_or_repeat_proxy_bid(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice = alice_bidding(sim)
    assert bid(client, alice, auction.item_id, "30.00").status_code == 200
    assert_offer_error(bid(client, alice, auction.item_id, "20.00"), 409, 120010)
    assert_offer_error(bid(client, alice, auction.item_id, "30.00"), 409, 120010)


@pytest.mark.parametrize(
    ("body", "status", "error_id"),
    [
        ({"maxAmount": {"currency": "EUR", "value": "20.00"}}, 409, 120009),
        ({"maxAmount": {"currency": "usd", "value": "20.00"}}, 400, 120014),
        ({"maxAmount": {"value": "20.00"}}, 400, 120014),
        ({"maxAmount": {"currency": "USD", "value": "abc"}}, 400, 120013),
        ({"maxAmount": {"currency": "USD", "value": "20.001"}}, 400, 120013),
        ({"maxAmount": {"currency": "USD", "value": 20}}, 400, 120013),
        ({"maxAmount": {"currency": "USD", "value": "0.00"}}, 400, 120013),
        ({"maxAmount": {"currency": "USD", "value": "-5.00"}}, 400, 120013),
        ({"maxAmount": {"currency": "USD", "value": "100000000000.00"}}, 400, 120011),
        ({"userConsent": {"adultOnlyItem": False}}, 400, 120016),
        ({}, 400, 120016),
    ],
)
def test_bid_request_validation(
    sim: EbaySimulator,
    client: httpx.Client,
    body: dict[str, Any],
    status: int,
    error_id: int,
) -> None:
    auction, alice = alice_bidding(sim)
    response = client.post(
        f"{OFFER}/{enc(auction.item_id)}/place_proxy_bid",
        headers=offer_headers(alice),
        json=body,
    )
    assert_offer_error(response, status, error_id)


def test_marketplace_header(sim: EbaySimulator, client: httpx.Client) -> None:
    auction, alice = alice_bidding(sim)
    missing = bid(client, alice, auction.item_id, "20.00", marketplace=None)
    assert_offer_error(missing, 400, 120015)
    unsupported = bid(client, alice, auction.item_id, "20.00", marketplace="EBAY_XX")
    assert_offer_error(unsupported, 400, 120017)
    assert "EBAY_XX" in error_of(unsupported)["message"]
    lower = bid(client, alice, auction.item_id, "20.00", marketplace="ebay_us")
    assert_offer_error(lower, 400, 120017)  # case sensitive
    response = client.get(
        f"{OFFER}/{enc(auction.item_id)}", headers=offer_headers(alice, None)
    )
    assert_offer_error(response, 400, 120015)
    assert bid(
        client, alice, auction.item_id, "20.00", marketplace="EBAY_GB"
    ).is_success


def test_seller_cannot_bid(sim: EbaySimulator, client: httpx.Client) -> None:
    auction = sim.create_auction(start_price="10.00", end_in_s=30, seller="sam")
    sam = sim.issue_access_token("sam")
    assert_offer_error(bid(client, sam, auction.item_id, "20.00"), 409, 120003)


def test_unknown_item_and_no_bidding_activity(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice = alice_bidding(sim)
    assert_offer_error(bid(client, alice, "v1|111111111111|0", "20.00"), 404, 120001)
    assert_offer_error(bidding(client, alice, "v1|111111111111|0"), 404, 120001)
    response = bidding(client, alice, auction.item_id)
    assert_offer_error(response, 404, 120033)
    fixed = sim.create_auction(listing_type="FIXED_PRICE", buy_it_now_price="30.00")
    assert_offer_error(bid(client, alice, fixed.item_id, "30.00"), 404, 120001)


def test_buy_it_now_removed_by_first_bid(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice = alice_bidding(sim, buy_it_now_price="50.00")
    item = get_item(client, alice, auction.item_id).json()
    assert item["buyingOptions"] == ["AUCTION", "FIXED_PRICE"]
    assert item["price"] == {"currency": "USD", "value": "50.00"}
    assert item["currentBidPrice"] == {"currency": "USD", "value": "10.00"}
    assert_offer_error(bid(client, alice, auction.item_id, "50.01"), 409, 120005)
    assert bid(client, alice, auction.item_id, "12.00").status_code == 200
    item = get_item(client, alice, auction.item_id).json()
    assert item["buyingOptions"] == ["AUCTION"]
    assert item["price"] == {"currency": "USD", "value": "10.00"}
    # BIN is gone, so a max above the old BIN price is now fine.
    assert bid(client, alice, auction.item_id, "80.00").status_code == 200
    with pytest.raises(ValueError, match="removed"):
        sim.buy_it_now(auction.item_id)


def test_buy_it_now_ends_the_auction(sim: EbaySimulator, client: httpx.Client) -> None:
    auction, alice = alice_bidding(sim, buy_it_now_price="50.00")
    response = client.post(
        f"/sim/auctions/{enc(auction.item_id)}/buy_it_now", json={"buyer": "carol"}
    )
    assert response.status_code == 200
    assert response.json()["winner"] == "carol"
    assert response.json()["end_reason"] == "buy_it_now"
    assert_offer_error(bid(client, alice, auction.item_id, "20.00"), 409, 120002)
    item = get_item(client, alice, auction.item_id).json()
    assert item["itemEndDate"] <= iso_ms(time.time())
    assert item["estimatedAvailabilities"][0]["estimatedAvailabilityStatus"] == (
        "OUT_OF_STOCK"
    )


def test_end_early(sim: EbaySimulator, client: httpx.Client) -> None:
    auction, alice, bob = two_bidders(sim, end_in_s=60)
    assert bid(client, alice, auction.item_id, "20.00").status_code == 200
    response = client.post(f"/sim/auctions/{enc(auction.item_id)}/end")
    assert response.status_code == 200
    assert response.json()["status"] == "ENDED"
    assert_offer_error(bid(client, bob, auction.item_id, "25.00"), 409, 120012)
    body = bidding(client, alice, auction.item_id).json()
    assert body["auctionStatus"] == "ENDED"
    assert body["highBidder"] is True
    assert "suggestedBidAmounts" not in body


# -- getBidding status --------------------------------------------------------


def test_get_bidding_ended_winner_and_loser(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice, bob = alice_then_bob(sim, client, "20.00", "18.00", end_in_s=1)
    assert bidding(client, alice, auction.item_id).json()["auctionStatus"] == "ACTIVE"
    wait_until_past(auction.end_time)
    won = bidding(client, alice, auction.item_id).json()
    lost = bidding(client, bob, auction.item_id).json()
    assert (won["auctionStatus"], won["highBidder"]) == ("ENDED", True)
    assert (lost["auctionStatus"], lost["highBidder"]) == ("ENDED", False)
    assert won["currentPrice"]["value"] == "18.50"
    assert won["auctionEndDate"] == iso_ms(auction.end_time)
    state = sim.auction_state(auction.item_id)
    assert state["winner"] == "alice"
    assert state["final_price"] == {"currency": "USD", "value": "18.50"}
    # Ended auctions are still served by Browse, with itemEndDate in the past.
    item = get_item(client, alice, auction.item_id)
    assert item.status_code == 200
    assert item.json()["itemEndDate"] == iso_ms(auction.end_time)


def test_settle_delay_keeps_reporting_active(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice = alice_bidding(sim, end_in_s=0.5, settle_delay_s=1.0)
    assert bid(client, alice, auction.item_id, "20.00").status_code == 200
    wait_until_past(auction.end_time)
    body = bidding(client, alice, auction.item_id).json()
    assert body["auctionStatus"] == "ACTIVE"  # closed, but not settled yet
    assert_offer_error(bid(client, alice, auction.item_id, "25.00"), 409, 120012)
    state = sim.auction_state(auction.item_id)
    assert state["status"] == "ENDED"
    assert state["settled"] is False
    wait_until_past(auction.end_time + 1.0)
    body = bidding(client, alice, auction.item_id).json()
    assert (body["auctionStatus"], body["highBidder"]) == ("ENDED", True)
    assert sim.auction_state(auction.item_id)["settled"] is True


# -- rivals -------------------------------------------------------------------


def test_rival_fires_seconds_before_end(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction = sim.create_auction(start_price="10.00", end_in_s=1.2)
    rival = sim.add_rival(auction.item_id, "30.00", seconds_before_end=0.8)
    alice = sim.issue_access_token("alice")
    assert bid(client, alice, auction.item_id, "20.00").status_code == 200
    assert bidding(client, alice, auction.item_id).json()["highBidder"] is True

    wait_for(lambda: sim.rivals(auction.item_id)[0]["status"] != "pending")
    fired = sim.rivals(auction.item_id)[0]
    assert fired["status"] == "placed"
    assert fired["placed_at"] == pytest.approx(auction.end_time - 0.8, abs=0.05)
    body = bidding(client, alice, auction.item_id).json()
    assert body["highBidder"] is False
    assert body["currentPrice"]["value"] == "20.50"
    assert sim.auction_state(auction.item_id)["high_bidder"] == rival.username


def test_rival_loses_tie_to_earlier_bid_and_late_rival_is_rejected(
    sim: EbaySimulator,
) -> None:
    auction = sim.create_auction(start_price="10.00", end_in_s=30)
    sim.place_bid(auction.item_id, "alice", "25.00")
    sim.add_rival(auction.item_id, "25.00", username="rita")
    wait_for(lambda: sim.rivals()[0]["status"] != "pending")
    assert sim.auction_state(auction.item_id)["high_bidder"] == "alice"

    late = sim.add_rival(auction.item_id, "99.00", at=time.time() + 0.2)
    sim.end_auction(auction.item_id)
    wait_for(lambda: sim.rivals()[1]["status"] != "pending")
    assert sim.rivals()[1]["rival_id"] == late.rival_id
    assert sim.rivals()[1]["status"] == "rejected"
    assert sim.rivals()[1]["error_id"] == 120012


def test_rival_via_admin_http(sim: EbaySimulator, client: httpx.Client) -> None:
    created = client.post(
        "/sim/auctions", json={"start_price": "5.00", "end_in_s": 30, "title": "Lens"}
    )
    assert created.status_code == 201
    item_id = created.json()["item_id"]
    response = client.post(
        f"/sim/auctions/{enc(item_id)}/rivals",
        json={"max_amount": "12.00", "at": time.time(), "username": "rex"},
    )
    assert response.status_code == 201
    wait_for(lambda: sim.auction_state(item_id)["bid_count"] == 1)
    state = client.get(f"/sim/auctions/{enc(item_id)}").json()
    assert state["high_bidder"] == "rex"
    assert state["rivals"][0]["status"] == "placed"
    assert state["bids"][0]["source"] == "rival"


# -- OAuth --------------------------------------------------------------------


def test_client_credentials_grant(sim: EbaySimulator, client: httpx.Client) -> None:
    body = granted(
        client,
        {"grant_type": "client_credentials", "scope": API_SCOPE},
        "Application Access Token",
    )
    assert body["access_token"].startswith("v^1.1#")
    auction = sim.create_auction(end_in_s=30)
    assert get_item(client, body["access_token"], auction.item_id).status_code == 200
    # An application token cannot bid.
    denied = bid(client, body["access_token"], auction.item_id, "5.00")
    assert denied.status_code == 403
    assert error_of(denied)["errorId"] == 1100


@pytest.mark.parametrize(
    ("auth", "data", "status", "error"),
    [
        ((CID, "wrong"), {"grant_type": "client_credentials"}, 401, "invalid_client"),
        (None, {"grant_type": "client_credentials"}, 401, "invalid_client"),
        ((CID, CSEC), {"grant_type": "client_credentials"}, 400, "invalid_request"),
        (
            (CID, CSEC),
            {"grant_type": "client_credentials", "scope": OFFER_SCOPE},
            400,
            "invalid_scope",
        ),
        ((CID, CSEC), {"grant_type": "password"}, 400, "unsupported_grant_type"),
        ((CID, CSEC), {}, 400, "invalid_request"),
        (
            (CID, CSEC),
            {"grant_type": "refresh_token", "refresh_token": "v^1.1#nope"},
            400,
            "invalid_grant",
        ),
    ],
)
def test_token_errors(
    sim: EbaySimulator,
    client: httpx.Client,
    auth: tuple[str, str] | None,
    data: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = token_request(client, data, auth)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_refresh_grant_revocation_and_scopes(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    refresh = sim.register_user("alice")
    body = granted(
        client,
        {"grant_type": "refresh_token", "refresh_token": refresh},
        "User Access Token",
    )
    assert "refresh_token" not in body

    too_wide = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "scope": f"{OFFER_SCOPE} https://api.ebay.com/oauth/api_scope/sell.account",
        },
    )
    assert too_wide.json()["error"] == "invalid_scope"

    revoked = client.post("/sim/refresh_tokens/revoke", json={"refresh_token": refresh})
    assert revoked.status_code == 200
    again = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # Access tokens minted before the revocation stay valid until they expire.
    auction = sim.create_auction(end_in_s=30)
    assert get_item(client, body["access_token"], auction.item_id).status_code == 200


def test_fixed_refresh_token_value(sim: EbaySimulator, client: httpx.Client) -> None:
    assert sim.register_user("bob", refresh_token="v^1.1#fixture-rt") == (
        "v^1.1#fixture-rt"
    )
    response = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": "v^1.1#fixture-rt"}
    )
    assert response.status_code == 200
    assert sim.requests(endpoint="token")[-1]["user"] == "bob"


def _consent(client: httpx.Client, **extra: str) -> httpx.Response:
    params = {
        "client_id": CID,
        "redirect_uri": RU,
        "response_type": "code",
        "scope": f"{API_SCOPE} {OFFER_SCOPE}",
        "state": "st-123",
        **extra,
    }
    return client.get("/oauth2/authorize", params=params)


def _code_from(location: str) -> dict[str, list[str]]:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == ACCEPT_URL
    return parse_qs(parts.query)


def test_authorization_code_grant(sim: EbaySimulator, client: httpx.Client) -> None:
    response = _consent(client, sim_user="carol")
    assert response.status_code == 302
    query = _code_from(response.headers["location"])
    assert query["state"] == ["st-123"]
    assert query["expires_in"] == ["299"]
    code = query["code"][0]
    assert code.startswith("v^1.1#")

    wrong_ru = token_request(
        client,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": "other"},
    )
    assert wrong_ru.json()["error"] == "invalid_grant"

    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": RU}
    body = granted(client, exchange, "User Access Token")
    assert body["refresh_token_expires_in"] == 47304000
    assert body["refresh_token"].startswith("v^1.1#")

    reused = token_request(client, exchange)
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")

    auction = sim.create_auction(start_price="1.00", end_in_s=30)
    assert bid(client, body["access_token"], auction.item_id, "2.00").status_code == 200
    assert sim.auction_state(auction.item_id)["high_bidder"] == "carol"
    refreshed = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert refreshed.status_code == 200


def test_authorization_code_expires(sim: EbaySimulator, client: httpx.Client) -> None:
    sim.auth_code_ttl_s = 0.2
    try:
        code = _code_from(_consent(client, sim_user="dave").headers["location"])
    finally:
        sim.auth_code_ttl_s = 299
    time.sleep(0.3)
    response = token_request(
        client,
        {
            "grant_type": "authorization_code",
            "code": code["code"][0],
            "redirect_uri": RU,
        },
    )
    assert response.json()["error"] == "invalid_grant"


def test_consent_page_form(sim: EbaySimulator, client: httpx.Client) -> None:
    page = _consent(client)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "Agree" in page.text
    assert 'name="state" value="st-123"' in page.text
    form = {
        "client_id": CID,
        "redirect_uri": RU,
        "response_type": "code",
        "scope": OFFER_SCOPE,
        "state": "st-123",
        "username": "erin",
    }
    agreed = client.post("/oauth2/authorize", data={**form, "action": "agree"})
    assert agreed.status_code == 302
    assert "code" in _code_from(agreed.headers["location"])
    declined = client.post("/oauth2/authorize", data={**form, "action": "decline"})
    assert declined.status_code == 302
    assert _code_from(declined.headers["location"])["error"] == ["access_denied"]
    bad = _consent(client, redirect_uri="https://evil.example/cb")
    assert bad.status_code == 400


def test_bearer_token_checks(sim: EbaySimulator, client: httpx.Client) -> None:
    auction = sim.create_auction(end_in_s=30)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = client.get(f"{BROWSE}/{enc(auction.item_id)}", headers=headers)
        assert response.status_code == 401
        error = error_of(response)
        assert (error["errorId"], error["message"]) == (1001, "Invalid access token")
        assert error["domain"] == "OAuth"

    token = sim.issue_access_token("alice")
    assert bid(client, token, auction.item_id, "5.00").status_code == 200
    expired = client.post("/sim/users/alice/expire_tokens")
    assert expired.json() == {"expired": 1}
    response = bidding(client, token, auction.item_id)
    assert response.status_code == 401
    assert error_of(response)["errorId"] == 1001

    narrow = sim.issue_access_token("alice", scopes=[API_SCOPE])
    assert bidding(client, narrow, auction.item_id).status_code == 403
    assert get_item(client, narrow, auction.item_id).status_code == 200


def test_short_lived_access_token(sim: EbaySimulator, client: httpx.Client) -> None:
    auction = sim.create_auction(end_in_s=30)
    token = sim.issue_access_token(ttl_s=0.2)
    assert get_item(client, token, auction.item_id).status_code == 200
    time.sleep(0.3)
    assert get_item(client, token, auction.item_id).status_code == 401


# -- Browse -------------------------------------------------------------------


def test_get_item_fields(sim: EbaySimulator, client: httpx.Client) -> None:
    auction = sim.create_auction(
        title="ThinkPad X1", start_price="25.00", end_in_s=30, seller="shop1"
    )
    token = sim.issue_access_token()
    response = get_item(client, token, auction.item_id)
    assert response.status_code == 200
    item = response.json()
    legacy = auction.legacy_item_id
    assert re.fullmatch(r"\d{12}", legacy)
    assert item["itemId"] == f"v1|{legacy}|0"
    assert item["legacyItemId"] == legacy
    assert item["title"] == "ThinkPad X1"
    assert item["buyingOptions"] == ["AUCTION"]
    assert ISO_MS.match(item["itemEndDate"])
    assert item["itemEndDate"] == iso_ms(auction.end_time)
    assert item["currentBidPrice"] == {"currency": "USD", "value": "25.00"}
    assert item["minimumPriceToBid"] == {"currency": "USD", "value": "25.00"}
    assert item["price"] == {"currency": "USD", "value": "25.00"}
    assert (item["bidCount"], item["uniqueBidderCount"]) == (0, 0)
    assert "reservePriceMet" not in item
    assert item["itemWebUrl"] == f"https://www.ebay.com/itm/{legacy}"
    assert item["image"]["imageUrl"].startswith("https://")
    assert item["seller"]["username"] == "shop1"
    assert isinstance(item["seller"]["feedbackScore"], int)
    assert isinstance(item["seller"]["feedbackPercentage"], str)
    assert item["listingMarketplaceId"] == "EBAY_US"
    assert item["estimatedAvailabilities"][0]["estimatedAvailabilityStatus"] == (
        "IN_STOCK"
    )
    # The same item by legacy id; the raw path kept %7C in the log.
    by_legacy = client.get(
        f"{BROWSE}/get_item_by_legacy_id",
        params={"legacy_item_id": legacy},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert by_legacy.json() == item
    log = sim.requests(endpoint="get_item")[0]
    assert log["raw_path"] == f"{BROWSE}/v1%7C{legacy}%7C0"
    assert log["item_id"] == auction.item_id


def test_get_item_errors_and_fieldgroups(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction = sim.create_auction(end_in_s=30)
    token = sim.issue_access_token()
    missing = get_item(client, token, "v1|123456789012|0")
    assert missing.status_code == 404
    assert error_of(missing)["errorId"] == 11001
    assert error_of(missing)["domain"] == "API_BROWSE"
    legacy = client.get(
        f"{BROWSE}/get_item_by_legacy_id",
        params={"legacy_item_id": "123456789012"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert (legacy.status_code, error_of(legacy)["errorId"]) == (404, 11003)
    malformed = get_item(client, token, "123|abc")
    assert (malformed.status_code, error_of(malformed)["errorId"]) == (400, 11012)

    compact = get_item(client, token, auction.item_id, fieldgroups="COMPACT").json()
    assert "title" not in compact
    assert "itemEndDate" not in compact
    assert compact["minimumPriceToBid"]["value"] == "0.99"
    mixed = get_item(client, token, auction.item_id, fieldgroups="COMPACT,PRODUCT")
    assert error_of(mixed)["errorId"] == 11018
    unknown = get_item(client, token, auction.item_id, fieldgroups="EVERYTHING")
    assert error_of(unknown)["errorId"] == 11501
    marketplace = client.get(
        f"{BROWSE}/{enc(auction.item_id)}",
        headers={"Authorization": f"Bearer {token}", "X-EBAY-C-MARKETPLACE-ID": "X"},
    )
    assert error_of(marketplace)["errorId"] == 11011


def test_fixed_price_listing(sim: EbaySimulator, client: httpx.Client) -> None:
    listing = sim.create_auction(listing_type="FIXED_PRICE", buy_it_now_price="30.00")
    item = get_item(client, sim.issue_access_token(), listing.item_id).json()
    assert item["buyingOptions"] == ["FIXED_PRICE"]
    assert item["price"] == {"currency": "USD", "value": "30.00"}
    assert "currentBidPrice" not in item
    assert "bidCount" not in item


# -- fault injection ----------------------------------------------------------


def test_status_fault_with_count(sim: EbaySimulator, client: httpx.Client) -> None:
    auction, alice = alice_bidding(sim)
    sim.inject_fault("place_proxy_bid", status=503, count=2)
    for _ in range(2):
        response = bid(client, alice, auction.item_id, "20.00")
        assert response.status_code == 503
        error = error_of(response)
        assert (error["errorId"], error["category"]) == (120000, "APPLICATION")
    assert sim.auction_state(auction.item_id)["bid_count"] == 0  # not processed
    assert bid(client, alice, auction.item_id, "20.00").status_code == 200
    assert sim.faults() == []
    log = sim.requests(endpoint="place_proxy_bid")
    assert [r["status"] for r in log] == [503, 503, 200]
    assert log[0]["fault_id"] is not None


def test_rate_limit_and_error_id_faults(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction = sim.create_auction(end_in_s=30)
    token = sim.issue_access_token("alice")
    sim.inject_fault("get_item", status=429, count=1)
    limited = get_item(client, token, auction.item_id)
    assert limited.status_code == 429
    assert error_of(limited)["errorId"] == 2001
    assert get_item(client, token, auction.item_id).status_code == 200

    fault = sim.inject_fault("place_proxy_bid", error_id=120024)
    unavailable = bid(client, token, auction.item_id, "5.00")
    assert_offer_error(unavailable, 409, 120024)
    sim.remove_fault(fault.fault_id)
    assert bid(client, token, auction.item_id, "5.00").status_code == 200

    sim.inject_fault("get_bidding", status=500, count=1)
    assert_offer_error(bidding(client, token, auction.item_id), 500, 120000)

    sim.inject_fault("token", status=503, count=1)
    response = token_request(client, {"grant_type": "client_credentials"})
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


def test_fault_scoped_to_item_and_cleared(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    one = sim.create_auction(end_in_s=30)
    two = sim.create_auction(end_in_s=30)
    token = sim.issue_access_token()
    sim.inject_fault("get_item", status=500, item_id=one.legacy_item_id)
    assert get_item(client, token, one.item_id).status_code == 500
    assert get_item(client, token, two.item_id).status_code == 200
    assert get_item(client, token, one.item_id).status_code == 500  # until cleared
    assert sim.clear_faults("get_item") == 1
    assert get_item(client, token, one.item_id).status_code == 200


def test_token_expired_fault(sim: EbaySimulator, client: httpx.Client) -> None:
    auction = sim.create_auction(end_in_s=30)
    token = sim.issue_access_token("alice")
    created = client.post(
        "/sim/faults",
        json={"endpoint": "get_bidding", "token_expired": True, "count": 1},
    )
    assert created.status_code == 201
    assert created.json()["remaining"] == 1
    sim.place_bid(auction.item_id, "alice", "5.00")
    response = bidding(client, token, auction.item_id)
    assert (response.status_code, error_of(response)["errorId"]) == (401, 1001)
    assert bidding(client, token, auction.item_id).status_code == 200


def test_latency_fault_and_arrival_time(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction = sim.create_auction(end_in_s=30)
    token = sim.issue_access_token()
    sim.inject_fault("get_item", latency_ms=300, count=1)
    before = time.time()
    response = get_item(client, token, auction.item_id)
    elapsed = time.time() - before
    assert response.status_code == 200
    assert elapsed >= 0.3
    record = sim.requests(endpoint="get_item")[0]
    assert before <= record["arrival"] <= before + 0.05  # stamped before the delay
    assert record["duration_ms"] >= 300


def test_timeout_fault_places_the_bid_but_client_times_out(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice = alice_bidding(sim)
    sim.inject_fault("place_proxy_bid", timeout_s=1.0, count=1)
    with pytest.raises(httpx.ReadTimeout):
        client.post(
            f"{OFFER}/{enc(auction.item_id)}/place_proxy_bid",
            headers=offer_headers(alice),
            json={"maxAmount": {"currency": "USD", "value": "20.00"}},
            timeout=0.3,
        )
    # The bid landed even though the response never arrived in time.
    assert sim.auction_state(auction.item_id)["high_bidder"] == "alice"
    assert bidding(client, alice, auction.item_id).json()["highBidder"] is True


def test_latency_pushes_a_bid_past_the_end(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction, alice = alice_bidding(sim, end_in_s=0.3)
    sim.inject_fault("place_proxy_bid", latency_ms=500, count=1)
    response = bid(client, alice, auction.item_id, "20.00")
    assert_offer_error(response, 409, 120012)
    record = sim.requests(endpoint="place_proxy_bid")[0]
    assert record["arrival"] < auction.end_time  # it arrived in time...
    assert record["error_id"] == 120012  # ...but was processed after the end


def test_invalid_fault_arguments(sim: EbaySimulator) -> None:
    with pytest.raises(ValueError):
        sim.inject_fault("nope", status=500)
    with pytest.raises(ValueError):
        sim.inject_fault("get_item")
    with pytest.raises(ValueError):
        sim.inject_fault("get_item", status=200)
    with pytest.raises(ValueError):
        sim.inject_fault("token", token_expired=True)


# -- request log --------------------------------------------------------------


def test_request_log_filters_arrival_and_no_secrets(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    one = sim.create_auction(start_price="10.00", end_in_s=30)
    two = sim.create_auction(start_price="10.00", end_in_s=30)
    refresh = sim.register_user("alice")
    user_token = token_request(
        client, {"grant_type": "refresh_token", "refresh_token": refresh}
    ).json()["access_token"]
    app_token = token_request(
        client, {"grant_type": "client_credentials", "scope": API_SCOPE}
    ).json()["access_token"]
    code = _code_from(_consent(client, sim_user="alice").headers["location"])["code"][0]

    before = time.time()
    assert bid(client, user_token, one.item_id, "20.00").status_code == 200
    after = time.time()
    assert bid(client, user_token, two.item_id, "20.00").status_code == 200
    assert get_item(client, app_token, one.item_id).status_code == 200

    bids = sim.requests(endpoint="place_proxy_bid")
    assert len(bids) == 2
    first = sim.requests(endpoint="place_proxy_bid", item_id=one.item_id)
    assert len(first) == 1
    record = first[0]
    assert before <= record["arrival"] <= after
    assert record["method"] == "POST"
    assert record["user"] == "alice"
    assert record["token_type"] == "user"
    assert record["status"] == 200
    assert record["marketplace_id"] == "EBAY_US"
    assert record["max_amount"] == {"currency": "USD", "value": "20.00"}
    assert record["proxy_bid_id"]
    assert sim.requests(item_id=one.legacy_item_id)[0]["seq"] == record["seq"]
    assert len(sim.requests(item_id=one.item_id)) == 2  # bid + getItem
    assert sim.requests(endpoint="get_item")[0]["token_type"] == "application"
    grants = [r["grant_type"] for r in sim.requests(endpoint="token")]
    assert grants == ["refresh_token", "client_credentials"]

    over_http = client.get(
        "/sim/requests", params={"endpoint": "place_proxy_bid", "item_id": one.item_id}
    ).json()
    assert over_http == first
    everything = json.dumps(sim.requests()) + client.get("/sim/requests").text
    for secret in (user_token, app_token, refresh, code, CSEC, "Bearer", "Basic"):
        assert secret not in everything
    arrivals = [r["arrival"] for r in sim.requests()]
    assert arrivals == sorted(arrivals)

    assert client.delete("/sim/requests").status_code == 200
    assert sim.requests() == []


# -- admin API ----------------------------------------------------------------


def test_admin_http_api(sim: EbaySimulator, client: httpx.Client) -> None:
    created = client.post(
        "/sim/auctions",
        json={
            "item_id": "v1|110000000001|0",
            "title": "Camera",
            "start_price": 10,
            "reserve_price": "40.00",
            "buy_it_now_price": 99.5,
            "end_in_s": 30,
            "seller": "shop",
            "settle_delay_s": 2,
        },
    )
    assert created.status_code == 201, created.text
    state = created.json()
    assert state["item_id"] == "v1|110000000001|0"
    assert state["legacy_item_id"] == "110000000001"
    assert state["buy_it_now_price"] == {"currency": "USD", "value": "99.50"}
    assert state["status"] == "ACTIVE"

    users = client.post("/sim/users", json={"username": "alice"})
    assert users.status_code == 201
    refresh = users.json()["refresh_token"]
    assert token_request(
        client, {"grant_type": "refresh_token", "refresh_token": refresh}
    ).is_success
    token = client.post("/sim/users/alice/access_token").json()["access_token"]
    assert bid(client, token, "v1|110000000001|0", "30.00").status_code == 200

    admin_bid = client.post(
        "/sim/auctions/110000000001/bids", json={"username": "bob", "max_amount": "45"}
    )
    assert admin_bid.status_code == 201
    rejected = client.post(
        "/sim/auctions/110000000001/bids", json={"username": "bob", "max_amount": "1"}
    )
    assert (rejected.status_code, error_of(rejected)["errorId"]) == (409, 120010)

    state = client.get("/sim/auctions/110000000001").json()
    assert state["high_bidder"] == "bob"
    assert state["current_price"]["value"] == "40.00"  # reserve met by bob
    assert state["reserve_met"] is True
    assert [b["username"] for b in state["bids"]] == ["alice", "bob"]
    assert len(client.get("/sim/auctions").json()) == 1

    app = client.post("/sim/apps", json={"client_id": "cid2", "client_secret": "s2"})
    assert app.status_code == 201
    assert token_request(
        client,
        {"grant_type": "client_credentials", "scope": API_SCOPE},
        auth=("cid2", "s2"),
    ).is_success
    assert client.post("/sim/users/alice/revoke").json() == {"revoked": 1}
    assert client.get("/sim/auctions/v1%7C999%7C0").status_code == 404
    assert client.post("/sim/auctions", json={"start_price": "x"}).status_code == 400
    assert client.post("/sim/faults", json={"endpoint": "x"}).status_code == 400
    assert client.get("/sim/time").json()["iso"].endswith("Z")
    assert client.post("/sim/reset").status_code == 200
    assert client.get("/sim/auctions").json() == []


def test_create_auction_validation(sim: EbaySimulator) -> None:
    with pytest.raises(ValueError):
        sim.create_auction(item_id="abc")
    with pytest.raises(ValueError):
        sim.create_auction(start_price="10.00", buy_it_now_price="5.00")
    with pytest.raises(ValueError):
        sim.create_auction(end_in_s=1, end_at=time.time() + 1)
    auction = sim.create_auction(item_id="123456789012", end_at="2099-01-01T00:00:00Z")
    assert auction.item_id == "v1|123456789012|0"
    assert iso_ms(auction.end_time) == "2099-01-01T00:00:00.000Z"
    with pytest.raises(ValueError):
        sim.create_auction(item_id="v1|123456789012|0")
    with pytest.raises(KeyError):
        sim.get_auction("v1|1|0")
    already_over = sim.create_auction(end_in_s=0)
    assert sim.auction_state(already_over.item_id)["status"] == "ENDED"
    with pytest.raises(EbayApiError) as info:
        sim.place_bid("v1|1|0", "alice", "5.00")
    assert info.value.error_id == 120001


# -- concurrency --------------------------------------------------------------


def test_hundreds_of_concurrent_requests(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction = sim.create_auction(end_in_s=30)
    token = sim.issue_access_token()
    with ThreadPoolExecutor(max_workers=100) as pool:
        statuses = list(
            pool.map(
                lambda _: get_item(client, token, auction.item_id).status_code,
                range(300),
            )
        )
    assert statuses == [200] * 300
    assert len(sim.requests(endpoint="get_item")) == 300


def test_concurrent_bidders_keep_engine_invariants(
    sim: EbaySimulator, client: httpx.Client
) -> None:
    auction = sim.create_auction(start_price="10.00", end_in_s=30)
    maxes = {f"user{i:02d}": f"{10 + 3 * i}.00" for i in range(40)}
    tokens = {name: sim.issue_access_token(name) for name in maxes}
    barrier = threading.Barrier(len(maxes))

    def place(name: str) -> httpx.Response:
        barrier.wait()
        return bid(client, tokens[name], auction.item_id, maxes[name])

    with ThreadPoolExecutor(max_workers=len(maxes)) as pool:
        results = dict(zip(maxes, pool.map(place, maxes), strict=True))
    accepted = {
        n: to_cents(maxes[n]) for n, r in results.items() if r.status_code == 200
    }
    for response in results.values():
        if response.status_code != 200:
            assert_offer_error(response, 409, 120008)
    ranked = sorted(accepted.values(), reverse=True)
    state = sim.auction_state(auction.item_id)
    assert state["bid_count"] == len(accepted)
    assert state["high_bidder"] == "user39"  # the highest max is always accepted
    if len(ranked) > 1:
        second = ranked[1]
        expected = min(ranked[0], second + bid_increment_cents(second))
        assert state["current_price"]["value"] == format_cents(expected)


# -- HTTP server helper -------------------------------------------------------


def test_background_server_lifecycle() -> None:
    sim = EbaySimulator()
    with BackgroundServer(create_app(sim)) as server:
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{server.url}/sim/health").json()["ok"] is True
        url = server.url
    assert not server.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/sim/health", timeout=1.0)
    server.stop()  # idempotent
    with pytest.raises(ValueError):
        BackgroundServer(create_app(sim), host="0.0.0.0")


# -- contract: responses conform to eBay's published OpenAPI ------------------


def _check(spec: str, response: httpx.Response) -> None:
    validate_response(
        spec,  # type: ignore[arg-type]
        response.request.method,
        str(response.request.url),
        response.status_code,
        dict(response.headers),
        response.content,
    )


def test_contract_browse_responses(sim: EbaySimulator, client: httpx.Client) -> None:
    auction = sim.create_auction(
        start_price="10.00", reserve_price="20.00", buy_it_now_price="90.00"
    )
    token = sim.issue_access_token()
    sim.place_bid(auction.item_id, "alice", "15.00")
    _check("browse", get_item(client, token, auction.item_id))
    _check("browse", get_item(client, token, auction.item_id, fieldgroups="COMPACT"))
    _check(
        "browse",
        get_item(
            client, token, auction.item_id, fieldgroups="ADDITIONAL_SELLER_DETAILS"
        ),
    )
    legacy = client.get(
        f"{BROWSE}/get_item_by_legacy_id",
        params={"legacy_item_id": auction.legacy_item_id},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert legacy.status_code == 200
    _check("browse", legacy)
    fixed = sim.create_auction(listing_type="FIXED_PRICE", buy_it_now_price="30.00")
    _check("browse", get_item(client, token, fixed.item_id))
    # Errors: eBay's envelope with a documented errorId.
    _check("browse", get_item(client, token, "v1|123456789012|0"))
    _check("browse", get_item(client, token, "bad-id"))
    _check("browse", get_item(client, "invalid", auction.item_id))


def test_contract_offer_responses(sim: EbaySimulator, client: httpx.Client) -> None:
    auction, alice, bob = two_bidders(sim, end_in_s=1, reserve_price="12.00")
    placed = bid(client, alice, auction.item_id, "20.00")
    assert placed.status_code == 200
    _check("offer", placed)
    too_low = bid(client, bob, auction.item_id, "1.00")
    assert too_low.status_code == 409
    _check("offer", too_low)
    _check("offer", bid(client, bob, auction.item_id, "20.00", currency="EUR"))
    _check("offer", bid(client, bob, auction.item_id, "x"))
    _check("offer", bid(client, bob, auction.item_id, "20.00", marketplace=None))
    _check("offer", bid(client, bob, "v1|123456789012|0", "20.00"))
    _check("offer", bid(client, "invalid", auction.item_id, "20.00"))
    active = bidding(client, alice, auction.item_id)
    assert active.json()["auctionStatus"] == "ACTIVE"
    _check("offer", active)
    _check("offer", bidding(client, bob, auction.item_id))  # 120033
    wait_until_past(auction.end_time)
    _check("offer", bid(client, bob, auction.item_id, "30.00"))  # 120012
    ended = bidding(client, alice, auction.item_id)
    assert ended.json()["auctionStatus"] == "ENDED"
    _check("offer", ended)


def test_contract_check_catches_a_wrong_shape(client: httpx.Client) -> None:
    # Guard against a vacuous contract check: a float money value must fail.
    response = httpx.Response(
        200,
        json={"itemId": "v1|1|0", "currentPrice": {"currency": "USD", "value": 1.5}},
        request=httpx.Request("GET", f"{client.base_url}{OFFER}/v1%7C1%7C0"),
    )
    with pytest.raises(ContractViolation):
        _check("offer", response)

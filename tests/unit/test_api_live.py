"""Live auction data and one active snipe per item, through the API Lambda.

``GET /api/items/{ref}``, the ``live`` part of snipe views (shared item cache,
at most 30 s old, last known values when eBay fails or the daily budget is
short) and 409 ``SNIPE_EXISTS``. Same harness as ``test_api_snipes``.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

from api.examples import ITEM_PREVIEW_EXAMPLES
from tests.support.api import (
    ITEM_ID,
    LEGACY_ID,
    START,
    Env,
    assert_error,
    create,
    create_body,
    example_value,
    scheduled_snipe,
)
from tests.support.apigw import api_event, call
from workflows import ebay_budget
from workflows.ebay_budget import Allowance, DailyBudget
from workflows.table_access import Table


def get(path: str, **kwargs: Any) -> tuple[int, dict[str, str], Any]:
    return call(api_event("GET", path, **kwargs))


# --- one active snipe per user and item -----------------------------------------


def test_a_second_active_snipe_on_the_same_item_is_409_with_the_first_id(
    env: Env,
) -> None:
    first = scheduled_snipe(env)

    details = assert_error(
        call(api_event("POST", "/api/snipes", body=create_body())), 409, "SNIPE_EXISTS"
    )

    assert details["snipe_id"] == first
    assert len(env.executions.started) == 1


def test_the_same_item_by_number_or_url_is_the_same_item(env: Env) -> None:
    first = scheduled_snipe(env)
    for reference in (LEGACY_ID, f"https://www.ebay.com/itm/{LEGACY_ID}"):
        details = assert_error(
            call(api_event("POST", "/api/snipes", body=create_body(item_id=reference))),
            409,
            "SNIPE_EXISTS",
        )
        assert details["snipe_id"] == first


def test_after_a_cancel_the_item_can_be_sniped_again(env: Env) -> None:
    first = scheduled_snipe(env)
    assert call(api_event("DELETE", f"/api/snipes/{first}"))[0] == 200

    status, _, body = call(api_event("POST", "/api/snipes", body=create_body()))

    assert status == 201, body
    assert body["snipe_id"] != first


def test_another_user_may_snipe_the_same_item(env: Env) -> None:
    env.link()
    env.link("user-b")
    env.auction()
    create(env)
    status, _, body = call(
        api_event(
            "POST", "/api/snipes", user=("user-b", "b@example.com"), body=create_body()
        )
    )
    assert status == 201, body


def test_an_idempotent_replay_still_returns_the_first_snipe(env: Env) -> None:
    env.link()
    env.auction()
    headers = {"Idempotency-Key": "replay-1"}
    first = call(api_event("POST", "/api/snipes", body=create_body(), headers=headers))
    replay = call(api_event("POST", "/api/snipes", body=create_body(), headers=headers))

    assert first[0] == replay[0] == 201
    assert replay[2]["snipe_id"] == first[2]["snipe_id"]
    other = call(
        api_event(
            "POST", "/api/snipes", body=create_body(), headers={"Idempotency-Key": "k2"}
        )
    )
    assert other[0] == 409 and other[2]["error"]["code"] == "SNIPE_EXISTS"


# --- GET /api/items/{ref} --------------------------------------------------------


def test_preview_by_id_number_and_url(env: Env) -> None:
    env.auction(ends_in=3600)
    url = quote(f"https://www.ebay.com/itm/{LEGACY_ID}", safe="")
    for ref in (ITEM_ID, LEGACY_ID, url, f"https://www.ebay.com/itm/{LEGACY_ID}"):
        status, headers, body = get(f"/api/items/{ref}")
        assert status == 200, (ref, body)
        assert headers["x-server-time"] == "2026-05-01T12:00:00.000Z"
        assert body == example_value(
            ITEM_PREVIEW_EXAMPLES,
            "auction",
            as_of="2026-05-01T12:00:00.000Z",
            age_seconds=0,
        )


def test_preview_says_why_an_item_cannot_be_sniped(env: Env) -> None:
    env.auction(buyingOptions=["FIXED_PRICE"])
    assert get(f"/api/items/{ITEM_ID}")[2]["not_snipeable_reason"] == "NOT_AN_AUCTION"
    env.ebay.items.clear()
    env.auction(ends_in=5, legacy_id="223456789012")
    body = get("/api/items/223456789012")[2]
    assert (body["snipeable"], body["not_snipeable_reason"]) == (
        False,
        "ENDING_TOO_SOON",
    )
    env.auction(ends_in=-5, legacy_id="323456789012")
    assert get("/api/items/323456789012")[2]["not_snipeable_reason"] == "ENDED"


def test_preview_of_an_unknown_item_is_404_and_of_nonsense_422(env: Env) -> None:
    assert_error(get("/api/items/999999999999"), 404, "ITEM_NOT_FOUND")
    details = assert_error(get("/api/items/not-an-item"), 422, "INVALID_ITEM_ID")
    assert details["errors"][0]["loc"] == ["path", "ref"]


def test_preview_needs_a_token(env: Env) -> None:
    assert_error(get(f"/api/items/{ITEM_ID}", user=None), 401, "UNAUTHORIZED")


def test_preview_serves_the_cache_for_30_seconds_then_reads_again(env: Env) -> None:
    item = env.auction()
    get(f"/api/items/{ITEM_ID}")
    item["currentBidPrice"] = {"value": "140.00", "currency": "USD"}
    env.clock.advance(20)
    body = get(f"/api/items/{ITEM_ID}")[2]
    assert body["current_price"]["value"] == "127.50"
    assert body["age_seconds"] == 20
    assert len(env.ebay.item_requests) == 1
    env.clock.advance(11)
    body = get(f"/api/items/{ITEM_ID}")[2]
    assert (body["current_price"]["value"], body["age_seconds"]) == ("140.00", 0)


def test_preview_serves_the_last_known_values_when_ebay_fails(env: Env) -> None:
    env.auction()
    get(f"/api/items/{ITEM_ID}")
    env.ebay.browse_status = 503
    env.clock.advance(120)
    status, _, body = get(f"/api/items/{ITEM_ID}")
    assert status == 200
    assert (body["age_seconds"], body["as_of"]) == (120, "2026-05-01T12:00:00.000Z")
    assert_error(get("/api/items/423456789012"), 502, "EBAY_UNAVAILABLE")


# --- live values on snipes -------------------------------------------------------


def test_a_snipe_shows_the_live_price_bid_count_and_time_left(env: Env) -> None:
    env.link()
    item = env.auction(ends_in=3600)
    snipe_id = create(env)
    item.update(currentBidPrice={"value": "150.00", "currency": "USD"}, bidCount=9)
    env.clock.advance(45)

    status, headers, body = get(f"/api/snipes/{snipe_id}")

    assert status == 200
    assert body["live"] == {
        "current_price": {"value": "150.00", "currency": "USD"},
        "bid_count": 9,
        "time_left_seconds": 3555,
        "as_of": "2026-05-01T12:00:45.000Z",
        "age_seconds": 0,
    }
    assert body["server_time"] == headers["x-server-time"]
    assert body["item"]["current_price"] == {"value": "127.50", "currency": "USD"}
    listing = get("/api/snipes")[2]
    assert listing["items"][0]["live"] == body["live"]
    assert listing["server_time"] == "2026-05-01T12:00:45.000Z"


def test_when_ebay_fails_the_live_values_are_the_last_known_with_their_age(
    env: Env,
) -> None:
    env.link()
    env.auction(ends_in=3600)
    snipe_id = create(env)
    get(f"/api/snipes/{snipe_id}")
    env.ebay.browse_status = 500
    env.clock.advance(90)

    status, _, body = get(f"/api/snipes/{snipe_id}")

    assert status == 200
    assert body["live"]["current_price"] == {"value": "127.50", "currency": "USD"}
    assert body["live"]["age_seconds"] == 90
    assert body["live"]["time_left_seconds"] == 3510


def test_a_finished_snipe_has_no_live_values(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    body = call(api_event("DELETE", f"/api/snipes/{snipe_id}"))[2]
    assert body["live"] is None


def test_containers_share_the_cache(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    env.clock.advance(40)
    get(f"/api/snipes/{snipe_id}")
    reads = len(env.ebay.item_requests)
    # Another container: its own services (own eBay client), the same table.
    other = dataclasses.replace(env.services)
    from api.app import app
    from workflows.services import get_services

    app.dependency_overrides[get_services] = lambda: other
    get(f"/api/snipes/{snipe_id}")
    get("/api/snipes")
    assert len(env.ebay.item_requests) == reads


def test_when_the_optional_budget_is_spent_the_last_known_values_are_served(
    env: Env, monkeypatch: Any
) -> None:
    snipe_id = scheduled_snipe(env)
    monkeypatch.setitem(
        ebay_budget.DEFAULT_ALLOWANCES, ebay_budget.BROWSE, Allowance(10, 10)
    )
    budget = DailyBudget(Table.of(env.store))
    # The create's own read filled the cache: nothing spent yet.
    assert budget.usage(ebay_budget.BROWSE, START).calls == 0
    env.clock.advance(60)
    reads = len(env.ebay.item_requests)

    body = get(f"/api/snipes/{snipe_id}")[2]

    assert len(env.ebay.item_requests) == reads
    assert body["live"]["age_seconds"] == 60
    assert budget.usage(ebay_budget.BROWSE, START).calls == 0


def test_a_listing_without_an_end_that_is_not_an_auction_is_422(env: Env) -> None:
    item = env.auction(buyingOptions=["FIXED_PRICE"])
    del item["itemEndDate"]
    details = assert_error(get(f"/api/items/{ITEM_ID}"), 422, "NOT_AN_AUCTION")
    assert details["buying_options"] == ["FIXED_PRICE"]


def test_the_client_reports_every_metered_call() -> None:
    import httpx

    from workflows.ebay import EbayClient, ItemRef

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 7200})
        return httpx.Response(
            200, json={"itemId": "v1|1|0", "title": "x", "buyingOptions": ["AUCTION"]}
        )

    calls: list[str] = []
    client = EbayClient(
        api_base_url="https://api.ebay.test",
        client_id="id",
        client_secret="secret",
        http=httpx.Client(transport=httpx.MockTransport(answer)),
        on_call=calls.append,
    )
    client.get_item(ItemRef("restful", "v1|1|0"))
    client.get_item(ItemRef("legacy", "1"), metered=False)  # counted by the caller
    client.get_item(ItemRef("legacy", "1"))

    assert calls == ["oauth_client_credentials", "browse", "browse"]

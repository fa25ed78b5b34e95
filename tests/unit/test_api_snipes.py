"""The API Lambda end to end in-process: events in, responses out.

The ``env`` fixture (``tests/support/api.py``): DynamoDB is moto, eBay is a
small respx fake (OAuth client credentials + Browse getItem), Step Functions is
a recording fake of ``ExecutionControl`` (its own error translation is
exercised here with botocore's Stubber).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest
from botocore.stub import Stubber

from api.examples import SCHEDULED_SNIPE_EXAMPLES
from tests.support.api import (
    ALLOWED_ORIGIN,
    CLIENT_SECRET,
    ITEM_ID,
    LEAD_SECONDS,
    LEGACY_ID,
    REGION,
    SECRETS,
    SETTLE_SECONDS,
    START,
    STATE_MACHINE_ARN,
    Env,
    assert_error,
    create,
    create_body,
    example_value,
    openapi,
    scheduled_snipe,
    schema_validator,
)
from tests.support.apigw import USER_B, api_event, call, preflight
from workflows.errors import WorkflowUnavailable
from workflows.executions import ExecutionControl
from workflows.models import NotificationRecord, NotificationStatus, SnipeStatus
from workflows.money import Money
from workflows.scheduling import SNIPE_ID_PATTERN
from workflows.store import SnipeStore

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

# --- create ------------------------------------------------------------------


def test_create_schedules_the_snipe_and_starts_its_execution(env: Env) -> None:
    env.link()
    env.auction(ends_in=3600)

    status, _, body = call(
        api_event(
            "POST",
            "/api/snipes",
            body=create_body(value="250.00", bid_offset_seconds=4),
        )
    )

    assert status == 201, body
    snipe_id = body["snipe_id"]
    assert SNIPE_ID_PATTERN.fullmatch(snipe_id)
    end = START + timedelta(hours=1)
    expected = example_value(
        SCHEDULED_SNIPE_EXAMPLES,
        "scheduled",
        snipe_id=snipe_id,
        bid_offset_seconds=4,
        plan={
            "wake_at": "2026-05-01T12:59:46.000Z",  # end - 4 s - lead 10 s
            "fire_at": "2026-05-01T12:59:56.000Z",
            "end_at": "2026-05-01T13:00:00.000Z",
            "settle_at": "2026-05-01T13:00:15.000Z",  # end + settle 15 s
        },
    )
    expected["live"].update(as_of="2026-05-01T12:00:00.000Z", age_seconds=0)
    assert body == expected

    stored = env.store.get(snipe_id)
    assert stored.status is SnipeStatus.SCHEDULED
    assert stored.user_email == "a@example.com"
    assert stored.max_bid == Money(amount_minor=25000, currency="USD")
    assert stored.item.minimum_to_bid == Money(amount_minor=13000, currency="USD")
    assert stored.plan.wake_at == end - timedelta(seconds=4 + LEAD_SECONDS)
    assert stored.plan.settle_at == end + timedelta(seconds=SETTLE_SECONDS)
    assert stored.execution_arn == env.executions.arn(snipe_id)

    assert env.executions.started == {
        snipe_id: {
            "snipe_id": snipe_id,
            "item_id": ITEM_ID,
            "plan": {
                "wake_at": "2026-05-01T12:59:46.000Z",
                "fire_at": "2026-05-01T12:59:56.000Z",
                "end_at": "2026-05-01T13:00:00.000Z",
                "settle_at": "2026-05-01T13:00:15.000Z",
            },
        }
    }
    execution_input = json.dumps(env.executions.started)
    for secret in (*SECRETS, "a@example.com"):
        assert secret not in execution_input


def test_create_defaults_the_offset_to_six_seconds(env: Env) -> None:
    env.link()
    env.auction()

    status, _, body = call(api_event("POST", "/api/snipes", body=create_body()))

    assert status == 201
    assert body["bid_offset_seconds"] == 6


@pytest.mark.parametrize(
    "reference",
    [
        ITEM_ID,
        LEGACY_ID,
        f"https://www.ebay.com/itm/{LEGACY_ID}",
        f"https://www.ebay.com/itm/vintage-omega/{LEGACY_ID}?hash=item1c",
    ],
)
def test_create_accepts_every_item_reference_form(env: Env, reference: str) -> None:
    env.link()
    env.auction()

    status, _, body = call(
        api_event("POST", "/api/snipes", body=create_body(item_id=reference))
    )

    assert status == 201, body
    assert body["item"]["item_id"] == ITEM_ID


def test_create_records_the_snipes_created_metric(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    env.link()
    env.auction()

    create(env)

    emf = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
    ]
    assert [doc["SnipesCreated"] for doc in emf if "SnipesCreated" in doc] == [[1.0]]


def test_invalid_item_id_is_422(env: Env) -> None:
    env.link()

    result = call(
        api_event("POST", "/api/snipes", body=create_body(item_id="my old watch"))
    )

    assert_error(result, 422, "INVALID_ITEM_ID")
    assert env.ebay.item_requests == []


def test_unknown_item_is_404(env: Env) -> None:
    env.link()

    result = call(api_event("POST", "/api/snipes", body=create_body()))

    assert assert_error(result, 404, "ITEM_NOT_FOUND") == {"item_id": ITEM_ID}


def test_fixed_price_listing_is_422_not_an_auction(env: Env) -> None:
    env.link()
    env.auction(buyingOptions=["FIXED_PRICE", "BEST_OFFER"])

    result = call(api_event("POST", "/api/snipes", body=create_body()))

    details = assert_error(result, 422, "NOT_AN_AUCTION")
    assert details == {"buying_options": ["FIXED_PRICE", "BEST_OFFER"]}


def test_ended_auction_is_409(env: Env) -> None:
    env.link()
    env.auction(ends_in=-60)

    result = call(api_event("POST", "/api/snipes", body=create_body()))

    assert_error(result, 409, "AUCTION_ENDED")


def test_auction_ending_before_the_lead_time_is_409_with_the_earliest_end(
    env: Env,
) -> None:
    env.link()
    # offset 6 + lead 10 + 2 s start margin = 18 s; this one ends in 17.999 s.
    env.auction(ends_in=17.999)

    result = call(api_event("POST", "/api/snipes", body=create_body()))

    details = assert_error(result, 409, "AUCTION_ENDING_TOO_SOON")
    assert details["earliest_end_at"] == "2026-05-01T12:00:18.000Z"
    assert env.executions.started == {}


def test_auction_ending_exactly_at_the_earliest_end_is_accepted(env: Env) -> None:
    env.link()
    env.auction(ends_in=6 + LEAD_SECONDS + 2)

    status, _, body = call(api_event("POST", "/api/snipes", body=create_body()))

    assert status == 201, body
    assert body["plan"]["wake_at"] == "2026-05-01T12:00:02.000Z"


def test_bid_in_another_currency_is_422(env: Env) -> None:
    env.link()
    env.auction()

    result = call(api_event("POST", "/api/snipes", body=create_body(currency="EUR")))

    details = assert_error(result, 422, "CURRENCY_MISMATCH")
    assert details == {"listing_currency": "USD"}


def test_max_bid_below_the_minimum_to_bid_is_422_with_the_minimum(env: Env) -> None:
    env.link()
    env.auction()  # minimumPriceToBid 130.00 USD

    result = call(api_event("POST", "/api/snipes", body=create_body(value="129.99")))

    details = assert_error(result, 422, "MAX_BID_TOO_LOW")
    assert details == {"minimum_bid": {"value": "130.00", "currency": "USD"}}


def test_max_bid_equal_to_the_minimum_is_accepted(env: Env) -> None:
    env.link()
    env.auction()

    status, _, body = call(
        api_event("POST", "/api/snipes", body=create_body(value="130"))
    )

    assert status == 201, body
    assert body["max_bid"] == {"value": "130.00", "currency": "USD"}


def test_user_without_linked_ebay_account_is_409_before_any_ebay_call(
    env: Env,
) -> None:
    env.auction()

    result = call(api_event("POST", "/api/snipes", body=create_body()))

    assert_error(result, 409, "EBAY_NOT_LINKED")
    assert env.ebay.item_requests == []


def test_user_whose_ebay_link_was_revoked_is_409_reconnect(env: Env) -> None:
    env.link()
    env.store.mark_needs_reconnect("user-a")
    env.auction()

    result = call(api_event("POST", "/api/snipes", body=create_body()))

    assert_error(result, 409, "EBAY_RECONNECT_REQUIRED")


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (create_body(bid_offset_seconds=0), ["body", "bid_offset_seconds"]),
        (create_body(bid_offset_seconds=61), ["body", "bid_offset_seconds"]),
        (create_body(bid_offset_seconds="6"), ["body", "bid_offset_seconds"]),
        (create_body(bid_offset_seconds=6.5), ["body", "bid_offset_seconds"]),
        (create_body(bid_offset_seconds=True), ["body", "bid_offset_seconds"]),
        (
            {"item_id": ITEM_ID, "max_bid": {"value": 250.0, "currency": "USD"}},
            ["body", "max_bid", "value"],
        ),
        (create_body(value="12.345"), ["body", "max_bid"]),
        (create_body(value="-1.00"), ["body", "max_bid", "value"]),
        (create_body(value="0.00"), ["body", "max_bid", "value"]),
        (create_body(value="1e3"), ["body", "max_bid", "value"]),
        (create_body(value="12,50"), ["body", "max_bid", "value"]),
        (create_body(currency="usd"), ["body", "max_bid", "currency"]),
        ({"max_bid": {"value": "1.00", "currency": "USD"}}, ["body", "item_id"]),
        ({"item_id": ITEM_ID}, ["body", "max_bid"]),
        (
            {"item_id": ITEM_ID, "max_bid": {"currency": "USD"}},
            ["body", "max_bid", "value"],
        ),
        (create_body(maxBid="1.00"), ["body", "maxBid"]),
        (create_body(item_id=""), ["body", "item_id"]),
    ],
)
def test_invalid_create_body_is_422_validation_failed(
    env: Env, body: dict[str, Any], loc: list[str]
) -> None:
    env.link()
    env.auction()

    result = call(api_event("POST", "/api/snipes", body=body))

    details = assert_error(result, 422, "VALIDATION_FAILED")
    assert loc in [error["loc"] for error in details["errors"]], details
    for error in details["errors"]:
        assert set(error) == {"loc", "type", "message"}
    assert env.executions.started == {}


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "null"])
def test_create_body_that_is_not_a_json_object_is_422(env: Env, raw: str) -> None:
    result = call(api_event("POST", "/api/snipes", body=raw))

    assert_error(result, 422, "VALIDATION_FAILED")


@pytest.mark.parametrize("raw", ["{not json", '{"item_id": "1",}', "\ufeff{}", "{"])
def test_create_body_that_is_not_json_is_400_invalid_json(env: Env, raw: str) -> None:
    result = call(api_event("POST", "/api/snipes", body=raw))

    assert_error(result, 400, "INVALID_JSON")


def test_create_body_in_another_content_type_is_415(env: Env) -> None:
    event = api_event(
        "POST",
        "/api/snipes",
        body="item_id=1",
        headers={"Content-Type": "text/plain"},
    )

    assert_error(call(event), 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/snipes", create_body()),
        ("POST", "/api/snipes", {"bad": "body"}),  # authentication comes first
        ("GET", "/api/snipes", None),
        ("GET", "/api/snipes/snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N", None),
        ("DELETE", "/api/snipes/snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N", None),
    ],
)
def test_no_claims_is_401(
    env: Env, method: str, path: str, body: dict[str, Any] | None
) -> None:
    result = call(api_event(method, path, user=None, body=body))

    assert_error(result, 401, "UNAUTHORIZED")


def test_claims_without_email_are_401(env: Env) -> None:
    event = api_event("GET", "/api/snipes")
    del event["requestContext"]["authorizer"]["claims"]["email"]

    assert_error(call(event), 401, "UNAUTHORIZED")


def test_identity_headers_are_not_trusted(env: Env) -> None:
    event = api_event("GET", "/api/snipes", user=None, headers={"X-User-Id": "user-a"})

    assert_error(call(event), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("status", [500, 503, 429])
def test_ebay_failing_is_502(env: Env, status: int) -> None:
    env.link()
    env.auction()
    env.ebay.browse_status = status

    result = call(api_event("POST", "/api/snipes", body=create_body()))

    assert_error(result, 502, "EBAY_UNAVAILABLE")
    assert env.executions.started == {}


def test_ebay_oauth_down_is_502(env: Env) -> None:
    env.link()
    env.auction()
    env.ebay.token_status = 503

    assert_error(
        call(api_event("POST", "/api/snipes", body=create_body())),
        502,
        "EBAY_UNAVAILABLE",
    )


def test_ebay_unreachable_is_502(env: Env) -> None:
    env.link()
    env.ebay.router.get(path__startswith="/buy/browse/v1/item/").mock(
        side_effect=httpx.ConnectError("connection refused")
    )

    result = call(api_event("POST", "/api/snipes", body=create_body()))

    assert_error(result, 502, "EBAY_UNAVAILABLE")


def test_ebay_refusing_our_app_credentials_is_502_without_details(env: Env) -> None:
    env.link()
    env.ebay.token_status = 401

    status, _, body = call(api_event("POST", "/api/snipes", body=create_body()))

    assert (status, body["error"]["code"]) == (502, "EBAY_ERROR")
    assert CLIENT_SECRET not in json.dumps(body)


def test_workflow_throttled_is_503_and_leaves_no_snipe(env: Env) -> None:
    env.link()
    env.auction()
    sfn = boto3.client("stepfunctions", region_name=REGION)
    env.services.executions = ExecutionControl(STATE_MACHINE_ARN, client=sfn)

    with Stubber(sfn) as stubber:
        stubber.add_client_error(
            "start_execution", service_error_code="ThrottlingException"
        )
        status, headers, body = call(
            api_event("POST", "/api/snipes", body=create_body())
        )

    assert (status, body["error"]["code"]) == (503, "WORKFLOW_UNAVAILABLE")
    assert int(headers["retry-after"]) >= 1
    items, _ = env.store.list_for_user("user-a")
    assert items == []


def test_store_throttled_is_503_with_retry_after(env: Env) -> None:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    env.services.store = SnipeStore(env.store.table_name, client=dynamodb)

    with Stubber(dynamodb) as stubber:
        stubber.add_client_error(
            "query",
            service_error_code="ProvisionedThroughputExceededException",
            http_status_code=400,
        )
        status, headers, body = call(api_event("GET", "/api/snipes"))

    assert (status, body["error"]["code"]) == (503, "STORE_UNAVAILABLE")
    assert headers["retry-after"] == "2"


def test_store_throttled_while_creating_is_503(env: Env) -> None:
    env.link()
    env.auction()
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    env.services.store = SnipeStore(env.store.table_name, client=dynamodb)

    with Stubber(dynamodb) as stubber:
        stubber.add_response(
            "get_item",
            {
                "Item": {
                    "PK": {"S": "USER#user-a"},
                    "SK": {"S": "EBAY"},
                    "user_id": {"S": "user-a"},
                    "refresh_token": {"S": "x"},
                }
            },
        )
        stubber.add_client_error("put_item", service_error_code="ThrottlingException")
        status, headers, body = call(
            api_event("POST", "/api/snipes", body=create_body())
        )

    assert (status, body["error"]["code"]) == (503, "STORE_UNAVAILABLE")
    assert "retry-after" in headers
    assert env.executions.started == {}


# --- read, list --------------------------------------------------------------


def test_owner_reads_the_snipe(env: Env) -> None:
    snipe_id = scheduled_snipe(env)

    status, _, body = call(api_event("GET", f"/api/snipes/{snipe_id}"))

    assert status == 200
    assert body["snipe_id"] == snipe_id
    assert "user_email" not in json.dumps(body)
    assert "execution_arn" not in body


def test_finished_snipe_shows_bid_result_and_notification(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    fire = datetime(2026, 5, 1, 12, 59, 54, 12000, tzinfo=UTC)
    env.store.transition(
        snipe_id, allowed_from={SnipeStatus.SCHEDULED}, to=SnipeStatus.BIDDING
    )
    env.store.transition(
        snipe_id,
        allowed_from={SnipeStatus.BIDDING},
        to=SnipeStatus.WON,
        fields={
            "bid": {
                "proxy_bid_id": "8934756201",
                "max_bid": {"amount_minor": 25000, "currency": "USD"},
                "sent_at": "2026-05-01T12:59:54.012Z",
                "fire_error_us": 12000,
            },
            "result": {
                "final_price": {"amount_minor": 14250, "currency": "USD"},
                "checked_at": "2026-05-01T13:00:16.000Z",
            },
            "notification": NotificationRecord(
                status=NotificationStatus.SENT, message_id="m-1", at=fire
            ).model_dump(mode="json"),
        },
    )

    _, _, body = call(api_event("GET", f"/api/snipes/{snipe_id}"))

    assert body["status"] == "WON"
    assert body["bid"] == {
        "proxy_bid_id": "8934756201",
        "sent_at": "2026-05-01T12:59:54.012Z",
        "fire_error_ms": 12.0,
    }
    assert body["result"] == {
        "final_price": {"value": "142.50", "currency": "USD"},
        "checked_at": "2026-05-01T13:00:16.000Z",
    }
    assert body["notification"] == {
        "status": "SENT",
        "at": "2026-05-01T12:59:54.012Z",
    }


def test_another_users_snipe_is_404_and_absent_from_their_list(env: Env) -> None:
    snipe_id = scheduled_snipe(env)

    read = call(api_event("GET", f"/api/snipes/{snipe_id}", user=USER_B))
    cancel = call(api_event("DELETE", f"/api/snipes/{snipe_id}", user=USER_B))
    _, _, listing = call(api_event("GET", "/api/snipes", user=USER_B))

    assert_error(read, 404, "SNIPE_NOT_FOUND")
    assert_error(cancel, 404, "SNIPE_NOT_FOUND")
    assert listing == {
        "items": [],
        "next_cursor": None,
        "server_time": "2026-05-01T12:00:00.000Z",
    }
    assert env.store.get(snipe_id).status is SnipeStatus.SCHEDULED
    assert env.executions.stopped == []


@pytest.mark.parametrize(
    "snipe_id", ["snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N", "nonsense", "SNIPE%23x"]
)
def test_unknown_or_malformed_snipe_id_is_404(env: Env, snipe_id: str) -> None:
    assert_error(
        call(api_event("GET", f"/api/snipes/{snipe_id}")), 404, "SNIPE_NOT_FOUND"
    )


def test_list_is_newest_first_across_pages(env: Env) -> None:
    env.link()
    env.auction(ends_in=7200)
    created = []
    for _ in range(5):
        created.append(create(env))
        env.clock.advance(1)

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, _, body = call(api_event("GET", "/api/snipes", query=query))
        assert status == 200, body
        assert len(body["items"]) <= 2
        seen += [item["snipe_id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(created))
    assert pages in (3, 4)  # DynamoDB may end with an empty page


def test_list_filters_by_status(env: Env) -> None:
    first = scheduled_snipe(env)
    env.clock.advance(1)
    second = create(env)
    call(api_event("DELETE", f"/api/snipes/{first}"))

    _, _, cancelled = call(
        api_event("GET", "/api/snipes", query={"status": "CANCELLED"})
    )
    _, _, scheduled = call(
        api_event("GET", "/api/snipes", query={"status": "SCHEDULED"})
    )

    assert [s["snipe_id"] for s in cancelled["items"]] == [first]
    assert [s["snipe_id"] for s in scheduled["items"]] == [second]


@pytest.mark.parametrize(
    "query",
    [{"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"status": "DONE"}],
)
def test_invalid_list_query_is_422(env: Env, query: dict[str, str]) -> None:
    assert_error(
        call(api_event("GET", "/api/snipes", query=query)), 422, "VALIDATION_FAILED"
    )


def test_tampered_cursor_is_400(env: Env) -> None:
    env.link()
    env.auction()
    for _ in range(3):
        create(env)
        env.clock.advance(1)
    _, _, page = call(api_event("GET", "/api/snipes", query={"limit": "1"}))
    cursor = page["next_cursor"]
    assert cursor

    tampered = cursor[:-4] + ("AAAA" if not cursor.endswith("AAAA") else "BBBB")
    results = [
        call(api_event("GET", "/api/snipes", query={"cursor": tampered})),
        call(api_event("GET", "/api/snipes", query={"cursor": "!!not-base64!!"})),
        # a cursor is bound to its listing: another user cannot replay it
        call(api_event("GET", "/api/snipes", user=USER_B, query={"cursor": cursor})),
        call(
            api_event(
                "GET",
                "/api/snipes",
                query={"cursor": cursor, "status": "SCHEDULED"},
            )
        ),
    ]

    for result in results:
        assert_error(result, 400, "INVALID_CURSOR")


# --- cancel ------------------------------------------------------------------


def test_cancel_scheduled_snipe_stops_its_execution(env: Env) -> None:
    snipe_id = scheduled_snipe(env)

    status, _, body = call(api_event("DELETE", f"/api/snipes/{snipe_id}"))

    assert status == 200, body
    assert (body["status"], body["reason"]) == ("CANCELLED", "USER_CANCELLED")
    assert env.store.get(snipe_id).status is SnipeStatus.CANCELLED
    assert env.executions.stopped == [env.executions.arn(snipe_id)]


def test_cancel_still_succeeds_when_stopping_the_execution_fails(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    env.executions.stop_error = WorkflowUnavailable("busy")

    status, _, body = call(api_event("DELETE", f"/api/snipes/{snipe_id}"))

    assert status == 200
    assert body["status"] == "CANCELLED"


@pytest.mark.parametrize("claimed", [SnipeStatus.BIDDING, SnipeStatus.BID_PLACED])
def test_cancel_after_the_bid_task_claimed_it_is_409(
    env: Env, claimed: SnipeStatus
) -> None:
    snipe_id = scheduled_snipe(env)
    env.store.transition(
        snipe_id, allowed_from={SnipeStatus.SCHEDULED}, to=SnipeStatus.BIDDING
    )
    if claimed is SnipeStatus.BID_PLACED:
        env.store.transition(snipe_id, allowed_from={SnipeStatus.BIDDING}, to=claimed)

    result = call(api_event("DELETE", f"/api/snipes/{snipe_id}"))

    assert assert_error(result, 409, "SNIPE_ALREADY_BIDDING") == {
        "status": claimed.value
    }
    assert env.store.get(snipe_id).status is claimed
    assert env.executions.stopped == []


@pytest.mark.parametrize(
    "final", [SnipeStatus.CANCELLED, SnipeStatus.SKIPPED, SnipeStatus.FAILED]
)
def test_cancel_of_a_finished_snipe_is_409(env: Env, final: SnipeStatus) -> None:
    snipe_id = scheduled_snipe(env)
    env.store.transition(snipe_id, allowed_from={SnipeStatus.SCHEDULED}, to=final)

    result = call(api_event("DELETE", f"/api/snipes/{snipe_id}"))

    assert assert_error(result, 409, "SNIPE_ALREADY_FINISHED") == {
        "status": final.value
    }


def test_cancel_racing_the_bid_task_is_409(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read says SCHEDULED, but the claim lands before the conditional write."""
    snipe_id = scheduled_snipe(env)
    stale = env.store.get(snipe_id)
    env.store.transition(
        snipe_id, allowed_from={SnipeStatus.SCHEDULED}, to=SnipeStatus.BIDDING
    )
    monkeypatch.setattr(env.store, "get_for_user", lambda user_id, sid: stale)

    result = call(api_event("DELETE", f"/api/snipes/{snipe_id}"))

    assert_error(result, 409, "SNIPE_ALREADY_BIDDING")
    assert env.store.get(snipe_id).status is SnipeStatus.BIDDING


# --- the error map, CORS, health, OpenAPI -----------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/snipes", "GET, POST"),
        ("TRACE", "/api/snipes/snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N", "DELETE, GET, PATCH"),
        ("POST", "/api/health", "GET"),
    ],
)
def test_an_undeclared_method_on_a_known_path_is_405_with_allow(
    env: Env, method: str, path: str, allowed: str
) -> None:
    status, headers, body = call(api_event(method, path))
    assert (status, body["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert headers["allow"] == allowed


@pytest.mark.parametrize(("method", "path"), [("GET", "/api/nothing"), ("GET", "/")])
def test_unknown_route_is_404_route_not_found(env: Env, method: str, path: str) -> None:
    assert_error(call(api_event(method, path)), 404, "ROUTE_NOT_FOUND")


def test_unexpected_error_is_500_without_internals(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("secret-internal-detail")

    monkeypatch.setattr(env.store, "list_for_user", explode)

    status, _, body = call(api_event("GET", "/api/snipes"))

    assert status == 500
    assert body == {
        "error": {
            "code": "INTERNAL_ERROR",
            "message": "an internal error occurred",
            "details": {},
        }
    }
    [record] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert record.exc_info is not None
    assert "secret-internal-detail" in str(record.exc_info[1])


def test_invalid_response_is_500_not_422(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    snipe_id = scheduled_snipe(env)
    monkeypatch.setattr(
        "api.snipes.SnipeView.of", lambda snipe: {"snipe_id": snipe.snipe_id}
    )

    result = call(api_event("GET", f"/api/snipes/{snipe_id}"))

    assert_error(result, 500, "INTERNAL_ERROR")


def test_health_needs_no_identity(env: Env) -> None:
    status, _, body = call(api_event("GET", "/api/health", user=None))

    assert (status, body) == (200, {"status": "ok"})


def test_cors_headers_only_for_configured_origins(env: Env) -> None:
    allowed = call(api_event("GET", "/api/health", headers={"Origin": ALLOWED_ORIGIN}))
    other = call(
        api_event("GET", "/api/health", headers={"Origin": "https://evil.example"})
    )
    error = call(
        api_event("GET", "/api/snipes", user=None, headers={"Origin": ALLOWED_ORIGIN})
    )

    assert allowed[1]["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert allowed[1]["vary"] == "Origin"
    assert "retry-after" in allowed[1]["access-control-expose-headers"].lower()
    assert "access-control-allow-credentials" not in allowed[1]
    assert not [h for h in other[1] if h.startswith("access-control-")]
    assert error[0] == 401
    assert error[1]["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_cors_preflight_for_an_allowed_origin(env: Env) -> None:
    status, headers, _ = call(preflight(ALLOWED_ORIGIN))

    assert status == 204
    assert headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in headers["access-control-allow-methods"]
    assert "Authorization" in headers["access-control-allow-headers"]


def test_cors_never_sends_a_wildcard(env: Env) -> None:
    env.services.settings = env.services.settings.model_copy(
        update={"cors_allowed_origins": "*"}
    )

    _, headers, _ = call(
        api_event("GET", "/api/health", headers={"Origin": ALLOWED_ORIGIN})
    )

    assert "access-control-allow-origin" not in headers


def test_openapi_lists_every_route(env: Env) -> None:
    document = openapi(env)

    operations = {
        (method.upper(), path)
        for path, methods in document["paths"].items()
        for method in methods
    }
    assert operations == {
        ("POST", "/api/snipes"),
        ("GET", "/api/snipes"),
        ("GET", "/api/snipes/{snipe_id}"),
        ("DELETE", "/api/snipes/{snipe_id}"),
        ("PATCH", "/api/snipes/{snipe_id}"),
        ("GET", "/api/stats"),
        ("GET", "/api/me/preferences"),
        ("PUT", "/api/me/preferences"),
        ("POST", "/api/groups"),
        ("GET", "/api/groups"),
        ("GET", "/api/groups/{group_id}"),
        ("PATCH", "/api/groups/{group_id}"),
        ("DELETE", "/api/groups/{group_id}"),
        ("GET", "/api/ebay/connect"),
        ("POST", "/api/ebay/callback"),
        ("GET", "/api/ebay/status"),
        ("DELETE", "/api/ebay/connection"),
        ("GET", "/api/health"),
        ("GET", "/api/openapi.json"),
        ("GET", "/api/items/{ref}"),
    }
    assert document["info"]["title"]
    assert document["info"]["version"]
    assert document["info"]["description"]
    scheme = document["components"]["securitySchemes"]["CognitoIdToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            protected = path.startswith(
                (
                    "/api/snipes",
                    "/api/ebay",
                    "/api/stats",
                    "/api/me/",
                    "/api/groups",
                    "/api/items",
                )
            )
            assert (operation.get("security") == [{"CognitoIdToken": []}]) is protected
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    ref = response["content"]["application/json"]["schema"]
                    assert ref == {"$ref": "#/components/schemas/ErrorResponse"}, (
                        path,
                        method,
                        code,
                    )
    assert "HTTPValidationError" not in json.dumps(document)


def test_openapi_422_schema_matches_the_real_422_bodies(env: Env) -> None:
    document = openapi(env)
    env.link()
    env.auction()
    responses = document["paths"]["/api/snipes"]["post"]["responses"]
    validator = schema_validator(
        document, responses["422"]["content"]["application/json"]["schema"]
    )

    bodies = [
        call(api_event("POST", "/api/snipes", body={**create_body(), "max_bid": 1.5}))[
            2
        ],
        call(api_event("POST", "/api/snipes", body="[1, 2]"))[2],
        call(api_event("POST", "/api/snipes", body=create_body(item_id="?")))[2],
        call(api_event("POST", "/api/snipes", body=create_body(value="1.00")))[2],
    ]

    assert [b["error"]["code"] for b in bodies] == [
        "VALIDATION_FAILED",
        "VALIDATION_FAILED",
        "INVALID_ITEM_ID",
        "MAX_BID_TOO_LOW",
    ]
    for body in bodies:
        validator.validate(body)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"statusCode": 422, "detail": [{"loc": ["body"]}]})


def test_openapi_success_schemas_match_the_real_bodies(env: Env) -> None:
    document = openapi(env)
    env.link()
    env.auction()
    paths = document["paths"]

    def validator(path: str, method: str, code: str) -> Any:
        content = paths[path][method]["responses"][code]["content"]
        return schema_validator(document, content["application/json"]["schema"])

    _, _, created = call(api_event("POST", "/api/snipes", body=create_body()))
    _, _, listing = call(api_event("GET", "/api/snipes"))

    validator("/api/snipes", "post", "201").validate(created)
    validator("/api/snipes", "get", "200").validate(listing)
    request_schema = paths["/api/snipes"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    schema_validator(document, request_schema).validate(create_body())


def test_snipe_ids_are_valid_execution_names(env: Env) -> None:
    env.link()
    env.auction()

    ids = []
    for _ in range(3):
        ids.append(create(env))
        env.clock.advance(0.001)

    for snipe_id in ids:
        assert len(snipe_id) <= 80
        assert re.fullmatch(r"[A-Za-z0-9_-]+", snipe_id)
    assert ids == sorted(ids)


def test_every_route_rejects_a_user_with_no_claims_object(env: Env) -> None:
    event = api_event("GET", "/api/snipes")
    event["requestContext"]["authorizer"] = {"claims": None}

    assert_error(call(event), 401, "UNAUTHORIZED")

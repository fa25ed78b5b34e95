"""Abuse limits of the API: the active-snipe cap, the body size limit, the
security headers on every response, and their infrastructure counterparts in
template.yaml (throttling, optional WAF, CORS, API Gateway's own responses).

The API runs in-process as in ``test_api_snipes`` (its ``env`` fixture: moto
DynamoDB, a fake eBay, recorded executions).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from botocore.stub import Stubber

from api.limits import body_size
from api.security_headers import SECURITY_HEADERS, with_security_headers
from sandbox.template import load_template
from tests.support.api import (
    ALLOWED_ORIGIN,
    Env,
    assert_error,
    create,
    create_body,
    make_settings,
    scheduled_snipe,
)
from tests.support.apigw import DEFAULT_USER, USER_B, api_event, call
from workflows.config import Settings
from workflows.errors import StoreUnavailable
from workflows.models import SnipeStatus
from workflows.store import SnipeStore

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


EXPECTED_HEADERS = {
    "strict-transport-security": "max-age=31536000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}
DEFAULT_BODY_LIMIT = 16 * 1024


def set_limits(env: Env, **limits: int) -> None:
    env.services.settings = env.services.settings.model_copy(update=limits)


def padded_create_body(size: int) -> str:
    """A valid create body of exactly ``size`` bytes (JSON whitespace padding)."""
    raw = json.dumps(create_body())
    assert len(raw) <= size
    return raw + " " * (size - len(raw))


def snipe_count(env: Env, user_id: str = "user-a") -> int:
    return len(env.store.list_for_user(user_id, limit=100)[0])


# --- the active-snipe cap ------------------------------------------------------


def test_settings_default_limits() -> None:
    fields = Settings.model_fields
    assert fields["max_active_snipes_per_user"].default == 200
    assert fields["max_request_body_bytes"].default == DEFAULT_BODY_LIMIT


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAX_ACTIVE_SNIPES_PER_USER", "7")
    monkeypatch.setenv("MAX_REQUEST_BODY_BYTES", "2048")

    settings = make_settings("snipes")

    assert settings.max_active_snipes_per_user == 7
    assert settings.max_request_body_bytes == 2048


def test_creating_beyond_the_cap_is_429_and_creates_nothing(env: Env) -> None:
    set_limits(env, max_active_snipes_per_user=2)
    scheduled_snipe(env)
    create(env)
    item_requests = len(env.ebay.item_requests)

    result = call(api_event("POST", "/api/snipes", body=create_body()))

    details = assert_error(result, 429, "TOO_MANY_ACTIVE_SNIPES")
    assert details == {"limit": 2, "active": 2}
    assert "2" in result[2]["error"]["message"]
    assert snipe_count(env) == 2
    assert len(env.executions.started) == 2
    assert len(env.ebay.item_requests) == item_requests  # refused before eBay


def test_only_active_snipes_count_toward_the_cap(env: Env) -> None:
    set_limits(env, max_active_snipes_per_user=3)
    env.link()
    env.auction()
    cancelled, bidding, placed = create(env), create(env), create(env)
    assert call(api_event("DELETE", f"/api/snipes/{cancelled}"))[0] == 200
    for snipe_id, to in ((bidding, SnipeStatus.BIDDING), (placed, SnipeStatus.BIDDING)):
        env.store.transition(snipe_id, allowed_from={SnipeStatus.SCHEDULED}, to=to)
    env.store.transition(
        placed, allowed_from={SnipeStatus.BIDDING}, to=SnipeStatus.BID_PLACED
    )

    assert env.store.count_active_for_user("user-a") == 2
    create(env)  # BIDDING + BID_PLACED + this SCHEDULED one: 3

    result = call(api_event("POST", "/api/snipes", body=create_body()))
    assert assert_error(result, 429, "TOO_MANY_ACTIVE_SNIPES") == {
        "limit": 3,
        "active": 3,
    }


@pytest.mark.parametrize("final", [SnipeStatus.WON, SnipeStatus.FAILED])
def test_finished_snipes_free_their_place(env: Env, final: SnipeStatus) -> None:
    set_limits(env, max_active_snipes_per_user=1)
    snipe_id = scheduled_snipe(env)
    env.store.transition(snipe_id, allowed_from={SnipeStatus.SCHEDULED}, to=final)

    create(env)


def test_the_cap_is_per_user(env: Env) -> None:
    set_limits(env, max_active_snipes_per_user=1)
    env.link("user-a")
    env.link(USER_B[0])
    env.auction()
    create(env)

    create(env, user=USER_B)

    assert env.store.count_active_for_user("user-a") == 1
    assert env.store.count_active_for_user(USER_B[0]) == 1
    assert env.store.count_active_for_user("nobody") == 0


def test_count_active_for_user_follows_every_page() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    store = SnipeStore("snipes", client=client)
    page_key = {
        "PK": {"S": "SNIPE#a"},
        "SK": {"S": "SNIPE"},
        "GSI2PK": {"S": "USER#u#SCHEDULED"},
        "GSI2SK": {"S": "CREATED#x"},
    }

    def query(status: str, **extra: Any) -> dict[str, Any]:
        return {
            "TableName": "snipes",
            "IndexName": "GSI2",
            "KeyConditionExpression": "GSI2PK = :p",
            "ExpressionAttributeValues": {":p": {"S": f"USER#u#{status}"}},
            "Select": "COUNT",
            **extra,
        }

    with Stubber(client) as stub:
        stub.add_response("query", {"Count": 1, "ScannedCount": 1}, query("BIDDING"))
        stub.add_response("query", {"Count": 0, "ScannedCount": 0}, query("BID_PLACED"))
        stub.add_response(
            "query",
            {"Count": 5, "ScannedCount": 5, "LastEvaluatedKey": page_key},
            query("SCHEDULED"),
        )
        stub.add_response(
            "query",
            {"Count": 2, "ScannedCount": 2},
            query("SCHEDULED", ExclusiveStartKey=page_key),
        )

        assert store.count_active_for_user("u") == 8
        stub.assert_no_pending_responses()


def test_count_active_for_user_maps_throttling_to_store_unavailable() -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    store = SnipeStore("snipes", client=client)

    with Stubber(client) as stub:
        stub.add_client_error("query", "ProvisionedThroughputExceededException")
        with pytest.raises(StoreUnavailable):
            store.count_active_for_user("u")


# --- the body size limit -------------------------------------------------------


def test_a_body_at_the_limit_is_read(env: Env) -> None:
    env.link()
    env.auction()

    status, _, body = call(
        api_event("POST", "/api/snipes", body=padded_create_body(DEFAULT_BODY_LIMIT))
    )

    assert status == 201, body


def test_a_body_above_the_limit_is_413_and_creates_nothing(env: Env) -> None:
    env.link()
    env.auction()

    result = call(
        api_event(
            "POST", "/api/snipes", body=padded_create_body(DEFAULT_BODY_LIMIT + 1)
        )
    )

    details = assert_error(result, 413, "PAYLOAD_TOO_LARGE")
    assert details == {
        "limit_bytes": DEFAULT_BODY_LIMIT,
        "size_bytes": DEFAULT_BODY_LIMIT + 1,
    }
    assert snipe_count(env) == 0
    assert env.ebay.item_requests == []


def test_a_large_body_is_refused_before_it_is_parsed(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed: list[str] = []
    monkeypatch.setattr("api.limits.parse_json", parsed.append)

    result = call(api_event("POST", "/api/snipes", body="{" * 20_000))

    assert_error(result, 413, "PAYLOAD_TOO_LARGE")
    assert parsed == []


def test_the_limit_counts_bytes_not_characters(env: Env) -> None:
    at_limit = "é" * (DEFAULT_BODY_LIMIT // 2)  # 2 bytes each

    over = call(api_event("POST", "/api/snipes", body=at_limit + "é"))
    within = call(api_event("POST", "/api/snipes", body=at_limit))

    assert assert_error(over, 413, "PAYLOAD_TOO_LARGE")["size_bytes"] == (
        DEFAULT_BODY_LIMIT + 2
    )
    assert_error(within, 400, "INVALID_JSON")  # read, and found not to be JSON


def test_the_limit_is_configurable(env: Env) -> None:
    set_limits(env, max_request_body_bytes=2048)
    env.link()
    env.auction()

    result = call(api_event("POST", "/api/snipes", body=padded_create_body(2049)))

    assert assert_error(result, 413, "PAYLOAD_TOO_LARGE")["limit_bytes"] == 2048
    assert call(api_event("POST", "/api/snipes", body=padded_create_body(2048)))[0] == (
        201
    )


@pytest.mark.parametrize(
    ("method", "path", "user"),
    [
        ("GET", "/api/snipes", DEFAULT_USER),
        ("GET", "/api/snipes/snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N", DEFAULT_USER),
        ("DELETE", "/api/snipes/snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N", DEFAULT_USER),
        ("GET", "/api/health", None),
        ("PUT", "/api/nothing", DEFAULT_USER),
        ("OPTIONS", "/api/snipes", None),
        ("POST", "/api/snipes", None),  # before authentication
    ],
)
def test_every_route_refuses_a_large_body(
    env: Env, method: str, path: str, user: tuple[str, str] | None
) -> None:
    event = api_event(method, path, user=user, body="x" * (DEFAULT_BODY_LIMIT + 1))

    assert_error(call(event), 413, "PAYLOAD_TOO_LARGE")


def base64_event(raw: bytes) -> dict[str, Any]:
    event = api_event("POST", "/api/snipes", body="")
    event["body"] = base64.b64encode(raw).decode()
    event["isBase64Encoded"] = True
    return event


@pytest.mark.parametrize("length", [0, 1, 2, 3, 4, 5, 16_383, 16_384, 16_385])
def test_base64_bodies_are_measured_decoded(length: int) -> None:
    event = APIGatewayProxyEvent(base64_event(b"a" * length))

    assert body_size(event) == length


def test_a_large_base64_body_is_413_and_a_small_one_is_read(env: Env) -> None:
    env.link()
    env.auction()
    small = json.dumps(create_body()).encode()

    large = call(base64_event(b" " * (DEFAULT_BODY_LIMIT + 1)))
    created = call(base64_event(small))

    assert_error(large, 413, "PAYLOAD_TOO_LARGE")
    assert created[0] == 201, created[2]


def test_invalid_json_without_claims_is_401(env: Env) -> None:
    assert_error(
        call(api_event("POST", "/api/snipes", user=None, body="{oops")),
        401,
        "UNAUTHORIZED",
    )


# --- security headers on every response ---------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    event: Callable[[Env, pytest.MonkeyPatch], dict[str, Any]]


def _create_event(env: Env) -> dict[str, Any]:
    env.link()
    env.auction()
    return api_event("POST", "/api/snipes", body=create_body())


def _over_the_cap_event(env: Env) -> dict[str, Any]:
    set_limits(env, max_active_snipes_per_user=1)
    scheduled_snipe(env)
    return api_event("POST", "/api/snipes", body=create_body())


def _ebay_down_event(env: Env) -> dict[str, Any]:
    env.link()
    env.ebay.browse_status = 503
    return api_event("POST", "/api/snipes", body=create_body())


def _list_event(
    env: Env, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> dict[str, Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(env.store, "list_for_user", fail)
    return api_event("GET", "/api/snipes")


CASES = [
    Case("health", 200, lambda e, m: api_event("GET", "/api/health", user=None)),
    Case("openapi", 200, lambda e, m: api_event("GET", "/api/openapi.json", user=None)),
    Case("create", 201, lambda e, m: _create_event(e)),
    Case("list", 200, lambda e, m: api_event("GET", "/api/snipes")),
    Case(
        "get", 200, lambda e, m: api_event("GET", f"/api/snipes/{scheduled_snipe(e)}")
    ),
    Case(
        "cancel",
        200,
        lambda e, m: api_event("DELETE", f"/api/snipes/{scheduled_snipe(e)}"),
    ),
    Case(
        "cors actual request",
        200,
        lambda e, m: api_event(
            "GET", "/api/snipes", headers={"Origin": ALLOWED_ORIGIN}
        ),
    ),
    Case(
        "cors preflight",
        204,
        lambda e, m: api_event(
            "OPTIONS",
            "/api/snipes",
            user=None,
            headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"},
        ),
    ),
    Case(
        "preflight from another origin",
        204,
        lambda e, m: api_event(
            "OPTIONS",
            "/api/snipes",
            user=None,
            headers={"Origin": "https://evil.example"},
        ),
    ),
    Case("invalid json", 400, lambda e, m: api_event("POST", "/api/snipes", body="{")),
    Case(
        "invalid cursor",
        400,
        lambda e, m: api_event("GET", "/api/snipes", query={"cursor": "bm90IGl0"}),
    ),
    Case("no claims", 401, lambda e, m: api_event("GET", "/api/snipes", user=None)),
    Case(
        "no claims, invalid body",
        401,
        lambda e, m: api_event("POST", "/api/snipes", user=None, body={"x": 1}),
    ),
    Case("unknown route", 404, lambda e, m: api_event("GET", "/api/nothing")),
    Case(
        "unknown snipe",
        404,
        lambda e, m: api_event("GET", "/api/snipes/snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"),
    ),
    Case(
        "not linked",
        409,
        lambda e, m: api_event("POST", "/api/snipes", body=create_body()),
    ),
    Case(
        "too large",
        413,
        lambda e, m: api_event("POST", "/api/snipes", body="x" * 20_000),
    ),
    Case(
        "other content type",
        415,
        lambda e, m: api_event(
            "POST", "/api/snipes", body="a=1", headers={"Content-Type": "text/plain"}
        ),
    ),
    Case(
        "validation",
        422,
        lambda e, m: api_event("POST", "/api/snipes", body={"item_id": 1}),
    ),
    Case("too many active snipes", 429, lambda e, m: _over_the_cap_event(e)),
    Case("unexpected error", 500, lambda e, m: _list_event(e, m, KeyError("internal"))),
    Case("eBay down", 502, lambda e, m: _ebay_down_event(e)),
    Case(
        "store throttled", 503, lambda e, m: _list_event(e, m, StoreUnavailable("busy"))
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_every_response_carries_the_security_headers(
    env: Env, monkeypatch: pytest.MonkeyPatch, case: Case
) -> None:
    status, headers, body = call(case.event(env, monkeypatch))

    assert status == case.status, body
    assert {name: headers.get(name) for name in EXPECTED_HEADERS} == EXPECTED_HEADERS


def test_the_cases_cover_every_status_the_openapi_document_lists(env: Env) -> None:
    status, _, document = call(api_event("GET", "/api/openapi.json", user=None))
    listed = {
        int(code)
        for operations in document["paths"].values()
        for operation in operations.values()
        for code in operation["responses"]
    }

    assert status == 200
    assert listed <= {case.status for case in CASES}


def test_security_headers_replace_same_named_headers_in_any_case() -> None:
    response = {
        "statusCode": 200,
        "headers": {"cache-control": "max-age=600", "X-Other": "1"},
        "multiValueHeaders": {
            "Cache-Control": ["public"],
            "X-FRAME-OPTIONS": ["SAMEORIGIN"],
            "Content-Type": ["application/json"],
        },
    }

    result = with_security_headers(response)

    assert result["headers"] == {"X-Other": "1"}
    assert result["multiValueHeaders"] == {
        "Content-Type": ["application/json"],
        **{name: [value] for name, value in SECURITY_HEADERS.items()},
    }


def test_security_headers_without_multi_value_headers() -> None:
    result = with_security_headers({"statusCode": 204, "headers": None})

    assert result["headers"] == SECURITY_HEADERS
    assert {k.lower(): v for k, v in SECURITY_HEADERS.items()} == EXPECTED_HEADERS


# --- template.yaml: throttling, WAF, CORS, API Gateway's own responses ----------

TEMPLATE: dict[str, Any] = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]
API = RESOURCES["SnipeApi"]["Properties"]
API_FUNCTION = RESOURCES["ApiFunction"]["Properties"]


def test_stage_throttling_comes_from_parameters() -> None:
    [settings] = API["MethodSettings"]

    assert settings["ResourcePath"] == "/*"
    assert settings["HttpMethod"] == "*"
    assert settings["ThrottlingRateLimit"] == {"Ref": "ThrottleRateLimit"}
    assert settings["ThrottlingBurstLimit"] == {"Ref": "ThrottleBurstLimit"}
    assert PARAMETERS["ThrottleRateLimit"]["Default"] == 20
    assert PARAMETERS["ThrottleBurstLimit"]["Default"] == 40


def test_waf_is_associated_with_the_stage_only_when_an_acl_is_given() -> None:
    association = RESOURCES["SnipeApiWebAclAssociation"]

    assert PARAMETERS["WebAclArn"]["Default"] == ""
    assert association["Type"] == "AWS::WAFv2::WebACLAssociation"
    assert association["Condition"] == "HasWebAcl"
    assert TEMPLATE["Conditions"]["HasWebAcl"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "WebAclArn"}, ""]}]
    }
    assert association["Properties"]["WebACLArn"] == {"Ref": "WebAclArn"}
    arn = association["Properties"]["ResourceArn"]["Fn::Sub"]
    assert arn.endswith("/restapis/${SnipeApi}/stages/${SnipeApi.Stage}")


def test_api_limits_are_parameters_with_the_code_defaults() -> None:
    variables = API_FUNCTION["Environment"]["Variables"]
    fields = Settings.model_fields

    assert variables["MAX_ACTIVE_SNIPES_PER_USER"] == {"Ref": "MaxActiveSnipesPerUser"}
    assert variables["MAX_REQUEST_BODY_BYTES"] == {"Ref": "MaxRequestBodyBytes"}
    assert (
        PARAMETERS["MaxActiveSnipesPerUser"]["Default"]
        == fields["max_active_snipes_per_user"].default
    )
    assert (
        PARAMETERS["MaxRequestBodyBytes"]["Default"]
        == fields["max_request_body_bytes"].default
    )


def test_preflights_reach_the_function_without_a_token() -> None:
    preflight = API_FUNCTION["Events"]["Preflight"]["Properties"]

    assert "Cors" not in API  # API Gateway's mock preflight cannot echo an origin
    assert (preflight["Path"], preflight["Method"]) == ("/api/{proxy+}", "OPTIONS")
    assert preflight["Auth"] == {"Authorizer": "NONE"}


@pytest.mark.parametrize("response_type", ["DEFAULT_4XX", "DEFAULT_5XX"])
def test_gateway_responses_carry_the_headers_and_the_error_shape(
    response_type: str,
) -> None:
    response = API["GatewayResponses"][response_type]
    headers = response["ResponseParameters"]["Headers"]
    # A static header value is quoted; CSP's own quoted keywords cannot be.
    expected = {
        name: f"'{value}'"
        for name, value in SECURITY_HEADERS.items()
        if name != "Content-Security-Policy"
    }

    assert {name: headers.get(name) for name in expected} == expected
    assert "Fn::If" in headers["Access-Control-Allow-Origin"]
    template = response["ResponseTemplates"]["application/json"]
    shape = json.loads(
        template.replace("$context.error.messageString", '"message"').replace(
            "$context.error.responseType", "CODE"
        )
    )
    assert shape == {"error": {"code": "CODE", "message": "message", "details": {}}}

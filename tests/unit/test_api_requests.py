"""What the API accepts: JSON objects only, 415 for other media types, parse
limits, time ranges, 405, friendly messages, and a document a strict
TypeScript client can be generated from (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.api import Env, assert_error, create_body, scheduled_snipe
from tests.support.apigw import api_event, call

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT: dict[str, Any] = json.loads((ROOT / "docs" / "openapi.json").read_text())


def raw(method: str, path: str, body: str, content_type: str | None) -> Any:
    headers = {"Content-Type": content_type} if content_type else {}
    event = api_event(method, path, body=body, headers=headers)
    if content_type is None:
        event["headers"].pop("Content-Type", None)
        event["multiValueHeaders"].pop("Content-Type", None)
    return call(event)


# --- bodies ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/snipes"),
        ("PATCH", "/api/snipes/snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"),
        ("POST", "/api/groups"),
        ("PATCH", "/api/groups/grp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"),
        ("PUT", "/api/me/preferences"),
        ("POST", "/api/ebay/callback"),
    ],
)
@pytest.mark.parametrize("body", ["[]", '[{"name": "x"}]', '"text"', "12", "true"])
def test_only_a_json_object_is_a_body(
    env: Env, method: str, path: str, body: str
) -> None:
    details = assert_error(
        raw(method, path, body, "application/json"), 422, "VALIDATION_FAILED"
    )
    assert details["errors"][0]["loc"] == ["body"]
    assert details["errors"][0]["message"] == "body: the body must be a JSON object"


def test_an_array_body_creates_nothing(env: Env) -> None:
    env.link()
    env.auction()
    raw("POST", "/api/snipes", json.dumps([create_body()]), "application/json")
    assert env.executions.started == {}


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/form-data",
        "multipart/form-data; boundary=xyz",
        "application/x-www-form-urlencoded",
        "text/plain",
        "application/xml",
        "application/json-patch+json",
    ],
)
def test_other_media_types_are_415(env: Env, content_type: str) -> None:
    assert_error(
        raw("POST", "/api/snipes", "--xyz\r\n", content_type),
        415,
        "UNSUPPORTED_MEDIA_TYPE",
    )


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", None],
)
def test_json_with_or_without_charset_is_read(
    env: Env, content_type: str | None
) -> None:
    env.link()
    env.auction()
    status, _, body = raw(
        "POST", "/api/snipes", json.dumps(create_body()), content_type
    )
    assert status == 201, body


@pytest.mark.parametrize(
    "body",
    [
        "[" * 3000 + "]" * 3000,
        '{"a":' * 1500 + "1" + "}" * 1500,
        '{"item_id": "1", "max_bid": ' + "[" * 40 + "]" * 40 + "}",
    ],
)
def test_deep_json_is_400(env: Env, body: str) -> None:
    details = assert_error(
        raw("POST", "/api/snipes", body, "application/json"), 400, "INVALID_JSON"
    )
    assert details["max_depth"] == 32


@pytest.mark.parametrize(
    "body",
    [
        '{"bid_offset_seconds": ' + "9" * 5000 + "}",
        '{"bid_offset_seconds": -' + "9" * 31 + "}",
        '{"bid_offset_seconds": NaN}',
        '{"bid_offset_seconds": Infinity}',
    ],
)
def test_huge_numbers_and_non_numbers_are_400(env: Env, body: str) -> None:
    assert_error(
        raw("POST", "/api/snipes", body, "application/json"), 400, "INVALID_JSON"
    )


def test_strings_with_brackets_are_not_nesting(env: Env) -> None:
    env.link()
    env.auction()
    status, _, body = raw(
        "POST",
        "/api/groups",
        json.dumps({"name": "[[{{" * 10 + '"\\"'}),
        "application/json",
    )
    assert status == 201, body


# --- what the schema promises is accepted, and only that ----------------------


def test_a_whole_float_is_an_integer(env: Env) -> None:
    status, _, body = call(
        api_event("POST", "/api/groups", body={"name": "g", "wins_wanted": 74.0})
    )
    assert (status, body["wins_wanted"]) == (201, 74)
    assert_error(
        call(api_event("POST", "/api/groups", body={"name": "g", "wins_wanted": "7"})),
        422,
        "VALIDATION_FAILED",
    )


def test_null_is_refused_where_it_means_nothing(env: Env) -> None:
    snipe_id = scheduled_snipe(env)
    for field in ("bid_offset_seconds", "max_bid"):
        details = assert_error(
            call(api_event("PATCH", f"/api/snipes/{snipe_id}", body={field: None})),
            422,
            "VALIDATION_FAILED",
        )
        assert details["errors"][0]["message"] == f"body: {field} cannot be null"
    group = call(api_event("POST", "/api/groups", body={"name": "g"}))[2]
    path = f"/api/groups/{group['group_id']}"
    for body in ({}, {"name": None, "wins_wanted": 2}):
        assert_error(
            call(api_event("PATCH", path, body=body)), 422, "VALIDATION_FAILED"
        )


@pytest.mark.parametrize(
    ("value", "currency", "ok"),
    [
        ("12.34", "USD", True),
        ("12.345", "USD", False),
        ("12.5", "JPY", False),
        ("1250", "JPY", True),
        ("1.234", "KWD", True),
        ("0.00", "USD", False),
        ("007.00", "USD", False),
    ],
)
def test_the_money_rule_is_the_schema_rule(
    env: Env, value: str, currency: str, ok: bool
) -> None:
    import jsonschema  # type: ignore[import-untyped]

    schema = {
        "$ref": "#/components/schemas/MaxBidInput",
        "components": DOCUMENT["components"],
    }
    valid = jsonschema.Draft202012Validator(schema).is_valid(
        {"value": value, "currency": currency}
    )
    assert valid is ok
    status, _, body = call(
        api_event(
            "POST", "/api/snipes", body=create_body(value=value, currency=currency)
        )
    )
    refused_by_validation = status == 422 and body["error"]["code"] == (
        "VALIDATION_FAILED"
    )
    assert refused_by_validation is not ok, body


# --- query times ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"ends_before": "9999-12-31T23:59:59.999Z"}, "INVALID_TIME_RANGE"),
        ({"ends_after": "0001-01-01T00:00:00+14:00"}, "INVALID_TIME_RANGE"),
        ({"ends_after": "0001-01-01T00:00:00-14:00"}, "INVALID_TIME_RANGE"),
        ({"ends_before": "0.5"}, "VALIDATION_FAILED"),
        ({"ends_before": "1700000000"}, "VALIDATION_FAILED"),
        ({"ends_before": "2026-05-01T00:00:00"}, "VALIDATION_FAILED"),
    ],
)
def test_extreme_or_non_iso_times_are_422(
    env: Env, query: dict[str, str], code: str
) -> None:
    assert_error(call(api_event("GET", "/api/snipes", query=query)), 422, code)


def test_times_inside_the_range_filter(env: Env) -> None:
    status, _, body = call(
        api_event(
            "GET",
            "/api/snipes",
            query={
                "ends_after": "1970-01-01T00:00:00Z",
                "ends_before": "2199-12-31T00:00:00+14:00",
            },
        )
    )
    assert status == 200, body


# --- messages -----------------------------------------------------------------


def test_messages_name_the_field_and_leak_no_internals(env: Env) -> None:
    body = {"item_id": "", "max_bid": {"value": "12.345x", "currency": "usd"}, "x": 1}
    details = assert_error(
        call(api_event("POST", "/api/snipes", body=body)), 422, "VALIDATION_FAILED"
    )
    messages = {tuple(e["loc"]): e["message"] for e in details["errors"]}
    assert messages[("body", "max_bid", "value")].startswith("max_bid.value: must be")
    assert messages[("body", "max_bid", "currency")] == (
        "max_bid.currency: must be a three-letter ISO 4217 code in capitals, e.g. USD"
    )
    assert messages[("body", "x")] == "x: is not a field of this request"
    for message in messages.values():
        assert "Value error" not in message
        assert "^" not in message and "[0-9]" not in message
        assert "Input should" not in message


# --- the document ---------------------------------------------------------------


def _operations() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in DOCUMENT["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_operation_has_an_example() -> None:
    for method, path, operation in _operations():
        content = [
            *operation.get("requestBody", {}).get("content", {}).values(),
            *(
                c
                for status, response in operation["responses"].items()
                if status.startswith("2")
                for c in response.get("content", {}).values()
            ),
        ]
        assert any("examples" in c or "example" in c for c in content), (method, path)


def test_request_schemas_have_no_defaults_and_parameters_no_null() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    for name in (
        "CreateSnipeRequest",
        "EditSnipeRequest",
        "CreateGroupRequest",
        "UpdateGroupRequest",
    ):
        for field, prop in schemas[name]["properties"].items():
            assert "default" not in prop, (name, field)
    assert schemas["CreateSnipeRequest"]["required"] == ["item_id", "max_bid"]
    assert schemas["CreateGroupRequest"]["required"] == ["name"]
    for _, _, operation in _operations():
        for parameter in operation.get("parameters", []):
            assert "anyOf" not in parameter["schema"], parameter["name"]


def test_error_codes_are_an_enum_covering_every_code() -> None:
    from api.errors import error_codes

    enum = DOCUMENT["components"]["schemas"]["ErrorInfo"]["properties"]["code"]["enum"]
    assert enum == error_codes()
    for code in (
        "SNIPE_EXISTS",
        "UNAUTHORIZED",
        "VALIDATION_FAILED",
        "METHOD_NOT_ALLOWED",
        "THROTTLED",
        "ITEM_NOT_FOUND",
    ):
        assert code in enum


def test_the_openapi_route_has_a_real_schema() -> None:
    response = DOCUMENT["paths"]["/api/openapi.json"]["get"]["responses"]["200"]
    schema = response["content"]["application/json"]["schema"]
    assert schema["type"] == "object" and schema["additionalProperties"] is True

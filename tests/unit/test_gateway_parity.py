"""The local gateway answers like API Gateway configured by template.yaml.

The expected responses are derived from ``template.yaml`` itself (the
``GatewayResponses`` of ``SnipeApi``: status, body template, headers with
their intrinsic functions resolved for the configured origins) and compared
with what ``sandbox.local_api.LocalApi`` sends for each response type API
Gateway produces on its own: 401, 403, 413, 429 and 5xx.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from api import cors
from sandbox import gateway
from sandbox.auth import issue_token
from sandbox.local_api import LocalApi
from sandbox.template import load_template
from tests.support.apigw import call, preflight

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE: dict[str, Any] = load_template()
RESPONSES: dict[str, Any] = TEMPLATE["Resources"]["SnipeApi"]["Properties"][
    "GatewayResponses"
]
KEY = b"parity-signing-key-0123456789abcdef"
ORIGIN = "http://127.0.0.1:3000"


def resolve(node: Any, origins: Sequence[str]) -> Any:
    """The intrinsic functions the GatewayResponses use, for ``origins``."""
    if isinstance(node, dict) and len(node) == 1:
        ((name, args),) = node.items()
        if name == "Ref" and args == "CorsAllowedOrigins":
            return list(origins)
        if name == "Fn::Select":
            return resolve(args[1], origins)[int(args[0])]
        if name == "Fn::If":
            assert args[0] == "HasSingleCorsOrigin"
            return resolve(args[1] if len(origins) == 1 else args[2], origins)
        if name == "Fn::Sub":
            text, variables = args
            for key, value in variables.items():
                text = text.replace("${" + key + "}", resolve(value, origins))
            return text
    return node


def expected(
    error: gateway.GatewayError, origins: Sequence[str]
) -> tuple[dict[str, str], Any]:
    kind = "DEFAULT_5XX" if error.status >= 500 else "DEFAULT_4XX"
    config = RESPONSES[kind]
    headers = {
        name: str(resolve(value, origins)).strip("'")
        for name, value in config["ResponseParameters"]["Headers"].items()
    }
    body = (
        config["ResponseTemplates"]["application/json"]
        .replace("$context.error.responseType", error.response_type)
        .replace("$context.error.messageString", json.dumps(error.message))
    )
    return headers, json.loads(body)


def failing_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raise RuntimeError("the function crashed")


def answer(
    api: LocalApi, method: str, path: str, **kwargs: Any
) -> tuple[int, dict[str, str], Any]:
    response = Client(api).open(path, method=method, **kwargs)
    return response.status_code, dict(response.headers), json.loads(response.data)


SCENARIOS: dict[str, Any] = {
    "401 no token": (
        gateway.UNAUTHORIZED,
        {},
        {"method": "GET", "path": "/api/snipes"},
    ),
    "401 foreign token": (
        gateway.UNAUTHORIZED,
        {},
        {
            "method": "GET",
            "path": "/api/snipes",
            "headers": {
                "Authorization": "Bearer "
                + issue_token("alice", key=b"someone-elses-key-0123456789abcdef")
            },
        },
    ),
    "403 outside the API": (
        gateway.MISSING_AUTHENTICATION_TOKEN,
        {},
        {"method": "GET", "path": "/wp-admin"},
    ),
    "413 above 10 MB": (
        gateway.REQUEST_TOO_LARGE,
        {},
        {
            "method": "POST",
            "path": "/api/snipes",
            "data": b"x" * (gateway.MAX_PAYLOAD_BYTES + 1),
        },
    ),
    "502 the function failed": (
        gateway.INTEGRATION_FAILURE,
        {"handler": failing_handler},
        {"method": "GET", "path": "/api/health"},
    ),
}


@pytest.mark.parametrize("origins", [[ORIGIN], [ORIGIN, "http://localhost:3000"]])
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_gateway_responses_match_the_template(
    scenario: str, origins: list[str]
) -> None:
    error, options, request = SCENARIOS[scenario]
    api = LocalApi(
        options.get("handler", failing_handler), signing_key=KEY, origins=origins
    )
    status, headers, body = answer(api, **request)
    want_headers, want_body = expected(error, origins)
    assert status == error.status
    assert body == want_body
    assert body["error"]["code"] == error.response_type
    for name, value in want_headers.items():
        assert headers.get(name) == value, name


def test_throttling_is_429_like_api_gateway() -> None:
    api = LocalApi(
        failing_handler,
        signing_key=KEY,
        origins=[ORIGIN],
        throttle_rps=0.001,
        throttle_burst=1,
    )
    answer(api, "GET", "/wp-admin")
    status, headers, body = answer(api, "GET", "/api/health")
    want_headers, want_body = expected(gateway.THROTTLED, [ORIGIN])
    assert (status, body) == (429, want_body)
    assert {k: headers.get(k) for k in want_headers} == want_headers


def test_template_and_code_share_the_cors_lists() -> None:
    for kind in ("DEFAULT_4XX", "DEFAULT_5XX"):
        headers = RESPONSES[kind]["ResponseParameters"]["Headers"]
        assert headers["Access-Control-Allow-Headers"] == (
            f"'{cors.allow_headers_value()}'"
        )
        assert headers["Access-Control-Expose-Headers"] == (
            f"'{cors.expose_headers_value()}'"
        )
    assert "Idempotency-Key" in cors.ALLOW_HEADERS
    assert {"X-Server-Time", "Retry-After", "Location"} <= set(cors.EXPOSE_HEADERS)


def test_the_function_s_preflight_allows_idempotency_key() -> None:
    from api.app import app
    from workflows.config import Settings
    from workflows.services import get_services

    class _Services:
        settings = Settings(
            table_name="t",
            app_secrets_arn="a",
            token_kms_key_id="k",
            email_from="a@example.com",
            cors_allowed_origins=ORIGIN,
        )

        @staticmethod
        def now() -> Any:
            from workflows.timing import utc_now

            return utc_now()

    app.dependency_overrides[get_services] = lambda: _Services()
    try:
        event = preflight(
            ORIGIN, Access_Control_Request_Headers="idempotency-key,content-type"
        )
        status, headers, _ = call(event)
    finally:
        app.dependency_overrides.pop(get_services, None)
    assert status == 204
    assert headers["access-control-allow-origin"] == ORIGIN
    assert "Idempotency-Key" in headers["access-control-allow-headers"].split(",")
    exposed = headers["access-control-expose-headers"].split(",")
    assert {"X-Server-Time", "Retry-After", "Location"} <= set(exposed)
    assert "x-server-time" in headers

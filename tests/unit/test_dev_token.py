"""The sandbox's dev-only sign-in (``POST /dev/token`` on the local gateway)
and that it, like every ``/dev`` route, does not exist on AWS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from sandbox import dev_task_faults, dev_token
from sandbox.auth import verify_authorization
from sandbox.template import load_template
from tests.support.apigw import dev_gateway

ROOT = Path(__file__).resolve().parents[2]
KEY = b"test-signing-key-0123456789abcdef0123456789"
WEB = "http://127.0.0.1:3000"


@pytest.fixture
def client() -> Client:
    return dev_gateway(key=KEY, origins=[WEB, "http://localhost:3000"])


def test_issues_a_token_the_local_gateway_accepts(client: Client) -> None:
    answer = client.post("/dev/token", json={"user_id": "alice"})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["user_id"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["expires_at"].endswith("Z")
    claims = verify_authorization(f"Bearer {body['token']}", key=KEY)
    assert claims["sub"] == "alice"
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_short_lived_token_for_trying_expiry(client: Client) -> None:
    body = client.post("/dev/token", json={"user_id": "bob", "ttl_seconds": 5}).json
    assert body is not None
    claims = verify_authorization(f"Bearer {body['token']}", key=KEY)
    assert claims["exp"] - claims["iat"] == 5


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "user_id"),
        ({"user_id": ""}, "user_id"),
        ({"user_id": "a b"}, "user_id"),
        ({"user_id": "x" * 65}, "user_id"),
        ({"user_id": 7}, "user_id"),
        ({"user_id": "alice", "ttl_seconds": 0}, "ttl_seconds"),
        ({"user_id": "alice", "ttl_seconds": True}, "ttl_seconds"),
        ({"user_id": "alice", "ttl_seconds": 10**9}, "ttl_seconds"),
        ({"user_id": "alice", "admin": True}, "admin"),
    ],
)
def test_bad_input_is_422_with_field_errors(
    client: Client, payload: dict[str, Any], field: str
) -> None:
    answer = client.post("/dev/token", json=payload)
    assert answer.status_code == 422
    error = answer.get_json()["error"]
    assert error["code"] == "VALIDATION_FAILED"
    assert ["body", field] in [e["loc"] for e in error["details"]["errors"]]


def test_not_json_is_400_and_other_methods_405(client: Client) -> None:
    answer = client.post(
        "/dev/token", data="{", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "INVALID_JSON"
    assert client.get("/dev/token").status_code == 405


def test_cors_for_the_web_app_only(client: Client) -> None:
    preflight = client.options(
        "/dev/token",
        headers={"Origin": WEB, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == WEB
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    answer = client.post(
        "/dev/token", json={"user_id": "alice"}, headers={"Origin": WEB}
    )
    assert answer.headers["Access-Control-Allow-Origin"] == WEB
    foreign = client.post(
        "/dev/token",
        json={"user_id": "alice"},
        headers={"Origin": "https://evil.example"},
    )
    assert "Access-Control-Allow-Origin" not in foreign.headers


def test_the_gateway_401_is_readable_by_the_web_app(client: Client) -> None:
    answer = client.get(
        "/api/snipes", headers={"Origin": WEB, "Authorization": "Bearer nope"}
    )
    assert answer.status_code == 401
    # template.yaml's GatewayResponses: the one origin, or * for several.
    assert answer.headers["Access-Control-Allow-Origin"] in {WEB, "*"}


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [str(k), *_strings(v)]]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


@pytest.mark.parametrize("path", [dev_token.PATH, dev_task_faults.PATH])
def test_template_has_no_dev_routes(path: str) -> None:
    """The dev routes are the sandbox's: on AWS users sign in through Cognito,
    and no one injects faults into the functions."""
    assert path.startswith("/dev/")
    template = load_template()
    assert not [s for s in _strings(template) if path[1:] in s or s.startswith("/dev")]
    assert path not in (ROOT / "docs" / "openapi.json").read_text()

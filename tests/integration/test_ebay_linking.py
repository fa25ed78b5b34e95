"""Linking an eBay account through the consent flow, against the eBay simulator.

The API Lambda runs in-process on the local stack (moto + the simulators over
real HTTP). The browser's part is played with httpx: the consent URL the API
returns is opened at the simulator with its ``sim_user`` shortcut (the user
pressing "Agree"), and ``code`` and ``state`` are read from the redirect's
``Location`` without following it.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import jsonschema  # type: ignore[import-untyped]
import pytest

from api.app import app
from sandbox.stack import EBAY_CLIENT_ID, EBAY_RU_NAME, LocalStack
from tests.support.apigw import LambdaContext, api_event, call
from tests.support.stack import agree, post_snipe, stop_running, wait_until_waiting
from workflows import linking
from workflows.ebay import OFFER_SCOPE
from workflows.errors import EmailUnavailable
from workflows.models import Reason, SnipeStatus
from workflows.services import get_services
from workflows.timing import parse_utc, utc_now

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

User = tuple[str, str]
Result = tuple[int, dict[str, str], Any]


# --- helpers -------------------------------------------------------------------


def new_user(prefix: str = "link") -> User:
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    return name, f"{name}@example.com"


def connect(user: User) -> dict[str, Any]:
    status, _, body = call(api_event("GET", "/api/ebay/connect", user=user))
    assert status == 200, body
    return dict(body)


def callback(user: User, code: str, state: str) -> Result:
    return call(
        api_event(
            "POST", "/api/ebay/callback", user=user, body={"code": code, "state": state}
        )
    )


def link(user: User) -> dict[str, Any]:
    """The whole flow for ``user``; returns the callback's body."""
    code, state = agree(connect(user)["url"], user[0])
    status, _, body = callback(user, code, state)
    assert status == 200, body
    return dict(body)


def linked_user() -> User:
    """A new user who has linked an eBay account."""
    user = new_user()
    link(user)
    return user


def unlink(user: User) -> tuple[int, dict[str, str], Any]:
    """``user`` unlinks the eBay account: the API's (status, headers, body)."""
    return call(api_event("DELETE", "/api/ebay/connection", user=user))


def link_status(user: User) -> dict[str, Any]:
    status, _, body = call(api_event("GET", "/api/ebay/status", user=user))
    assert status == 200, body
    return dict(body)


def error_code(result: Result) -> tuple[int, str]:
    status, _, body = result
    return status, body["error"]["code"]


@pytest.fixture
def clock_at(stack: LocalStack) -> Iterator[Callable[[datetime], None]]:
    """Run the API with ``services.now`` fixed at a given moment."""

    def set_now(moment: datetime) -> None:
        services = dataclasses.replace(stack.services, now=lambda: moment)
        app.dependency_overrides[get_services] = lambda: services

    yield set_now
    app.dependency_overrides.pop(get_services, None)


def create_snipe(user: User, item_id: str, offset: int = 6) -> dict[str, Any]:
    status, _, body = post_snipe(user, item_id, bid_offset_seconds=offset)
    assert status == 201, body
    return dict(body)


def raw_link_item(stack: LocalStack, user_id: str) -> dict[str, Any] | None:
    item = stack.aws.dynamodb.get_item(
        TableName=stack.aws.table_name,
        Key={"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "EBAY"}},
        ConsistentRead=True,
    ).get("Item")
    return dict(item) if item else None


# --- connect ---------------------------------------------------------------------


def test_connect_answers_ebays_consent_url_with_a_short_lived_state(
    stack: LocalStack,
) -> None:
    user = new_user()
    before = utc_now()

    body = connect(user)

    parts = urlsplit(body["url"])
    assert f"{parts.scheme}://{parts.netloc}" == stack.ebay_url
    assert parts.path == "/oauth2/authorize"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query == {
        "client_id": EBAY_CLIENT_ID,
        "redirect_uri": EBAY_RU_NAME,
        "response_type": "code",
        "scope": OFFER_SCOPE,
        "state": body["state"],
    }
    after = utc_now()
    expires_at = parse_utc(body["expires_at"])
    ttl = timedelta(minutes=10)
    assert before + ttl - timedelta(seconds=1) <= expires_at <= after + ttl
    assert user[0] not in body["state"], "the user id is bound, not disclosed"
    nonce = body["state"].split(".")[0]
    item = stack.aws.dynamodb.get_item(
        TableName=stack.aws.table_name,
        Key={"PK": {"S": f"OAUTHSTATE#{nonce}"}, "SK": {"S": "OAUTHSTATE"}},
        ConsistentRead=True,
    )["Item"]
    assert item["user_id"] == {"S": user[0]}
    assert int(item["ttl"]["N"]) == int(expires_at.timestamp())


def test_each_connect_has_its_own_state(stack: LocalStack) -> None:
    user = new_user()

    assert connect(user)["state"] != connect(user)["state"]


# --- the whole flow ----------------------------------------------------------------


def test_whole_flow_links_the_account_and_never_returns_a_token(
    stack: LocalStack,
) -> None:
    user = new_user()
    before = link_status(user)

    connected = connect(user)
    code, state = agree(connected["url"], user[0])
    status, _, linked = callback(user, code, state)
    after = link_status(user)

    assert before == {
        "linked": False,
        "linked_at": None,
        "refresh_expires_at": None,
        "needs_reconnect": False,
    }
    assert status == 200, linked
    assert linked == after
    assert (after["linked"], after["needs_reconnect"]) == (True, False)
    assert abs(parse_utc(after["linked_at"]) - utc_now()) < timedelta(seconds=30)
    refresh_left = parse_utc(after["refresh_expires_at"]) - utc_now()
    assert timedelta(days=540) < refresh_left < timedelta(days=550)  # ~18 months
    account = stack.services.store.get_ebay_account(user[0])
    assert account is not None and not account.needs_reconnect
    assert account.refresh_token in stack.ebay.issued_secrets()
    # The stored authorization is the user's own and works.
    assert stack.services.ebay.refresh_user_token(account.refresh_token).value
    texts = json.dumps([connected, linked, after])
    for secret in stack.ebay.issued_secrets():
        assert secret not in texts
    assert code not in texts


def test_a_linked_account_can_snipe(stack: LocalStack) -> None:
    user = new_user()
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=600)
    link(user)
    try:
        created = create_snipe(user, auction.item_id)
        assert created["status"] == "SCHEDULED"
    finally:
        stop_running(stack, user[0])


def test_url_encoded_code_is_accepted(stack: LocalStack) -> None:
    user = new_user()
    code, state = agree(connect(user)["url"], user[0])

    status, _, body = callback(user, quote(code, safe=""), state)

    assert (status, body["linked"]) == (200, True)


def test_linking_again_replaces_the_authorization_and_clears_reconnect(
    stack: LocalStack,
) -> None:
    user = linked_user()
    first = stack.services.store.get_ebay_account(user[0])
    stack.services.store.mark_needs_reconnect(user[0])
    assert link_status(user)["needs_reconnect"] is True

    relinked = link(user)

    second = stack.services.store.get_ebay_account(user[0])
    assert relinked["needs_reconnect"] is False
    assert first is not None and second is not None
    assert second.refresh_token != first.refresh_token


# --- a bad state -------------------------------------------------------------------


def _extend(state: str) -> str:
    nonce, exp, mac = state.split(".")
    return f"{nonce}.{int(exp) + 3600}.{mac}"


def _tamper(state: str, part: int) -> str:
    pieces = state.split(".")
    piece = pieces[part]
    pieces[part] = piece[:-1] + ("A" if piece[-1] != "A" else "B")
    return ".".join(pieces)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: _tamper(s, 0), id="nonce"),
        pytest.param(_extend, id="expiry"),
        pytest.param(lambda s: _tamper(s, 2), id="mac"),
        pytest.param(lambda s: s + "x", id="appended"),
        pytest.param(lambda s: s.rsplit(".", 1)[0], id="unsigned"),
        pytest.param(lambda s: "", id="empty"),
        pytest.param(lambda s: "not-a-state", id="garbage"),
    ],
)
def test_tampered_state_is_400_invalid_state(
    stack: LocalStack, tamper: Callable[[str], str]
) -> None:
    user = new_user()
    code, state = agree(connect(user)["url"], user[0])
    bad = tamper(state)
    assert bad != state

    result = callback(user, code, bad)

    if bad == "":
        assert error_code(result) == (422, "VALIDATION_FAILED")
    else:
        assert error_code(result) == (400, "INVALID_STATE")
    assert link_status(user)["linked"] is False
    # A refused attempt does not spend the real state.
    assert callback(user, code, state)[0] == 200


def test_replayed_state_is_400_state_already_used(stack: LocalStack) -> None:
    user = new_user()
    url = connect(user)["url"]
    code, state = agree(url, user[0])
    assert callback(user, code, state)[0] == 200
    second_code, _ = agree(url, user[0])  # even with a fresh code

    result = callback(user, second_code, state)

    assert error_code(result) == (400, "STATE_ALREADY_USED")
    assert "again" in result[2]["error"]["message"]


def test_expired_state_is_400_state_expired(
    stack: LocalStack, clock_at: Callable[[datetime], None]
) -> None:
    user = new_user()
    connected = connect(user)
    code, state = agree(connected["url"], user[0])
    expires_at = parse_utc(connected["expires_at"])

    clock_at(expires_at)
    expired = callback(user, code, state)
    clock_at(expires_at - timedelta(seconds=1))
    just_in_time = callback(user, code, state)

    assert error_code(expired) == (400, "STATE_EXPIRED")
    assert just_in_time[0] == 200, just_in_time[2]


def test_another_users_state_is_400_invalid_state(stack: LocalStack) -> None:
    alice, mallory = new_user("alice"), new_user("mallory")
    code, state = agree(connect(alice)["url"], alice[0])

    result = callback(mallory, code, state)

    assert error_code(result) == (400, "INVALID_STATE")
    assert link_status(mallory)["linked"] is False
    assert stack.services.store.get_ebay_account(mallory[0]) is None
    # Mallory's attempt spent neither Alice's state nor her code.
    status, _, body = callback(alice, code, state)
    assert (status, body["linked"]) == (200, True)


def test_state_of_another_deployment_is_400_invalid_state(stack: LocalStack) -> None:
    user = new_user()
    code, state = agree(connect(user)["url"], user[0])
    nonce, exp, _ = state.split(".")
    forged = linking.sign_state(b"k" * 32, user[0], nonce, int(exp))

    assert error_code(callback(user, code, forged)) == (400, "INVALID_STATE")


# --- a bad code --------------------------------------------------------------------


def test_code_from_another_environment_is_400_ebay_code_rejected(
    stack: LocalStack,
) -> None:
    user = new_user()
    # A code eBay's production issued to our production app: the sandbox token
    # endpoint (another client id) answers invalid_grant.
    foreign = stack.ebay.create_auth_code(
        user[0], [OFFER_SCOPE], client_id="production-client-id"
    )

    result = callback(user, foreign, connect(user)["state"])

    assert error_code(result) == (400, "EBAY_CODE_REJECTED")
    message = result[2]["error"]["message"]
    assert "environment" in message and "again" in message
    assert foreign not in json.dumps(result[2])
    assert link_status(user)["linked"] is False


def test_used_or_unknown_code_is_400_ebay_code_rejected(stack: LocalStack) -> None:
    user = new_user()
    code, state = agree(connect(user)["url"], user[0])
    assert callback(user, code, state)[0] == 200

    reused = callback(user, code, connect(user)["state"])
    unknown = callback(user, "v^1.1#i^1#made-up", connect(user)["state"])

    assert error_code(reused) == (400, "EBAY_CODE_REJECTED")
    assert error_code(unknown) == (400, "EBAY_CODE_REJECTED")


def test_ebay_down_is_502(stack: LocalStack) -> None:
    user = new_user()
    code, state = agree(connect(user)["url"], user[0])
    stack.ebay.inject_fault("token", status=503)
    try:
        result = callback(user, code, state)
    finally:
        stack.ebay.clear_faults("token")

    assert error_code(result) == (502, "EBAY_UNAVAILABLE")
    assert link_status(user)["linked"] is False


@pytest.mark.parametrize(
    "body",
    [
        {"state": "x"},
        {"code": "x"},
        {"code": "x", "state": "y" * 513},
        {"code": 1, "state": "y"},
        {"code": "x", "state": "y", "refresh_token": "z"},
    ],
)
def test_invalid_callback_body_is_422(stack: LocalStack, body: dict[str, Any]) -> None:
    result = call(api_event("POST", "/api/ebay/callback", user=new_user(), body=body))

    assert error_code(result) == (422, "VALIDATION_FAILED")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/ebay/connect"),
        ("POST", "/api/ebay/callback"),
        ("GET", "/api/ebay/status"),
        ("DELETE", "/api/ebay/connection"),
    ],
)
def test_routes_need_an_identity(stack: LocalStack, method: str, path: str) -> None:
    body = {"code": "x", "state": "y"} if method == "POST" else None

    result = call(api_event(method, path, user=None, body=body))

    assert error_code(result) == (401, "UNAUTHORIZED")


# --- unlink ------------------------------------------------------------------------


def test_unlink_deletes_the_tokens_and_skips_scheduled_snipes(
    stack: LocalStack,
) -> None:
    user, other = new_user(), new_user("other")
    link(user)
    stack.link_ebay(other[0])
    auctions = [
        stack.ebay.create_auction(start_price="10.00", end_in_s=600) for _ in range(3)
    ]
    try:
        snipes = [create_snipe(user, a.item_id)["snipe_id"] for a in auctions]
        others = create_snipe(other, auctions[0].item_id)["snipe_id"]
        cancelled = snipes.pop()
        arns = {s: stack.services.store.get(s).execution_arn or "" for s in snipes}
        for arn in arns.values():
            wait_until_waiting(stack, arn)
        status, _, cancel = call(
            api_event("DELETE", f"/api/snipes/{cancelled}", user=user)
        )
        assert status == 200, cancel

        status, _, body = unlink(user)

        assert status == 200, body
        assert body == {"unlinked": True, "was_linked": True, "skipped_snipes": 2}
        assert stack.services.store.get_ebay_account(user[0]) is None
        assert raw_link_item(stack, user[0]) is None
        assert link_status(user)["linked"] is False
        for snipe_id, arn in arns.items():
            snipe = stack.services.store.get(snipe_id)
            assert (snipe.status, snipe.reason) == (
                SnipeStatus.SKIPPED,
                Reason.EBAY_NOT_LINKED,
            )
            stopped = stack.aws.wait_for_execution(arn, timeout=10)
            assert stopped["status"] == "ABORTED"
        assert stack.services.store.get(cancelled).status is SnipeStatus.CANCELLED
        assert stack.services.store.get(others).status is SnipeStatus.SCHEDULED
        assert stack.services.store.get_ebay_account(other[0]) is not None
        _, _, listed = call(
            api_event("GET", "/api/snipes", user=user, query={"status": "SKIPPED"})
        )
        assert {s["snipe_id"] for s in listed["items"]} == set(snipes)
        assert {s["reason"] for s in listed["items"]} == {"EBAY_NOT_LINKED"}
    finally:
        stop_running(stack, user[0])
        stop_running(stack, other[0])


def test_after_unlink_creating_a_snipe_is_409_ebay_not_linked(
    stack: LocalStack,
) -> None:
    user = linked_user()
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=600)
    assert unlink(user)[0] == 200

    result = post_snipe(user, auction.item_id)

    assert error_code(result) == (409, "EBAY_NOT_LINKED")


def test_unlink_twice_or_never_linked_is_not_an_error(stack: LocalStack) -> None:
    user = linked_user()

    first = unlink(user)
    second = unlink(user)
    never = unlink(new_user())

    assert first[2] == {"unlinked": True, "was_linked": True, "skipped_snipes": 0}
    assert second[2] == {"unlinked": True, "was_linked": False, "skipped_snipes": 0}
    assert never[2] == {"unlinked": True, "was_linked": False, "skipped_snipes": 0}


def test_unlink_after_the_bid_leaves_it_and_reports_the_result_unknown(
    stack: LocalStack,
) -> None:
    user = linked_user()
    auction = stack.ebay.create_auction(start_price="10.00", end_in_s=12)
    snipe_id = create_snipe(user, auction.item_id, offset=2)["snipe_id"]
    deadline = time.monotonic() + 20
    while stack.services.store.get(snipe_id).status is not SnipeStatus.BID_PLACED:
        assert time.monotonic() < deadline, stack.services.store.get(snipe_id)
        time.sleep(0.02)

    status, _, body = unlink(user)
    arn = stack.services.store.get(snipe_id).execution_arn or ""
    finished = stack.aws.wait_for_execution(arn, timeout=60)

    assert (status, body["skipped_snipes"]) == (200, 0)
    snipe = stack.services.store.get(snipe_id)
    assert (snipe.status, snipe.reason) == (SnipeStatus.FAILED, Reason.RESULT_UNKNOWN)
    assert snipe.bid is not None, "the bid stays on eBay"
    assert finished["status"] == "FAILED"  # "Snipe failed", after the email
    [email] = stack.postmark.outbox(to=user[1])
    assert "failed" in email["Subject"]
    assert "Our bid reached eBay" in email["TextBody"]


# --- expiry warnings ---------------------------------------------------------------


def run_expiry_job() -> dict[str, Any]:
    from tasks.ebay_token_expiry import lambda_handler

    result: dict[str, Any] = lambda_handler({"source": "aws.events"}, LambdaContext())
    return result


def seed_link(stack: LocalStack, expires_in: timedelta) -> User:
    """A linked user whose refresh token expires ``expires_in`` from now."""
    user = new_user("expiry")
    link(user)
    account = stack.services.store.get_ebay_account(user[0])
    assert account is not None
    stack.services.store.put_ebay_account(
        user[0], account.refresh_token, utc_now() + expires_in
    )
    stack.services.store.set_ebay_link_email(user[0], user[1])
    return user


def test_expiry_job_warns_once_per_expiry_within_14_days(stack: LocalStack) -> None:
    soon = seed_link(stack, timedelta(days=3))
    edge = seed_link(stack, timedelta(days=13, hours=23))
    later = seed_link(stack, timedelta(days=15))
    expired = seed_link(stack, timedelta(days=-1))

    first = run_expiry_job()
    second = run_expiry_job()

    for user in (soon, edge, expired):
        [message] = stack.postmark.outbox(to=user[1])
        assert "Settings → eBay" in message["TextBody"]
        assert "reconnect" in message["Subject"]
    assert stack.postmark.outbox(to=later[1]) == []
    assert "expires on" in stack.postmark.outbox(to=soon[1])[0]["Subject"]
    assert "has expired" in stack.postmark.outbox(to=expired[1])[0]["Subject"]
    assert first["warned"] >= 3
    assert second["warned"] == 0
    assert second["already_warned"] >= 3
    secrets = stack.ebay.issued_secrets()
    for message in stack.postmark.outbox():
        assert not any(s in json.dumps(message) for s in secrets)

    # Linking again gives a new expiry: warned again when that one nears.
    account = stack.services.store.get_ebay_account(soon[0])
    assert account is not None
    stack.services.store.put_ebay_account(
        soon[0], account.refresh_token, utc_now() + timedelta(days=2)
    )
    stack.services.store.set_ebay_link_email(soon[0], soon[1])
    run_expiry_job()
    assert len(stack.postmark.outbox(to=soon[1])) == 2


def test_expiry_job_retries_users_postmark_could_not_reach(stack: LocalStack) -> None:
    user = seed_link(stack, timedelta(days=5))
    stack.postmark.inject_fault("email", status=503)
    try:
        with pytest.raises(EmailUnavailable):
            run_expiry_job()
    finally:
        stack.postmark.clear_faults()
    assert stack.postmark.outbox(to=user[1]) == []

    result = run_expiry_job()

    assert result["failed"] == 0
    assert len(stack.postmark.outbox(to=user[1])) == 1


def test_expiry_job_skips_links_that_are_far_from_expiry(stack: LocalStack) -> None:
    user = new_user("fresh")
    link(user)

    run_expiry_job()

    assert stack.postmark.outbox(to=user[1]) == []


# --- secrets -------------------------------------------------------------------------


def test_no_log_line_contains_a_token_or_code(
    stack: LocalStack, captured_logs: list[str]
) -> None:
    link(new_user())
    secrets = [s for s in stack.ebay.issued_secrets() if len(s) >= 16]
    assert secrets
    text = "\n".join(captured_logs)

    leaked = [s[:12] for s in secrets if s in text or quote(s, safe="") in text]

    assert leaked == []


# --- OpenAPI -------------------------------------------------------------------------


def test_openapi_documents_the_routes_and_their_bodies(stack: LocalStack) -> None:
    status, _, document = call(api_event("GET", "/api/openapi.json", user=None))
    assert status == 200
    paths = document["paths"]

    def validate(path: str, method: str, code: str, body: Any) -> None:
        content = paths[path][method]["responses"][code]["content"]
        schema = {
            **content["application/json"]["schema"],
            "components": document["components"],
        }
        jsonschema.Draft202012Validator(schema).validate(body)

    user = new_user()
    connected = connect(user)
    code, state = agree(connected["url"], user[0])
    replay = callback(user, code, state), callback(user, code, state)
    validate("/api/ebay/connect", "get", "200", connected)
    validate("/api/ebay/callback", "post", "200", replay[0][2])
    validate("/api/ebay/callback", "post", "400", replay[1][2])
    validate("/api/ebay/status", "get", "200", link_status(user))
    unlinked = unlink(user)[2]
    validate("/api/ebay/connection", "delete", "200", unlinked)
    request = paths["/api/ebay/callback"]["post"]["requestBody"]["content"]
    assert set(
        document["components"]["schemas"]["EbayCallbackRequest"]["required"]
    ) == {"code", "state"}
    assert "application/json" in request
    described = paths["/api/ebay/callback"]["post"]["responses"]["400"]["description"]
    for error in ("INVALID_STATE", "STATE_EXPIRED", "STATE_ALREADY_USED"):
        assert error in described
    assert "EBAY_CODE_REJECTED" in described
    for operations in (v for k, v in paths.items() if k.startswith("/api/ebay/")):
        for operation in operations.values():
            assert operation["security"] == [{"CognitoIdToken": []}]
    assert "token" not in json.dumps(
        document["components"]["schemas"]["EbayLinkView"]["properties"]
    ).replace("needs_reconnect", "")

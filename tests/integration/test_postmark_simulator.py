"""The Postmark simulator over real HTTP on 127.0.0.1 (httpx, server thread)."""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandbox.httpserver import BackgroundServer
from sandbox.postmark_sim import (
    TEST_TOKEN,
    PostmarkError,
    PostmarkSimulator,
    start_postmark_simulator,
)
from tests.support.simulators import client_of, reset, serving

TOKEN = "pm-server-token"
SUBMITTED_AT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$")


@pytest.fixture(scope="module")
def postmark() -> Iterator[tuple[PostmarkSimulator, BackgroundServer]]:
    yield from serving(lambda: start_postmark_simulator(server_token=TOKEN))


@pytest.fixture
def sim(postmark: tuple[PostmarkSimulator, BackgroundServer]) -> PostmarkSimulator:
    return reset(postmark)


@pytest.fixture
def client(
    postmark: tuple[PostmarkSimulator, BackgroundServer],
) -> Iterator[httpx.Client]:
    yield from client_of(postmark)


def headers(token: str | None = TOKEN) -> dict[str, str]:
    result = {"Accept": "application/json", "Content-Type": "application/json"}
    if token is not None:
        result["X-Postmark-Server-Token"] = token
    return result


def email(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "From": "Snipes <snipes@example.com>",
        "To": "alice@example.com",
        "Subject": "You won!",
        "TextBody": "You won the auction.",
        "Tag": "snipe-result",
        "Metadata": {"snipe_id": "s-1"},
        "MessageStream": "outbound",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def template_email(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "From": "snipes@example.com",
        "To": "alice@example.com",
        "TemplateAlias": "snipe-won",
        "TemplateModel": {"title": "ThinkPad", "price": "25.00"},
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def send(
    client: httpx.Client,
    body: Any,
    token: str | None = TOKEN,
    path: str = "/email",
    timeout: float | None = None,
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    if timeout is None:
        return client.post(path, headers=headers(token), content=content)
    return client.post(path, headers=headers(token), content=content, timeout=timeout)


def assert_error(response: httpx.Response, status: int, code: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ErrorCode"] == code
    message: str = body["Message"]
    assert message
    return message


# -- success ---------------------------------------------------------------------


def test_send_email(sim: PostmarkSimulator, client: httpx.Client) -> None:
    response = send(client, email())
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"To", "SubmittedAt", "MessageID", "ErrorCode", "Message"}
    assert body["To"] == "alice@example.com"
    assert (body["ErrorCode"], body["Message"]) == (0, "OK")
    assert SUBMITTED_AT.match(body["SubmittedAt"])
    uuid.UUID(body["MessageID"])

    [message] = sim.outbox()
    assert message["MessageID"] == body["MessageID"]
    assert message["Subject"] == "You won!"
    assert message["Metadata"] == {"snipe_id": "s-1"}
    assert message["Recipients"] == ["alice@example.com"]
    assert message["Endpoint"] == "email"
    assert message["TestMode"] is False


def test_send_with_template(sim: PostmarkSimulator, client: httpx.Client) -> None:
    response = send(client, template_email(), path="/email/withTemplate")
    assert response.status_code == 200
    by_id = template_email(TemplateAlias=None, TemplateId=12345)
    assert send(client, by_id, path="/email/withTemplate").status_code == 200
    first, second = sim.outbox()
    assert first["TemplateModel"] == {"title": "ThinkPad", "price": "25.00"}
    assert first["Endpoint"] == "email_with_template"
    assert second["TemplateId"] == 12345


def test_test_token_is_accepted(sim: PostmarkSimulator, client: httpx.Client) -> None:
    response = send(client, email(), token=TEST_TOKEN)
    assert response.status_code == 200
    assert response.json()["Message"] == "Test job accepted"
    assert sim.outbox()[0]["TestMode"] is True


def test_outbox_filter_and_clear(sim: PostmarkSimulator, client: httpx.Client) -> None:
    assert send(client, email(To="Alice <Alice@Example.com>")).status_code == 200
    assert send(client, email(To="bob@example.com", Cc="carol@example.com")).is_success
    assert [m["To"] for m in sim.outbox(to="alice@example.com")] == [
        "Alice <Alice@Example.com>"
    ]
    assert len(sim.outbox(to="CAROL@example.com")) == 1
    over_http = client.get("/sim/outbox", params={"to": "bob@example.com"}).json()
    assert [m["To"] for m in over_http] == ["bob@example.com"]
    assert len(client.get("/sim/outbox").json()) == 2
    assert client.delete("/sim/outbox").json() == {"cleared": 2}
    assert sim.outbox() == []


def test_wait_for_messages(sim: PostmarkSimulator, client: httpx.Client) -> None:
    def later() -> None:
        time.sleep(0.2)
        send(client, email(To="late@example.com"))

    thread = threading.Thread(target=later)
    thread.start()
    found = sim.wait_for_messages(to="late@example.com", timeout_s=3.0)
    thread.join()
    assert len(found) == 1
    assert sim.wait_for_messages(count=2, timeout_s=0.1) == found


# -- validation --------------------------------------------------------------------


def test_token_required(sim: PostmarkSimulator, client: httpx.Client) -> None:
    assert_error(send(client, email(), token=None), 401, 10)
    assert_error(send(client, email(), token="wrong"), 401, 10)
    lower_case = client.post(
        "/email",
        headers={"x-postmark-server-token": TOKEN, "content-type": "application/json"},
        content=json.dumps(email()).encode(),
    )
    assert lower_case.status_code == 200
    assert len(sim.outbox()) == 1


def test_invalid_json(sim: PostmarkSimulator, client: httpx.Client) -> None:
    assert_error(send(client, b"{not json"), 422, 402)
    assert_error(send(client, b""), 422, 402)
    assert_error(send(client, [email()]), 422, 403)
    assert sim.outbox() == []


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"From": None}, "From"),
        ({"From": "not-an-address"}, "From"),
        ({"From": "a@example.com, b@example.com"}, "From"),
        ({"To": None}, "recipients"),
        ({"To": ""}, "recipients"),
        ({"To": "alice@"}, "To"),
        ({"To": "alice@example.com, bogus"}, "To"),
        ({"To": ["alice@example.com"]}, "To"),
        ({"Cc": "nope"}, "Cc"),
        ({"Bcc": "nope"}, "Bcc"),
        ({"TextBody": None}, "TextBody"),
        ({"TextBody": ""}, "TextBody"),
        ({"Metadata": "x"}, "Metadata"),
    ],
)
def test_email_validation(
    sim: PostmarkSimulator,
    client: httpx.Client,
    overrides: dict[str, Any],
    fragment: str,
) -> None:
    body = email(**{k: v for k, v in overrides.items() if v is not None})
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
    message = assert_error(send(client, body), 422, 300)
    assert fragment in message
    assert sim.outbox() == []


def test_html_body_alone_is_enough(
    client: httpx.Client, sim: PostmarkSimulator
) -> None:
    body = email(HtmlBody="<p>won</p>")
    body.pop("TextBody")
    assert send(client, body).status_code == 200


def test_too_many_recipients(sim: PostmarkSimulator, client: httpx.Client) -> None:
    to = ", ".join(f"user{i}@example.com" for i in range(51))
    assert_error(send(client, email(To=to)), 422, 300)


@pytest.mark.parametrize(
    "overrides",
    [
        {"TemplateAlias": None},
        {"TemplateModel": None},
        {"TemplateModel": "x"},
        {"TemplateId": 1},
        {"TemplateAlias": None, "TemplateId": "12"},
        {"From": None},
        {"To": "bad"},
    ],
)
def test_template_validation(
    sim: PostmarkSimulator, client: httpx.Client, overrides: dict[str, Any]
) -> None:
    body = template_email(**{k: v for k, v in overrides.items() if v is not None})
    for key, value in overrides.items():
        if value is None:
            body.pop(key, None)
    assert_error(send(client, body, path="/email/withTemplate"), 422, 300)


def test_inactive_recipient(sim: PostmarkSimulator, client: httpx.Client) -> None:
    sim.mark_inactive("Bounced@Example.com")
    message = assert_error(send(client, email(To="bounced@example.com")), 422, 406)
    assert "Found inactive addresses: bounced@example.com." in message
    cc = email(To="ok@example.com", Cc="bounced@example.com")
    assert_error(send(client, cc), 422, 406)
    assert sim.outbox() == []

    added = client.post("/sim/inactive", json={"email": "gone@example.com"})
    assert added.status_code == 201
    assert client.get("/sim/inactive").json() == [
        "bounced@example.com",
        "gone@example.com",
    ]
    assert_error(send(client, email(To="gone@example.com")), 422, 406)
    client.delete("/sim/inactive/gone@example.com")
    sim.reactivate("bounced@example.com")
    assert send(client, email(To="bounced@example.com")).status_code == 200


def test_sender_signatures() -> None:
    _sim, server = start_postmark_simulator(
        server_token=TOKEN, sender_signatures=["example.com", "ops@other.org"]
    )
    try:
        with httpx.Client(base_url=server.url) as http:
            assert send(http, email(From="ops@other.org")).status_code == 200
            assert send(http, email(From="x@example.com")).status_code == 200
            assert_error(send(http, email(From="x@other.org")), 422, 400)
    finally:
        server.stop()


def test_python_send_api(sim: PostmarkSimulator) -> None:
    assert sim.send(email())["ErrorCode"] == 0
    with pytest.raises(PostmarkError) as info:
        sim.send(email(To="nope"))
    assert (info.value.status, info.value.error_code) == (422, 300)


# -- faults ----------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code"), [(429, 429), (500, 500), (503, 100)])
def test_status_faults_drop_the_message(
    sim: PostmarkSimulator, client: httpx.Client, status: int, code: int
) -> None:
    sim.inject_fault("email", status=status, count=1)
    assert_error(send(client, email()), status, code)
    assert sim.outbox() == []
    assert send(client, email()).status_code == 200  # count exhausted
    assert len(sim.outbox()) == 1
    assert sim.faults() == []


def test_fault_that_still_delivers(
    sim: PostmarkSimulator, client: httpx.Client
) -> None:
    sim.inject_fault("*", status=500, deliver=True, count=1)
    assert_error(send(client, email()), 500, 500)
    assert len(sim.outbox()) == 1  # the duplicate-risk case


def test_fault_endpoint_scope_and_clear(
    sim: PostmarkSimulator, client: httpx.Client
) -> None:
    sim.inject_fault("email_with_template", status=503)
    assert send(client, email()).status_code == 200
    path = "/email/withTemplate"
    assert send(client, template_email(), path=path).status_code == 503
    assert send(client, template_email(), path=path).status_code == 503
    assert client.delete("/sim/faults").json() == {"removed": 1}
    assert send(client, template_email(), path=path).status_code == 200


def test_latency_and_timeout_faults(
    sim: PostmarkSimulator, client: httpx.Client
) -> None:
    created = client.post(
        "/sim/faults", json={"endpoint": "email", "latency_ms": 250, "count": 1}
    )
    assert created.status_code == 201
    started = time.time()
    assert send(client, email()).status_code == 200
    assert time.time() - started >= 0.25

    sim.inject_fault("email", timeout_s=1.0, count=1)
    with pytest.raises(httpx.ReadTimeout):
        send(client, email(To="slow@example.com"), timeout=0.3)
    assert len(sim.outbox(to="slow@example.com")) == 1  # accepted, reply lost


def test_invalid_fault_arguments(sim: PostmarkSimulator, client: httpx.Client) -> None:
    with pytest.raises(ValueError):
        sim.inject_fault("batch", status=500)
    with pytest.raises(ValueError):
        sim.inject_fault("email")
    assert client.post("/sim/faults", json={"endpoint": "email"}).status_code == 400


# -- request log -------------------------------------------------------------------


def test_request_log_has_no_token(sim: PostmarkSimulator, client: httpx.Client) -> None:
    before = time.time()
    assert send(client, email()).status_code == 200
    after = time.time()
    send(client, email(), token="wrong-secret-value")
    send(client, template_email(TemplateModel=None), path="/email/withTemplate")

    log = sim.requests()
    assert [r["status"] for r in log] == [200, 401, 422]
    first = log[0]
    assert before <= first["arrival"] <= after
    assert first["endpoint"] == "email"
    assert first["token_valid"] is True
    assert first["message_id"] == sim.outbox()[0]["MessageID"]
    assert first["recipients"] == ["alice@example.com"]
    assert log[1]["token_valid"] is False
    assert log[1]["error_code"] == 10
    assert log[2]["error_code"] == 300
    assert sim.requests(endpoint="email_with_template") == [log[2]]
    assert client.get("/sim/requests", params={"endpoint": "email"}).json() == log[:2]
    dumped = json.dumps(log) + client.get("/sim/requests").text
    assert TOKEN not in dumped
    assert "wrong-secret-value" not in dumped
    client.delete("/sim/requests")
    assert sim.requests() == []


def test_reset_over_http(sim: PostmarkSimulator, client: httpx.Client) -> None:
    send(client, email())
    sim.mark_inactive("x@example.com")
    sim.inject_fault("email", latency_ms=1)
    assert client.post("/sim/reset").status_code == 200
    assert (sim.outbox(), sim.inactive(), sim.faults()) == ([], [], [])
    assert client.get("/sim/health").json() == {"ok": True}

"""Unit tests for workflows.postmark.PostmarkClient (HTTP mocked with respx)."""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from tests.support.http import TRANSPORT_FAILURES, answer
from workflows.postmark import (
    EmailMessage,
    PostmarkClient,
    PostmarkError,
    PostmarkRejected,
    PostmarkUnavailable,
    SendResult,
)

EMAIL_URL = "https://api.postmarkapp.com/email"
SERVER_TOKEN = "pm-server-token-4f1c2b9e"
OK_BODY = {
    "To": "buyer@example.com",
    "SubmittedAt": "2026-09-30T16:03:52.7892753Z",
    "MessageID": "b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
    "ErrorCode": 0,
    "Message": "OK",
}
MESSAGE = EmailMessage(
    from_address="Snipe <snipes@example.com>",
    to="buyer@example.com",
    subject="You won: Vintage Omega",
    text_body="You won the auction for $130.00.",
)


@pytest.fixture
def client() -> Iterator[PostmarkClient]:
    with PostmarkClient(server_token=SERVER_TOKEN) as instance:
        yield instance


def assert_token_free(exc: BaseException) -> None:
    text = "".join(traceback.format_exception(exc)) + repr(exc.args)
    assert SERVER_TOKEN not in text


def test_send_posts_pascal_case_json(
    client: PostmarkClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(EMAIL_URL).mock(
        return_value=httpx.Response(200, json=OK_BODY)
    )

    result = client.send(MESSAGE)

    assert result == SendResult(
        message_id="b7bc2f4a-e38e-4336-af7d-e6c392c2f817",
        submitted_at="2026-09-30T16:03:52.7892753Z",
        to="buyer@example.com",
    )
    request = route.calls.last.request
    assert request.headers["X-Postmark-Server-Token"] == SERVER_TOKEN
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "From": "Snipe <snipes@example.com>",
        "To": "buyer@example.com",
        "Subject": "You won: Vintage Omega",
        "TextBody": "You won the auction for $130.00.",
        "MessageStream": "outbound",
    }


def test_send_includes_optional_fields(
    client: PostmarkClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(EMAIL_URL).mock(
        return_value=httpx.Response(200, json=OK_BODY)
    )
    message = EmailMessage(
        from_address="snipes@example.com",
        to="buyer@example.com",
        subject="Outbid",
        text_body="text",
        html_body="<p>html</p>",
        tag="snipe-result",
        metadata={"snipe_id": "s-123"},
        message_stream="notifications",
    )

    client.send(message)

    body = json.loads(route.calls.last.request.content)
    assert body["HtmlBody"] == "<p>html</p>"
    assert body["Tag"] == "snipe-result"
    assert body["Metadata"] == {"snipe_id": "s-123"}
    assert body["MessageStream"] == "notifications"


def test_send_uses_explicit_timeout(
    client: PostmarkClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(EMAIL_URL).mock(
        return_value=httpx.Response(200, json=OK_BODY)
    )
    client.send(MESSAGE)
    timeout = route.calls.last.request.extensions["timeout"]
    assert (timeout["connect"], timeout["read"]) == (3.0, 5.0)


@pytest.mark.parametrize(
    ("status", "body", "error_code"),
    [
        (422, {"ErrorCode": 300, "Message": "Invalid 'From' address."}, 300),
        (422, {"ErrorCode": 406, "Message": "Found inactive addresses: a@x."}, 406),
        (401, {"ErrorCode": 10, "Message": "Bad or missing API token."}, 10),
        (200, {**OK_BODY, "ErrorCode": 406, "Message": "Inactive recipient"}, 406),
        (403, "<html>Forbidden</html>", None),
        (404, None, None),
    ],
)
def test_rejections(
    client: PostmarkClient,
    respx_mock: respx.MockRouter,
    status: int,
    body: dict[str, Any] | str | None,
    error_code: int | None,
) -> None:
    response = (
        httpx.Response(status, text=body)
        if isinstance(body, str)
        else httpx.Response(status, json=body)
    )
    respx_mock.post(EMAIL_URL).mock(return_value=response)

    with pytest.raises(PostmarkRejected) as info:
        client.send(MESSAGE)

    assert info.value.http_status == status
    assert info.value.error_code == error_code
    if isinstance(body, dict):
        assert info.value.message == body["Message"]
    assert_token_free(info.value)


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (httpx.Response(429, json={"ErrorCode": 429, "Message": "Rate limit"}), 429),
        (httpx.Response(500, json={"ErrorCode": 0, "Message": "oops"}), 500),
        (httpx.Response(503, text="unavailable"), 503),
        *TRANSPORT_FAILURES,
    ],
)
def test_transient_failures(
    client: PostmarkClient,
    respx_mock: respx.MockRouter,
    response: httpx.Response | Exception,
    status: int | None,
) -> None:
    answer(respx_mock.post(EMAIL_URL), response)

    with pytest.raises(PostmarkUnavailable) as info:
        client.send(MESSAGE)

    assert info.value.http_status == status
    assert_token_free(info.value)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json={"ErrorCode": 0, "Message": "OK"}),
        httpx.Response(200, text="not json"),
        httpx.Response(201, json=OK_BODY),
    ],
)
def test_unexpected_success_shapes_are_plain_errors(
    client: PostmarkClient, respx_mock: respx.MockRouter, response: httpx.Response
) -> None:
    respx_mock.post(EMAIL_URL).mock(return_value=response)
    with pytest.raises(PostmarkError) as info:
        client.send(MESSAGE)
    assert type(info.value) is PostmarkError


def test_token_echoed_by_server_is_redacted(
    client: PostmarkClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(EMAIL_URL).mock(
        return_value=httpx.Response(
            401, json={"ErrorCode": 10, "Message": f"Bad token {SERVER_TOKEN}"}
        )
    )
    with pytest.raises(PostmarkRejected) as info:
        client.send(MESSAGE)
    assert_token_free(info.value)
    assert SERVER_TOKEN not in info.value.message


def test_repr_hides_token() -> None:
    client = PostmarkClient(server_token=SERVER_TOKEN, base_url="http://sim:9000/")
    assert SERVER_TOKEN not in repr(client)
    assert "http://sim:9000" in repr(client)
    client.close()


def test_empty_token_is_rejected() -> None:
    with pytest.raises(ValueError, match="server_token"):
        PostmarkClient(server_token="")


def test_injected_client_is_used_and_left_open() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=OK_BODY)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = PostmarkClient(base_url="http://sim:9000", server_token="t", http=http)
    client.send(MESSAGE)
    client.close()

    assert str(seen[0].url) == "http://sim:9000/email"
    assert not http.is_closed
    http.close()

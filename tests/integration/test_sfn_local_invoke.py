"""The Lambda Invoke endpoint Step Functions Local calls, over real HTTP.

Step Functions Local invokes a task's function with the AWS SDK against
``LAMBDA_ENDPOINT``: ``POST /2015-03-31/functions/<function ARN,
URL-encoded>/invocations``, the state's input as the body. Here the moto server
(with the engine's invoke hook) answers it directly and through the gateway
the container talks to; both are checked with botocore's own Lambda client and
with raw requests shaped like an SDK's, signed or not (Step Functions Local
does not send the credentials it was given to endpoint overrides).
"""

from __future__ import annotations

import io
import json
import threading
import time
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.config import Config

from sandbox import aws, engine
from sandbox.httpserver import BackgroundServer
from sandbox.sfn_local.lambda_gateway import LambdaGateway, check_bind_host

REGION = "us-east-1"


class AuctionNotSettled(Exception):
    """Stands for one of our task errors: its class name is the error name."""


def ok_handler(event: Any, context: Any) -> dict[str, Any]:
    return {"got": event, "function": context.function_name}


def failing_handler(event: Any, context: Any) -> Any:
    raise AuctionNotSettled(f"still ACTIVE: {event['item_id']}")


def slow_handler(event: Any, context: Any) -> dict[str, float]:
    started = time.monotonic()
    time.sleep(float(event["sleep"]))
    return {"started": started}


HANDLERS: dict[str, engine.Handler] = {
    "OkFunction": ok_handler,
    "FailingFunction": failing_handler,
    "SlowFunction": slow_handler,
}


@pytest.fixture(scope="module")
def moto() -> Iterator[tuple[aws.MotoServer, dict[str, str]]]:
    server = aws.MotoServer()
    server.start()
    try:
        lambda_ = _client("lambda", server.url)
        role = _client("iam", server.url).create_role(
            RoleName="invoke-test",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17"}),
        )["Role"]["Arn"]
        arns = {
            name: lambda_.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=role,
                Handler="unused.handler",
                Code={"ZipFile": _zip()},
                Timeout=30,
            )["FunctionArn"]
            for name in HANDLERS
        }
        with engine.registered_handlers(HANDLERS):
            yield server, arns
    finally:
        server.stop()


@pytest.fixture(scope="module")
def gateway(moto: tuple[aws.MotoServer, dict[str, str]]) -> Iterator[BackgroundServer]:
    with LambdaGateway(moto[0].url).serve() as running:
        yield running


@pytest.fixture(params=["moto", "gateway"])
def endpoint(
    request: pytest.FixtureRequest,
    moto: tuple[aws.MotoServer, dict[str, str]],
) -> str:
    if request.param == "moto":
        return moto[0].url
    gateway: BackgroundServer = request.getfixturevalue("gateway")
    return gateway.url


def _client(service: str, url: str, **config: Any) -> Any:
    session: Any = boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name=REGION,
    )
    return session.client(service, endpoint_url=url, config=Config(**config))


def _invoke_by_arn(
    endpoint: str, moto: tuple[aws.MotoServer, dict[str, str]], name: str, event: Any
) -> Any:
    """Invoke the function ``name`` by its ARN with ``event`` as JSON: the answer."""
    return _client("lambda", endpoint).invoke(
        FunctionName=moto[1][name], Payload=json.dumps(event).encode()
    )


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "in-process")
    return buffer.getvalue()


def _invocations(arn: str) -> str:
    return f"/2015-03-31/functions/{quote(arn, safe='')}/invocations"


# --------------------------------------------------------------------------- #
# botocore's Lambda client
# --------------------------------------------------------------------------- #
def test_botocore_invoke_by_arn_returns_the_handlers_result(
    endpoint: str, moto: tuple[aws.MotoServer, dict[str, str]]
) -> None:
    response = _invoke_by_arn(
        endpoint, moto, "OkFunction", {"snipe_id": "s-1", "n": [1, 2]}
    )

    assert response["StatusCode"] == 200
    assert "FunctionError" not in response
    assert response["ExecutedVersion"] == "$LATEST"
    assert json.loads(response["Payload"].read()) == {
        "got": {"snipe_id": "s-1", "n": [1, 2]},
        "function": "OkFunction",
    }


def test_botocore_unsigned_invoke_by_name_through_the_gateway(
    gateway: BackgroundServer,
) -> None:
    lambda_ = _client("lambda", gateway.url, signature_version=UNSIGNED)

    response = lambda_.invoke(FunctionName="OkFunction", Payload=b'"just a string"')

    assert response["StatusCode"] == 200
    assert json.loads(response["Payload"].read())["got"] == "just a string"


def test_a_raised_exception_is_a_function_error_named_by_its_class(
    endpoint: str, moto: tuple[aws.MotoServer, dict[str, str]]
) -> None:
    response = _invoke_by_arn(endpoint, moto, "FailingFunction", {"item_id": "v1|1|0"})

    assert response["StatusCode"] == 200  # a function error is not an API error
    assert response["FunctionError"] == "Unhandled"
    error = json.loads(response["Payload"].read())
    assert error["errorType"] == "AuctionNotSettled"  # what Retry/Catch match
    assert error["errorMessage"] == "still ACTIVE: v1|1|0"
    assert isinstance(error["stackTrace"], list)
    assert "failing_handler" in "".join(error["stackTrace"])


def test_unknown_function_is_resource_not_found(endpoint: str) -> None:
    lambda_ = _client("lambda", endpoint)

    with pytest.raises(lambda_.exceptions.ResourceNotFoundException):
        lambda_.invoke(FunctionName="NoSuchFunction", Payload=b"{}")


def test_a_body_that_is_not_json_is_invalid_request_content(endpoint: str) -> None:
    lambda_ = _client("lambda", endpoint)

    with pytest.raises(lambda_.exceptions.InvalidRequestContentException):
        lambda_.invoke(FunctionName="OkFunction", Payload=b"{not json")


def test_event_and_dry_run_invocation_types(endpoint: str) -> None:
    lambda_ = _client("lambda", endpoint)

    event = lambda_.invoke(
        FunctionName="OkFunction", InvocationType="Event", Payload=b"{}"
    )
    dry_run = lambda_.invoke(
        FunctionName="OkFunction", InvocationType="DryRun", Payload=b"{}"
    )

    assert event["StatusCode"] == 202
    assert event["Payload"].read() == b""
    assert dry_run["StatusCode"] == 204


# --------------------------------------------------------------------------- #
# Raw requests, as an SDK sends them
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "application/json",
        "application/x-amz-json-1.1",
        "application/octet-stream",
        "application/x-www-form-urlencoded; charset=UTF-8",
    ],
)
def test_raw_unsigned_invoke_keeps_the_payload_whatever_the_content_type(
    gateway: BackgroundServer,
    moto: tuple[aws.MotoServer, dict[str, str]],
    content_type: str | None,
) -> None:
    payload = {"snipe_id": "s-2", "execution_name": "s-2", "attempt": 0}
    headers = {"X-Amz-Invocation-Type": "RequestResponse"}
    if content_type:
        headers["Content-Type"] = content_type

    response = httpx.post(
        gateway.url + _invocations(moto[1]["OkFunction"]),
        content=json.dumps(payload).encode(),
        headers=headers,
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert "x-amz-function-error" not in response.headers
    assert response.json() == {"got": payload, "function": "OkFunction"}


def test_a_chunked_body_is_read_whole(gateway: BackgroundServer) -> None:
    payload = {"snipe_id": "s-3", "padding": "x" * 70_000}

    def chunks() -> Iterator[bytes]:
        data = json.dumps(payload).encode()
        for start in range(0, len(data), 8192):
            yield data[start : start + 8192]

    response = httpx.post(gateway.url + _invocations("OkFunction"), content=chunks())

    assert response.status_code == 200, response.text
    assert response.json()["got"] == payload


def test_raw_function_error_headers_and_body(
    gateway: BackgroundServer, moto: tuple[aws.MotoServer, dict[str, str]]
) -> None:
    response = httpx.post(
        gateway.url + _invocations(moto[1]["FailingFunction"]),
        content=b'{"item_id": "v1|2|0"}',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 200
    assert response.headers["x-amz-function-error"] == "Unhandled"
    assert response.json()["errorType"] == "AuctionNotSettled"


def test_an_invoke_signed_for_another_service_still_reaches_lambda(
    gateway: BackgroundServer,
) -> None:
    response = httpx.post(
        gateway.url + _invocations("OkFunction"),
        content=b"{}",
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/"
            "s3/aws4_request, SignedHeaders=host, Signature=abc"
        },
    )

    assert response.status_code == 200
    assert response.json()["function"] == "OkFunction"


def test_moto_alone_sends_an_unsigned_invoke_astray(
    moto: tuple[aws.MotoServer, dict[str, str]],
) -> None:
    """Why LAMBDA_ENDPOINT is the gateway and not moto: moto routes a request by
    the service in its signature, and an unsigned one is not taken for Lambda.
    If this starts passing through, the gateway's routing header can go."""
    response = httpx.post(
        moto[0].url + _invocations(moto[1]["OkFunction"]),
        content=b"{}",
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code != 200 or "function" not in response.text


# --------------------------------------------------------------------------- #
# The gateway only
# --------------------------------------------------------------------------- #
def test_gateway_serves_invoke_only(gateway: BackgroundServer) -> None:
    listing = httpx.get(f"{gateway.url}/2015-03-31/functions/")
    dynamodb = httpx.post(
        f"{gateway.url}/",
        headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"},
        content=b"{}",
    )

    for response in (listing, dynamodb):
        assert response.status_code == 404
        assert response.headers["x-amzn-errortype"] == "UnknownOperationException"


def test_gateway_runs_invocations_concurrently(gateway: BackgroundServer) -> None:
    results: list[float] = []

    def call() -> None:
        response = httpx.post(
            gateway.url + _invocations("SlowFunction"),
            content=b'{"sleep": 1.0}',
            timeout=30,
        )
        results.append(response.json()["started"])

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 3
    assert max(results) - min(results) < 0.9  # all three started before one ended


def test_gateway_reports_an_unreachable_moto_as_a_lambda_service_error() -> None:
    with LambdaGateway("http://127.0.0.1:9").serve() as gateway:  # nothing listens on 9
        lambda_ = _client("lambda", gateway.url, retries={"max_attempts": 1})
        with pytest.raises(lambda_.exceptions.ServiceException):
            lambda_.invoke(FunctionName="OkFunction", Payload=b"{}")


@pytest.mark.parametrize("host", ["0.0.0.0", "8.8.8.8", "::", "localhost"])
def test_gateway_refuses_wide_or_public_bind_addresses(host: str) -> None:
    with pytest.raises(ValueError):
        check_bind_host(host)


def test_gateway_accepts_loopback_and_docker_bridge_addresses() -> None:
    assert check_bind_host("127.0.0.1") == "127.0.0.1"
    assert check_bind_host("172.17.0.1") == "172.17.0.1"

"""The one place production code builds boto3 clients and translates their errors.

``client(service)`` returns the process' client for an AWS service (built once,
with the short timeouts and standard retries of ``workflows.budget``; the
endpoint comes from the
standard ``AWS_ENDPOINT_URL*`` variables, so moto or Step Functions Local need no
code path of their own). ``reset_clients()`` forgets them (the endpoint or the
credentials changed).

``translate_errors`` turns what is worth retrying into the caller's
``ServiceUnavailable`` subclass: a throttling or busy error code becomes
``busy``, a connection error or timeout (``BotoCoreError``) becomes
``unreachable``; every other ``ClientError`` passes through for the caller to
map to its own domain error.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from workflows import budget
from workflows.errors import ServiceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_stepfunctions import SFNClient


@overload
def client(service: Literal["dynamodb"]) -> DynamoDBClient: ...
@overload
def client(service: Literal["kms"]) -> KMSClient: ...
@overload
def client(service: Literal["stepfunctions"]) -> SFNClient: ...
def client(service: str) -> Any:
    """The process' client for ``service``."""
    return _cached(service)


@cache
def _cached(service: str) -> Any:
    # Timeouts and attempts: workflows.budget (per function, from the environment).
    config = budget.aws_client_config()
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def operator_client(service: str) -> Any:
    """A client for the operator CLI (``python -m ops``): services only
    operators call (Lambda, CloudFormation), with a read timeout that waits
    for a task Lambda to finish."""
    return _operator_cached(service)


@cache
def _operator_cached(service: str) -> Any:
    config = Config(
        connect_timeout=3,
        read_timeout=30,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget every cached client (the endpoint or credentials changed)."""
    _cached.cache_clear()
    _operator_cached.cache_clear()


def error_code(exc: ClientError, default: str = "") -> str:
    """The AWS error code of a ``ClientError`` (``default`` if it has none)."""
    return str(exc.response.get("Error", {}).get("Code", default))


@contextmanager
def translate_errors(
    unavailable: type[ServiceUnavailable],
    *,
    busy_codes: Collection[str],
    busy: str,
    unreachable: str,
) -> Iterator[None]:
    """Raise ``unavailable(busy)`` for a busy code, ``unavailable(unreachable)``
    for a connection error or timeout; let every other error through."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in busy_codes:
            raise unavailable(busy) from exc
        raise
    except BotoCoreError as exc:
        raise unavailable(unreachable) from exc

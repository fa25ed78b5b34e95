"""boto3 clients of the operator CLI.

DynamoDB and Step Functions come from the workflows' own factories (the
clients the Lambdas use); Lambda and CloudFormation, which only operators
call, are built here with the same settings. All honour ``AWS_ENDPOINT_URL*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from workflows import executions, store

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_stepfunctions import SFNClient

_CONFIG = Config(
    connect_timeout=3,
    read_timeout=30,
    retries={"max_attempts": 3, "mode": "standard"},
)


def dynamodb() -> DynamoDBClient:
    return store.default_client()


def stepfunctions() -> SFNClient:
    return executions.default_client()


def client(service: str) -> Any:
    """A client of a service only operators call (lambda, cloudformation)."""
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]

"""boto3 clients of the operator CLI.

DynamoDB and Step Functions come from the workflows' own factories (the
clients the Lambdas use); Lambda and CloudFormation, which only operators
call, are built here with the same settings. All honour ``AWS_ENDPOINT_URL*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows import aws

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_stepfunctions import SFNClient


def dynamodb() -> DynamoDBClient:
    return aws.client("dynamodb")


def stepfunctions() -> SFNClient:
    return aws.client("stepfunctions")


def client(service: str) -> Any:
    """A client of a service only operators call (lambda, cloudformation)."""
    return aws.operator_client(service)

"""The snipes table as ``template.yaml`` defines it, for moto in tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws

from sandbox.template import load_template
from workflows.crypto import TokenVault

REGION = "us-east-1"


def table_spec() -> dict[str, Any]:
    """``CreateTable`` arguments (no name) of the template's one table."""
    table = next(
        resource["Properties"]
        for resource in load_template()["Resources"].values()
        if resource["Type"] == "AWS::DynamoDB::Table"
    )
    keys = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes")
    return {"BillingMode": "PAY_PER_REQUEST", **{k: table[k] for k in keys}}


def create_table(client: Any, name: str) -> None:
    """Create the table ``name`` with the template's keys and indexes."""
    client.create_table(TableName=name, **table_spec())


@contextmanager
def moto_table(prefix: str) -> Iterator[tuple[Any, str]]:
    """Inside ``mock_aws``: a DynamoDB client and a fresh table ``<prefix>-<hex>``.

    A fresh name per test: when the session's local stack is running, this
    ``mock_aws`` nests inside it and moto keeps its data between tests.
    """
    table = f"{prefix}-{uuid.uuid4().hex[:12]}"
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_table(client, table)
        yield client, table


def moto_vault() -> tuple[Any, TokenVault]:
    """(Inside ``mock_aws``) a KMS client and a token vault on a new key."""
    kms = boto3.client("kms", region_name=REGION)
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    return kms, TokenVault(key_id, kms)

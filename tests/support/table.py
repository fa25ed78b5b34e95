"""The snipes table as ``template.yaml`` defines it, for moto in tests."""

from __future__ import annotations

from typing import Any

from sandbox.aws import load_template


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

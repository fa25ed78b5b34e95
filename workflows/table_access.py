"""The snipes table's DynamoDB client for the modules that keep shared,
non-snipe records in it (``item_cache``, ``ebay_budget``, ``app_token``,
``active_items``).

They use the store's own client (``SnipeStore``: the one client factory, moto
in tests) and share its error mapping: throttling and unreachability become
``StoreUnavailable``; ``condition_failed`` is the store's test for a refused
conditional write.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from workflows.store.table import condition_failed as condition_failed
from workflows.store.table import store_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from workflows.store import SnipeStore

T = TypeVar("T")


class Table:
    """``(client, table name)`` with the store's error mapping."""

    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client = client
        self.name = name

    @classmethod
    def of(cls, store: SnipeStore) -> Table:
        client: DynamoDBClient = store._client
        return cls(client, store.table_name)

    def call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        with store_errors():
            return fn(TableName=self.name, **kwargs)

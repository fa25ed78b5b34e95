"""The snipes table: client, error mapping, items, transactions, cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Collection, Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, TypeVar, cast

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from workflows import aws
from workflows.crypto import TokenVault, VaultNotConfigured
from workflows.errors import (
    InvalidCursor,
    StoreUnavailable,
)
from workflows.timing import to_z

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
    )
    from mypy_boto3_dynamodb import DynamoDBClient


T = TypeVar("T")


_THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "LimitExceededException",
    }
)


_BUSY = "the snipe store is busy; retry shortly"


_KEY_ATTRS = ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "kind")


_serializer = TypeSerializer()


_deserializer = TypeDeserializer()


def _to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _plain(value: Any) -> Any:
    """Decimal -> int where integral (DynamoDB numbers come back as Decimal)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
        return int(value) if value == int(value) else str(value)
    return value


class _Owned(Protocol):
    @property
    def user_id(self) -> str: ...


_R = TypeVar("_R", bound=_Owned)


def _owned(record: _R, user_id: str, missing: Exception) -> _R:
    """``record`` if it is ``user_id``'s: another user's is 'not found'."""
    if record.user_id != user_id:
        raise missing
    return record


def condition_failed(exc: ClientError) -> bool:
    """Whether DynamoDB refused a write because its condition did not hold."""
    return aws.error_code(exc) == "ConditionalCheckFailedException"


def store_errors(
    busy_codes: Collection[str] = _THROTTLING,
) -> AbstractContextManager[None]:
    """Throttling -> ``StoreUnavailable`` (busy); no connection -> unreachable."""
    return aws.translate_errors(
        StoreUnavailable,
        busy_codes=busy_codes,
        busy=_BUSY,
        unreachable="the snipe store is unreachable",
    )


def _whole_second(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC): sorts before every stored time of that
    second and after every stored time of the seconds before."""
    return to_z(moment)[:19]


def _encode_cursor(key: Mapping[str, Any]) -> str:
    raw = json.dumps(_from_item(key), sort_keys=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, index: str, partition: str) -> dict[str, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this API returned") from exc
    expected = {"PK", "SK", f"{index}PK", f"{index}SK"}
    if (
        not isinstance(data, dict)
        or set(data) != expected
        or not all(isinstance(v, str) for v in data.values())
        or data.get(f"{index}PK") != partition
    ):
        raise InvalidCursor("the cursor does not belong to this listing")
    return _to_item(data)


class _Refusal(NamedTuple):
    """One item's part in a cancelled transaction."""

    code: str
    item: Mapping[str, Any] | None


class Table:
    """One DynamoDB client on one table (and the token vault, if any)."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        vault: TokenVault | None = None,
    ) -> None:
        self.table_name = table_name
        self._client = client or aws.client("dynamodb")
        self._vault = vault
        self._idempotency_layer: DynamoDBPersistenceLayer | None = None

    def _require_vault(self) -> TokenVault:
        if self._vault is None:
            raise VaultNotConfigured(
                "this store has no token vault: it neither stores nor reads eBay"
                " tokens (plaintext is never written)"
            )
        return self._vault

    # --- plumbing ----------------------------------------------------------
    def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        with store_errors():
            return fn(TableName=self.table_name, **kwargs)

    def _update_returning(
        self, key: Mapping[str, Any], **update: Any
    ) -> dict[str, Any] | ClientError:
        """UpdateItem: the new item, or the refusal when the condition failed
        (its ``response["Item"]`` is the old item, if any)."""
        try:
            response = self._call(
                self._client.update_item,
                Key=key,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **update,
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            return exc
        return dict(response["Attributes"])

    def _put_new(self, item: Mapping[str, Any]) -> None:
        """PutItem of an item that must not exist yet."""
        self._call(
            self._client.put_item,
            Item=item,
            ConditionExpression="attribute_not_exists(PK)",
        )

    def _set_existing(self, key: Mapping[str, Any], attribute: str, value: str) -> None:
        """SET one string attribute of an item that must exist."""
        self._call(
            self._client.update_item,
            Key=key,
            UpdateExpression=f"SET {attribute} = :v",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":v": {"S": value}},
        )

    def _read_existing(
        self, key: Mapping[str, Any], missing: Exception
    ) -> dict[str, Any]:
        """The item at ``key`` (a consistent read); raises ``missing`` if none."""
        item = self._read(key)
        if item is None:
            raise missing
        return item

    def _read(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """The item at ``key`` (a consistent read), or None."""
        response = self._call(self._client.get_item, Key=key, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _transact(self, items: list[dict[str, Any]]) -> list[_Refusal] | None:
        """TransactWriteItems: None once committed, else each item's
        cancellation (code ``ConditionalCheckFailed``, ``TransactionConflict``,
        ``None``...; the old item with ``ReturnValuesOnConditionCheckFailure``).
        Throttling becomes ``StoreUnavailable``."""
        try:
            with store_errors(_THROTTLING | {"TransactionInProgressException"}):
                self._client.transact_write_items(TransactItems=cast(Any, items))
        except ClientError as exc:
            if aws.error_code(exc) != "TransactionCanceledException":
                raise
            reasons: list[Mapping[str, Any]] = exc.response.get(  # type: ignore[assignment]
                "CancellationReasons", []
            )
            refusals = [
                _Refusal(str(r.get("Code") or "None"), r.get("Item")) for r in reasons
            ]
            if any(r.code in _THROTTLING | {"ThrottlingError"} for r in refusals):
                raise StoreUnavailable(_BUSY) from exc
            missing = len(items) - len(refusals)
            return refusals + [_Refusal("None", None)] * missing
        return None

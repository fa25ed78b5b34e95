"""DynamoDB store: the only module that talks to the snipes table.

Single-table layout (keys defined in ``template.yaml``)::

    snipe        PK=SNIPE#<id>     SK=SNIPE
                 GSI1PK=USER#<uid>            GSI1SK=CREATED#<created_at>#<id>
                 GSI2PK=USER#<uid>#<status>   GSI2SK=CREATED#<created_at>#<id>
    eBay link    PK=USER#<uid>     SK=EBAY

Every status change is a conditional write, so no update is lost and no
transition happens twice. Throttling and unavailability become
``StoreUnavailable``; a refused condition becomes ``TransitionRejected``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from workflows.errors import (
    ApiError,
    SnipeNotFound,
    StoreUnavailable,
    TransitionRejected,
)
from workflows.models import EbayAccount, Reason, Snipe, SnipeStatus
from workflows.timing import to_z, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

T = TypeVar("T")

_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
}
_KEY_ATTRS = ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "kind")
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class InvalidCursor(ApiError):
    status = 400
    code = "INVALID_CURSOR"


def _to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(v) for k, v in values.items()}


def _from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in item.items()}


def _snipe_key(snipe_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"SNIPE#{snipe_id}"}, "SK": {"S": "SNIPE"}}


def _ebay_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "EBAY"}}


def _sort_key(snipe: Snipe) -> str:
    return f"CREATED#{to_z(snipe.created_at)}#{snipe.snipe_id}"


def _status_partition(user_id: str, status: SnipeStatus) -> str:
    return f"USER#{user_id}#{status.value}"


def _plain(value: Any) -> Any:
    """Decimal -> int where integral (DynamoDB numbers come back as Decimal)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "as_integer_ratio") and not isinstance(value, (int, float)):
        return int(value) if value == int(value) else str(value)
    return value


def _snipe_from_item(item: Mapping[str, Any]) -> Snipe:
    data = {k: v for k, v in _from_item(item).items() if k not in _KEY_ATTRS}
    return Snipe.model_validate(_plain(data))


class SnipeStore:
    def __init__(self, table_name: str, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = client or default_client()

    # --- plumbing ----------------------------------------------------------
    def _call(self, fn: Callable[..., T], **kwargs: Any) -> T:
        try:
            return fn(TableName=self.table_name, **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _THROTTLING:
                raise StoreUnavailable(
                    "the snipe store is busy; retry shortly"
                ) from exc
            raise
        except BotoCoreError as exc:  # connection errors, timeouts
            raise StoreUnavailable("the snipe store is unreachable") from exc

    # --- snipes ------------------------------------------------------------
    def create(self, snipe: Snipe) -> None:
        values = snipe.model_dump(mode="json")
        values.update(
            kind="snipe",
            GSI1PK=f"USER#{snipe.user_id}",
            GSI1SK=_sort_key(snipe),
            GSI2PK=_status_partition(snipe.user_id, snipe.status),
            GSI2SK=_sort_key(snipe),
        )
        item = {**_snipe_key(snipe.snipe_id), **_to_item(values)}
        self._call(
            self._client.put_item,
            Item=item,
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get(self, snipe_id: str) -> Snipe:
        response = self._call(
            self._client.get_item, Key=_snipe_key(snipe_id), ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            raise SnipeNotFound(f"no snipe {snipe_id}")
        return _snipe_from_item(item)

    def get_for_user(self, user_id: str, snipe_id: str) -> Snipe:
        """The snipe if it belongs to the user; another user's snipe is 'not found'."""
        snipe = self.get(snipe_id)
        if snipe.user_id != user_id:
            raise SnipeNotFound(f"no snipe {snipe_id}")
        return snipe

    def delete(self, snipe_id: str) -> None:
        self._call(self._client.delete_item, Key=_snipe_key(snipe_id))

    def list_for_user(
        self,
        user_id: str,
        *,
        status: SnipeStatus | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[Snipe], str | None]:
        """The user's snipes, newest first, one page at a time."""
        if status is None:
            index, partition = "GSI1", f"USER#{user_id}"
        else:
            index, partition = "GSI2", _status_partition(user_id, status)
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": f"{index}PK = :p",
            "ExpressionAttributeValues": {":p": {"S": partition}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = _decode_cursor(cursor, index, partition)
        response = self._call(self._client.query, **kwargs)
        snipes = [_snipe_from_item(item) for item in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return snipes, _encode_cursor(last) if last else None

    def set_execution_arn(self, snipe_id: str, execution_arn: str) -> None:
        self._call(
            self._client.update_item,
            Key=_snipe_key(snipe_id),
            UpdateExpression="SET execution_arn = :a",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":a": {"S": execution_arn}},
        )

    def transition(
        self,
        snipe_id: str,
        *,
        allowed_from: Collection[SnipeStatus],
        to: SnipeStatus,
        reason: Reason | None = None,
        fields: Mapping[str, Any] | None = None,
        claimed_by: str | None = None,
        user_id: str | None = None,
    ) -> Snipe:
        """Move the snipe to ``to`` only if it is in one of ``allowed_from``.

        With ``claimed_by`` the write also succeeds when the snipe is already in
        ``to`` and claimed by the same execution (a retried task is idempotent).
        ``fields`` are extra top-level attributes (JSON-able values) set atomically.
        """
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":to": SnipeStatus(to).value,
            ":now": to_z(utc_now()),
            ":gsi2": None,  # filled below once the user id is known
            ":one": 1,
        }
        sets = [
            "#status = :to",
            "updated_at = :now",
            "version = version + :one",
            "GSI2PK = :gsi2",
        ]
        if reason is not None:
            values[":reason"] = reason.value
            sets.append("reason = :reason")
        for i, (name, value) in enumerate((fields or {}).items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
        allowed = sorted({SnipeStatus(s).value for s in allowed_from})
        placeholders = []
        for i, status in enumerate(allowed):
            values[f":from{i}"] = status
            placeholders.append(f":from{i}")
        condition = f"#status IN ({', '.join(placeholders)})"
        if claimed_by is not None:
            values[":claimer"] = claimed_by
            sets.append("claimed_by = :claimer")
            condition = f"({condition}) OR (#status = :to AND claimed_by = :claimer)"
        # The per-status index partition needs the (immutable) owner id; callers
        # that already hold the snipe pass it and save a read.
        user_id = user_id or self._user_id(snipe_id)
        values[":gsi2"] = _status_partition(user_id, SnipeStatus(to))
        try:
            response = self._call(
                self._client.update_item,
                Key=_snipe_key(snipe_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=f"attribute_exists(PK) AND ({condition})",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=_to_item(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != (
                "ConditionalCheckFailedException"
            ):
                raise
            old: Mapping[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            current = _from_item(old).get("status") if old else None
            if current is None:
                current = self._current_status(snipe_id)
            raise TransitionRejected(snipe_id, current) from exc
        return _snipe_from_item(response["Attributes"])

    def _user_id(self, snipe_id: str) -> str:
        response = self._call(
            self._client.get_item,
            Key=_snipe_key(snipe_id),
            ProjectionExpression="user_id",
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            raise SnipeNotFound(f"no snipe {snipe_id}")
        return str(item["user_id"]["S"])

    def _current_status(self, snipe_id: str) -> str | None:
        try:
            return self.get(snipe_id).status.value
        except SnipeNotFound:
            return None

    # --- eBay account link ------------------------------------------------
    def put_ebay_account(
        self,
        user_id: str,
        refresh_token: str,
        refresh_expires_at: datetime | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "kind": "ebay_account",
            "user_id": user_id,
            "refresh_token": refresh_token,
            "refresh_expires_at": to_z(refresh_expires_at)
            if refresh_expires_at
            else None,
            "needs_reconnect": False,
            "linked_at": to_z(utc_now()),
        }
        self._call(
            self._client.put_item, Item={**_ebay_key(user_id), **_to_item(values)}
        )

    def get_ebay_account(self, user_id: str) -> EbayAccount | None:
        response = self._call(
            self._client.get_item, Key=_ebay_key(user_id), ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return None
        data = {
            k: v
            for k, v in _from_item(item).items()
            if k in EbayAccount.model_fields and v is not None
        }
        return EbayAccount.model_validate(data)

    def cache_access_token(
        self, user_id: str, access_token: str, expires_at: datetime
    ) -> None:
        self._call(
            self._client.update_item,
            Key=_ebay_key(user_id),
            UpdateExpression="SET access_token = :t, access_expires_at = :e",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=_to_item(
                {":t": access_token, ":e": to_z(expires_at)}
            ),
        )

    def forget_access_token(self, user_id: str) -> None:
        """Drop a cached access token eBay refused, so the next use refreshes."""
        self._call(
            self._client.update_item,
            Key=_ebay_key(user_id),
            UpdateExpression="REMOVE access_token, access_expires_at",
            ConditionExpression="attribute_exists(PK)",
        )

    def mark_needs_reconnect(self, user_id: str) -> None:
        self._call(
            self._client.update_item,
            Key=_ebay_key(user_id),
            UpdateExpression="SET needs_reconnect = :t REMOVE access_token, "
            "access_expires_at",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )


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


def default_client() -> DynamoDBClient:
    return _cached_client()


@lru_cache(maxsize=1)
def _cached_client() -> DynamoDBClient:
    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.client("dynamodb", config=config)


def reset_client() -> None:
    """Forget the cached client (the endpoint or credentials changed)."""
    _cached_client.cache_clear()

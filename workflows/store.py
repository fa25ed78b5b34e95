"""DynamoDB store: the only module that talks to the snipes table.

Single-table layout (keys defined in ``template.yaml``)::

    snipe        PK=SNIPE#<id>     SK=SNIPE
                 GSI1PK=USER#<uid>            GSI1SK=CREATED#<created_at>#<id>
                 GSI2PK=USER#<uid>#<status>   GSI2SK=CREATED#<created_at>#<id>
    eBay link    PK=USER#<uid>     SK=EBAY
                 GSI3PK=EBAY_LINK             GSI3SK=<refresh_expires_at>
                 (GSI3 is sparse: only usable links with a known expiry)

The eBay link's refresh token and cached access token are stored only sealed by
the ``TokenVault`` (``workflows.crypto``: KMS Encrypt/Decrypt under the token
key, encryption context ``{user_id, purpose, value_id, part}``); a store without a
vault refuses to write or read them. ``ebay_link_status`` and
``list_links_expiring_before`` never decrypt anything.

Every status change is a conditional write, so no update is lost and no
transition happens twice. Throttling and unavailability become
``StoreUnavailable``; a refused condition becomes ``TransitionRejected``.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

from workflows import budget
from workflows.crypto import TokenDecryptionFailed, TokenVault, VaultNotConfigured
from workflows.errors import (
    ApiError,
    GroupNotFound,
    SnipeNotFound,
    StoreUnavailable,
    TransitionRejected,
    WinsWantedTooLow,
)
from workflows.models import (
    ACTIVE_STATUSES,
    EbayAccess,
    EbayAccount,
    EbayLinkStatus,
    Group,
    NotificationPreferences,
    Reason,
    Snipe,
    SnipeStatus,
)
from workflows.observability import logger
from workflows.timing import to_z, utc_now

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
    )
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
# eBay link item: the sealed tokens, their vault purposes (part of the KMS
# encryption context), and the sparse index of links by refresh-token expiry.
REFRESH_TOKEN_PURPOSE = "ebay_refresh_token"  # noqa: S105 - a label, not a token  # nosec B105
ACCESS_TOKEN_PURPOSE = "ebay_access_token"  # noqa: S105 - a label, not a token  # nosec B105
_REFRESH_SEALED = "refresh_token_sealed"
_ACCESS_SEALED = "access_token_sealed"
_EBAY_LINK_PARTITION = "EBAY_LINK"
_LINK_STATUS_ATTRS = (
    "user_id",
    "linked_at",
    "refresh_expires_at",
    "needs_reconnect",
    "email",
    "expiry_warned_for",
)
# A snipe's current execution (``execution_name``) is the only one that may
# claim it; snipes that record no name (absent or null) accept any execution.
# Needs ``:execution`` (the claimer) and ``:null_type`` ("NULL") as values.
CURRENT_EXECUTION_CONDITION = (
    "(attribute_not_exists(execution_name)"
    " OR attribute_type(execution_name, :null_type)"
    " OR execution_name = :execution)"
)
# Idempotency records (Powertools) share one partition; their sort key is the
# hash of the user id and the client's key (workflows.idempotency).
IDEMPOTENCY_PARTITION = "IDEMPOTENCY"
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
    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        vault: TokenVault | None = None,
    ) -> None:
        self.table_name = table_name
        self._client = client or default_client()
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
        index, partition = _user_index(user_id, status)
        items, next_cursor = self._newest_first(index, partition, limit, cursor)
        return [_snipe_from_item(item) for item in items], next_cursor

    def _newest_first(
        self, index: str, partition: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of an index partition, newest first, and the next cursor."""
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
        last = response.get("LastEvaluatedKey")
        items: list[dict[str, Any]] = list(response.get("Items", []))
        return items, _encode_cursor(last) if last else None

    def count_active_for_user(self, user_id: str) -> int:
        """How many of the user's snipes are SCHEDULED, BIDDING or BID_PLACED.

        One ``Select=COUNT`` query per active status on the per-status index
        (GSI2), following ``LastEvaluatedKey`` (a page stops after 1 MB of
        evaluated items). GSI reads are eventually consistent: a snipe written
        a moment ago may not be counted yet (see docs/security.md).
        """
        total = 0
        for status in sorted(ACTIVE_STATUSES):
            kwargs: dict[str, Any] = {
                "IndexName": "GSI2",
                "KeyConditionExpression": "GSI2PK = :p",
                "ExpressionAttributeValues": {
                    ":p": {"S": _status_partition(user_id, status)}
                },
                "Select": "COUNT",
            }
            while True:
                response = self._call(self._client.query, **kwargs)
                total += int(response.get("Count", 0))
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                kwargs["ExclusiveStartKey"] = last
        return total

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
        current_execution: str | None = None,
    ) -> Snipe:
        """Move the snipe to ``to`` only if it is in one of ``allowed_from``.

        With ``claimed_by`` the write also succeeds when the snipe is already in
        ``to`` and claimed by the same execution (a retried task is idempotent).
        With ``current_execution`` the move from ``allowed_from`` also requires
        that execution to be the snipe's current one (``execution_name``; a
        snipe that records no name accepts any): an execution an edit or a
        reschedule replaced can never claim the snipe.
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
        if current_execution is not None:
            values[":execution"] = current_execution
            values[":null_type"] = "NULL"
            condition = f"({condition}) AND {CURRENT_EXECUTION_CONDITION}"
        if claimed_by is not None:
            values[":claimer"] = claimed_by
            sets.append("claimed_by = :claimer")
            condition = f"({condition}) OR (#status = :to AND claimed_by = :claimer)"
        # The per-status index partition needs the (immutable) owner id; callers
        # that already hold the snipe pass it and save a read.
        user_id = user_id or self._user_id(snipe_id)
        values[":gsi2"] = _status_partition(user_id, SnipeStatus(to))
        # A snipe holding a win-N group slot takes the group transaction path
        # (``_transition_holding_slot``): this plain write refuses it.
        slot_guard = (
            "" if to in _KEEPS_SLOT else " AND attribute_not_exists(group_slot)"
        )
        try:
            response = self._call(
                self._client.update_item,
                Key=_snipe_key(snipe_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=f"attribute_exists(PK) AND ({condition})"
                + slot_guard,
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
            if slot_guard:
                held = self._transition_holding_slot(
                    snipe_id, old, allowed, to, reason, sets, names, values, condition
                )
                if held is not None:
                    return held
            current = _from_item(old).get("status") if old else None
            if current is None:
                current = self._current_status(snipe_id)
            raise TransitionRejected(snipe_id, current) from exc
        return _snipe_from_item(response["Attributes"])

    def claim_pending_notice(self, snipe: Snipe, record: Mapping[str, Any]) -> None:
        """Record the "result pending" email as claimed, only if none was yet
        and the result is still open (BIDDING/BID_PLACED); else TransitionRejected.
        """
        try:
            self._call(
                self._client.update_item,
                Key=_snipe_key(snipe.snipe_id),
                UpdateExpression="SET pending_notice = :notice",
                ConditionExpression=(
                    "attribute_exists(PK) AND (attribute_not_exists(pending_notice)"
                    " OR attribute_type(pending_notice, :null_type))"
                    " AND #status IN (:bidding, :placed)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_to_item(
                    {
                        ":notice": dict(record),
                        ":null_type": "NULL",
                        ":bidding": SnipeStatus.BIDDING.value,
                        ":placed": SnipeStatus.BID_PLACED.value,
                    }
                ),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != (
                "ConditionalCheckFailedException"
            ):
                raise
            raise TransitionRejected(snipe.snipe_id, None) from exc

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
    # Tokens are sealed by the vault (never stored in plaintext); the status
    # reads below decrypt nothing.
    def put_ebay_account(
        self,
        user_id: str,
        refresh_token: str,
        refresh_expires_at: datetime | None = None,
    ) -> None:
        """Link (or relink) the account: replaces the item, cached token included."""
        vault = self._require_vault()
        values: dict[str, Any] = {
            "kind": "ebay_account",
            "user_id": user_id,
            _REFRESH_SEALED: vault.seal(
                refresh_token, user_id=user_id, purpose=REFRESH_TOKEN_PURPOSE
            ),
            "needs_reconnect": False,
            "linked_at": to_z(utc_now()),
        }
        if refresh_expires_at is not None:
            values["refresh_expires_at"] = to_z(refresh_expires_at)
            values["GSI3PK"] = _EBAY_LINK_PARTITION
            values["GSI3SK"] = to_z(refresh_expires_at)
        self._call(
            self._client.put_item, Item={**_ebay_key(user_id), **_to_item(values)}
        )

    def get_ebay_account(self, user_id: str) -> EbayAccount | None:
        """The link with its tokens decrypted (token refresh and linking only).

        Raises ``TokenDecryptionFailed`` if the refresh token does not open; a
        cached access token that does not open is dropped (it is only a cache).
        """
        vault = self._require_vault()
        data = self._ebay_link_item(user_id)
        if data is None:
            return None
        sealed_refresh = data.get(_REFRESH_SEALED)
        if not isinstance(sealed_refresh, Mapping):
            raise TokenDecryptionFailed(
                "the eBay link holds no sealed refresh token; link the account again"
            )
        account: dict[str, Any] = {
            k: data[k]
            for k in ("refresh_expires_at", "needs_reconnect")
            if data.get(k) is not None
        }
        account["user_id"] = user_id
        account["refresh_token"] = vault.open(
            sealed_refresh, user_id=user_id, purpose=REFRESH_TOKEN_PURPOSE
        )
        account.update(self._open_access_token(data, user_id))
        return EbayAccount.model_validate(account)

    def get_ebay_access(self, user_id: str) -> EbayAccess | None:
        """The link with only its cached access token decrypted.

        The token tasks' common path: one read and one KMS call. The refresh
        token stays sealed until a refresh is needed (``get_ebay_account``).
        """
        self._require_vault()
        data = self._ebay_link_item(user_id)
        if data is None:
            return None
        access: dict[str, Any] = {"user_id": user_id}
        if data.get("needs_reconnect") is not None:
            access["needs_reconnect"] = data["needs_reconnect"]
        access.update(self._open_access_token(data, user_id))
        return EbayAccess.model_validate(access)

    def _ebay_link_item(self, user_id: str) -> dict[str, Any] | None:
        response = self._call(
            self._client.get_item, Key=_ebay_key(user_id), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else _from_item(item)

    def _open_access_token(
        self, data: Mapping[str, Any], user_id: str
    ) -> dict[str, Any]:
        """``access_token`` and ``access_expires_at`` if the cached one opens."""
        sealed_access = data.get(_ACCESS_SEALED)
        expires_at = data.get("access_expires_at")
        if not isinstance(sealed_access, Mapping) or expires_at is None:
            return {}
        try:
            token = self._require_vault().open(
                sealed_access, user_id=user_id, purpose=ACCESS_TOKEN_PURPOSE
            )
        except TokenDecryptionFailed:
            logger.warning(
                "cached eBay access token does not open; ignoring it",
                extra={"user": user_id},
            )
            return {}
        return {"access_token": token, "access_expires_at": expires_at}

    def ebay_link_status(self, user_id: str) -> EbayLinkStatus | None:
        """Linked or not, since/until when, needs reconnect: no decryption."""
        names = {f"#a{i}": name for i, name in enumerate(_LINK_STATUS_ATTRS)}
        response = self._call(
            self._client.get_item,
            Key=_ebay_key(user_id),
            ConsistentRead=True,
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
        )
        item = response.get("Item")
        return None if item is None else _link_status(item, user_id)

    def set_ebay_link_email(self, user_id: str, email: str) -> None:
        """Where expiry warnings for this link go (the linking user's address)."""
        self._call(
            self._client.update_item,
            Key=_ebay_key(user_id),
            UpdateExpression="SET email = :e",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":e": {"S": email}},
        )

    def delete_ebay_account(self, user_id: str) -> bool:
        """Unlink: the item and both sealed tokens go. True if there was a link."""
        response = self._call(
            self._client.delete_item, Key=_ebay_key(user_id), ReturnValues="ALL_OLD"
        )
        return bool(response.get("Attributes"))

    def cache_access_token(
        self, user_id: str, access_token: str, expires_at: datetime
    ) -> None:
        sealed = self._require_vault().seal(
            access_token, user_id=user_id, purpose=ACCESS_TOKEN_PURPOSE
        )
        self._call(
            self._client.update_item,
            Key=_ebay_key(user_id),
            UpdateExpression=f"SET {_ACCESS_SEALED} = :t, access_expires_at = :e",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues=_to_item({":t": sealed, ":e": to_z(expires_at)}),
        )

    def forget_access_token(self, user_id: str) -> None:
        """Drop a cached access token eBay refused, so the next use refreshes."""
        self._call(
            self._client.update_item,
            Key=_ebay_key(user_id),
            UpdateExpression=f"REMOVE {_ACCESS_SEALED}, access_expires_at",
            ConditionExpression="attribute_exists(PK)",
        )

    def mark_needs_reconnect(self, user_id: str) -> None:
        """eBay refused the refresh token: the link is unusable until relinked.

        The cached access token goes, and so does the link's entry in the expiry
        index (GSI3): a dead link gets no expiry warning.
        """
        self._call(
            self._client.update_item,
            Key=_ebay_key(user_id),
            UpdateExpression="SET needs_reconnect = :t REMOVE "
            f"{_ACCESS_SEALED}, access_expires_at, GSI3PK, GSI3SK",
            ConditionExpression="attribute_exists(PK)",
            ExpressionAttributeValues={":t": {"BOOL": True}},
        )

    def list_links_expiring_before(self, moment: datetime) -> list[EbayLinkStatus]:
        """Usable links whose refresh token expires before ``moment``, soonest
        first (the sparse GSI3; eventually consistent). No decryption."""
        kwargs: dict[str, Any] = {
            "IndexName": "GSI3",
            "KeyConditionExpression": "GSI3PK = :p AND GSI3SK < :m",
            "ExpressionAttributeValues": {
                ":p": {"S": _EBAY_LINK_PARTITION},
                ":m": {"S": to_z(moment)},
            },
        }
        links: list[EbayLinkStatus] = []
        while True:
            response = self._call(self._client.query, **kwargs)
            links.extend(_link_status(item, None) for item in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return links
            kwargs["ExclusiveStartKey"] = last

    def mark_expiry_warned(self, user_id: str, for_expiry: datetime) -> bool:
        """Record that the user was warned about ``for_expiry``.

        False (nothing written) if the link is gone or now has another expiry
        (relinked meanwhile).
        """
        try:
            self._call(
                self._client.update_item,
                Key=_ebay_key(user_id),
                UpdateExpression="SET expiry_warned_for = :e, expiry_warned_at = :n",
                ConditionExpression="attribute_exists(PK) AND refresh_expires_at = :e",
                ExpressionAttributeValues=_to_item(
                    {":e": to_z(for_expiry), ":n": to_z(utc_now())}
                ),
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # --- OAuth consent state (workflows.linking) ---------------------------
    def put_oauth_state(self, nonce: str, user_id: str, expires_at: datetime) -> None:
        """Record a consent ``state`` nonce; DynamoDB's TTL removes it later."""
        values = {
            "kind": "oauth_state",
            "user_id": user_id,
            "expires_at": to_z(expires_at),
            "ttl": int(expires_at.timestamp()),
        }
        self._call(
            self._client.put_item,
            Item={**_oauth_state_key(nonce), **_to_item(values)},
            ConditionExpression="attribute_not_exists(PK)",
        )

    def consume_oauth_state(self, nonce: str, user_id: str) -> bool:
        """Delete the nonce if it exists and is the user's: True exactly once."""
        try:
            self._call(
                self._client.delete_item,
                Key=_oauth_state_key(nonce),
                ConditionExpression="attribute_exists(PK) AND user_id = :u",
                ExpressionAttributeValues={":u": {"S": user_id}},
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # --- snipe edits (workflows.scheduling.edit_snipe) ----------------------
    def update_scheduled(
        self,
        snipe_id: str,
        *,
        expected_version: int,
        fields: Mapping[str, Any],
        remove: Collection[str] = (),
    ) -> Snipe:
        """Change a SCHEDULED snipe in one conditional write.

        The write requires the status SCHEDULED *and* the ``version`` the
        caller read, so it cannot land after the bid task's claim (which moves
        the snipe to BIDDING) nor over a change the caller did not see. On a
        refused condition ``TransitionRejected`` carries the current status
        (SCHEDULED means: changed meanwhile, read it again). ``fields`` are
        top-level attributes (JSON-able values); ``remove`` names attributes to
        delete. Returns the snipe as written (``ALL_NEW``).
        """
        names = {"#status": "status", "#version": "version"}
        values: dict[str, Any] = {
            ":scheduled": SnipeStatus.SCHEDULED.value,
            ":expected": expected_version,
            ":one": 1,
            ":now": to_z(utc_now()),
        }
        sets = ["updated_at = :now", "#version = #version + :one"]
        for i, (name, value) in enumerate(fields.items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
        expression = "SET " + ", ".join(sets)
        removed = []
        for i, name in enumerate(remove):
            names[f"#r{i}"] = name
            removed.append(f"#r{i}")
        if removed:
            expression += " REMOVE " + ", ".join(removed)
        try:
            response = self._call(
                self._client.update_item,
                Key=_snipe_key(snipe_id),
                UpdateExpression=expression,
                ConditionExpression=(
                    "attribute_exists(PK) AND #status = :scheduled"
                    " AND #version = :expected"
                ),
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

    # --- history and stats ---------------------------------------------------
    def list_for_user_ending_between(
        self,
        user_id: str,
        *,
        status: SnipeStatus | None = None,
        ends_after: datetime | None = None,
        ends_before: datetime | None = None,
        limit: int = 20,
        cursor: str | None = None,
        max_queries: int = 10,
        batch_size: int = 100,
    ) -> tuple[list[Snipe], str | None]:
        """The user's snipes whose auction ends in ``[ends_after, ends_before)``.

        Newest first like ``list_for_user`` and with the same cursors; the end
        is the plan's (``plan.end_at``: the listing's end as last known, which
        the wake-time re-check updates). DynamoDB applies the FilterExpression
        after ``Limit``, so one query can return a short or empty page while
        matches remain: this keeps querying until the page is full or the index
        is exhausted (``next_cursor`` null), at most ``max_queries`` queries; a
        page cut short by that bound still carries a ``next_cursor``.
        """
        index, partition = _user_index(user_id, status)
        names = {"#plan": "plan", "#end": "end_at"}
        values: dict[str, Any] = {":p": {"S": partition}}
        filters = []
        # Stored ends are pydantic's ISO strings ("...:00Z", "...:00.5Z"), whose
        # sub-second part does not sort as text: the filter compares on whole
        # seconds (a superset) and the exact bounds are applied below.
        if ends_after is not None:
            values[":after"] = {"S": _whole_second(ends_after)}
            filters.append("#plan.#end >= :after")
        if ends_before is not None:
            after_last_second = ends_before + timedelta(seconds=1)
            values[":before"] = {"S": _whole_second(after_last_second)}
            filters.append("#plan.#end < :before")
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": f"{index}PK = :p",
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": batch_size,
        }
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
            kwargs["ExpressionAttributeNames"] = names
        if cursor:
            kwargs["ExclusiveStartKey"] = _decode_cursor(cursor, index, partition)
        found: list[Snipe] = []
        last: Mapping[str, Any] | None = None
        for _ in range(max(1, max_queries)):
            response = self._call(self._client.query, **kwargs)
            items = response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            for position, item in enumerate(items):
                snipe = _snipe_from_item(item)
                end = snipe.plan.end_at
                if ends_after is not None and end < ends_after:
                    continue
                if ends_before is not None and end >= ends_before:
                    continue
                found.append(snipe)
                if len(found) == limit:
                    exhausted = position == len(items) - 1 and not last
                    key = {k: item[k] for k in ("PK", "SK", f"{index}PK", f"{index}SK")}
                    return found, None if exhausted else _encode_cursor(key)
            if not last:
                return found, None
            kwargs["ExclusiveStartKey"] = last
        return found, _encode_cursor(last) if last else None

    def iter_for_user(self, user_id: str) -> Iterator[Snipe]:
        """Every snipe of the user, newest first (GSI1, page after page)."""
        kwargs: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :p",
            "ExpressionAttributeValues": {":p": {"S": f"USER#{user_id}"}},
            "ScanIndexForward": False,
        }
        while True:
            response = self._call(self._client.query, **kwargs)
            for item in response.get("Items", []):
                yield _snipe_from_item(item)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last

    # --- notification preferences -------------------------------------------
    def get_preferences(self, user_id: str) -> NotificationPreferences:
        """The user's preferences; the defaults (every outcome emailed) if unset."""
        response = self._call(
            self._client.get_item, Key=_prefs_key(user_id), ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return NotificationPreferences()
        data = _plain(_from_item(item))
        return NotificationPreferences.model_validate(
            {"email_on": data.get("email_on", {})}
        )

    def put_preferences(
        self, user_id: str, preferences: NotificationPreferences
    ) -> NotificationPreferences:
        values = {
            "kind": "preferences",
            "user_id": user_id,
            "email_on": preferences.email_on.model_dump(mode="json"),
            "updated_at": to_z(utc_now()),
        }
        self._call(
            self._client.put_item, Item={**_prefs_key(user_id), **_to_item(values)}
        )
        return preferences

    # --- idempotent requests (Powertools idempotency) ------------------------
    def idempotency_layer(self) -> DynamoDBPersistenceLayer:
        """Powertools' DynamoDB persistence layer on this table, built once.

        Records live under ``PK=IDEMPOTENCY``, ``SK=<prefix>#<hash of the
        key>`` (callers put the user id in the hashed key) and expire through
        the table's TTL attribute ``ttl``. Built on first use (no environment
        is read at import) and kept: each layer registers a user-agent hook on
        the client it is given.
        """
        if self._idempotency_layer is None:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
            )

            self._idempotency_layer = DynamoDBPersistenceLayer(
                table_name=self.table_name,
                key_attr="PK",
                sort_key_attr="SK",
                static_pk_value=IDEMPOTENCY_PARTITION,
                expiry_attr="ttl",
                in_progress_expiry_attr="in_progress_expiry",
                status_attr="idempotency_status",
                data_attr="response",
                validation_key_attr="payload_hash",
                boto3_client=self._client,
            )
        return self._idempotency_layer

    # --- win-N groups (workflows.groups) ------------------------------------
    # The group item is the slot counter: ``slots_used`` and ``holders`` (the
    # member snipes holding a slot) change only in one transaction with the
    # holding snipe's ``group_slot`` marker, so a slot is taken once and given
    # back once (the release also needs ``contains(holders, <id>)``).
    def create_group(self, group: Group) -> None:
        values = group.model_dump(mode="json", exclude={"holders"})
        values.update(
            kind="group",
            GSI1PK=_groups_partition(group.user_id),
            GSI1SK=f"CREATED#{to_z(group.created_at)}#{group.group_id}",
        )
        self._call(
            self._client.put_item,
            Item={**_group_key(group.group_id), **_to_item(values)},
            ConditionExpression="attribute_not_exists(PK)",
        )

    def get_group(self, group_id: str) -> Group:
        response = self._call(
            self._client.get_item, Key=_group_key(group_id), ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            raise GroupNotFound(f"no group {group_id}")
        return _group_from_item(item)

    def get_group_for_user(self, user_id: str, group_id: str) -> Group:
        """The group if it is the user's; another user's group is 'not found'."""
        group = self.get_group(group_id)
        if group.user_id != user_id:
            raise GroupNotFound(f"no group {group_id}")
        return group

    def list_groups(
        self, user_id: str, *, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[Group], str | None]:
        """The user's groups, newest first (GSI1 partition ``GROUPS#<uid>``)."""
        items, next_cursor = self._newest_first(
            "GSI1", _groups_partition(user_id), limit, cursor
        )
        return [_group_from_item(item) for item in items], next_cursor

    def update_group(
        self,
        user_id: str,
        group_id: str,
        *,
        name: str | None = None,
        wins_wanted: int | None = None,
    ) -> Group:
        """Rename and/or change ``wins_wanted`` (never below ``slots_used``)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":u": user_id, ":now": to_z(utc_now()), ":one": 1}
        sets = ["updated_at = :now", "version = version + :one"]
        condition = "attribute_exists(PK) AND user_id = :u"
        if name is not None:
            names["#name"] = "name"
            values[":name"] = name
            sets.append("#name = :name")
        if wins_wanted is not None:
            values[":wanted"] = wins_wanted
            sets.append("wins_wanted = :wanted")
            condition += " AND slots_used <= :wanted"
        kwargs: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        try:
            response = self._call(
                self._client.update_item,
                Key=_group_key(group_id),
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression=condition,
                ExpressionAttributeValues=_to_item(values),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **kwargs,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != (
                "ConditionalCheckFailedException"
            ):
                raise
            old: Mapping[str, Any] | None = exc.response.get("Item")  # type: ignore[assignment]
            current = _group_from_item(old) if old else None
            if current is None or current.user_id != user_id:
                raise GroupNotFound(f"no group {group_id}") from exc
            raise WinsWantedTooLow(
                f"{current.slots_used} of the group's slots are in use (won, or a"
                " bid whose result is not known yet); wins_wanted cannot go lower",
                details={"slots_used": current.slots_used},
            ) from exc
        return _group_from_item(response["Attributes"])

    def delete_group(self, user_id: str, group_id: str) -> Group:
        """Delete the user's group; returns it as it was (members not touched)."""
        try:
            response = self._call(
                self._client.delete_item,
                Key=_group_key(group_id),
                ConditionExpression="attribute_exists(PK) AND user_id = :u",
                ExpressionAttributeValues={":u": {"S": user_id}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                raise GroupNotFound(f"no group {group_id}") from exc
            raise
        return _group_from_item(response["Attributes"])

    def group_members(
        self, user_id: str, group_id: str, *, active_only: bool = False
    ) -> list[Snipe]:
        """The user's snipes with ``group_id``, newest first.

        Read from the user's indexes with a filter (GSI1, or the GSI2 partitions
        of the active statuses): eventually consistent, so a member written a
        moment ago may be missing. The slot accounting never relies on this.
        """
        if active_only:
            index = "GSI2"
            partitions = [
                _status_partition(user_id, s) for s in sorted(ACTIVE_STATUSES)
            ]
        else:
            index, partitions = "GSI1", [f"USER#{user_id}"]
        members: list[Snipe] = []
        for partition in partitions:
            kwargs: dict[str, Any] = {
                "IndexName": index,
                "KeyConditionExpression": f"{index}PK = :p",
                "FilterExpression": "group_id = :g",
                "ExpressionAttributeValues": {
                    ":p": {"S": partition},
                    ":g": {"S": group_id},
                },
                "ScanIndexForward": False,
            }
            while True:
                response = self._call(self._client.query, **kwargs)
                members.extend(_snipe_from_item(i) for i in response.get("Items", []))
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                kwargs["ExclusiveStartKey"] = last
        if active_only:
            members.sort(key=lambda s: (s.created_at, s.snipe_id), reverse=True)
        return members

    def detach_from_group(self, snipe_id: str, group_id: str) -> bool:
        """Clear the snipe's ``group_id`` (and a slot marker of that group) if it
        is still ``group_id``. For a deleted group only: no counter is touched."""
        try:
            self._call(
                self._client.update_item,
                Key=_snipe_key(snipe_id),
                UpdateExpression="SET updated_at = :now, version = version + :one"
                " REMOVE group_id, group_slot",
                ConditionExpression="attribute_exists(PK) AND group_id = :g",
                ExpressionAttributeValues=_to_item(
                    {":g": group_id, ":now": to_z(utc_now()), ":one": 1}
                ),
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def reserve_group_slot(
        self, snipe_id: str, group_id: str, *, user_id: str, claimed_by: str
    ) -> tuple[SlotReservation, Group | None]:
        """Take one of the group's slots for the claimed snipe, atomically.

        One transaction: the snipe (BIDDING, claimed by ``claimed_by``, still in
        the group, no slot yet) gets ``group_slot``, and the group (the user's,
        ``slots_used < wins_wanted``) gets ``slots_used + 1`` and the snipe in
        ``holders``. Two members claiming together cannot both take the last
        slot. Returns the outcome and, when FULL, the group as the refusal saw
        it (no extra read). Raises ``TransitionRejected`` if the snipe is no
        longer BIDDING under this claim.
        """
        snipe_update = {
            "TableName": self.table_name,
            "Key": _snipe_key(snipe_id),
            "UpdateExpression": "SET group_slot = :g, updated_at = :now,"
            " version = version + :one",
            "ConditionExpression": "attribute_exists(PK) AND #status = :bidding"
            " AND claimed_by = :me AND group_id = :g"
            " AND attribute_not_exists(group_slot)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        group_update = {
            "TableName": self.table_name,
            "Key": _group_key(group_id),
            "UpdateExpression": "SET slots_used = slots_used + :one,"
            " updated_at = :now ADD holders :ids",
            "ConditionExpression": "attribute_exists(PK) AND user_id = :u"
            " AND slots_used < wins_wanted",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        for attempt in range(_SLOT_ATTEMPTS):
            now = to_z(utc_now())
            snipe_update["ExpressionAttributeValues"] = _to_item(
                {
                    ":g": group_id,
                    ":now": now,
                    ":one": 1,
                    ":bidding": SnipeStatus.BIDDING.value,
                    ":me": claimed_by,
                }
            )
            group_update["ExpressionAttributeValues"] = _to_item(
                {":one": 1, ":now": now, ":ids": {snipe_id}, ":u": user_id}
            )
            refusals = self._transact(
                [{"Update": snipe_update}, {"Update": group_update}]
            )
            if refusals is None:
                return SlotReservation.RESERVED, None
            snipe_refusal, group_refusal = refusals
            if snipe_refusal.code == _CHECK_FAILED:
                snipe = (
                    _snipe_from_item(snipe_refusal.item)
                    if snipe_refusal.item
                    else self.get(snipe_id)
                )
                if (
                    snipe.status is not SnipeStatus.BIDDING
                    or snipe.claimed_by != claimed_by
                ):
                    raise TransitionRejected(snipe_id, snipe.status.value)
                if snipe.group_id != group_id:
                    return SlotReservation.NO_GROUP, None
                if snipe.group_slot == group_id:
                    return SlotReservation.HELD, None
            elif group_refusal.code == _CHECK_FAILED:
                group = (
                    _group_from_item(group_refusal.item) if group_refusal.item else None
                )
                if group is None or group.user_id != user_id:
                    return SlotReservation.NO_GROUP, None
                if group.slots_used >= group.wins_wanted:
                    return SlotReservation.FULL, group
            _backoff(attempt)  # a conflicting transaction or a change meanwhile
        raise StoreUnavailable("the group slot could not be reserved; retry shortly")

    def release_group_slot(self, snipe_id: str, group_id: str) -> bool:
        """Give back the slot a FAILED or SKIPPED snipe kept (its bid proved
        lost or absent). The status does not change. False if the snipe holds
        no slot of ``group_id`` (any more) or is not FAILED or SKIPPED.
        """
        for attempt in range(_SLOT_ATTEMPTS):
            values = {
                ":g": group_id,
                ":now": to_z(utc_now()),
                ":one": 1,
                ":failed": SnipeStatus.FAILED.value,
                ":skipped": SnipeStatus.SKIPPED.value,
            }
            snipe_update = {
                "TableName": self.table_name,
                "Key": _snipe_key(snipe_id),
                "UpdateExpression": "SET updated_at = :now, version = version + :one"
                " REMOVE group_slot",
                "ConditionExpression": "group_slot = :g"
                " AND #status IN (:failed, :skipped)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": _to_item(values),
            }
            refusals = self._transact(
                [
                    {"Update": snipe_update},
                    _slot_release_update(self, snipe_id, group_id),
                ]
            )
            if refusals is None:
                return True
            if refusals[0].code == _CHECK_FAILED:
                return False
            if refusals[1].code == _CHECK_FAILED:  # the group is gone: drop the marker
                try:
                    self._call(
                        self._client.update_item, **_outside_transaction(snipe_update)
                    )
                except ClientError as exc:
                    code = exc.response.get("Error", {}).get("Code")
                    if code != "ConditionalCheckFailedException":
                        raise
                return False
            _backoff(attempt)
        raise StoreUnavailable("the group slot could not be released; retry shortly")

    def _transition_holding_slot(
        self,
        snipe_id: str,
        old: Mapping[str, Any] | None,
        allowed: Collection[str],
        to: SnipeStatus,
        reason: Reason | None,
        sets: list[str],
        names: dict[str, str],
        values: dict[str, Any],
        condition: str,
    ) -> Snipe | None:
        """``transition`` after its plain write was refused: the snipe may hold
        a group slot. None: it does not, and the refusal stands (``old``).

        An ending that proves no bid of the snipe can win (``_gives_slot_back``:
        LOST, a SKIPPED before any bid, a FAILED eBay refused) gives the slot
        back in the same transaction as the status change (``group_slot``
        removed, group ``slots_used - 1`` if ``holders`` contains the snipe), so
        it is given back exactly once. Other endings keep it; a later member's
        claim asks eBay about them.
        """
        refused_at: Any = None  # the version our last write's condition refused
        for attempt in range(_SLOT_ATTEMPTS):
            if attempt or old is None:
                response = self._call(
                    self._client.get_item, Key=_snipe_key(snipe_id), ConsistentRead=True
                )
                old = response.get("Item")
            data = _from_item(old) if old else {}
            slot, status = data.get("group_slot"), data.get("status")
            unchanged = refused_at is not None and data.get("version") == refused_at
            if status not in allowed or unchanged or not (slot or attempt):
                if not attempt:
                    return None
                raise TransitionRejected(
                    snipe_id, status if isinstance(status, str) else None
                )
            refused_at = data.get("version")
            snipe_update: dict[str, Any] = {
                "TableName": self.table_name,
                "Key": _snipe_key(snipe_id),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": f"attribute_exists(PK) AND ({condition})",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": _to_item(values),
            }
            if not isinstance(slot, str):  # the slot went meanwhile (group deleted)
                snipe_update["ConditionExpression"] += (
                    " AND attribute_not_exists(group_slot)"
                )
            else:
                snipe_update["ConditionExpression"] += " AND group_slot = :slot"
                snipe_update["ExpressionAttributeValues"] = _to_item(
                    {**values, ":slot": slot}
                )
                if _gives_slot_back(SnipeStatus(str(status)), to, reason):
                    snipe_update["UpdateExpression"] += " REMOVE group_slot"
                    release = _slot_release_update(self, snipe_id, slot)
                    refusals = self._transact([{"Update": snipe_update}, release])
                    if refusals is None:
                        return self.get(snipe_id)
                    if refusals[0].code == _CHECK_FAILED:
                        continue  # changed meanwhile, or refused: read it again
                    if refusals[1].code != _CHECK_FAILED:
                        refused_at = None
                        _backoff(attempt)  # a conflicting transaction
                        continue
                    # The group no longer holds the snipe (deleted): no counter
                    # to give the slot back to; drop the marker with the change.
            try:
                written = self._call(
                    self._client.update_item,
                    ReturnValues="ALL_NEW",
                    **_outside_transaction(snipe_update),
                )
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code != "ConditionalCheckFailedException":
                    raise
                continue
            return _snipe_from_item(written["Attributes"])
        raise StoreUnavailable("the snipe store is busy; retry shortly")

    def _transact(self, items: list[dict[str, Any]]) -> list[_Refusal] | None:
        """TransactWriteItems: None once committed, else each item's
        cancellation (code ``ConditionalCheckFailed``, ``TransactionConflict``,
        ``None``...; the old item with ``ReturnValuesOnConditionCheckFailure``).
        Throttling becomes ``StoreUnavailable``."""
        try:
            self._client.transact_write_items(TransactItems=cast(Any, items))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "TransactionCanceledException":
                reasons: list[Mapping[str, Any]] = exc.response.get(  # type: ignore[assignment]
                    "CancellationReasons", []
                )
                refusals = [
                    _Refusal(str(r.get("Code") or "None"), r.get("Item"))
                    for r in reasons
                ]
                if any(
                    r.code in _THROTTLING or r.code == "ThrottlingError"
                    for r in refusals
                ):
                    raise StoreUnavailable(
                        "the snipe store is busy; retry shortly"
                    ) from exc
                missing = len(items) - len(refusals)
                return refusals + [_Refusal("None", None)] * missing
            if code in _THROTTLING or code == "TransactionInProgressException":
                raise StoreUnavailable(
                    "the snipe store is busy; retry shortly"
                ) from exc
            raise
        except BotoCoreError as exc:
            raise StoreUnavailable("the snipe store is unreachable") from exc
        return None


def _prefs_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PREFS"}}


def _whole_second(moment: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC): sorts before every stored time of that
    second and after every stored time of the seconds before."""
    return to_z(moment)[:19]


def _oauth_state_key(nonce: str) -> dict[str, Any]:
    return {"PK": {"S": f"OAUTHSTATE#{nonce}"}, "SK": {"S": "OAUTHSTATE"}}


def _link_status(item: Mapping[str, Any], user_id: str | None) -> EbayLinkStatus:
    data = _from_item(item)
    values = {k: data[k] for k in _LINK_STATUS_ATTRS if data.get(k) is not None}
    if user_id is not None:
        values["user_id"] = user_id
    elif "user_id" not in values:  # from the key: PK=USER#<uid>
        values["user_id"] = str(data["PK"]).removeprefix("USER#")
    return EbayLinkStatus.model_validate(values)


def _user_index(user_id: str, status: SnipeStatus | None) -> tuple[str, str]:
    """The index and partition of a user's snipes: all (GSI1) or one status (GSI2)."""
    if status is None:
        return "GSI1", f"USER#{user_id}"
    return "GSI2", _status_partition(user_id, status)


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
    # Timeouts and attempts: workflows.budget (per function, from the environment).
    return boto3.client("dynamodb", config=budget.aws_client_config())


def reset_client() -> None:
    """Forget the cached client (the endpoint or credentials changed)."""
    _cached_client.cache_clear()


# --- win-N groups ---------------------------------------------------------------
# Statuses a slot holder moves to keeping its slot (no guard on the plain write).
_KEEPS_SLOT = frozenset({SnipeStatus.BIDDING, SnipeStatus.BID_PLACED, SnipeStatus.WON})
# Endings that prove no bid of the snipe is on eBay: SKIPPED before any bid
# went out, FAILED because eBay refused the bid. Any other SKIPPED/FAILED keeps
# the slot (a retried attempt's earlier bid may have landed); a later member's
# claim asks eBay and gives it back (``release_group_slot``).
_NO_BID_SKIPS = frozenset(
    {Reason.GROUP_SATISFIED, Reason.ENDED_EARLY, Reason.OUTBID_BEFORE_FIRE}
)
_EBAY_REFUSED_THE_BID = frozenset(
    {
        Reason.AUCTION_ENDED,
        Reason.ENDED_BY_BUY_IT_NOW,
        Reason.BID_TOO_LOW,
        Reason.CURRENCY_MISMATCH,
        Reason.BID_ABOVE_BUY_IT_NOW,
        Reason.NOT_ELIGIBLE,
        Reason.ITEM_NOT_FOUND,
        Reason.BID_INVALID,
        # The result check found no bid of ours at eBay after the end.
        Reason.BID_NOT_PLACED,
    }
)
_CHECK_FAILED = "ConditionalCheckFailed"
_SLOT_ATTEMPTS = 8


class _Refusal(NamedTuple):
    """One item's part in a cancelled transaction."""

    code: str
    item: Mapping[str, Any] | None


class SlotReservation(StrEnum):
    RESERVED = "RESERVED"  # this call took a slot
    HELD = "HELD"  # the snipe already held one (a retried task)
    FULL = "FULL"  # every slot is taken (won, or a bid whose result is unknown)
    NO_GROUP = "NO_GROUP"  # the group is gone, or the snipe left it


def _gives_slot_back(old: SnipeStatus, to: SnipeStatus, reason: Reason | None) -> bool:
    """Whether a slot holder moving ``old -> to`` gives its slot back: only when
    no bid of it can win (LOST, or no bid on eBay at all)."""
    if to in _KEEPS_SLOT:
        return False
    if to is SnipeStatus.SKIPPED:
        return reason in _NO_BID_SKIPS
    if to is SnipeStatus.FAILED:
        return old is SnipeStatus.BIDDING and reason in _EBAY_REFUSED_THE_BID
    return True  # LOST; SCHEDULED (rescheduled) and CANCELLED hold none


def _group_key(group_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"GROUP#{group_id}"}, "SK": {"S": "GROUP"}}


def _groups_partition(user_id: str) -> str:
    return f"GROUPS#{user_id}"


def _group_from_item(item: Mapping[str, Any]) -> Group:
    data = {k: v for k, v in _from_item(item).items() if k not in _KEY_ATTRS}
    return Group.model_validate(_plain(data))


def _slot_release_update(
    store: SnipeStore, snipe_id: str, group_id: str
) -> dict[str, Any]:
    """The group half of a release: one slot back, once (``contains``)."""
    return {
        "Update": {
            "TableName": store.table_name,
            "Key": _group_key(group_id),
            "UpdateExpression": "SET slots_used = slots_used - :one,"
            " updated_at = :now DELETE holders :ids",
            "ConditionExpression": "contains(holders, :id)",
            "ExpressionAttributeValues": _to_item(
                {
                    ":one": 1,
                    ":now": to_z(utc_now()),
                    ":ids": {snipe_id},
                    ":id": snipe_id,
                }
            ),
        }
    }


def _outside_transaction(operation: Mapping[str, Any]) -> dict[str, Any]:
    """A transaction's Update as ``update_item`` arguments (``_call`` adds the
    table name)."""
    return {k: v for k, v in operation.items() if k != "TableName"}


def _backoff(attempt: int) -> None:
    """A short, jittered pause before retrying a refused group transaction."""
    time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311  # nosec B311

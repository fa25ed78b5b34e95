"""The eBay account link (sealed tokens) and OAuth consent state."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from workflows.crypto import TokenDecryptionFailed
from workflows.models import (
    EbayAccess,
    EbayAccount,
    EbayLinkStatus,
)
from workflows.observability import logger
from workflows.timing import to_z, utc_now

if TYPE_CHECKING:
    pass
from workflows.store.snipes import SnipeRecords
from workflows.store.table import _from_item, _to_item, condition_failed

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


def _ebay_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "EBAY"}}


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


class LinkRecords(SnipeRecords):
    """eBay link items (``USER#<uid>``/``EBAY``) and OAuth states."""

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
        item = self._read(_ebay_key(user_id))
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
        self._set_existing(_ebay_key(user_id), "email", email)

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
            if condition_failed(exc):
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
            if condition_failed(exc):
                return False
            raise
        return True

"""The eBay link item: tokens only sealed, status without decryption, GSI3.

moto in-process: DynamoDB (the table from template.yaml, GSI3 included) and KMS.
The raw items are read with the low-level client and searched for the tokens.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from tests.support.table import moto_table, moto_vault
from workflows.crypto import TokenDecryptionFailed, VaultNotConfigured
from workflows.store import SnipeStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient

REGION = "us-east-1"
REFRESH = "v^1.1#i^1#r^1#REFRESH-CANARY-91c2"
ACCESS = "v^1.1#i^1#p^3#ACCESS-CANARY-4be8"
TOKEN_FORMS = (
    REFRESH,
    ACCESS,
    "REFRESH-CANARY",
    "ACCESS-CANARY",
    base64.b64encode(REFRESH.encode()).decode(),
    base64.b64encode(ACCESS.encode()).decode(),
)
EXPIRES = datetime(2027, 11, 1, 12, 0, tzinfo=UTC)


@dataclass
class Env:
    dynamodb: DynamoDBClient
    kms: KMSClient
    table: str
    store: SnipeStore

    def raw(self, user_id: str) -> dict[str, Any]:
        key = {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "EBAY"}}
        item = self.dynamodb.get_item(TableName=self.table, Key=key).get("Item")
        assert item is not None
        return dict(item)

    def kms_calls(self) -> list[str]:
        calls: list[str] = []
        self.kms.meta.events.register(
            "before-call.kms.*", lambda model, **_: calls.append(model.name)
        )
        return calls


@pytest.fixture
def env() -> Iterator[Env]:
    with moto_table("snipes-link") as (dynamodb, table):
        kms, vault = moto_vault()
        yield Env(dynamodb, kms, table, SnipeStore(table, client=dynamodb, vault=vault))


def _assert_no_token(item: Any) -> None:
    dumped = json.dumps(item, default=str)
    for form in TOKEN_FORMS:
        assert form not in dumped


def test_the_item_holds_no_plaintext_token(env: Env) -> None:
    env.store.put_ebay_account("u1", REFRESH, EXPIRES)
    env.store.cache_access_token("u1", ACCESS, EXPIRES - timedelta(days=500))

    item = env.raw("u1")

    _assert_no_token(item)
    assert "refresh_token" not in item and "access_token" not in item
    assert set(item["refresh_token_sealed"]["M"]) == {"v", "id", "parts"}
    assert set(item["access_token_sealed"]["M"]) == {"v", "id", "parts"}


def test_get_ebay_account_decrypts_both_tokens(env: Env) -> None:
    env.store.put_ebay_account("u1", REFRESH, EXPIRES)
    access_expiry = datetime(2026, 5, 1, 14, 0, tzinfo=UTC)
    env.store.cache_access_token("u1", ACCESS, access_expiry)

    account = env.store.get_ebay_account("u1")

    assert account is not None
    assert (account.refresh_token, account.access_token) == (REFRESH, ACCESS)
    assert (account.refresh_expires_at, account.access_expires_at) == (
        EXPIRES,
        access_expiry,
    )
    assert not account.needs_reconnect
    assert REFRESH not in repr(account) and ACCESS not in repr(account)
    assert env.store.get_ebay_account("nobody") is None


def test_another_users_sealed_token_does_not_open(env: Env) -> None:
    env.store.put_ebay_account("victim", REFRESH, EXPIRES)
    env.store.cache_access_token("victim", ACCESS, EXPIRES)
    env.store.put_ebay_account("attacker", "attacker-own-token", EXPIRES)
    stolen = env.raw("victim")
    env.dynamodb.update_item(
        TableName=env.table,
        Key={"PK": {"S": "USER#attacker"}, "SK": {"S": "EBAY"}},
        UpdateExpression="SET access_token_sealed = :a, access_expires_at = :e",
        ExpressionAttributeValues={
            ":a": stolen["access_token_sealed"],
            ":e": stolen["access_expires_at"],
        },
    )

    # A copied cache entry is ignored (the refresh path takes over)...
    account = env.store.get_ebay_account("attacker")
    assert account is not None and account.access_token is None
    assert account.access_expires_at is None

    # ...and a copied refresh token does not open at all.
    env.dynamodb.update_item(
        TableName=env.table,
        Key={"PK": {"S": "USER#attacker"}, "SK": {"S": "EBAY"}},
        UpdateExpression="SET refresh_token_sealed = :r",
        ExpressionAttributeValues={":r": stolen["refresh_token_sealed"]},
    )
    with pytest.raises(TokenDecryptionFailed):
        env.store.get_ebay_account("attacker")


def test_without_a_vault_tokens_are_neither_stored_nor_read(env: Env) -> None:
    bare = SnipeStore(env.table, client=env.dynamodb)

    with pytest.raises(VaultNotConfigured):
        bare.put_ebay_account("u1", REFRESH, EXPIRES)
    assert env.dynamodb.scan(TableName=env.table)["Items"] == []

    env.store.put_ebay_account("u1", REFRESH, EXPIRES)
    with pytest.raises(VaultNotConfigured):
        bare.cache_access_token("u1", ACCESS, EXPIRES)
    with pytest.raises(VaultNotConfigured):
        bare.get_ebay_account("u1")
    _assert_no_token(env.dynamodb.scan(TableName=env.table)["Items"])
    # Status needs no vault
    status = bare.ebay_link_status("u1")
    assert status is not None and status.refresh_expires_at == EXPIRES


def test_link_status_decrypts_nothing(env: Env) -> None:
    env.store.put_ebay_account("u1", REFRESH, EXPIRES)
    env.store.cache_access_token("u1", ACCESS, EXPIRES)
    env.store.set_ebay_link_email("u1", "u1@example.com")
    calls = env.kms_calls()

    status = env.store.ebay_link_status("u1")

    assert calls == []
    assert status is not None
    assert status.user_id == "u1"
    assert status.refresh_expires_at == EXPIRES
    assert status.linked_at is not None and not status.needs_reconnect
    assert status.email == "u1@example.com"
    _assert_no_token(status.model_dump(mode="json"))
    assert env.store.ebay_link_status("nobody") is None


def test_relinking_replaces_tokens_and_cache(env: Env) -> None:
    env.store.put_ebay_account("u1", REFRESH, EXPIRES)
    env.store.cache_access_token("u1", ACCESS, EXPIRES)
    env.store.mark_needs_reconnect("u1")

    env.store.put_ebay_account("u1", "new-refresh-token", EXPIRES + timedelta(days=1))

    account = env.store.get_ebay_account("u1")
    assert account is not None
    assert account.refresh_token == "new-refresh-token"
    assert account.access_token is None and not account.needs_reconnect


def test_forget_and_needs_reconnect_drop_the_cached_token(env: Env) -> None:
    env.store.put_ebay_account("u1", REFRESH, EXPIRES)
    env.store.cache_access_token("u1", ACCESS, EXPIRES)

    env.store.forget_access_token("u1")
    assert "access_token_sealed" not in env.raw("u1")

    env.store.cache_access_token("u1", ACCESS, EXPIRES)
    env.store.mark_needs_reconnect("u1")
    item = env.raw("u1")
    assert "access_token_sealed" not in item and "GSI3PK" not in item
    account = env.store.get_ebay_account("u1")
    assert account is not None and account.needs_reconnect
    status = env.store.ebay_link_status("u1")
    assert status is not None and status.needs_reconnect


def test_delete_ebay_account_removes_the_link(env: Env) -> None:
    env.store.put_ebay_account("u1", REFRESH, EXPIRES)

    assert env.store.delete_ebay_account("u1") is True
    assert env.store.delete_ebay_account("u1") is False
    assert env.store.ebay_link_status("u1") is None
    assert env.store.get_ebay_account("u1") is None
    assert env.dynamodb.scan(TableName=env.table)["Items"] == []


def test_links_expiring_before_come_from_the_sparse_index(env: Env) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    env.store.put_ebay_account("in-10-days", REFRESH, now + timedelta(days=10))
    env.store.put_ebay_account("in-3-days", REFRESH, now + timedelta(days=3))
    env.store.put_ebay_account("in-30-days", REFRESH, now + timedelta(days=30))
    env.store.put_ebay_account("no-expiry", REFRESH)
    env.store.put_ebay_account("revoked", REFRESH, now + timedelta(days=2))
    env.store.mark_needs_reconnect("revoked")
    env.store.set_ebay_link_email("in-3-days", "three@example.com")
    calls = env.kms_calls()

    links = env.store.list_links_expiring_before(now + timedelta(days=14))

    assert calls == []
    assert [link.user_id for link in links] == ["in-3-days", "in-10-days"]
    assert links[0].refresh_expires_at == now + timedelta(days=3)
    assert links[0].email == "three@example.com"
    assert links[0].expiry_warned_for is None
    raw = env.dynamodb.query(
        TableName=env.table,
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :p",
        ExpressionAttributeValues={":p": {"S": "EBAY_LINK"}},
    )["Items"]
    assert len(raw) == 3  # no-expiry and revoked are not in the index
    assert not any("refresh_token_sealed" in item for item in raw)


def test_mark_expiry_warned_records_the_expiry_once(env: Env) -> None:
    env.store.put_ebay_account("u1", REFRESH, EXPIRES)

    assert env.store.mark_expiry_warned("u1", EXPIRES) is True
    [link] = env.store.list_links_expiring_before(EXPIRES + timedelta(days=1))
    assert link.expiry_warned_for == EXPIRES

    # Another expiry (relinked meanwhile) or no link: nothing is written.
    assert env.store.mark_expiry_warned("u1", EXPIRES + timedelta(days=1)) is False
    assert env.store.mark_expiry_warned("nobody", EXPIRES) is False

    # A new link starts unwarned.
    env.store.put_ebay_account("u1", REFRESH, EXPIRES + timedelta(days=500))
    status = env.store.ebay_link_status("u1")
    assert status is not None and status.expiry_warned_for is None

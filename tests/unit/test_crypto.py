"""workflows.crypto: KMS envelope encryption of tokens (moto KMS in-process)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from workflows.crypto import (
    TokenDecryptionFailed,
    TokenEncryptionFailed,
    TokenVault,
)
from workflows.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

REGION = "us-east-1"
TOKEN = "v^1.1#i^1#r^1#p^3#f^0#t^REFRESH-TOKEN-CANARY-7f3a"
USER = "user-a"
PURPOSE = "ebay_refresh_token"


class KmsCalls:
    """Counts KMS operations made through a client."""

    def __init__(self, client: KMSClient) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-call.kms.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)


@pytest.fixture
def kms() -> Iterator[KMSClient]:
    with mock_aws():
        yield boto3.client("kms", region_name=REGION)


@pytest.fixture
def key_id(kms: KMSClient) -> str:
    return kms.create_key(Description="unit token key")["KeyMetadata"]["KeyId"]


@pytest.fixture
def vault(kms: KMSClient, key_id: str) -> TokenVault:
    return TokenVault(key_id, client=kms)


def _flip(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[-1] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


def test_round_trip(vault: TokenVault) -> None:
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    assert vault.open(sealed, user_id=USER, purpose=PURPOSE) == TOKEN


def test_round_trip_through_an_alias(kms: KMSClient, key_id: str) -> None:
    kms.create_alias(AliasName="alias/unit-tokens", TargetKeyId=key_id)
    vault = TokenVault("alias/unit-tokens", client=kms)

    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    assert vault.open(sealed, user_id=USER, purpose=PURPOSE) == TOKEN


def test_the_sealed_value_has_the_documented_shape_and_no_plaintext(
    vault: TokenVault,
) -> None:
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    assert set(sealed) == {"v", "key", "nonce", "ct"}
    assert sealed["v"] == "1"
    assert len(base64.b64decode(sealed["nonce"])) == 12  # 96-bit GCM nonce
    # ciphertext + 16-byte tag, nothing else
    assert len(base64.b64decode(sealed["ct"])) == len(TOKEN.encode()) + 16
    dumped = json.dumps(sealed)
    for form in (TOKEN, "REFRESH-TOKEN-CANARY", base64.b64encode(TOKEN.encode())):
        assert str(form) not in dumped


def test_every_seal_uses_a_fresh_data_key(kms: KMSClient, vault: TokenVault) -> None:
    calls = KmsCalls(kms)

    first = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    second = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    assert calls.names == ["GenerateDataKey", "GenerateDataKey"]
    assert first["key"] != second["key"]
    assert first["nonce"] != second["nonce"]
    assert first["ct"] != second["ct"]
    assert vault.open(first, user_id=USER, purpose=PURPOSE) == TOKEN
    assert vault.open(second, user_id=USER, purpose=PURPOSE) == TOKEN


def test_the_request_carries_the_encryption_context(
    kms: KMSClient, vault: TokenVault
) -> None:
    seen: list[dict[str, Any]] = []
    kms.meta.events.register(
        "provide-client-params.kms.*",
        lambda params, model, **_: seen.append({"op": model.name, **params}),
    )

    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    vault.open(sealed, user_id=USER, purpose=PURPOSE)

    context = {"user_id": USER, "purpose": PURPOSE}
    assert [(c["op"], c["EncryptionContext"]) for c in seen] == [
        ("GenerateDataKey", context),
        ("Decrypt", context),
    ]
    assert seen[0]["KeySpec"] == "AES_256"


def test_the_vault_keeps_no_key_material(vault: TokenVault) -> None:
    vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    assert not any(isinstance(v, bytes | bytearray) for v in vars(vault).values())
    assert "kms_key_id" in repr(vault)


@pytest.mark.parametrize(
    ("user_id", "purpose"),
    [("user-b", PURPOSE), (USER, "ebay_access_token"), ("user-b", "other")],
)
def test_another_context_does_not_open(
    vault: TokenVault, user_id: str, purpose: str
) -> None:
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    with pytest.raises(TokenDecryptionFailed) as caught:
        vault.open(sealed, user_id=user_id, purpose=purpose)
    assert TOKEN not in str(caught.value)


def test_the_context_is_also_bound_locally_as_aad(key_id: str) -> None:
    class ContextBlindKms:
        """A KMS that would hand out the data key for any context."""

        def __init__(self) -> None:
            self.key = b"k" * 32

        def generate_data_key(self, **_: Any) -> dict[str, Any]:
            return {"Plaintext": self.key, "CiphertextBlob": b"wrapped"}

        def decrypt(self, **_: Any) -> dict[str, Any]:
            return {"Plaintext": self.key}

    vault = TokenVault(key_id, client=cast("KMSClient", ContextBlindKms()))
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    assert vault.open(sealed, user_id=USER, purpose=PURPOSE) == TOKEN
    with pytest.raises(TokenDecryptionFailed):
        vault.open(sealed, user_id="user-b", purpose=PURPOSE)


@pytest.mark.parametrize("field", ["ct", "nonce", "key"])
def test_a_tampered_field_does_not_open(vault: TokenVault, field: str) -> None:
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    tampered = {**sealed, field: _flip(sealed[field])}

    with pytest.raises(TokenDecryptionFailed):
        vault.open(tampered, user_id=USER, purpose=PURPOSE)


def test_another_values_data_key_does_not_open(vault: TokenVault) -> None:
    mine = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    other = vault.seal("another token", user_id=USER, purpose=PURPOSE)

    with pytest.raises(TokenDecryptionFailed):
        vault.open({**mine, "key": other["key"]}, user_id=USER, purpose=PURPOSE)


@pytest.mark.parametrize(
    "change",
    [
        {"v": "2"},
        {"nonce": "not base64!"},
        {"ct": ""},
        {"nonce": base64.b64encode(b"short").decode()},
    ],
)
def test_a_malformed_value_does_not_open(
    vault: TokenVault, change: dict[str, str]
) -> None:
    sealed = {**vault.seal(TOKEN, user_id=USER, purpose=PURPOSE), **change}

    with pytest.raises(TokenDecryptionFailed):
        vault.open(sealed, user_id=USER, purpose=PURPOSE)


def test_missing_or_extra_fields_do_not_open(vault: TokenVault) -> None:
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    missing = {k: v for k, v in sealed.items() if k != "nonce"}

    for value in (missing, {**sealed, "extra": "x"}):
        with pytest.raises(TokenDecryptionFailed):
            vault.open(value, user_id=USER, purpose=PURPOSE)


def test_an_empty_context_is_refused(vault: TokenVault) -> None:
    with pytest.raises(ValueError, match="required"):
        vault.seal(TOKEN, user_id="", purpose=PURPOSE)


def test_kms_throttling_is_store_unavailable(kms: KMSClient, key_id: str) -> None:
    vault = TokenVault(key_id, client=kms)
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    with Stubber(kms) as stubber:
        stubber.add_client_error("generate_data_key", "ThrottlingException")
        stubber.add_client_error(
            "decrypt", "KMSInternalException", http_status_code=500
        )
        with pytest.raises(StoreUnavailable):
            vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
        with pytest.raises(StoreUnavailable):
            vault.open(sealed, user_id=USER, purpose=PURPOSE)


def test_an_unknown_key_fails_to_seal(kms: KMSClient) -> None:
    vault = TokenVault("alias/no-such-key", client=kms)

    with pytest.raises(TokenEncryptionFailed) as caught:
        vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    assert "NotFoundException" in str(caught.value)
    assert TOKEN not in str(caught.value)

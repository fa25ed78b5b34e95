"""KMS envelope encryption of the eBay tokens we keep (part of the store layer).

Each sealed value gets its own data key: ``GenerateDataKey`` (AES-256) under the
token KMS key, with the encryption context ``{"user_id", "purpose"}``; the value
is encrypted locally with AES-256-GCM (random 96-bit nonce) and the same context
as associated data. What is stored::

    {"v": "1", "key": <KMS-encrypted data key, b64>, "nonce": b64, "ct": b64}

Opening it asks KMS to decrypt the data key with the same context, so an item
copied to another user (or used for another purpose) does not open. Plaintext
data keys live only inside :meth:`TokenVault.seal` / :meth:`TokenVault.open`.

KMS throttling and unavailability become ``StoreUnavailable`` (the callers
already treat the store as retryable); every other failure is a ``VaultError``
whose message never contains a token.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from workflows.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

FORMAT_VERSION = "1"
_NONCE_BYTES = 12  # 96-bit GCM nonce
_SEALED_FIELDS = ("v", "key", "nonce", "ct")
_TRANSIENT = {
    "ThrottlingException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "KeyUnavailableException",
}


class VaultError(Exception):
    """Sealing or opening a token failed. Messages never carry token values."""


class VaultNotConfigured(VaultError):
    """The store has no vault, so it refuses to store or read tokens."""


class TokenEncryptionFailed(VaultError):
    """KMS refused to issue a data key (key disabled, missing, access denied)."""


class TokenDecryptionFailed(VaultError):
    """The sealed value does not open: tampered, malformed, or another context
    (another user's or another purpose's item)."""


def encryption_context(*, user_id: str, purpose: str) -> dict[str, str]:
    if not user_id or not purpose:
        raise ValueError("user_id and purpose are required")
    return {"user_id": user_id, "purpose": purpose}


def _aad(context: Mapping[str, str]) -> bytes:
    """The encryption context, canonically encoded, bound to the ciphertext."""
    return json.dumps(
        {"v": FORMAT_VERSION, **context}, sort_keys=True, separators=(",", ":")
    ).encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any) -> bytes:
    if not isinstance(value, str):
        raise TokenDecryptionFailed("the sealed value is malformed")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TokenDecryptionFailed("the sealed value is malformed") from exc


class TokenVault:
    """Seals and opens short strings (tokens) under one KMS key."""

    def __init__(self, kms_key_id: str, client: KMSClient | None = None) -> None:
        if not kms_key_id:
            raise ValueError("a KMS key id, ARN or alias is required")
        self.kms_key_id = kms_key_id
        self._client = client

    @property
    def client(self) -> KMSClient:
        return self._client or default_client()

    def __repr__(self) -> str:
        return f"TokenVault(kms_key_id={self.kms_key_id!r})"

    def seal(self, plaintext: str, *, user_id: str, purpose: str) -> dict[str, str]:
        context = encryption_context(user_id=user_id, purpose=purpose)
        try:
            response = self.client.generate_data_key(
                KeyId=self.kms_key_id, KeySpec="AES_256", EncryptionContext=context
            )
        except ClientError as exc:
            _raise_transient(exc)
            raise TokenEncryptionFailed(
                f"KMS refused a data key ({_error_code(exc)})"
            ) from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("KMS is unreachable") from exc
        # The plaintext data key is used here and referenced nowhere else: it
        # goes with ``response`` when this call returns.
        nonce = os.urandom(_NONCE_BYTES)
        ciphertext = AESGCM(response["Plaintext"]).encrypt(
            nonce, plaintext.encode("utf-8"), _aad(context)
        )
        return {
            "v": FORMAT_VERSION,
            "key": _b64(response["CiphertextBlob"]),
            "nonce": _b64(nonce),
            "ct": _b64(ciphertext),
        }

    def open(self, sealed: Mapping[str, str], *, user_id: str, purpose: str) -> str:
        context = encryption_context(user_id=user_id, purpose=purpose)
        if not isinstance(sealed, Mapping) or set(sealed) != set(_SEALED_FIELDS):
            raise TokenDecryptionFailed("the sealed value is malformed")
        if str(sealed["v"]) != FORMAT_VERSION:
            raise TokenDecryptionFailed("unsupported sealed value version")
        encrypted_key = _unb64(sealed["key"])
        nonce = _unb64(sealed["nonce"])
        ciphertext = _unb64(sealed["ct"])
        if len(nonce) != _NONCE_BYTES:
            raise TokenDecryptionFailed("the sealed value is malformed")
        try:
            response = self.client.decrypt(
                CiphertextBlob=encrypted_key,
                EncryptionContext=context,
                KeyId=self.kms_key_id,
            )
        except ClientError as exc:
            _raise_transient(exc)
            raise TokenDecryptionFailed(
                f"KMS did not open the data key ({_error_code(exc)})"
            ) from exc
        except BotoCoreError as exc:
            raise StoreUnavailable("KMS is unreachable") from exc
        try:
            plaintext = AESGCM(response["Plaintext"]).decrypt(
                nonce, ciphertext, _aad(context)
            )
            return plaintext.decode("utf-8")
        except (InvalidTag, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            raise TokenDecryptionFailed("the sealed value does not open") from exc


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "unknown"))


def _raise_transient(exc: ClientError) -> None:
    if _error_code(exc) in _TRANSIENT:
        raise StoreUnavailable("KMS is busy; retry shortly") from exc


def default_client() -> KMSClient:
    return _cached_client()


@lru_cache(maxsize=1)
def _cached_client() -> KMSClient:
    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    return boto3.client("kms", config=config)


def reset_client() -> None:
    """Forget the cached client (the endpoint or credentials changed)."""
    _cached_client.cache_clear()

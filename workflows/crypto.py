"""Direct KMS encryption of the eBay tokens we keep (part of the store layer).

A token is encrypted by KMS itself (``Encrypt`` / ``Decrypt`` under the
symmetric token key): no data key and no local cipher, so the Lambda artifact
ships no AES library (the one it needed was 4.7 MB of a zipped artifact whose
budget is 10 MB), and no key material is ever in our memory.

``Encrypt`` takes at most 4096 bytes of plaintext. eBay's user access tokens are
about 2-2.5 KB but eBay documents no maximum, so the UTF-8 plaintext is split
into parts of at most ``PART_BYTES`` (4096) bytes, each encrypted on its own
with the encryption context::

    {"user_id": <uid>, "purpose": <purpose>,
     "value_id": <random id of this sealed value>, "part": "<i>/<n>"}

(``i`` counts from 1). What is stored (a DynamoDB map of strings and a list)::

    {"v": "2", "id": <value_id, 22 chars base64url>, "parts": [<KMS blob, b64>, ...]}

Opening checks the shape strictly and asks KMS to decrypt every part with its
context (and ``KeyId``, so a blob of another key is refused): a value copied to
another user or purpose does not open, and neither do parts that were dropped,
reordered, duplicated (``part`` binds the position and the count) or spliced in
from another sealed value (``value_id`` binds them to their value). KMS
encrypts at least one byte, so the empty string is sealed as one part holding
the single byte ``0xFF``, which never occurs in UTF-8: every sealed value has at
least one part bound to its context, and ``"parts": []`` is malformed (a value
whose parts were all dropped does not open as ``""``).

Cost: one KMS request per part, i.e. one ``Encrypt`` per seal and one
``Decrypt`` per open for every token eBay issues today (the same as the data
key design this replaced). Format ``"1"`` (the envelope of data key + local
AES-GCM) is no longer read: there was no production data in it.

KMS throttling and unavailability become ``StoreUnavailable`` (the callers
already treat the store as retryable); every other failure is a ``VaultError``
whose message never contains a token.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, TypedDict

from botocore.exceptions import ClientError

from workflows import aws
from workflows.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

FORMAT_VERSION = "2"
PART_BYTES = 4096  # KMS Encrypt's plaintext limit
_ID_BYTES = 16  # 128 random bits per sealed value
_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{22}")  # 16 bytes, base64url, unpadded
_SEALED_FIELDS = frozenset({"v", "id", "parts"})
_EMPTY = b"\xff"  # the one part of the empty string: never a UTF-8 byte
_MALFORMED = "the sealed value is malformed"
_DOES_NOT_OPEN = "the sealed value does not open"
_TRANSIENT = {
    "ThrottlingException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "KeyUnavailableException",
}


class SealedValue(TypedDict):
    """What ``TokenVault.seal`` returns and stores: plain strings and a list."""

    v: str
    id: str
    parts: list[str]


class VaultError(Exception):
    """Sealing or opening a token failed. Messages never carry token values."""


class VaultNotConfigured(VaultError):
    """The store has no vault, so it refuses to store or read tokens."""


class TokenEncryptionFailed(VaultError):
    """KMS refused to encrypt (key disabled, missing, access denied)."""


class TokenDecryptionFailed(VaultError):
    """The sealed value does not open: tampered, malformed, of an unsupported
    version, or of another context (another user's or purpose's item)."""


def encryption_context(*, user_id: str, purpose: str) -> dict[str, str]:
    if not user_id or not purpose:
        raise ValueError("user_id and purpose are required")
    return {"user_id": user_id, "purpose": purpose}


def _part_context(
    context: Mapping[str, str], value_id: str, index: int, count: int
) -> dict[str, str]:
    """The context of part ``index`` (from 0) of ``count``: sent to KMS."""
    return {**context, "value_id": value_id, "part": f"{index + 1}/{count}"}


def _split(data: bytes) -> list[bytes]:
    return [data[i : i + PART_BYTES] for i in range(0, len(data), PART_BYTES)]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise TokenDecryptionFailed(_MALFORMED)
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError) as exc:  # UnicodeEncodeError is one
        raise TokenDecryptionFailed(_MALFORMED) from exc


def _parse(sealed: Any) -> tuple[str, list[bytes]]:
    """The value id and the parts' blobs of a well-formed sealed value."""
    if not isinstance(sealed, Mapping):
        raise TokenDecryptionFailed(_MALFORMED)
    version = sealed.get("v")
    if not isinstance(version, str):
        raise TokenDecryptionFailed(_MALFORMED)
    if version != FORMAT_VERSION:
        raise TokenDecryptionFailed("unsupported sealed value version")
    if set(sealed) != _SEALED_FIELDS:
        raise TokenDecryptionFailed(_MALFORMED)
    value_id, parts = sealed["id"], sealed["parts"]
    if not isinstance(value_id, str) or not _ID_PATTERN.fullmatch(value_id):
        raise TokenDecryptionFailed(_MALFORMED)
    if not isinstance(parts, list) or not parts:
        raise TokenDecryptionFailed(_MALFORMED)
    return value_id, [_unb64(part) for part in parts]


class TokenVault:
    """Seals and opens strings (tokens) under one KMS key."""

    def __init__(self, kms_key_id: str, client: KMSClient | None = None) -> None:
        if not kms_key_id:
            raise ValueError("a KMS key id, ARN or alias is required")
        self.kms_key_id = kms_key_id
        self._client = client

    @property
    def client(self) -> KMSClient:
        return self._client or aws.client("kms")

    def __repr__(self) -> str:
        return f"TokenVault(kms_key_id={self.kms_key_id!r})"

    def seal(self, plaintext: str, *, user_id: str, purpose: str) -> SealedValue:
        context = encryption_context(user_id=user_id, purpose=purpose)
        value_id = secrets.token_urlsafe(_ID_BYTES)
        chunks = _split(plaintext.encode("utf-8")) or [_EMPTY]
        count = len(chunks)
        parts = [
            _b64(self._encrypt(chunk, _part_context(context, value_id, i, count)))
            for i, chunk in enumerate(chunks)
        ]
        return {"v": FORMAT_VERSION, "id": value_id, "parts": parts}

    def open(self, sealed: Mapping[str, Any], *, user_id: str, purpose: str) -> str:
        context = encryption_context(user_id=user_id, purpose=purpose)
        value_id, blobs = _parse(sealed)
        count = len(blobs)
        chunks = [
            self._decrypt(blob, _part_context(context, value_id, i, count))
            for i, blob in enumerate(blobs)
        ]
        if chunks == [_EMPTY]:
            return ""
        # Every part but the last is full: what ``seal`` writes, nothing else.
        if any(len(c) != PART_BYTES for c in chunks[:-1]) or not (
            0 < len(chunks[-1]) <= PART_BYTES
        ):
            raise TokenDecryptionFailed(_DOES_NOT_OPEN)
        try:
            return b"".join(chunks).decode("utf-8")
        except UnicodeDecodeError as exc:  # 0xFF included: only alone it is ""
            raise TokenDecryptionFailed(_DOES_NOT_OPEN) from exc

    def _encrypt(self, chunk: bytes, context: dict[str, str]) -> bytes:
        try:
            with _kms_errors():
                response = self.client.encrypt(
                    KeyId=self.kms_key_id, Plaintext=chunk, EncryptionContext=context
                )
        except ClientError as exc:
            raise TokenEncryptionFailed(
                f"KMS refused to encrypt ({aws.error_code(exc, 'unknown')})"
            ) from exc
        return response["CiphertextBlob"]

    def _decrypt(self, blob: bytes, context: dict[str, str]) -> bytes:
        try:
            with _kms_errors():
                response = self.client.decrypt(
                    CiphertextBlob=blob,
                    EncryptionContext=context,
                    KeyId=self.kms_key_id,
                )
        except ClientError as exc:
            code = aws.error_code(exc, "unknown")
            raise TokenDecryptionFailed(
                f"KMS did not decrypt the sealed value ({code})"
            ) from exc
        return response["Plaintext"]


def _kms_errors() -> AbstractContextManager[None]:
    return aws.translate_errors(
        StoreUnavailable,
        busy_codes=_TRANSIENT,
        busy="KMS is busy; retry shortly",
        unreachable="KMS is unreachable",
    )

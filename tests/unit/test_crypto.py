"""workflows.crypto: direct KMS encryption of tokens (moto KMS in-process)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from workflows.crypto import (
    PART_BYTES,
    SealedValue,
    TokenDecryptionFailed,
    TokenEncryptionFailed,
    TokenVault,
    VaultError,
    encryption_context,
)
from workflows.errors import StoreUnavailable

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

REGION = "us-east-1"
TOKEN = "v^1.1#i^1#r^1#p^3#f^0#t^REFRESH-TOKEN-CANARY-7f3a"
USER = "user-a"
PURPOSE = "ebay_refresh_token"
CONTEXT = {"user_id": USER, "purpose": PURPOSE}
# 10,000 bytes: parts of 4096, 4096 and 1808 bytes.
LONG_TOKEN = ("LONG-TOKEN-CANARY-" + "x" * 982) * 10
TRANSIENT = [
    "ThrottlingException",
    "KMSInternalException",
    "DependencyTimeoutException",
    "KeyUnavailableException",
]


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


def _with_parts(sealed: SealedValue, parts: list[str]) -> dict[str, Any]:
    return {**sealed, "parts": parts}


def _open_fails(vault: TokenVault, sealed: Any, match: str | None = None) -> str:
    """Opening ``sealed`` raises TokenDecryptionFailed; returns its message."""
    with pytest.raises(TokenDecryptionFailed, match=match) as caught:
        vault.open(sealed, user_id=USER, purpose=PURPOSE)
    message = str(caught.value)
    assert TOKEN not in message and "CANARY" not in message
    return message


@contextmanager
def _kms_refusing(
    kms: KMSClient, code: str, http_status: int, *operations: str
) -> Iterator[None]:
    """KMS answers ``operations``, one call each in order, with the error
    ``code`` and ``http_status``."""
    with Stubber(kms) as stubber:
        for operation in operations:
            stubber.add_client_error(operation, code, http_status_code=http_status)
        yield


# --- the test double: moto's KMS has the semantics the vault relies on --------


def test_moto_kms_enforces_the_encryption_context_on_decrypt(
    kms: KMSClient, key_id: str
) -> None:
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret", EncryptionContext=CONTEXT)[
        "CiphertextBlob"
    ]

    opened = kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT, KeyId=key_id)
    assert opened["Plaintext"] == b"secret"
    for other in (
        {},
        {**CONTEXT, "user_id": "user-b"},
        {**CONTEXT, "part": "1/1"},
        {"user_id": USER},
    ):
        with pytest.raises(ClientError) as caught:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext=other, KeyId=key_id)
        assert caught.value.response["Error"]["Code"] == "InvalidCiphertextException"


def test_moto_kms_enforces_the_key_id_on_decrypt(kms: KMSClient, key_id: str) -> None:
    other_key = kms.create_key()["KeyMetadata"]["KeyId"]
    blob = kms.encrypt(KeyId=key_id, Plaintext=b"secret", EncryptionContext=CONTEXT)[
        "CiphertextBlob"
    ]

    with pytest.raises(ClientError) as caught:
        kms.decrypt(CiphertextBlob=blob, EncryptionContext=CONTEXT, KeyId=other_key)
    # Real KMS says IncorrectKeyException; moto says AccessDeniedException.
    assert caught.value.response["Error"]["Code"] in {
        "IncorrectKeyException",
        "AccessDeniedException",
    }


def test_moto_kms_limits_the_plaintext_to_1_to_4096_bytes(
    kms: KMSClient, key_id: str
) -> None:
    kms.encrypt(KeyId=key_id, Plaintext=b"x" * PART_BYTES, EncryptionContext=CONTEXT)
    for size in (0, PART_BYTES + 1):
        with pytest.raises(ClientError) as caught:
            kms.encrypt(KeyId=key_id, Plaintext=b"x" * size, EncryptionContext=CONTEXT)
        assert caught.value.response["Error"]["Code"] == "ValidationException"


# --- round trips ------------------------------------------------------------


@pytest.mark.parametrize(
    ("plaintext", "parts"),
    [
        pytest.param("", 1, id="empty"),
        pytest.param(TOKEN, 1, id="ascii"),
        pytest.param("jeton-été-€-トークン-🔑", 1, id="non-ascii"),
        pytest.param("a" * PART_BYTES, 1, id="exactly-one-part"),
        pytest.param("a" * (PART_BYTES + 1), 2, id="one-byte-over"),
        pytest.param(LONG_TOKEN, 3, id="10000-bytes"),
        # 3-byte characters: the part boundaries fall inside a character.
        pytest.param("€" * 3334, 3, id="split-inside-a-character"),
    ],
)
def test_round_trip(
    kms: KMSClient, vault: TokenVault, plaintext: str, parts: int
) -> None:
    calls = KmsCalls(kms)

    sealed = vault.seal(plaintext, user_id=USER, purpose=PURPOSE)
    opened = vault.open(sealed, user_id=USER, purpose=PURPOSE)

    assert opened == plaintext
    assert len(sealed["parts"]) == parts
    # One KMS call per part, each way.
    assert calls.names == ["Encrypt"] * parts + ["Decrypt"] * parts


def test_round_trip_through_an_alias(kms: KMSClient, key_id: str) -> None:
    kms.create_alias(AliasName="alias/unit-tokens", TargetKeyId=key_id)
    vault = TokenVault("alias/unit-tokens", client=kms)

    sealed = vault.seal(LONG_TOKEN, user_id=USER, purpose=PURPOSE)

    assert vault.open(sealed, user_id=USER, purpose=PURPOSE) == LONG_TOKEN


def test_round_trip_property() -> None:
    texts = st.text(max_size=3 * PART_BYTES) | st.text("€é𝄞", max_size=3000)
    names = st.text(min_size=1, max_size=40)

    with mock_aws():
        kms = boto3.client("kms", region_name=REGION)
        vault = TokenVault(kms.create_key()["KeyMetadata"]["KeyId"], client=kms)

        @settings(max_examples=60, deadline=None)
        @given(plaintext=texts, user_id=names, purpose=names)
        def check(plaintext: str, user_id: str, purpose: str) -> None:
            sealed = vault.seal(plaintext, user_id=user_id, purpose=purpose)
            size = len(plaintext.encode())
            assert len(sealed["parts"]) == max(1, -(-size // PART_BYTES))
            assert vault.open(sealed, user_id=user_id, purpose=purpose) == plaintext

        check()


# --- the stored form and the requests ----------------------------------------


def test_the_sealed_value_has_the_documented_shape_and_no_plaintext(
    vault: TokenVault,
) -> None:
    sealed = vault.seal(LONG_TOKEN, user_id=USER, purpose=PURPOSE)

    assert set(sealed) == {"v", "id", "parts"}
    assert sealed["v"] == "2"
    assert isinstance(sealed["id"], str) and len(sealed["id"]) == 22
    assert isinstance(sealed["parts"], list) and len(sealed["parts"]) == 3
    assert all(isinstance(p, str) and base64.b64decode(p) for p in sealed["parts"])
    # A JSON/DynamoDB-friendly plain value that holds the token in no form.
    assert json.loads(json.dumps(sealed)) == sealed
    dumped = json.dumps(sealed)
    for form in (
        TOKEN,
        "CANARY",
        base64.b64encode(LONG_TOKEN.encode()).decode()[:40],
        base64.b64encode(TOKEN.encode()).decode(),
    ):
        assert form not in dumped


def test_the_empty_value_is_one_part_bound_to_its_context(
    kms: KMSClient, key_id: str, vault: TokenVault
) -> None:
    sealed = vault.seal("", user_id=USER, purpose=PURPOSE)

    assert sealed["v"] == "2" and len(sealed["parts"]) == 1
    assert vault.open(sealed, user_id=USER, purpose=PURPOSE) == ""
    # KMS holds the byte 0xFF (never in UTF-8) under the part's full context.
    opened = kms.decrypt(
        CiphertextBlob=base64.b64decode(sealed["parts"][0]),
        EncryptionContext={**CONTEXT, "value_id": sealed["id"], "part": "1/1"},
        KeyId=key_id,
    )
    assert opened["Plaintext"] == b"\xff"
    with pytest.raises(TokenDecryptionFailed):
        vault.open(sealed, user_id="user-b", purpose=PURPOSE)
    # Dropping every part does not turn a value into "".
    _open_fails(vault, {**sealed, "parts": []}, match="malformed")


def test_an_empty_values_part_does_not_stand_in_for_a_token(
    vault: TokenVault,
) -> None:
    mine = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    empty = vault.seal("", user_id=USER, purpose=PURPOSE)

    _open_fails(vault, {**mine, "parts": empty["parts"]})
    long = vault.seal(LONG_TOKEN, user_id=USER, purpose=PURPOSE)
    _open_fails(vault, {**long, "parts": [*long["parts"][:2], *empty["parts"]]})


def test_every_seal_is_a_new_value(vault: TokenVault) -> None:
    first = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    second = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    assert first["id"] != second["id"]
    assert first["parts"] != second["parts"]
    assert vault.open(first, user_id=USER, purpose=PURPOSE) == TOKEN
    assert vault.open(second, user_id=USER, purpose=PURPOSE) == TOKEN


def test_the_requests_carry_the_context_of_each_part_and_the_key(
    kms: KMSClient, key_id: str, vault: TokenVault
) -> None:
    seen: list[dict[str, Any]] = []
    kms.meta.events.register(
        "provide-client-params.kms.*",
        lambda params, model, **_: seen.append({"op": model.name, **params}),
    )

    sealed = vault.seal(LONG_TOKEN, user_id=USER, purpose=PURPOSE)
    vault.open(sealed, user_id=USER, purpose=PURPOSE)

    contexts = [
        {**CONTEXT, "value_id": sealed["id"], "part": f"{i}/3"} for i in (1, 2, 3)
    ]
    assert [(c["op"], c["EncryptionContext"]) for c in seen] == [
        *(("Encrypt", context) for context in contexts),
        *(("Decrypt", context) for context in contexts),
    ]
    assert all(c["KeyId"] == key_id for c in seen)
    assert [len(c["Plaintext"]) for c in seen[:3]] == [4096, 4096, 1808]


def test_the_vault_keeps_no_key_material(vault: TokenVault) -> None:
    vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    assert not any(isinstance(v, bytes | bytearray) for v in vars(vault).values())
    assert "kms_key_id" in repr(vault)


def test_the_public_context_is_user_and_purpose() -> None:
    assert encryption_context(user_id=USER, purpose=PURPOSE) == CONTEXT


# --- what does not open ------------------------------------------------------


@pytest.mark.parametrize("plaintext", [TOKEN, LONG_TOKEN])
@pytest.mark.parametrize(
    ("user_id", "purpose"),
    [("user-b", PURPOSE), (USER, "ebay_access_token"), ("user-b", "other")],
)
def test_another_context_does_not_open(
    vault: TokenVault, plaintext: str, user_id: str, purpose: str
) -> None:
    sealed = vault.seal(plaintext, user_id=USER, purpose=PURPOSE)

    with pytest.raises(TokenDecryptionFailed) as caught:
        vault.open(sealed, user_id=user_id, purpose=purpose)
    assert TOKEN not in str(caught.value) and "CANARY" not in str(caught.value)


def test_another_key_does_not_open(kms: KMSClient, vault: TokenVault) -> None:
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    other = TokenVault(kms.create_key()["KeyMetadata"]["KeyId"], client=kms)

    with pytest.raises(TokenDecryptionFailed):
        other.open(sealed, user_id=USER, purpose=PURPOSE)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_a_tampered_part_does_not_open(vault: TokenVault, index: int) -> None:
    sealed = vault.seal(LONG_TOKEN, user_id=USER, purpose=PURPOSE)
    parts = list(sealed["parts"])
    parts[index] = _flip(parts[index])

    _open_fails(vault, _with_parts(sealed, parts))


@pytest.mark.parametrize(
    "rearrange",
    [
        pytest.param(lambda p: [p[1], p[0], p[2]], id="swapped"),
        pytest.param(lambda p: p[::-1], id="reversed"),
        pytest.param(lambda p: [p[2], p[0], p[1]], id="rotated"),
        pytest.param(lambda p: p[:2], id="last-dropped"),
        pytest.param(lambda p: p[1:], id="first-dropped"),
        pytest.param(lambda p: [p[0], p[2]], id="middle-dropped"),
        pytest.param(lambda p: [p[0], p[0], p[2]], id="duplicated-in-place"),
        pytest.param(lambda p: [*p, p[2]], id="duplicated-appended"),
        pytest.param(lambda p: [], id="all-dropped"),
        pytest.param(lambda p: p[:1], id="first-alone"),
    ],
)
def test_rearranged_parts_do_not_open(
    vault: TokenVault, rearrange: Callable[[list[str]], list[str]]
) -> None:
    sealed = vault.seal(LONG_TOKEN, user_id=USER, purpose=PURPOSE)
    parts = rearrange(list(sealed["parts"]))
    assert parts != sealed["parts"]

    _open_fails(vault, _with_parts(sealed, parts))


def test_parts_spliced_from_another_value_do_not_open(vault: TokenVault) -> None:
    # Same user, purpose and number of parts: only the value id tells them apart.
    mine = vault.seal(LONG_TOKEN, user_id=USER, purpose=PURPOSE)
    other = vault.seal("y" * 10_000, user_id=USER, purpose=PURPOSE)

    for index in range(3):
        spliced = list(mine["parts"])
        spliced[index] = other["parts"][index]
        _open_fails(vault, _with_parts(mine, spliced))
    # Another value's parts under my id, or my parts under its id.
    _open_fails(vault, {**mine, "parts": other["parts"]})
    _open_fails(vault, {**mine, "id": other["id"]})


def test_a_single_part_value_under_another_id_does_not_open(
    vault: TokenVault,
) -> None:
    mine = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    other = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    _open_fails(vault, {**mine, "parts": other["parts"]})


def test_a_version_1_value_is_refused(vault: TokenVault) -> None:
    blob = base64.b64encode(b"\x01" * 32).decode()
    v1 = {"v": "1", "key": blob, "nonce": blob[:16], "ct": blob}

    message = _open_fails(vault, v1, match="^unsupported sealed value version$")
    assert message == "unsupported sealed value version"


@pytest.mark.parametrize("version", ["3", "", "2.0", " 2"])
def test_another_version_is_refused(vault: TokenVault, version: str) -> None:
    sealed = {**vault.seal(TOKEN, user_id=USER, purpose=PURPOSE), "v": version}

    _open_fails(vault, sealed, match="^unsupported sealed value version$")


def _valid() -> dict[str, Any]:
    part = base64.b64encode(b"\x01" * 64).decode()
    return {"v": "2", "id": "A" * 22, "parts": [part]}


MALFORMED: list[Any] = [
    None,
    "a string",
    ["v", "2"],
    {},
    {"v": 2, "id": "A" * 22, "parts": []},
    {"id": "A" * 22, "parts": []},
    {"v": "2", "parts": []},
    {"v": "2", "id": "A" * 22},
    {**_valid(), "extra": "x"},
    {**_valid(), "key": "x"},
    {**_valid(), "id": None},
    {**_valid(), "id": ""},
    {**_valid(), "id": "A" * 21},
    {**_valid(), "id": "A" * 23},
    {**_valid(), "id": "A" * 21 + "="},
    {**_valid(), "id": "A" * 21 + "!"},
    {**_valid(), "parts": []},
    {**_valid(), "parts": None},
    {**_valid(), "parts": "AAAA"},
    {**_valid(), "parts": ("AAAA",)},
    {**_valid(), "parts": {"0": "AAAA"}},
    {**_valid(), "parts": [None]},
    {**_valid(), "parts": [b"AAAA"]},
    {**_valid(), "parts": [""]},
    {**_valid(), "parts": ["not base64!"]},
    {**_valid(), "parts": ["AAA"]},
    {**_valid(), "parts": ["QUFB\n"]},
    {**_valid(), "parts": ["QUFB", ["QUFB"]]},
    {**_valid(), "parts": ["ÄÄÄÄ"]},
]


@pytest.mark.parametrize("sealed", MALFORMED)
def test_a_malformed_value_is_refused_without_asking_kms(
    kms: KMSClient, vault: TokenVault, sealed: Any
) -> None:
    calls = KmsCalls(kms)

    _open_fails(vault, sealed, match="^the sealed value is malformed$")
    assert calls.names == []


def test_a_well_formed_value_that_kms_did_not_seal_does_not_open(
    vault: TokenVault,
) -> None:
    _open_fails(vault, _valid())


def test_an_empty_context_is_refused(vault: TokenVault) -> None:
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    with pytest.raises(ValueError, match="required"):
        vault.seal(TOKEN, user_id="", purpose=PURPOSE)
    with pytest.raises(ValueError, match="required"):
        vault.open(sealed, user_id=USER, purpose="")


# --- KMS failures -------------------------------------------------------------


@pytest.mark.parametrize("code", TRANSIENT)
def test_transient_kms_errors_are_store_unavailable(
    kms: KMSClient, vault: TokenVault, code: str
) -> None:
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    with _kms_refusing(kms, code, 500, "encrypt", "decrypt"):
        with pytest.raises(StoreUnavailable) as sealing:
            vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
        with pytest.raises(StoreUnavailable) as opening:
            vault.open(sealed, user_id=USER, purpose=PURPOSE)
    for caught in (sealing, opening):
        assert TOKEN not in str(caught.value)


def test_a_transient_error_on_a_later_part_is_store_unavailable(
    kms: KMSClient, vault: TokenVault
) -> None:
    sealed = vault.seal(LONG_TOKEN, user_id=USER, purpose=PURPOSE)

    with Stubber(kms) as stubber:
        stubber.add_response("decrypt", {"Plaintext": b"x" * PART_BYTES})
        stubber.add_client_error("decrypt", "ThrottlingException")
        with pytest.raises(StoreUnavailable):
            vault.open(sealed, user_id=USER, purpose=PURPOSE)


def test_an_unreachable_kms_is_store_unavailable(key_id: str) -> None:
    class UnreachableKms:
        def encrypt(self, **_: Any) -> dict[str, Any]:
            raise EndpointConnectionError(endpoint_url="https://kms.invalid")

        def decrypt(self, **_: Any) -> dict[str, Any]:
            raise EndpointConnectionError(endpoint_url="https://kms.invalid")

    vault = TokenVault(key_id, client=cast("KMSClient", UnreachableKms()))
    part = base64.b64encode(b"\x01" * 64).decode()

    with pytest.raises(StoreUnavailable, match="unreachable"):
        vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    with pytest.raises(StoreUnavailable, match="unreachable"):
        vault.open({**_valid(), "parts": [part]}, user_id=USER, purpose=PURPOSE)


@pytest.mark.parametrize(
    "code",
    [
        "DisabledException",
        "AccessDeniedException",
        "KMSInvalidStateException",
        "NotFoundException",
        "InvalidKeyUsageException",
    ],
)
def test_an_encrypt_refusal_is_token_encryption_failed(
    kms: KMSClient, vault: TokenVault, code: str
) -> None:
    with (
        _kms_refusing(kms, code, 400, "encrypt"),
        pytest.raises(TokenEncryptionFailed) as caught,
    ):
        vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    assert code in str(caught.value)
    assert TOKEN not in str(caught.value)
    assert not isinstance(caught.value, StoreUnavailable)


@pytest.mark.parametrize(
    "code",
    [
        "InvalidCiphertextException",
        "IncorrectKeyException",
        "AccessDeniedException",
        "DisabledException",
        "KMSInvalidStateException",
        "NotFoundException",
    ],
)
def test_a_decrypt_refusal_is_token_decryption_failed(
    kms: KMSClient, vault: TokenVault, code: str
) -> None:
    sealed = vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)

    with _kms_refusing(kms, code, 400, "decrypt"):
        message = _open_fails(vault, sealed)
    assert code in message


def test_an_unknown_key_fails_to_seal(kms: KMSClient) -> None:
    vault = TokenVault("alias/no-such-key", client=kms)

    with pytest.raises(TokenEncryptionFailed) as caught:
        vault.seal(TOKEN, user_id=USER, purpose=PURPOSE)
    assert "NotFoundException" in str(caught.value)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "plaintexts",
    [
        pytest.param([b"x" * 100, b"y" * 100], id="short-first-part"),
        pytest.param([b"x" * PART_BYTES, b"\xff\xfe"], id="not-utf8"),
        pytest.param([b"x" * PART_BYTES, b"\xff"], id="empty-marker-not-alone"),
        pytest.param([b"\xff", b"\xff"], id="two-empty-markers"),
    ],
)
def test_decrypted_parts_that_seal_would_not_write_do_not_open(
    kms: KMSClient, vault: TokenVault, plaintexts: list[bytes]
) -> None:
    """Defence in depth: KMS answered, but not with what ``seal`` produces."""
    sealed = vault.seal("z" * (PART_BYTES + 1), user_id=USER, purpose=PURPOSE)

    with Stubber(kms) as stubber:
        for plaintext in plaintexts:
            stubber.add_response("decrypt", {"Plaintext": plaintext})
        _open_fails(vault, sealed, match="^the sealed value does not open$")


def test_no_failure_message_holds_a_token(kms: KMSClient, vault: TokenVault) -> None:
    sealed = vault.seal(LONG_TOKEN, user_id=USER, purpose=PURPOSE)
    failures: list[Exception] = []
    attempts: list[Callable[[], object]] = [
        lambda: vault.open(sealed, user_id="user-b", purpose=PURPOSE),
        lambda: vault.open(
            _with_parts(sealed, sealed["parts"][::-1]), user_id=USER, purpose=PURPOSE
        ),
        lambda: vault.open({**sealed, "v": "1"}, user_id=USER, purpose=PURPOSE),
        lambda: vault.open({**sealed, "x": TOKEN}, user_id=USER, purpose=PURPOSE),
        lambda: vault.open({**sealed, "parts": [TOKEN]}, user_id=USER, purpose=PURPOSE),
        lambda: TokenVault("alias/none", client=kms).seal(
            LONG_TOKEN, user_id=USER, purpose=PURPOSE
        ),
    ]
    for attempt in attempts:
        with pytest.raises((VaultError, StoreUnavailable)) as caught:
            attempt()
        failures.append(caught.value)

    assert len(failures) == len(attempts)
    for failure in failures:
        text = f"{failure} {failure!r}"
        assert TOKEN not in text and "CANARY" not in text and "xxxx" not in text

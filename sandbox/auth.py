"""The sandbox's stand-in for API Gateway's Cognito authorizer.

Tokens are HS256 JWTs signed with the sandbox's own key (``.sandbox/signing.key``,
created on first use, never committed). The local API accepts only those, and
puts their ``sub`` and ``email`` into ``requestContext.authorizer.claims`` exactly
where API Gateway's Cognito authorizer puts them.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

ISSUER = "snipe-sandbox"
AUDIENCE = "snipe-local-api"
ID_USE = "id"  # the token_use claim of a Cognito ID token
DEFAULT_KEY_FILE = Path(__file__).resolve().parent.parent / ".sandbox" / "signing.key"


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired or not signed by us."""


def load_key(path: Path | None = None) -> bytes:
    """The signing key; created (0600) on first use."""
    key_file = path or Path(os.environ.get("SANDBOX_KEY_FILE", DEFAULT_KEY_FILE))
    if key_file.exists():
        return key_file.read_bytes().strip()
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key


def email_for(user: str) -> str:
    return user if "@" in user else f"{user}@example.com"


def issue_token(
    user: str, *, key: bytes, email: str | None = None, ttl_seconds: int = 12 * 3600
) -> str:
    """A bearer token for ``user`` (its Cognito-style ``sub``)."""
    now = int(time.time())
    claims = {
        "sub": user,
        "email": email or email_for(user),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl_seconds,
        "token_use": ID_USE,
    }
    return jwt.encode(claims, key, algorithm="HS256")


def verify_authorization(header: str | None, *, key: bytes) -> dict[str, Any]:
    """Claims from an ``Authorization: Bearer <jwt>`` header, or InvalidToken."""
    if not header or not header.startswith("Bearer "):
        raise InvalidToken("missing bearer token")
    token = header.removeprefix("Bearer ").strip()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["sub", "exp", "iss", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(type(exc).__name__) from exc
    return claims

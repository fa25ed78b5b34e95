"""``POST /dev/token``: the sandbox's dev-only sign-in for the web app.

The local API gateway (``sandbox.local_api``) serves this route beside ``/api``;
on AWS it does not exist (``template.yaml`` has no such route, a test checks):
there users sign in through Cognito's Hosted UI. Body ``{"user_id": "alice"}``
(optionally ``"ttl_seconds"``, e.g. to try an expiring session) -> ``{"token",
"user_id", "email", "expires_at"}``, a token the local gateway accepts as it
accepts ``python -m sandbox token alice``.

CORS: the local gateway's origins (the web app's).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.auth import email_for, issue_token

PATH = "/dev/token"
USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
DEFAULT_TTL_SECONDS = 12 * 3600
MAX_TTL_SECONDS = 24 * 3600
ALLOW_HEADERS = "Authorization,Content-Type,Idempotency-Key"
EXPOSE_HEADERS = "Location,Retry-After,X-Server-Time"


def cors_headers(origin: str | None, allowed: Sequence[str]) -> dict[str, str]:
    """CORS response headers for ``origin`` when it is an allowed one, else none."""
    if not origin or origin == "*" or origin not in allowed:
        return {}
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Headers": ALLOW_HEADERS,
        "Access-Control-Expose-Headers": EXPOSE_HEADERS,
        "Access-Control-Max-Age": "600",
        "Vary": "Origin",
    }


def handle(request: Request, *, key: bytes, origins: Sequence[str]) -> Response:
    origin = request.headers.get("Origin")
    cors = cors_headers(origin, origins)
    if request.method == "OPTIONS":
        headers = dict(cors)
        if headers:
            headers["Access-Control-Allow-Methods"] = "OPTIONS,POST"
        return Response(status=204, headers=headers)
    if request.method != "POST":
        return _error(405, "METHOD_NOT_ALLOWED", "use POST", cors)
    try:
        body = json.loads(request.get_data(as_text=True) or "null")
    except ValueError:
        return _error(400, "INVALID_JSON", "the request body is not valid JSON", cors)
    errors = _validate(body)
    if errors:
        return _error(
            422,
            "VALIDATION_FAILED",
            "the request is not valid",
            cors,
            {"errors": errors},
        )
    user_id = str(body["user_id"])
    ttl = int(body.get("ttl_seconds", DEFAULT_TTL_SECONDS))
    email = email_for(user_id)
    expires = int(time.time()) + ttl
    token = issue_token(user_id, key=key, email=email, ttl_seconds=ttl)
    payload = {
        "token": token,
        "user_id": user_id,
        "email": email,
        "expires_at": datetime.fromtimestamp(expires, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
    }
    return Response(
        json.dumps(payload),
        status=200,
        content_type="application/json",
        headers={**cors, "Cache-Control": "no-store"},
    )


def _validate(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        return [_field([], "model_type", "send a JSON object")]
    errors = []
    unknown = set(body) - {"user_id", "ttl_seconds"}
    errors += [_field([name], "extra_forbidden", "unknown field") for name in unknown]
    user_id = body.get("user_id")
    if not isinstance(user_id, str) or not USER_ID.match(user_id):
        errors.append(
            _field(
                ["user_id"],
                "string_pattern_mismatch",
                "1-64 letters, digits or . _ @ + - (starting with a letter or digit)",
            )
        )
    ttl = body.get("ttl_seconds", DEFAULT_TTL_SECONDS)
    if (
        not isinstance(ttl, int)
        or isinstance(ttl, bool)
        or not 1 <= ttl <= MAX_TTL_SECONDS
    ):
        errors.append(
            _field(
                ["ttl_seconds"],
                "int_range",
                f"a whole number of seconds from 1 to {MAX_TTL_SECONDS}",
            )
        )
    return errors


def _field(loc: list[str], kind: str, message: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "type": kind, "message": message}


def _error(
    status: int,
    code: str,
    message: str,
    cors: dict[str, str],
    details: dict[str, Any] | None = None,
) -> Response:
    return Response(
        json.dumps(
            {"error": {"code": code, "message": message, "details": details or {}}}
        ),
        status=status,
        content_type="application/json",
        headers=cors,
    )

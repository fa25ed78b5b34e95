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

import re
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.auth import email_for, issue_token
from sandbox.dev_routes import (
    Invalid,
    Reply,
    field_error,
    object_errors,
    serve,
    whole_number,
)
from workflows.timing import to_z

PATH = "/dev/token"
USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")
DEFAULT_TTL_SECONDS = 12 * 3600
MAX_TTL_SECONDS = 24 * 3600


def handle(request: Request, *, key: bytes, origins: Sequence[str]) -> Response:
    def sign_in(body: Any) -> Reply:
        errors = _validate(body)
        if errors:
            raise Invalid(errors)
        return Reply(_token(body, key), headers={"Cache-Control": "no-store"})

    return serve(request, origins=origins, methods={"POST": sign_in})


def _token(body: dict[str, Any], key: bytes) -> dict[str, Any]:
    user_id = str(body["user_id"])
    ttl = int(body.get("ttl_seconds", DEFAULT_TTL_SECONDS))
    email = email_for(user_id)
    expires = int(time.time()) + ttl
    token = issue_token(user_id, key=key, email=email, ttl_seconds=ttl)
    return {
        "token": token,
        "user_id": user_id,
        "email": email,
        "expires_at": to_z(datetime.fromtimestamp(expires, UTC)),
    }


def _validate(body: Any) -> list[dict[str, Any]]:
    errors = object_errors(body, ("user_id", "ttl_seconds"))
    if not isinstance(body, dict):
        return errors
    user_id = body.get("user_id")
    if not isinstance(user_id, str) or not USER_ID.match(user_id):
        errors.append(
            field_error(
                ["user_id"],
                "string_pattern_mismatch",
                "1-64 letters, digits or . _ @ + - (starting with a letter or digit)",
            )
        )
    ttl = body.get("ttl_seconds", DEFAULT_TTL_SECONDS)
    if not whole_number(ttl, 1, MAX_TTL_SECONDS):
        errors.append(
            field_error(
                ["ttl_seconds"],
                "int_range",
                f"a whole number of seconds from 1 to {MAX_TTL_SECONDS}",
            )
        )
    return errors

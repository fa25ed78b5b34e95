"""Who is calling: only what API Gateway's Cognito authorizer put in the event.

The authorizer validates the ID token and copies its claims to
``requestContext.authorizer.claims``; ``sub`` is the user id and ``email`` the
address results are mailed to. Headers and bodies are never trusted for identity.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.request import Request
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from workflows.errors import Unauthorized
from workflows.models import Identity


def identity_from_event(event: BaseProxyEvent) -> Identity | None:
    """The caller's identity, or None when the authorizer vouched for no one."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    claims = authorizer.get("claims") or {}
    if not isinstance(claims, dict):
        return None
    user_id, email = claims.get("sub"), claims.get("email")
    if not isinstance(user_id, str) or not user_id:
        return None
    if not isinstance(email, str) or not email:
        return None
    return Identity(user_id=user_id, email=email)


def current_identity(request: Request) -> Identity:
    """Route dependency: the caller, or 401 UNAUTHORIZED."""
    identity = identity_from_event(request.resolved_event)
    if identity is None:
        raise Unauthorized(
            "authentication required: send a Cognito ID token (it carries the"
            " sub and email claims)"
        )
    return identity

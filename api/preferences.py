"""``GET/PUT /api/me/preferences``: which final outcomes the caller is emailed
about (``workflows.preferences``)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict

from api import examples
from api.params import AppServices, CallerIdentity
from api.responses import json_response
from api.routes import Routes
from workflows import preferences
from workflows.models import EmailOn, NotificationPreferences
from workflows.preferences import PreferencesRequest

router = Router()  # type: ignore[no-untyped-call]  # untyped __init__
route = Routes(router, "preferences")


class PreferencesView(BaseModel):
    """Per final outcome: whether you are emailed (CANCELLED never is)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email_on: EmailOn

    @classmethod
    def of(cls, prefs: NotificationPreferences) -> PreferencesView:
        return cls(email_on=prefs.email_on)


_OK: OpenAPIResponse = json_response(
    "Your notification preferences", PreferencesView, examples.PREFERENCES_EXAMPLES
)


@route(
    "GET",
    "/api/me/preferences",
    operation_id="getPreferences",
    summary="Your notification preferences",
    description="Which outcomes are emailed; every one until you change it.",
    ok=_OK,
)
def get_preferences(identity: CallerIdentity, services: AppServices) -> PreferencesView:
    return PreferencesView.of(preferences.get_preferences(services, identity.user_id))


@route(
    "PUT",
    "/api/me/preferences",
    operation_id="updatePreferences",
    summary="Set your notification preferences",
    description=(
        "Replaces them (all four outcomes are required). A snipe whose outcome"
        " is turned off records its notification as SUPPRESSED and sends no"
        " email; its status is the same."
    ),
    ok=_OK,
    json_body=True,
    errors=(413, 415),
)
def put_preferences(
    request: Annotated[
        PreferencesRequest, Body(openapi_examples=examples.PREFERENCES_REQUEST_EXAMPLES)
    ],
    identity: CallerIdentity,
    services: AppServices,
) -> PreferencesView:
    saved = preferences.put_preferences(services, identity.user_id, request)
    return PreferencesView.of(saved)

"""Notification preferences: which final outcomes a user is emailed about.

Stored per user (``PK=USER#<uid>, SK=PREFS``); a user who never set them gets
every outcome emailed. The notify task reads them (``workflows.notifications``):
an outcome turned off records the notification ``SUPPRESSED`` and sends nothing.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from workflows.models import EmailOn, NotificationPreferences
from workflows.observability import logger
from workflows.services import Services

StrictBool = Annotated[bool, Field(strict=True)]


class EmailOnInput(BaseModel):
    """Every outcome must be given (PUT replaces the preferences)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    WON: StrictBool
    LOST: StrictBool
    SKIPPED: StrictBool
    FAILED: StrictBool


class PreferencesRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    email_on: EmailOnInput = Field(
        description="Per final outcome: true to be emailed, false to stay quiet"
    )


def get_preferences(services: Services, user_id: str) -> NotificationPreferences:
    return services.store.get_preferences(user_id)


def put_preferences(
    services: Services, user_id: str, request: PreferencesRequest
) -> NotificationPreferences:
    preferences = NotificationPreferences(
        email_on=EmailOn.model_validate(request.email_on.model_dump())
    )
    logger.info(
        "notification preferences set",
        extra={"email_on": preferences.email_on.model_dump()},
    )
    return services.store.put_preferences(user_id, preferences)

"""Notification preferences (``USER#<uid>``/``PREFS``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from workflows.models import (
    NotificationPreferences,
)
from workflows.timing import to_z, utc_now

if TYPE_CHECKING:
    pass
from workflows.store.links import LinkRecords
from workflows.store.table import _from_item, _plain, _to_item


def _prefs_key(user_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": "PREFS"}}


class PreferenceRecords(LinkRecords):
    # --- notification preferences -------------------------------------------
    def get_preferences(self, user_id: str) -> NotificationPreferences:
        """The user's preferences; the defaults (every outcome emailed) if unset."""
        item = self._read(_prefs_key(user_id))
        if item is None:
            return NotificationPreferences()
        data = _plain(_from_item(item))
        return NotificationPreferences.model_validate(
            {"email_on": data.get("email_on", {})}
        )

    def put_preferences(
        self, user_id: str, preferences: NotificationPreferences
    ) -> NotificationPreferences:
        values = {
            "kind": "preferences",
            "user_id": user_id,
            "email_on": preferences.email_on.model_dump(mode="json"),
            "updated_at": to_z(utc_now()),
        }
        self._call(
            self._client.put_item, Item={**_prefs_key(user_id), **_to_item(values)}
        )
        return preferences

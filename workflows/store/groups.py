"""Win-N groups (``workflows.groups``) and their slot transactions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from workflows.errors import (
    GroupNotFound,
    StoreUnavailable,
    TransitionRejected,
    WinsWantedTooLow,
)
from workflows.models import (
    ACTIVE_STATUSES,
    Group,
    Snipe,
    SnipeStatus,
)
from workflows.timing import to_z, utc_now

if TYPE_CHECKING:
    pass
from workflows.store.idempotency import IdempotencyRecords
from workflows.store.slots import (
    _CHECK_FAILED,
    _SLOT_ATTEMPTS,
    SlotReservation,
    _backoff,
    _group_from_item,
    _group_key,
    _groups_partition,
    _outside_transaction,
    _slot_release_update,
)
from workflows.store.snipes import _snipe_from_item, _snipe_key, _status_partition
from workflows.store.table import _owned, _to_item, condition_failed


class GroupRecords(IdempotencyRecords):
    # --- win-N groups (workflows.groups) ------------------------------------
    # The group item is the slot counter: ``slots_used`` and ``holders`` (the
    # member snipes holding a slot) change only in one transaction with the
    # holding snipe's ``group_slot`` marker, so a slot is taken once and given
    # back once (the release also needs ``contains(holders, <id>)``).
    def create_group(self, group: Group) -> None:
        values = group.model_dump(mode="json", exclude={"holders"})
        values.update(
            kind="group",
            GSI1PK=_groups_partition(group.user_id),
            GSI1SK=f"CREATED#{to_z(group.created_at)}#{group.group_id}",
        )
        self._put_new({**_group_key(group.group_id), **_to_item(values)})

    def get_group(self, group_id: str) -> Group:
        item = self._read_existing(_group_key(group_id), _no_group(group_id))
        return _group_from_item(item)

    def get_group_for_user(self, user_id: str, group_id: str) -> Group:
        """The group if it is the user's; another user's group is 'not found'."""
        return _owned(self.get_group(group_id), user_id, _no_group(group_id))

    def list_groups(
        self, user_id: str, *, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[Group], str | None]:
        """The user's groups, newest first (GSI1 partition ``GROUPS#<uid>``)."""
        items, next_cursor = self._newest_first(
            "GSI1", _groups_partition(user_id), limit, cursor
        )
        return [_group_from_item(item) for item in items], next_cursor

    def update_group(
        self,
        user_id: str,
        group_id: str,
        *,
        name: str | None = None,
        wins_wanted: int | None = None,
    ) -> Group:
        """Rename and/or change ``wins_wanted`` (never below ``slots_used``)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {":u": user_id, ":now": to_z(utc_now()), ":one": 1}
        sets = ["updated_at = :now", "version = version + :one"]
        condition = "attribute_exists(PK) AND user_id = :u"
        if name is not None:
            names["#name"] = "name"
            values[":name"] = name
            sets.append("#name = :name")
        if wins_wanted is not None:
            values[":wanted"] = wins_wanted
            sets.append("wins_wanted = :wanted")
            condition += " AND slots_used <= :wanted"
        kwargs: dict[str, Any] = {"ExpressionAttributeNames": names} if names else {}
        written = self._update_returning(
            _group_key(group_id),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=condition,
            ExpressionAttributeValues=_to_item(values),
            **kwargs,
        )
        if isinstance(written, ClientError):
            old: Mapping[str, Any] | None = written.response.get("Item")  # type: ignore[assignment]
            current = _group_from_item(old) if old else None
            if current is None or current.user_id != user_id:
                raise _no_group(group_id) from written
            raise WinsWantedTooLow(
                f"{current.slots_used} of the group's slots are in use (won, or a"
                " bid whose result is not known yet); wins_wanted cannot go lower",
                details={"slots_used": current.slots_used},
            ) from written
        return _group_from_item(written)

    def delete_group(self, user_id: str, group_id: str) -> Group:
        """Delete the user's group; returns it as it was (members not touched)."""
        try:
            response = self._call(
                self._client.delete_item,
                Key=_group_key(group_id),
                ConditionExpression="attribute_exists(PK) AND user_id = :u",
                ExpressionAttributeValues={":u": {"S": user_id}},
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if condition_failed(exc):
                raise GroupNotFound(f"no group {group_id}") from exc
            raise
        return _group_from_item(response["Attributes"])

    def group_members(
        self, user_id: str, group_id: str, *, active_only: bool = False
    ) -> list[Snipe]:
        """The user's snipes with ``group_id``, newest first.

        Read from the user's indexes with a filter (GSI1, or the GSI2 partitions
        of the active statuses): eventually consistent, so a member written a
        moment ago may be missing. The slot accounting never relies on this.
        """
        if active_only:
            index = "GSI2"
            partitions = [
                _status_partition(user_id, s) for s in sorted(ACTIVE_STATUSES)
            ]
        else:
            index, partitions = "GSI1", [f"USER#{user_id}"]
        members: list[Snipe] = []
        for partition in partitions:
            kwargs: dict[str, Any] = {
                "IndexName": index,
                "KeyConditionExpression": f"{index}PK = :p",
                "FilterExpression": "group_id = :g",
                "ExpressionAttributeValues": {
                    ":p": {"S": partition},
                    ":g": {"S": group_id},
                },
                "ScanIndexForward": False,
            }
            while True:
                response = self._call(self._client.query, **kwargs)
                members.extend(_snipe_from_item(i) for i in response.get("Items", []))
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                kwargs["ExclusiveStartKey"] = last
        if active_only:
            members.sort(key=lambda s: (s.created_at, s.snipe_id), reverse=True)
        return members

    def detach_from_group(self, snipe_id: str, group_id: str) -> bool:
        """Clear the snipe's ``group_id`` (and a slot marker of that group) if it
        is still ``group_id``. For a deleted group only: no counter is touched."""
        try:
            self._call(
                self._client.update_item,
                Key=_snipe_key(snipe_id),
                UpdateExpression="SET updated_at = :now, version = version + :one"
                " REMOVE group_id, group_slot",
                ConditionExpression="attribute_exists(PK) AND group_id = :g",
                ExpressionAttributeValues=_to_item(
                    {":g": group_id, ":now": to_z(utc_now()), ":one": 1}
                ),
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def reserve_group_slot(
        self, snipe_id: str, group_id: str, *, user_id: str, claimed_by: str
    ) -> tuple[SlotReservation, Group | None]:
        """Take one of the group's slots for the claimed snipe, atomically.

        One transaction: the snipe (BIDDING, claimed by ``claimed_by``, still in
        the group, no slot yet) gets ``group_slot``, and the group (the user's,
        ``slots_used < wins_wanted``) gets ``slots_used + 1`` and the snipe in
        ``holders``. Two members claiming together cannot both take the last
        slot. Returns the outcome and, when FULL, the group as the refusal saw
        it (no extra read). Raises ``TransitionRejected`` if the snipe is no
        longer BIDDING under this claim.
        """
        snipe_update = {
            "TableName": self.table_name,
            "Key": _snipe_key(snipe_id),
            "UpdateExpression": "SET group_slot = :g, updated_at = :now,"
            " version = version + :one",
            "ConditionExpression": "attribute_exists(PK) AND #status = :bidding"
            " AND claimed_by = :me AND group_id = :g"
            " AND attribute_not_exists(group_slot)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        group_update = {
            "TableName": self.table_name,
            "Key": _group_key(group_id),
            "UpdateExpression": "SET slots_used = slots_used + :one,"
            " updated_at = :now ADD holders :ids",
            "ConditionExpression": "attribute_exists(PK) AND user_id = :u"
            " AND slots_used < wins_wanted",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        for attempt in range(_SLOT_ATTEMPTS):
            now = to_z(utc_now())
            snipe_update["ExpressionAttributeValues"] = _to_item(
                {
                    ":g": group_id,
                    ":now": now,
                    ":one": 1,
                    ":bidding": SnipeStatus.BIDDING.value,
                    ":me": claimed_by,
                }
            )
            group_update["ExpressionAttributeValues"] = _to_item(
                {":one": 1, ":now": now, ":ids": {snipe_id}, ":u": user_id}
            )
            refusals = self._transact(
                [{"Update": snipe_update}, {"Update": group_update}]
            )
            if refusals is None:
                return SlotReservation.RESERVED, None
            snipe_refusal, group_refusal = refusals
            if snipe_refusal.code == _CHECK_FAILED:
                snipe = (
                    _snipe_from_item(snipe_refusal.item)
                    if snipe_refusal.item
                    else self.get(snipe_id)
                )
                if (
                    snipe.status is not SnipeStatus.BIDDING
                    or snipe.claimed_by != claimed_by
                ):
                    raise TransitionRejected(snipe_id, snipe.status.value)
                if snipe.group_id != group_id:
                    return SlotReservation.NO_GROUP, None
                if snipe.group_slot == group_id:
                    return SlotReservation.HELD, None
            elif group_refusal.code == _CHECK_FAILED:
                group = (
                    _group_from_item(group_refusal.item) if group_refusal.item else None
                )
                if group is None or group.user_id != user_id:
                    return SlotReservation.NO_GROUP, None
                if group.slots_used >= group.wins_wanted:
                    return SlotReservation.FULL, group
            _backoff(attempt)  # a conflicting transaction or a change meanwhile
        raise StoreUnavailable("the group slot could not be reserved; retry shortly")

    def release_group_slot(self, snipe_id: str, group_id: str) -> bool:
        """Give back the slot a FAILED or SKIPPED snipe kept (its bid proved
        lost or absent). The status does not change. False if the snipe holds
        no slot of ``group_id`` (any more) or is not FAILED or SKIPPED.
        """
        for attempt in range(_SLOT_ATTEMPTS):
            values = {
                ":g": group_id,
                ":now": to_z(utc_now()),
                ":one": 1,
                ":failed": SnipeStatus.FAILED.value,
                ":skipped": SnipeStatus.SKIPPED.value,
            }
            snipe_update = {
                "TableName": self.table_name,
                "Key": _snipe_key(snipe_id),
                "UpdateExpression": "SET updated_at = :now, version = version + :one"
                " REMOVE group_slot",
                "ConditionExpression": "group_slot = :g"
                " AND #status IN (:failed, :skipped)",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": _to_item(values),
            }
            refusals = self._transact(
                [
                    {"Update": snipe_update},
                    _slot_release_update(self, snipe_id, group_id),
                ]
            )
            if refusals is None:
                return True
            if refusals[0].code == _CHECK_FAILED:
                return False
            if refusals[1].code == _CHECK_FAILED:  # the group is gone: drop the marker
                try:
                    self._call(
                        self._client.update_item, **_outside_transaction(snipe_update)
                    )
                except ClientError as exc:
                    if not condition_failed(exc):
                        raise
                return False
            _backoff(attempt)
        raise StoreUnavailable("the group slot could not be released; retry shortly")


def _no_group(group_id: str) -> GroupNotFound:
    return GroupNotFound(f"no group {group_id}")

"""Snipes: create, read, list, status transitions, edits and history."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from workflows.errors import (
    SnipeNotFound,
    StoreUnavailable,
    TransitionRejected,
)
from workflows.models import (
    ACTIVE_STATUSES,
    Reason,
    Snipe,
    SnipeStatus,
)
from workflows.timing import to_z, utc_now

if TYPE_CHECKING:
    pass
from workflows.store.slots import (
    _CHECK_FAILED,
    _KEEPS_SLOT,
    _SLOT_ATTEMPTS,
    _backoff,
    _gives_slot_back,
    _outside_transaction,
    _slot_release_update,
)
from workflows.store.table import (
    _BUSY,
    _KEY_ATTRS,
    Table,
    _decode_cursor,
    _encode_cursor,
    _from_item,
    _owned,
    _plain,
    _to_item,
    _whole_second,
    condition_failed,
)

# A snipe's current execution (``execution_name``) is the only one that may
# claim it; snipes that record no name (absent or null) accept any execution.
# Needs ``:execution`` (the claimer) and ``:null_type`` ("NULL") as values.
CURRENT_EXECUTION_CONDITION = (
    "(attribute_not_exists(execution_name)"
    " OR attribute_type(execution_name, :null_type)"
    " OR execution_name = :execution)"
)


def _snipe_key(snipe_id: str) -> dict[str, Any]:
    return {"PK": {"S": f"SNIPE#{snipe_id}"}, "SK": {"S": "SNIPE"}}


def _sort_key(snipe: Snipe) -> str:
    return f"CREATED#{to_z(snipe.created_at)}#{snipe.snipe_id}"


def _status_partition(user_id: str, status: SnipeStatus) -> str:
    return f"USER#{user_id}#{status.value}"


def _snipe_from_item(item: Mapping[str, Any]) -> Snipe:
    data = {k: v for k, v in _from_item(item).items() if k not in _KEY_ATTRS}
    return Snipe.model_validate(_plain(data))


def _user_index(user_id: str, status: SnipeStatus | None) -> tuple[str, str]:
    """The index and partition of a user's snipes: all (GSI1) or one status (GSI2)."""
    if status is None:
        return "GSI1", f"USER#{user_id}"
    return "GSI2", _status_partition(user_id, status)


class SnipeRecords(Table):
    """Snipe items (``SNIPE#<id>``) and the user indexes."""

    # --- snipes ------------------------------------------------------------
    def create(self, snipe: Snipe) -> None:
        values = snipe.model_dump(mode="json")
        values.update(
            kind="snipe",
            GSI1PK=f"USER#{snipe.user_id}",
            GSI1SK=_sort_key(snipe),
            GSI2PK=_status_partition(snipe.user_id, snipe.status),
            GSI2SK=_sort_key(snipe),
        )
        item = {**_snipe_key(snipe.snipe_id), **_to_item(values)}
        self._put_new(item)

    def get(self, snipe_id: str) -> Snipe:
        item = self._read_existing(_snipe_key(snipe_id), _no_snipe(snipe_id))
        return _snipe_from_item(item)

    def get_for_user(self, user_id: str, snipe_id: str) -> Snipe:
        """The snipe if it belongs to the user; another user's snipe is 'not found'."""
        return _owned(self.get(snipe_id), user_id, _no_snipe(snipe_id))

    def delete(self, snipe_id: str) -> None:
        self._call(self._client.delete_item, Key=_snipe_key(snipe_id))

    def list_for_user(
        self,
        user_id: str,
        *,
        status: SnipeStatus | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> tuple[list[Snipe], str | None]:
        """The user's snipes, newest first, one page at a time."""
        index, partition = _user_index(user_id, status)
        items, next_cursor = self._newest_first(index, partition, limit, cursor)
        return [_snipe_from_item(item) for item in items], next_cursor

    def _newest_first(
        self, index: str, partition: str, limit: int, cursor: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of an index partition, newest first, and the next cursor."""
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": f"{index}PK = :p",
            "ExpressionAttributeValues": {":p": {"S": partition}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = _decode_cursor(cursor, index, partition)
        response = self._call(self._client.query, **kwargs)
        last = response.get("LastEvaluatedKey")
        items: list[dict[str, Any]] = list(response.get("Items", []))
        return items, _encode_cursor(last) if last else None

    def count_active_for_user(self, user_id: str) -> int:
        """How many of the user's snipes are SCHEDULED, BIDDING or BID_PLACED.

        One ``Select=COUNT`` query per active status on the per-status index
        (GSI2), following ``LastEvaluatedKey`` (a page stops after 1 MB of
        evaluated items). GSI reads are eventually consistent: a snipe written
        a moment ago may not be counted yet (see docs/security.md).
        """
        total = 0
        for status in sorted(ACTIVE_STATUSES):
            kwargs: dict[str, Any] = {
                "IndexName": "GSI2",
                "KeyConditionExpression": "GSI2PK = :p",
                "ExpressionAttributeValues": {
                    ":p": {"S": _status_partition(user_id, status)}
                },
                "Select": "COUNT",
            }
            while True:
                response = self._call(self._client.query, **kwargs)
                total += int(response.get("Count", 0))
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                kwargs["ExclusiveStartKey"] = last
        return total

    def set_execution_arn(self, snipe_id: str, execution_arn: str) -> None:
        self._set_existing(_snipe_key(snipe_id), "execution_arn", execution_arn)

    def transition(
        self,
        snipe_id: str,
        *,
        allowed_from: Collection[SnipeStatus],
        to: SnipeStatus,
        reason: Reason | None = None,
        fields: Mapping[str, Any] | None = None,
        claimed_by: str | None = None,
        user_id: str | None = None,
        current_execution: str | None = None,
    ) -> Snipe:
        """Move the snipe to ``to`` only if it is in one of ``allowed_from``.

        With ``claimed_by`` the write also succeeds when the snipe is already in
        ``to`` and claimed by the same execution (a retried task is idempotent).
        With ``current_execution`` the move from ``allowed_from`` also requires
        that execution to be the snipe's current one (``execution_name``; a
        snipe that records no name accepts any): an execution an edit or a
        reschedule replaced can never claim the snipe.
        ``fields`` are extra top-level attributes (JSON-able values) set atomically.
        """
        names = {"#status": "status"}
        values: dict[str, Any] = {
            ":to": SnipeStatus(to).value,
            ":now": to_z(utc_now()),
            ":gsi2": None,  # filled below once the user id is known
            ":one": 1,
        }
        sets = [
            "#status = :to",
            "updated_at = :now",
            "version = version + :one",
            "GSI2PK = :gsi2",
        ]
        if reason is not None:
            values[":reason"] = reason.value
            sets.append("reason = :reason")
        for i, (name, value) in enumerate((fields or {}).items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
        allowed = sorted({SnipeStatus(s).value for s in allowed_from})
        placeholders = []
        for i, status in enumerate(allowed):
            values[f":from{i}"] = status
            placeholders.append(f":from{i}")
        condition = f"#status IN ({', '.join(placeholders)})"
        if current_execution is not None:
            values[":execution"] = current_execution
            values[":null_type"] = "NULL"
            condition = f"({condition}) AND {CURRENT_EXECUTION_CONDITION}"
        if claimed_by is not None:
            values[":claimer"] = claimed_by
            sets.append("claimed_by = :claimer")
            condition = f"({condition}) OR (#status = :to AND claimed_by = :claimer)"
        # The per-status index partition needs the (immutable) owner id; callers
        # that already hold the snipe pass it and save a read.
        user_id = user_id or self._user_id(snipe_id)
        values[":gsi2"] = _status_partition(user_id, SnipeStatus(to))
        # A snipe holding a win-N group slot takes the group transaction path
        # (``_transition_holding_slot``): this plain write refuses it.
        slot_guard = (
            "" if to in _KEEPS_SLOT else " AND attribute_not_exists(group_slot)"
        )
        written = self._update_returning(
            _snipe_key(snipe_id),
            UpdateExpression="SET " + ", ".join(sets),
            ConditionExpression=f"attribute_exists(PK) AND ({condition})" + slot_guard,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_to_item(values),
        )
        if isinstance(written, ClientError):
            old: Mapping[str, Any] | None = written.response.get("Item")  # type: ignore[assignment]
            if slot_guard:
                held = self._transition_holding_slot(
                    snipe_id, old, allowed, to, reason, sets, names, values, condition
                )
                if held is not None:
                    return held
            raise self._rejected(snipe_id, old) from written
        return _snipe_from_item(written)

    def claim_pending_notice(self, snipe: Snipe, record: Mapping[str, Any]) -> None:
        """Record the "result pending" email as claimed, only if none was yet
        and the result is still open (BIDDING/BID_PLACED); else TransitionRejected.
        """
        try:
            self._call(
                self._client.update_item,
                Key=_snipe_key(snipe.snipe_id),
                UpdateExpression="SET pending_notice = :notice",
                ConditionExpression=(
                    "attribute_exists(PK) AND (attribute_not_exists(pending_notice)"
                    " OR attribute_type(pending_notice, :null_type))"
                    " AND #status IN (:bidding, :placed)"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=_to_item(
                    {
                        ":notice": dict(record),
                        ":null_type": "NULL",
                        ":bidding": SnipeStatus.BIDDING.value,
                        ":placed": SnipeStatus.BID_PLACED.value,
                    }
                ),
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            raise TransitionRejected(snipe.snipe_id, None) from exc

    def _user_id(self, snipe_id: str) -> str:
        response = self._call(
            self._client.get_item,
            Key=_snipe_key(snipe_id),
            ProjectionExpression="user_id",
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None:
            raise SnipeNotFound(f"no snipe {snipe_id}")
        return str(item["user_id"]["S"])

    def end(
        self,
        snipe: Snipe,
        to: SnipeStatus,
        reason: Reason,
        *,
        allowed_from: Collection[SnipeStatus] = frozenset({SnipeStatus.BIDDING}),
    ) -> Snipe:
        """Move the snipe to the ending ``to`` with its ``reason`` (refused as
        ``transition`` refuses: ``TransitionRejected``)."""
        return self.transition(
            snipe.snipe_id,
            allowed_from=allowed_from,
            to=to,
            reason=reason,
            user_id=snipe.user_id,
        )

    def record_fields(self, snipe: Snipe, fields: Mapping[str, Any]) -> Snipe:
        """Set ``fields`` on the snipe while it keeps the status ``snipe`` has
        (``TransitionRejected`` once it has moved on)."""
        return self.transition(
            snipe.snipe_id,
            allowed_from={snipe.status},
            to=snipe.status,
            fields=fields,
            user_id=snipe.user_id,
        )

    def _rejected(
        self, snipe_id: str, old: Mapping[str, Any] | None
    ) -> TransitionRejected:
        """The refusal of a write whose condition failed on ``old``."""
        current = _from_item(old).get("status") if old else None
        if current is None:
            current = self._current_status(snipe_id)
        return TransitionRejected(snipe_id, current)

    def _current_status(self, snipe_id: str) -> str | None:
        try:
            return self.get(snipe_id).status.value
        except SnipeNotFound:
            return None

    def _transition_holding_slot(
        self,
        snipe_id: str,
        old: Mapping[str, Any] | None,
        allowed: Collection[str],
        to: SnipeStatus,
        reason: Reason | None,
        sets: list[str],
        names: dict[str, str],
        values: dict[str, Any],
        condition: str,
    ) -> Snipe | None:
        """``transition`` after its plain write was refused: the snipe may hold
        a group slot. None: it does not, and the refusal stands (``old``).

        An ending that proves no bid of the snipe can win (``_gives_slot_back``:
        LOST, a SKIPPED before any bid, a FAILED eBay refused) gives the slot
        back in the same transaction as the status change (``group_slot``
        removed, group ``slots_used - 1`` if ``holders`` contains the snipe), so
        it is given back exactly once. Other endings keep it; a later member's
        claim asks eBay about them.
        """
        refused_at: Any = None  # the version our last write's condition refused
        for attempt in range(_SLOT_ATTEMPTS):
            if attempt or old is None:
                response = self._call(
                    self._client.get_item, Key=_snipe_key(snipe_id), ConsistentRead=True
                )
                old = response.get("Item")
            data = _from_item(old) if old else {}
            slot, status = data.get("group_slot"), data.get("status")
            unchanged = refused_at is not None and data.get("version") == refused_at
            if status not in allowed or unchanged or not (slot or attempt):
                if not attempt:
                    return None
                raise TransitionRejected(
                    snipe_id, status if isinstance(status, str) else None
                )
            refused_at = data.get("version")
            snipe_update: dict[str, Any] = {
                "TableName": self.table_name,
                "Key": _snipe_key(snipe_id),
                "UpdateExpression": "SET " + ", ".join(sets),
                "ConditionExpression": f"attribute_exists(PK) AND ({condition})",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": _to_item(values),
            }
            if not isinstance(slot, str):  # the slot went meanwhile (group deleted)
                snipe_update["ConditionExpression"] += (
                    " AND attribute_not_exists(group_slot)"
                )
            else:
                snipe_update["ConditionExpression"] += " AND group_slot = :slot"
                snipe_update["ExpressionAttributeValues"] = _to_item(
                    {**values, ":slot": slot}
                )
                if _gives_slot_back(SnipeStatus(str(status)), to, reason):
                    snipe_update["UpdateExpression"] += " REMOVE group_slot"
                    release = _slot_release_update(self, snipe_id, slot)
                    refusals = self._transact([{"Update": snipe_update}, release])
                    if refusals is None:
                        return self.get(snipe_id)
                    if refusals[0].code == _CHECK_FAILED:
                        continue  # changed meanwhile, or refused: read it again
                    if refusals[1].code != _CHECK_FAILED:
                        refused_at = None
                        _backoff(attempt)  # a conflicting transaction
                        continue
                    # The group no longer holds the snipe (deleted): no counter
                    # to give the slot back to; drop the marker with the change.
            try:
                written = self._call(
                    self._client.update_item,
                    ReturnValues="ALL_NEW",
                    **_outside_transaction(snipe_update),
                )
            except ClientError as exc:
                if not condition_failed(exc):
                    raise
                continue
            return _snipe_from_item(written["Attributes"])
        raise StoreUnavailable(_BUSY)

    # --- snipe edits (workflows.scheduling.edit_snipe) ----------------------
    def update_scheduled(
        self,
        snipe_id: str,
        *,
        expected_version: int,
        fields: Mapping[str, Any],
        remove: Collection[str] = (),
    ) -> Snipe:
        """Change a SCHEDULED snipe in one conditional write.

        The write requires the status SCHEDULED *and* the ``version`` the
        caller read, so it cannot land after the bid task's claim (which moves
        the snipe to BIDDING) nor over a change the caller did not see. On a
        refused condition ``TransitionRejected`` carries the current status
        (SCHEDULED means: changed meanwhile, read it again). ``fields`` are
        top-level attributes (JSON-able values); ``remove`` names attributes to
        delete. Returns the snipe as written (``ALL_NEW``).
        """
        names = {"#status": "status", "#version": "version"}
        values: dict[str, Any] = {
            ":scheduled": SnipeStatus.SCHEDULED.value,
            ":expected": expected_version,
            ":one": 1,
            ":now": to_z(utc_now()),
        }
        sets = ["updated_at = :now", "#version = #version + :one"]
        for i, (name, value) in enumerate(fields.items()):
            names[f"#f{i}"] = name
            values[f":f{i}"] = value
            sets.append(f"#f{i} = :f{i}")
        expression = "SET " + ", ".join(sets)
        removed = []
        for i, name in enumerate(remove):
            names[f"#r{i}"] = name
            removed.append(f"#r{i}")
        if removed:
            expression += " REMOVE " + ", ".join(removed)
        written = self._update_returning(
            _snipe_key(snipe_id),
            UpdateExpression=expression,
            ConditionExpression=(
                "attribute_exists(PK) AND #status = :scheduled AND #version = :expected"
            ),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=_to_item(values),
        )
        if isinstance(written, ClientError):
            old: Mapping[str, Any] | None = written.response.get("Item")  # type: ignore[assignment]
            raise self._rejected(snipe_id, old) from written
        return _snipe_from_item(written)

    # --- history and stats ---------------------------------------------------
    def list_for_user_ending_between(
        self,
        user_id: str,
        *,
        status: SnipeStatus | None = None,
        ends_after: datetime | None = None,
        ends_before: datetime | None = None,
        limit: int = 20,
        cursor: str | None = None,
        max_queries: int = 10,
        batch_size: int = 100,
    ) -> tuple[list[Snipe], str | None]:
        """The user's snipes whose auction ends in ``[ends_after, ends_before)``.

        Newest first like ``list_for_user`` and with the same cursors; the end
        is the plan's (``plan.end_at``: the listing's end as last known, which
        the wake-time re-check updates). DynamoDB applies the FilterExpression
        after ``Limit``, so one query can return a short or empty page while
        matches remain: this keeps querying until the page is full or the index
        is exhausted (``next_cursor`` null), at most ``max_queries`` queries; a
        page cut short by that bound still carries a ``next_cursor``.
        """
        index, partition = _user_index(user_id, status)
        names = {"#plan": "plan", "#end": "end_at"}
        values: dict[str, Any] = {":p": {"S": partition}}
        filters = []
        # Stored ends are pydantic's ISO strings ("...:00Z", "...:00.5Z"), whose
        # sub-second part does not sort as text: the filter compares on whole
        # seconds (a superset) and the exact bounds are applied below.
        if ends_after is not None:
            values[":after"] = {"S": _whole_second(ends_after)}
            filters.append("#plan.#end >= :after")
        if ends_before is not None:
            after_last_second = ends_before + timedelta(seconds=1)
            values[":before"] = {"S": _whole_second(after_last_second)}
            filters.append("#plan.#end < :before")
        kwargs: dict[str, Any] = {
            "IndexName": index,
            "KeyConditionExpression": f"{index}PK = :p",
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": batch_size,
        }
        if filters:
            kwargs["FilterExpression"] = " AND ".join(filters)
            kwargs["ExpressionAttributeNames"] = names
        if cursor:
            kwargs["ExclusiveStartKey"] = _decode_cursor(cursor, index, partition)
        found: list[Snipe] = []
        last: Mapping[str, Any] | None = None
        for _ in range(max(1, max_queries)):
            response = self._call(self._client.query, **kwargs)
            items = response.get("Items", [])
            last = response.get("LastEvaluatedKey")
            for position, item in enumerate(items):
                snipe = _snipe_from_item(item)
                end = snipe.plan.end_at
                if ends_after is not None and end < ends_after:
                    continue
                if ends_before is not None and end >= ends_before:
                    continue
                found.append(snipe)
                if len(found) == limit:
                    exhausted = position == len(items) - 1 and not last
                    key = {k: item[k] for k in ("PK", "SK", f"{index}PK", f"{index}SK")}
                    return found, None if exhausted else _encode_cursor(key)
            if not last:
                return found, None
            kwargs["ExclusiveStartKey"] = last
        return found, _encode_cursor(last) if last else None

    def iter_for_user(self, user_id: str) -> Iterator[Snipe]:
        """Every snipe of the user, newest first (GSI1, page after page)."""
        kwargs: dict[str, Any] = {
            "IndexName": "GSI1",
            "KeyConditionExpression": "GSI1PK = :p",
            "ExpressionAttributeValues": {":p": {"S": f"USER#{user_id}"}},
            "ScanIndexForward": False,
        }
        while True:
            response = self._call(self._client.query, **kwargs)
            for item in response.get("Items", []):
                yield _snipe_from_item(item)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last


def _no_snipe(snipe_id: str) -> SnipeNotFound:
    return SnipeNotFound(f"no snipe {snipe_id}")

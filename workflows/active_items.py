"""One active snipe per user and item: a claim record in the snipes table.

``PK=USER#<uid>``, ``SK=ACTIVEITEM#<item id>`` names the snipe that holds the
item for the user. A create claims it with a conditional write before the
snipe is stored; a second create finds the claim, reads the snipe it names
and, while that snipe is active (SCHEDULED, BIDDING, BID_PLACED), is refused
with 409 ``SNIPE_EXISTS`` and the existing snipe's id. Claims are released
lazily: a claim whose snipe is final or gone (a create that failed after the
claim) is taken over by a conditional write naming the old holder, so two
concurrent creates can never both win, and nothing on the snipe's own
transitions has to change.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from workflows.errors import Conflict, SnipeNotFound
from workflows.models import ACTIVE_STATUSES
from workflows.services import Services
from workflows.table_access import Table, condition_failed

MAX_TAKEOVERS = 3


class SnipeExists(Conflict):
    code = "SNIPE_EXISTS"


def _key(user_id: str, item_id: str) -> dict[str, dict[str, str]]:
    return {"PK": {"S": f"USER#{user_id}"}, "SK": {"S": f"ACTIVEITEM#{item_id}"}}


def claim(services: Services, user_id: str, item_id: str, snipe_id: str) -> None:
    """Make ``snipe_id`` the user's one active snipe on ``item_id``, or 409."""
    table = Table.of(services.store)
    expected: str | None = None
    for _ in range(MAX_TAKEOVERS):
        if expected is None:
            condition = "attribute_not_exists(PK)"
            values = {":s": {"S": snipe_id}}
        else:
            condition = "snipe_id = :old"
            values = {":s": {"S": snipe_id}, ":old": {"S": expected}}
        try:
            table.call(
                table.client.update_item,
                Key=_key(user_id, item_id),
                UpdateExpression="SET snipe_id = :s",
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
            return
        except ClientError as exc:
            if not condition_failed(exc):
                raise
        holder = _holder(table, user_id, item_id)
        if holder is None:
            expected = None
            continue
        if _is_active(services, user_id, holder):
            raise SnipeExists(
                "you already have an active snipe on this item; change it"
                " (PATCH /api/snipes/{snipe_id}) or cancel it first",
                details={"snipe_id": holder, "item_id": item_id},
            )
        expected = holder
    raise SnipeExists(
        "another snipe on this item is being created right now; retry shortly",
        details={"item_id": item_id},
    )


def _holder(table: Table, user_id: str, item_id: str) -> str | None:
    item = table.call(
        table.client.get_item, Key=_key(user_id, item_id), ConsistentRead=True
    ).get("Item")
    if not item or "snipe_id" not in item:
        return None
    return item["snipe_id"]["S"]


def _is_active(services: Services, user_id: str, snipe_id: str) -> bool:
    try:
        snipe = services.store.get_for_user(user_id, snipe_id)
    except SnipeNotFound:
        return False
    return snipe.status in ACTIVE_STATUSES

"""One item cache for all containers: eBay listings' live values in the table.

``PK=ITEMCACHE#<key>``, ``SK=ITEM`` (key = the RESTful item id, or
``legacy:<number>`` for a preview by item number), with the listing as JSON,
``fetched_at`` (epoch ms), a refresh lease and a TTL of one day.

Freshness: a value younger than ``MAX_AGE`` (30 s) is served as is. An older
one is refreshed by exactly one caller at a time: ``claim_refresh`` is a
conditional write of a short lease (``refresh_until``) that only one container
wins; the others serve the value they have, with its age. A refresh writes
only if its value is newer than the stored one (``fetched_at`` condition), so
a slow refresher never overwrites a fresher value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from workflows import ebay
from workflows.money import Money
from workflows.table_access import Table, condition_failed

MAX_AGE = timedelta(seconds=30)
LEASE = timedelta(seconds=5)
KEEP = timedelta(days=1)
_PREFIX = "ITEMCACHE#"
_BATCH = 100


@dataclass(frozen=True)
class LiveItem:
    """The listing's values at ``fetched_at`` (all amounts exact)."""

    item_id: str
    legacy_item_id: str | None
    title: str
    image_url: str | None
    item_url: str | None
    current_price: Money | None
    minimum_bid: Money | None
    bid_count: int | None
    end_at: datetime | None
    buying_options: tuple[str, ...]
    fetched_at: datetime

    @classmethod
    def of(cls, item: ebay.EbayItem, fetched_at: datetime) -> LiveItem:
        price = item.current_bid_price or item.price
        return cls(
            item_id=item.item_id,
            legacy_item_id=item.legacy_item_id or _legacy_from(item.item_id),
            title=item.title,
            image_url=item.image_url,
            item_url=item.item_web_url,
            current_price=_money(price),
            minimum_bid=_money(item.minimum_price_to_bid),
            bid_count=item.bid_count,
            end_at=item.end_at,
            buying_options=item.buying_options,
            fetched_at=fetched_at,
        )

    def age(self, now: datetime) -> timedelta:
        return max(timedelta(0), now - self.fetched_at)

    def is_fresh(self, now: datetime) -> bool:
        return self.age(now) <= MAX_AGE

    def to_json(self) -> str:
        return json.dumps(
            {
                "item_id": self.item_id,
                "legacy_item_id": self.legacy_item_id,
                "title": self.title,
                "image_url": self.image_url,
                "item_url": self.item_url,
                "current_price": _money_json(self.current_price),
                "minimum_bid": _money_json(self.minimum_bid),
                "bid_count": self.bid_count,
                "end_at": self.end_at.isoformat() if self.end_at else None,
                "buying_options": list(self.buying_options),
                "fetched_at": self.fetched_at.isoformat(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> LiveItem:
        data = json.loads(text)
        return cls(
            item_id=str(data["item_id"]),
            legacy_item_id=data.get("legacy_item_id"),
            title=str(data.get("title") or ""),
            image_url=data.get("image_url"),
            item_url=data.get("item_url"),
            current_price=_money_from(data.get("current_price")),
            minimum_bid=_money_from(data.get("minimum_bid")),
            bid_count=data.get("bid_count"),
            end_at=datetime.fromisoformat(data["end_at"]) if data["end_at"] else None,
            buying_options=tuple(data.get("buying_options") or ()),
            fetched_at=datetime.fromisoformat(data["fetched_at"]),
        )


def _legacy_from(item_id: str) -> str | None:
    parts = item_id.split("|")
    return parts[1] if len(parts) == 3 and parts[1].isdigit() else None


def _money(amount: ebay.Amount | None) -> Money | None:
    return None if amount is None else amount.to_money()


def _money_json(money: Money | None) -> dict[str, Any] | None:
    return money.model_dump(mode="json") if money else None


def _money_from(data: Any) -> Money | None:
    return Money.model_validate(data) if isinstance(data, Mapping) else None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _key(key: str) -> dict[str, Any]:
    return {"PK": {"S": f"{_PREFIX}{key}"}, "SK": {"S": "ITEM"}}


def legacy_key(number: str) -> str:
    return f"legacy:{number}"


class ItemCache:
    def __init__(self, table: Table) -> None:
        self._table = table

    def get_many(self, keys: Iterable[str]) -> dict[str, LiveItem]:
        """The cached values of ``keys`` (absent keys are left out)."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, LiveItem] = {}
        for start in range(0, len(wanted), _BATCH):
            request: dict[str, Any] = {
                self._table.name: {
                    "Keys": [_key(k) for k in wanted[start : start + _BATCH]],
                    "ProjectionExpression": "PK, #data",
                    "ExpressionAttributeNames": {"#data": "data"},
                }
            }
            for _ in range(3):  # unprocessed keys: a couple of retries, then stale
                response = self._table.client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table.name, []):
                    key = item["PK"]["S"].removeprefix(_PREFIX)
                    if "data" in item:
                        found[key] = LiveItem.from_json(item["data"]["S"])
                request = dict(response.get("UnprocessedKeys") or {})
                if not request:
                    break
        return found

    def get(self, key: str) -> LiveItem | None:
        return self.get_many([key]).get(key)

    def claim_refresh(self, key: str, now: datetime) -> bool:
        """Win the right to refresh ``key`` for ``LEASE`` (one caller at a time)."""
        try:
            self._table.call(
                self._table.client.update_item,
                Key=_key(key),
                UpdateExpression="SET refresh_until = :until, #ttl = :ttl",
                ConditionExpression=(
                    "attribute_not_exists(refresh_until) OR refresh_until < :now"
                ),
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":until": {"N": str(_ms(now + LEASE))},
                    ":now": {"N": str(_ms(now))},
                    ":ttl": {"N": str(int((now + KEEP).timestamp()))},
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def put(self, keys: Iterable[str], item: LiveItem) -> None:
        """Store ``item`` under ``keys`` unless a newer value is there."""
        for key in dict.fromkeys(keys):
            try:
                self._table.call(
                    self._table.client.update_item,
                    Key=_key(key),
                    UpdateExpression=(
                        "SET #data = :data, fetched_at = :at, #ttl = :ttl"
                        " REMOVE refresh_until"
                    ),
                    ConditionExpression=(
                        "attribute_not_exists(fetched_at) OR fetched_at < :at"
                    ),
                    ExpressionAttributeNames={"#data": "data", "#ttl": "ttl"},
                    ExpressionAttributeValues={
                        ":data": {"S": item.to_json()},
                        ":at": {"N": str(_ms(item.fetched_at))},
                        ":ttl": {"N": str(int((item.fetched_at + KEEP).timestamp()))},
                    },
                )
            except ClientError as exc:
                if not condition_failed(exc):
                    raise


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)

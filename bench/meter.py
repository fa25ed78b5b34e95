"""What the product asks of AWS, per snipe: DynamoDB request units and API calls.

:class:`CapacityMeter` wraps moto's DynamoDB request handler (the outermost
wrapper, around ``sandbox.engine``'s atomic-request patch) and, under its own
lock so that nothing interleaves, looks at each item before and after the
request in moto's backend. It then applies DynamoDB's on-demand rules
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
read-write-operations.html), because moto's ``ConsumedCapacity`` is a
constant:

* write: ``ceil(max(size before, size after) / 1 KB)`` WRU on the table, at
  least 1, also when the condition fails; per GSI, one write of the projected
  item when it enters or leaves the index or a projected attribute changes,
  two when its index key changes; transactions count 2x on the table;
* read: ``ceil(size / 4 KB)`` RRU, at least 1, halved when eventually
  consistent (GSI queries always are); a query sums the sizes of the items it
  read (scaled up to ``ScannedCount`` when a filter dropped some).

Item sizes follow DynamoDB's rules (attribute name + value bytes; numbers about
1 byte per 2 significant digits + 1; 3 bytes + 1 per element for lists/maps).

Each request is attributed to the snipe the calling thread works on
(:func:`bench.harness.current_snipe`); requests without one (the harness'
own reads) are kept apart.

:class:`CallCounter` counts every AWS API call the product's boto3 clients
make (a ``before-call`` hook on boto3's default session), per service and
operation, attributed the same way (KMS and Secrets Manager are priced per
call).
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.responses import DynamoHandler

from bench.harness import current_snipe
from sandbox.aws import load_template

_KB = 1024
_READ_BLOCK = 4 * 1024


# --------------------------------------------------------------------------- #
# Item sizes (DynamoDB's rules, on the wire format {"S": ...})
# --------------------------------------------------------------------------- #
def _number_size(text: str) -> int:
    mantissa = text.lower().split("e")[0].lstrip("+-").replace(".", "")
    digits = mantissa.strip("0") or "0"
    return max(1, math.ceil(len(digits) / 2) + 1)


def value_size(value: Mapping[str, Any]) -> int:
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return _number_size(str(raw))
    if kind == "B":
        return (
            len(raw) if isinstance(raw, bytes | bytearray) else len(str(raw)) * 3 // 4
        )
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(v).encode()) for v in raw)
    if kind == "NS":
        return sum(_number_size(str(v)) for v in raw)
    if kind == "BS":
        return sum(len(str(v)) * 3 // 4 for v in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    return len(json.dumps(raw))


def item_size(item: Mapping[str, Any] | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / _KB))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / _READ_BLOCK))
    return float(units) if consistent else units / 2.0


# --------------------------------------------------------------------------- #
# GSIs from template.yaml
# --------------------------------------------------------------------------- #
@dataclass(frozen=True)
class Index:
    name: str
    key_attrs: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    non_key: tuple[str, ...] = ()

    def project(
        self, item: Mapping[str, Any] | None, table_keys: tuple[str, ...]
    ) -> dict[str, Any] | None:
        """The index entry of ``item``, or None if the item is not in the index."""
        if not item or any(k not in item for k in self.key_attrs):
            return None
        if self.projection == "ALL":
            return dict(item)
        keep = {*self.key_attrs, *table_keys}
        if self.projection == "INCLUDE":
            keep.update(self.non_key)
        return {k: v for k, v in item.items() if k in keep}


def template_indexes() -> tuple[tuple[str, ...], list[Index]]:
    """(table key attributes, GSIs) of the template's table."""
    template = load_template()
    table = next(
        r["Properties"]
        for r in template["Resources"].values()
        if r.get("Type") == "AWS::DynamoDB::Table"
    )
    keys = tuple(k["AttributeName"] for k in table["KeySchema"])
    indexes = [
        Index(
            name=gsi["IndexName"],
            key_attrs=tuple(k["AttributeName"] for k in gsi["KeySchema"]),
            projection=gsi["Projection"]["ProjectionType"],
            non_key=tuple(gsi["Projection"].get("NonKeyAttributes", [])),
        )
        for gsi in table.get("GlobalSecondaryIndexes", [])
    ]
    return keys, indexes


# --------------------------------------------------------------------------- #
# The meter
# --------------------------------------------------------------------------- #
@dataclass
class Usage:
    rru: float = 0.0
    wru: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)

    def add(self, other: Usage) -> None:
        self.rru += other.rru
        self.wru += other.wru
        self.requests.update(other.requests)


class CapacityMeter:
    """DynamoDB request units per snipe (install around a stack's moto)."""

    def __init__(self) -> None:
        self.table_keys, self.indexes = template_indexes()
        self.by_key: dict[str | None, Usage] = {}
        self._lock = threading.RLock()
        self._original: Callable[[DynamoHandler], Any] | None = None

    # -- install -------------------------------------------------------------
    @contextmanager
    def installed(self) -> Iterator[CapacityMeter]:
        original = DynamoHandler.call_action
        meter = self

        def call_action(handler: DynamoHandler) -> Any:
            return meter._metered(handler, original)

        DynamoHandler.call_action = call_action  # type: ignore[method-assign]
        try:
            yield self
        finally:
            DynamoHandler.call_action = original  # type: ignore[method-assign]

    def rename(self, old: str, new: str) -> None:
        """Attribute what was recorded under ``old`` to ``new``."""
        with self._lock:
            usage = self.by_key.pop(old, None)
            if usage is not None:
                self.by_key.setdefault(new, Usage()).add(usage)

    def usage(self, key: str | None) -> Usage:
        with self._lock:
            return self.by_key.get(key, Usage())

    # -- per request -----------------------------------------------------------
    def _item(
        self, handler: DynamoHandler, table_name: str, key: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        try:
            table = handler.dynamodb_backend.get_table(table_name)
        except Exception:  # unknown table: moto answers the error itself
            return None
        hash_attr = table.hash_key_attr
        range_attr = table.range_key_attr
        if hash_attr not in key:
            return None
        range_value = DynamoType(key[range_attr]) if range_attr else None
        found = table.get_item(DynamoType(key[hash_attr]), range_value)
        if found is None:
            return None
        attributes: dict[str, Any] = found.to_json()["Attributes"]
        return attributes

    def _key_of(self, table_name: str, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: item[k] for k in self.table_keys if k in item}

    def _index_writes(
        self, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
    ) -> int:
        units = 0
        for index in self.indexes:
            old = index.project(before, self.table_keys)
            new = index.project(after, self.table_keys)
            if old is None and new is None:
                continue
            if old is None or new is None:
                units += write_units(item_size(old or new))
                continue
            if any(old.get(k) != new.get(k) for k in index.key_attrs):
                units += write_units(item_size(old)) + write_units(item_size(new))
            elif old != new:
                units += write_units(item_size(new))
        return units

    def _write(
        self,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        *,
        failed: bool,
        factor: int = 1,
    ) -> int:
        if failed:
            return factor * write_units(item_size(before))
        base = write_units(max(item_size(before), item_size(after)))
        return factor * base + self._index_writes(before, after)

    def _metered(
        self, handler: DynamoHandler, original: Callable[[DynamoHandler], Any]
    ) -> Any:
        with self._lock:  # outermost: nothing else changes moto's table meanwhile
            params: dict[str, Any] = dict(getattr(handler, "params", {}) or {})
            action = str(handler._get_action())
            befores = self._befores(handler, action, params)
            response = original(handler)
            try:
                usage = self._account(handler, action, params, befores, response)
            except Exception as exc:  # never break the request being measured
                usage = Usage(requests=Counter({f"unmetered:{action}:{exc!r}": 1}))
            self.by_key.setdefault(current_snipe(), Usage()).add(usage)
            return response

    def _befores(
        self, handler: DynamoHandler, action: str, params: Mapping[str, Any]
    ) -> list[dict[str, Any] | None]:
        table = str(params.get("TableName", ""))
        if action in ("PutItem",):
            return [self._item(handler, table, self._key_of(table, params["Item"]))]
        if action in ("UpdateItem", "DeleteItem"):
            return [self._item(handler, table, params["Key"])]
        if action == "TransactWriteItems":
            found: list[dict[str, Any] | None] = []
            for entry in params.get("TransactItems", []):
                (_, op), *_ = entry.items()
                key = op.get("Key") or self._key_of(op["TableName"], op.get("Item", {}))
                found.append(self._item(handler, op["TableName"], key))
            return found
        return []

    def _account(
        self,
        handler: DynamoHandler,
        action: str,
        params: Mapping[str, Any],
        befores: list[dict[str, Any] | None],
        response: Any,
    ) -> Usage:
        status = int(response[0]) if isinstance(response, tuple) else 200
        body_raw = response[2] if isinstance(response, tuple) else "{}"
        try:
            body: dict[str, Any] = json.loads(body_raw) if body_raw else {}
        except ValueError:
            body = {}
        failed = status >= 400
        usage = Usage(requests=Counter({action: 1}))
        table = str(params.get("TableName", ""))
        if action in ("PutItem", "UpdateItem", "DeleteItem"):
            key = (
                params["Key"]
                if "Key" in params
                else self._key_of(table, params.get("Item", {}))
            )
            after = self._item(handler, table, key)
            usage.wru += self._write(befores[0], after, failed=failed)
        elif action == "TransactWriteItems":
            for entry, before in zip(
                params.get("TransactItems", []), befores, strict=False
            ):
                (kind, op), *_ = entry.items()
                if kind == "ConditionCheck":
                    usage.wru += 2 * write_units(item_size(before))
                    continue
                key = op.get("Key") or self._key_of(op["TableName"], op.get("Item", {}))
                after = self._item(handler, op["TableName"], key)
                usage.wru += self._write(before, after, failed=failed, factor=2)
        elif action == "GetItem":
            consistent = bool(params.get("ConsistentRead", False))
            usage.rru += read_units(item_size(body.get("Item")), consistent=consistent)
        elif action == "TransactGetItems":
            for entry in body.get("Responses", []):
                usage.rru += 2 * read_units(
                    item_size(entry.get("Item")), consistent=True
                )
        elif action == "BatchGetItem":
            for items in body.get("Responses", {}).values():
                for item in items:
                    usage.rru += read_units(item_size(item), consistent=False)
        elif action in ("Query", "Scan"):
            items = body.get("Items", [])
            size = sum(item_size(i) for i in items)
            scanned = int(body.get("ScannedCount", len(items)) or 0)
            if items and scanned > len(items):
                size = size * scanned // len(items)
            consistent = bool(params.get("ConsistentRead", False)) and not params.get(
                "IndexName"
            )
            usage.rru += read_units(size, consistent=consistent)
        elif action == "BatchWriteItem":
            for writes in params.get("RequestItems", {}).values():
                usage.wru += len(writes)  # approximate: 1 WRU per item
        return usage


# --------------------------------------------------------------------------- #
# AWS API calls of the product's boto3 clients
# --------------------------------------------------------------------------- #
class CallCounter:
    """Counts ``service.Operation`` calls per snipe (boto3 default session)."""

    def __init__(self) -> None:
        self.by_key: dict[str | None, Counter[str]] = {}
        self._lock = threading.Lock()

    def _before_call(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}.{model.name}"
        with self._lock:
            self.by_key.setdefault(current_snipe(), Counter())[name] += 1

    @contextmanager
    def installed(self) -> Iterator[CallCounter]:
        session = boto3._get_default_session()
        session.events.register("before-call", self._before_call)
        try:
            yield self
        finally:
            session.events.unregister("before-call", self._before_call)

    def rename(self, old: str, new: str) -> None:
        with self._lock:
            calls = self.by_key.pop(old, None)
            if calls is not None:
                self.by_key.setdefault(new, Counter()).update(calls)

    def calls(self, key: str | None) -> Counter[str]:
        with self._lock:
            return Counter(self.by_key.get(key, Counter()))

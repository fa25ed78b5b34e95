"""eBay's daily call budget, shared by every container (docs/scaling.md).

eBay meters calls per application and day: Browse 5,000 by default, OAuth
client-credentials grants 1,000. One counter per API and UTC day lives in the
snipes table (``PK=EBAYBUDGET#<yyyy-mm-dd>``, ``SK=<api>``, attribute
``calls``, expiring after 3 days):

* ``record`` counts a call that must happen (a create's or edit's item check,
  the wake-time re-check, a token grant): always allowed, always counted;
* ``try_spend`` asks for an *optional* call (live prices for the UI): it is
  counted only while the day's count stays below ``limit - reserve``, in one
  conditional write, so all containers together never eat the reserve the
  essential calls need. Refused: the caller serves the last known values.

Every count emits the ``EbayCallsRemaining`` metric (dimension ``api``), so
operators see the remaining share per API; ``python -m workflows.ebay_budget``
prints today's counts. A broken counter never blocks a call: it is logged,
and ``try_spend`` then says no (optional calls are the ones to drop).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from workflows.errors import StoreUnavailable
from workflows.observability import logger, metrics
from workflows.table_access import Table, condition_failed

BROWSE = "browse"
OAUTH_APP = "oauth_client_credentials"
PARTITION_PREFIX = "EBAYBUDGET#"
KEEP = timedelta(days=3)


@dataclass(frozen=True)
class Allowance:
    limit: int
    reserve: int  # kept for essential calls; optional calls stop before it


DEFAULT_ALLOWANCES = {
    BROWSE: Allowance(limit=5000, reserve=1500),
    OAUTH_APP: Allowance(limit=1000, reserve=200),
}


@dataclass(frozen=True)
class Usage:
    api: str
    day: str
    calls: int
    limit: int
    reserve: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.calls)

    @property
    def optional_remaining(self) -> int:
        return max(0, self.limit - self.reserve - self.calls)


def _key(api: str, now: datetime) -> dict[str, Any]:
    return {
        "PK": {"S": f"{PARTITION_PREFIX}{now.date().isoformat()}"},
        "SK": {"S": api},
    }


class DailyBudget:
    def __init__(
        self, table: Table, allowances: dict[str, Allowance] | None = None
    ) -> None:
        self._table = table
        self._allowances = allowances or DEFAULT_ALLOWANCES

    def allowance(self, api: str) -> Allowance:
        return self._allowances.get(api, Allowance(limit=1000, reserve=0))

    def record(self, api: str, now: datetime) -> None:
        """Count an essential call (never refused)."""
        try:
            calls = self._add(api, now, condition=None)
        except (StoreUnavailable, ClientError):
            logger.warning("eBay call budget not counted", extra={"api": api})
            return
        self._report(api, calls)

    def try_spend(self, api: str, now: datetime) -> bool:
        """Count an optional call if the day's optional share allows it."""
        allowance = self.allowance(api)
        cap = allowance.limit - allowance.reserve
        if cap <= 0:
            return False
        try:
            calls = self._add(api, now, condition=cap)
        except ClientError as exc:
            if condition_failed(exc):
                logger.info("eBay optional call budget spent", extra={"api": api})
                return False
            logger.warning("eBay call budget unavailable", extra={"api": api})
            return False
        except StoreUnavailable:
            logger.warning("eBay call budget unavailable", extra={"api": api})
            return False
        self._report(api, calls)
        return True

    def usage(self, api: str, now: datetime) -> Usage:
        item = self._table.call(
            self._table.client.get_item, Key=_key(api, now), ConsistentRead=True
        ).get("Item")
        calls = int(item["calls"]["N"]) if item and "calls" in item else 0
        allowance = self.allowance(api)
        return Usage(
            api, now.date().isoformat(), calls, allowance.limit, allowance.reserve
        )

    def _add(self, api: str, now: datetime, *, condition: int | None) -> int:
        values: dict[str, Any] = {
            ":one": {"N": "1"},
            ":ttl": {"N": str(int((now + KEEP).timestamp()))},
        }
        kwargs: dict[str, Any] = {}
        if condition is not None:
            values[":cap"] = {"N": str(condition)}
            kwargs["ConditionExpression"] = (
                "attribute_not_exists(calls) OR calls < :cap"
            )
        response = self._table.call(
            self._table.client.update_item,
            Key=_key(api, now),
            UpdateExpression="ADD calls :one SET #ttl = :ttl",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues=values,
            ReturnValues="UPDATED_NEW",
            **kwargs,
        )
        return int(response["Attributes"]["calls"]["N"])

    def _report(self, api: str, calls: int) -> None:
        allowance = self.allowance(api)
        remaining = max(0, allowance.limit - calls)
        metrics.add_metric(name="EbayCallsRemaining", unit="Count", value=remaining)
        if remaining <= allowance.reserve and remaining % 100 == 0:
            logger.warning(
                "eBay daily call budget low",
                extra={"api": api, "calls": calls, "remaining": remaining},
            )


def main() -> int:  # pragma: no cover - an operator's command
    """Print today's counts: ``python -m workflows.ebay_budget``."""
    from workflows.services import get_services

    services = get_services()
    budget = DailyBudget(Table.of(services.store))
    now = services.now()
    for api in DEFAULT_ALLOWANCES:
        usage = budget.usage(api, now)
        print(
            f"{usage.day} {api}: {usage.calls} calls, {usage.remaining} left of"
            f" {usage.limit} ({usage.optional_remaining} for live data)"
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""Live auction data for the UI: an item preview and the live values of snipes.

Everything comes through the shared item cache (``workflows.item_cache``,
at most 30 s old) and the daily eBay budget (``workflows.ebay_budget``):

* ``preview_item`` (``GET /api/items/{ref}``) serves a fresh cached value or
  reads eBay once (an optional call); when eBay fails or the budget is short
  it serves the last known value with its age, and only without one does it
  fail (404 ITEM_NOT_FOUND, 502, 503 EBAY_BUDGET_EXHAUSTED).
* ``live_for_snipes`` never fails and never waits long: stale items are
  refreshed by at most ``MAX_REFRESHES`` parallel reads per request, each by
  the one caller that wins the item's refresh lease, within
  ``REFRESH_DEADLINE``; everything else is the last known value (the cache,
  or the snapshot taken when the snipe was created) with its age.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta

from workflows import ebay
from workflows.ebay_budget import BROWSE, DailyBudget
from workflows.errors import (
    NotFound,
    ServiceUnavailable,
    Unprocessable,
    UpstreamUnavailable,
)
from workflows.item_cache import ItemCache, LiveItem, legacy_key
from workflows.models import ACTIVE_STATUSES, Snipe
from workflows.money import Money
from workflows.observability import logger
from workflows.services import Services
from workflows.table_access import Table

MAX_REFRESHES = 5
REFRESH_DEADLINE = 1.5  # seconds, for all refreshes of one request together
EBAY_TIMEOUT = 1.5
PREVIEW_TIMEOUT = 4.0


class InvalidItemRef(Unprocessable):
    code = "INVALID_ITEM_ID"


class ItemNotFoundError(NotFound):
    code = "ITEM_NOT_FOUND"


class EbayBudgetExhausted(ServiceUnavailable):
    code = "EBAY_BUDGET_EXHAUSTED"


class PreviewUnavailable(UpstreamUnavailable):
    code = "EBAY_UNAVAILABLE"


@dataclass(frozen=True)
class LiveValues:
    current_price: Money | None
    bid_count: int | None
    end_at: datetime
    as_of: datetime


def _cache(services: Services) -> ItemCache:
    return ItemCache(Table.of(services.store))


def _budget(services: Services) -> DailyBudget:
    return DailyBudget(Table.of(services.store))


def _cache_key(ref: ebay.ItemRef) -> str:
    return ref.value if ref.kind == "restful" else legacy_key(ref.value)


def preview_item(services: Services, text: str) -> LiveItem:
    """The listing behind ``text`` (RESTful id, item number or listing URL)."""
    try:
        ref = ebay.parse_item_reference(text)
    except ebay.InvalidItemReference as exc:
        raise InvalidItemRef(
            str(exc), details={"errors": [_ref_error(str(exc))]}
        ) from exc
    key = _cache_key(ref)
    now = services.now()
    cached = _cached(services, [key]).get(key)
    if cached is not None and cached.is_fresh(now):
        return cached
    if not _budget(services).try_spend(BROWSE, now):
        if cached is not None:
            return cached
        raise EbayBudgetExhausted(
            "today's eBay call budget for previews is spent; try again later",
            retry_after_seconds=600,
        )
    try:
        item = services.ebay.get_item(ref, timeout=PREVIEW_TIMEOUT, metered=False)
    except ebay.EbayItemNotFound as exc:
        raise ItemNotFoundError(
            f"eBay has no item {ref.value}", details={"item_id": ref.value}
        ) from exc
    except ebay.EbayError as exc:
        logger.warning("item preview: eBay failed", extra={"error": type(exc).__name__})
        if cached is not None:
            return cached
        raise PreviewUnavailable("eBay is unavailable; try again shortly") from exc
    fresh = LiveItem.of(item, services.now())
    _store(services, [item.item_id, key], fresh)
    return fresh


def remember(services: Services, item: ebay.EbayItem, ref: ebay.ItemRef) -> None:
    """Put a read made for another reason (create, edit) into the cache."""
    _store(services, [item.item_id, _cache_key(ref)], LiveItem.of(item, services.now()))


def _ref_error(message: str) -> dict[str, object]:
    return {"loc": ["path", "ref"], "type": "value_error", "message": f"ref: {message}"}


def live_for_snipes(
    services: Services, snipes: Iterable[Snipe]
) -> dict[str, LiveValues]:
    """Live values of the active snipes' items, by snipe id (never raises)."""
    active = [s for s in snipes if s.status in ACTIVE_STATUSES]
    if not active:
        return {}
    now = services.now()
    item_ids = list(dict.fromkeys(s.item.item_id for s in active))
    cached = _cached(services, item_ids)
    stale = [i for i in item_ids if i not in cached or not cached[i].is_fresh(now)]
    cached.update(_refresh(services, stale[:MAX_REFRESHES], now))
    result: dict[str, LiveValues] = {}
    for snipe in active:
        item = cached.get(snipe.item.item_id)
        if item is not None:
            result[snipe.snipe_id] = LiveValues(
                current_price=item.current_price,
                bid_count=item.bid_count,
                end_at=item.end_at or snipe.plan.end_at,
                as_of=item.fetched_at,
            )
        else:  # only what was known at creation
            result[snipe.snipe_id] = LiveValues(
                current_price=snipe.item.current_price,
                bid_count=None,
                end_at=snipe.plan.end_at,
                as_of=snipe.created_at,
            )
    return result


def time_left_seconds(end_at: datetime, now: datetime) -> int:
    return max(0, int((end_at - now) / timedelta(seconds=1)))


def _cached(services: Services, keys: list[str]) -> dict[str, LiveItem]:
    try:
        return _cache(services).get_many(keys)
    except Exception:  # the cache is an optimisation: never fail a read on it
        logger.warning("item cache unreadable", exc_info=True)
        return {}


def _store(services: Services, keys: list[str], item: LiveItem) -> None:
    try:
        _cache(services).put(keys, item)
    except Exception:
        logger.warning("item cache not written", exc_info=True)


def _refresh(
    services: Services, item_ids: list[str], now: datetime
) -> dict[str, LiveItem]:
    """Fresh values of the items this caller may refresh (lease and budget)."""
    cache, budget = _cache(services), _budget(services)
    mine: list[str] = []
    for item_id in item_ids:
        try:
            if cache.claim_refresh(item_id, now) and budget.try_spend(BROWSE, now):
                mine.append(item_id)
        except Exception:
            logger.warning("item refresh not claimed", exc_info=True)
    if not mine:
        return {}

    def fetch(item_id: str) -> LiveItem | None:
        try:
            item = services.ebay.get_item(
                ebay.ItemRef("restful", item_id), timeout=EBAY_TIMEOUT, metered=False
            )
        except ebay.EbayError as exc:
            logger.info(
                "live refresh failed; serving the last known values",
                extra={"item_id": item_id, "error": type(exc).__name__},
            )
            return None
        fresh = LiveItem.of(item, services.now())
        _store(services, [item_id], fresh)
        return fresh

    fresh: dict[str, LiveItem] = {}
    pool = ThreadPoolExecutor(max_workers=len(mine), thread_name_prefix="live")
    try:
        futures = {pool.submit(fetch, item_id): item_id for item_id in mine}
        done, _ = wait(futures, timeout=REFRESH_DEADLINE)
        for future in done:
            value = future.result()
            if value is not None:
                fresh[futures[future]] = value
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return fresh

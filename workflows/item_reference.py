"""eBay item references: what a user may paste to name an auction.

A RESTful item id (``v1|<legacy>|<variation>``), a legacy item number, or an
eBay listing URL (``…/itm/<id>``, ``?item=<id>``, ``&var=<variation>``); the
eBay client (``workflows.ebay``) calls Browse with the parsed ``ItemRef``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit


@dataclass(frozen=True)
class ItemRef:
    """A RESTful (``v1|<legacy>|<variation>``) or legacy (numeric) item id."""

    kind: Literal["restful", "legacy"]
    value: str


class InvalidItemReference(ValueError):
    """The text is not an eBay item id or listing URL."""


_RESTFUL_ID = re.compile(r"v1\|[0-9]+\|[0-9]+")
_LEGACY_ID = re.compile(r"[0-9]{1,19}")
_EBAY_HOST = re.compile(
    r"(?:[a-z0-9-]+\.)*ebay\.(?:com|[a-z]{2}|co\.[a-z]{2}|com\.[a-z]{2})\.?",
    re.IGNORECASE,
)
_ITM_PATH = re.compile(r"/itm/(?:[^/]+/)?([0-9]{1,19})/?", re.IGNORECASE)


def parse_item_reference(text: str) -> ItemRef:
    """Parse a RESTful id, a legacy item number or an eBay listing URL."""
    raw = text.strip()
    if not raw:
        raise InvalidItemReference("item reference is empty")
    decoded = unquote(raw)
    if _RESTFUL_ID.fullmatch(decoded):
        return ItemRef("restful", decoded)
    if _LEGACY_ID.fullmatch(raw):
        return ItemRef("legacy", raw)
    ref = _ref_from_url(raw)
    if ref is None:
        raise InvalidItemReference(
            "expected an eBay item number, a RESTful item id (v1|<id>|<variation>)"
            f" or an eBay listing URL (…/itm/<id>), got {raw[:120]!r}"
        )
    return ref


def _ref_from_url(raw: str) -> ItemRef | None:
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    if parts.scheme.lower() not in ("http", "https"):
        return None
    if not _EBAY_HOST.fullmatch(parts.hostname or ""):
        return None
    query = parse_qs(parts.query)
    match = _ITM_PATH.fullmatch(parts.path)
    item_id = match.group(1) if match else (query.get("item") or [""])[0]
    if not _LEGACY_ID.fullmatch(item_id):
        return None
    variation = (query.get("var") or [""])[0]
    if variation.isdecimal() and variation.isascii() and int(variation) != 0:
        return ItemRef("restful", f"v1|{item_id}|{variation}")
    return ItemRef("legacy", item_id)

"""Tests for workflows.ebay.parse_item_reference."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workflows.ebay import InvalidItemReference, ItemRef, parse_item_reference

LEGACY = ItemRef("legacy", "123456789012")
digits = st.text("0123456789", min_size=1, max_size=30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v1|123456789012|0", ItemRef("restful", "v1|123456789012|0")),
        (
            "v1|112259821206|412674842751",
            ItemRef("restful", "v1|112259821206|412674842751"),
        ),
        ("v1%7C123456789012%7C0", ItemRef("restful", "v1|123456789012|0")),
        ("v1%7c123456789012%7c0", ItemRef("restful", "v1|123456789012|0")),
        ("  v1|123456789012|0\n", ItemRef("restful", "v1|123456789012|0")),
        ("123456789012", LEGACY),
        ("\t123456789012 ", LEGACY),
        ("https://www.ebay.com/itm/123456789012", LEGACY),
        ("https://www.ebay.com/itm/123456789012/", LEGACY),
        ("http://ebay.com/itm/123456789012", LEGACY),
        ("https://www.ebay.co.uk/itm/123456789012", LEGACY),
        ("https://www.ebay.de/itm/123456789012?hash=item1cbf", LEGACY),
        ("https://www.ebay.com.au/itm/123456789012#description", LEGACY),
        ("https://m.ebay.com/itm/123456789012", LEGACY),
        ("https://www.EBAY.com/ITM/123456789012", LEGACY),
        (
            "https://www.ebay.com/itm/Vintage-Omega-Seamaster-1968/123456789012"
            "?_trkparms=abc&_trksid=p2047675",
            LEGACY,
        ),
        ("www.ebay.fr/itm/123456789012", LEGACY),
        ("ebay.com/itm/123456789012?mkcid=16&mkevt=1", LEGACY),
        (
            "https://cgi.ebay.com/ws/eBayISAPI.dll?ViewItem&item=123456789012",
            LEGACY,
        ),
        (
            "https://www.ebay.com/itm/123456789012?var=412674842751",
            ItemRef("restful", "v1|123456789012|412674842751"),
        ),
        ("https://www.ebay.com/itm/123456789012?var=0", LEGACY),
    ],
)
def test_valid_references(text: str, expected: ItemRef) -> None:
    assert parse_item_reference(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "abc",
        "v1|abc|0",
        "v2|123456789012|0",
        "v1|123456789012",
        "v1|123456789012|0|1",
        "v1|123456789012|",
        "12345678901234567890",
        "123-456",
        "١٢٣٤٥٦٧٨٩٠١٢",  # non-ASCII digits
        "https://www.amazon.com/itm/123456789012",
        "https://ebay.com.evil.example/itm/123456789012",
        "https://notebay.com/itm/123456789012",
        "https://www.ebay.com/sch/i.html?_nkw=omega",
        "https://www.ebay.com/p/123456789",
        "https://www.ebay.com/itm/",
        "https://www.ebay.com/itm/omega-watch",
        "ftp://www.ebay.com/itm/123456789012",
        "javascript:alert(1)",
    ],
)
def test_invalid_references(text: str) -> None:
    with pytest.raises(InvalidItemReference):
        parse_item_reference(text)


def test_invalid_reference_is_value_error_with_helpful_message() -> None:
    with pytest.raises(ValueError, match=r"listing URL.*'not an item'"):
        parse_item_reference("not an item")
    with pytest.raises(InvalidItemReference, match="empty"):
        parse_item_reference("  ")


def test_error_message_truncates_long_input() -> None:
    with pytest.raises(InvalidItemReference) as info:
        parse_item_reference("x" * 10_000)
    assert len(str(info.value)) < 300


@given(legacy=digits, variation=digits)
def test_restful_ids_round_trip(legacy: str, variation: str) -> None:
    item_id = f"v1|{legacy}|{variation}"
    expected = ItemRef("restful", item_id)
    assert parse_item_reference(item_id) == expected
    assert parse_item_reference(quote(item_id, safe="")) == expected
    assert parse_item_reference(f" {item_id}\n") == expected


@given(item_id=st.text("0123456789", min_size=1, max_size=19))
def test_legacy_ids_and_listing_urls_round_trip(item_id: str) -> None:
    assert parse_item_reference(item_id) == ItemRef("legacy", item_id)
    url = f"https://www.ebay.com/itm/some-title/{item_id}?_trksid=1"
    assert parse_item_reference(url) == ItemRef("legacy", item_id)

"""Request and response examples for the OpenAPI document.

Each example is checked against its route's schema by
``tests/unit/test_api_lifecycle.py`` (request bodies against the request
schema, responses against the response schema), so they cannot drift.

Plain dicts in the shape of OpenAPI's Example object (``summary``, ``value``),
not Powertools' ``openapi.models.Example``: Powertools validates them into that
model when it generates the document, and importing ``openapi.models`` (50-70
ms of pydantic models) is then paid by ``/api/openapi.json`` only, not by every
cold start (docs/benchmarks.md, "Cold start").
"""

from __future__ import annotations

from typing import Any

_SNIPE_ID = "snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"
_GROUP_ID = "grp_01JD5Z8Q4X3W2V1T0S9R8Q7P6N"
# The example listing, as the snipe's item and as the item preview show it.
_LISTING = {
    "title": "Vintage Omega Seamaster 1968",
    "image_url": "https://i.ebayimg.com/images/g/abc/s-l1600.jpg",
    "item_url": "https://www.ebay.com/itm/123456789012",
}


def _snipe(**changes: Any) -> dict[str, Any]:
    """A SCHEDULED snipe as the API shows it."""
    snipe: dict[str, Any] = {
        "snipe_id": _SNIPE_ID,
        "status": "SCHEDULED",
        "reason": None,
        "item": {
            "item_id": "v1|123456789012|0",
            **_LISTING,
            "seller": "watch_seller",
            "end_at": "2026-05-01T13:00:00.000Z",
            "current_price": {"value": "127.50", "currency": "USD"},
        },
        "max_bid": {"value": "250.00", "currency": "USD"},
        "bid_offset_seconds": 6,
        "plan": {
            "wake_at": "2026-05-01T12:59:44.000Z",
            "fire_at": "2026-05-01T12:59:54.000Z",
            "end_at": "2026-05-01T13:00:00.000Z",
            "settle_at": "2026-05-01T13:00:10.000Z",
        },
        "bid": None,
        "result": None,
        "notification": None,
        "group_id": None,
        "created_at": "2026-05-01T12:00:00.000Z",
        "updated_at": "2026-05-01T12:00:00.000Z",
        "live": {
            "current_price": {"value": "127.50", "currency": "USD"},
            "bid_count": 7,
            "time_left_seconds": 3600,
            "as_of": "2026-05-01T11:59:52.000Z",
            "age_seconds": 8,
        },
        "server_time": "2026-05-01T12:00:00.000Z",
        "warnings": [],
    }
    snipe.update(changes)
    return snipe


CREATE_EXAMPLES: dict[str, Any] = {
    "plain": {
        "summary": "Bid 250 USD six seconds before the end",
        "value": {
            "item_id": "v1|123456789012|0",
            "max_bid": {"value": "250.00", "currency": "USD"},
        },
    },
    "in_a_group": {
        "summary": "Listing URL, 4 s offset, in a win-N group",
        "value": {
            "item_id": "https://www.ebay.com/itm/123456789012",
            "max_bid": {"value": "250.00", "currency": "USD"},
            "bid_offset_seconds": 4,
            "group_id": _GROUP_ID,
        },
    },
}

EDIT_EXAMPLES: dict[str, Any] = {
    "raise_max_bid": {
        "summary": "Raise the maximum bid",
        "value": {"max_bid": {"value": "300.00", "currency": "USD"}},
    },
    "move_bid_time": {
        "summary": "Bid 3 s before the end (new execution <snipe id>-v2)",
        "value": {"bid_offset_seconds": 3},
    },
    "join_group": {"summary": "Join a win-N group", "value": {"group_id": _GROUP_ID}},
    "leave_group": {"summary": "Leave its group", "value": {"group_id": None}},
}

SCHEDULED_SNIPE_EXAMPLES: dict[str, Any] = {
    "scheduled": {"summary": "Scheduled", "value": _snipe()},
    "near_another_member": {
        "summary": "Scheduled in a group, near another member's end",
        "value": _snipe(
            group_id=_GROUP_ID,
            warnings=[
                "snipe snp_01JD5Z8Q4X3W2V1T0S9R8Q7P6P of this group ends 12 s before"
                " this one (2026-05-01T12:59:48.000Z): the earlier result cannot be"
                " known before the later bid, so the later snipe counts the earlier"
                " one as a possible win and may be skipped"
            ],
        ),
    },
}

EDITED_SNIPE_EXAMPLES: dict[str, Any] = {
    "max_bid_raised": {
        "summary": "Maximum bid raised",
        "value": _snipe(
            max_bid={"value": "300.00", "currency": "USD"},
            updated_at="2026-05-01T12:10:00.000Z",
        ),
    },
    "bid_time_moved": {
        "summary": "Bid offset changed: new plan",
        "value": _snipe(
            bid_offset_seconds=3,
            plan={
                "wake_at": "2026-05-01T12:59:47.000Z",
                "fire_at": "2026-05-01T12:59:57.000Z",
                "end_at": "2026-05-01T13:00:00.000Z",
                "settle_at": "2026-05-01T13:00:10.000Z",
            },
            updated_at="2026-05-01T12:10:00.000Z",
        ),
    },
}

STATS_EXAMPLES: dict[str, Any] = {
    "one_currency": {
        "summary": "A user sniping in USD",
        "value": {
            "currencies": [
                {
                    "currency": "USD",
                    "counts": {
                        "WON": 3,
                        "LOST": 2,
                        "SKIPPED": 1,
                        "FAILED": 0,
                        "CANCELLED": 1,
                        "active": 2,
                    },
                    "total_spent": {"value": "412.50", "currency": "USD"},
                    "savings_on_wins": {"value": "87.50", "currency": "USD"},
                    "priced_wins": 3,
                    "fire_error_ms": {"count": 5, "average": 12.4, "p95": 31.2},
                }
            ]
        },
    },
    "no_snipes": {"summary": "No snipes yet", "value": {"currencies": []}},
}


def _email_on(summary: str, *silenced: str) -> dict[str, Any]:
    """A preferences example: every final outcome emailed except ``silenced``."""
    outcomes = ("WON", "LOST", "SKIPPED", "FAILED")
    email_on = {outcome: outcome not in silenced for outcome in outcomes}
    return {"summary": summary, "value": {"email_on": email_on}}


PREFERENCES_REQUEST_EXAMPLES: dict[str, Any] = {
    "wins_only": _email_on("Email only about wins", "LOST", "SKIPPED", "FAILED"),
    "everything": _email_on("Email about every outcome (the default)"),
}

PREFERENCES_EXAMPLES: dict[str, Any] = {
    "default": _email_on("Every outcome emailed (the default)"),
    "quiet_losses": _email_on("No email when outbid", "LOST"),
}

ITEM_PREVIEW_EXAMPLES: dict[str, Any] = {
    "auction": {
        "summary": "An auction that can be sniped",
        "value": {
            "item_id": "v1|123456789012|0",
            "legacy_item_id": "123456789012",
            **_LISTING,
            "current_price": {"value": "127.50", "currency": "USD"},
            "minimum_bid": {"value": "130.00", "currency": "USD"},
            "bid_count": 7,
            "end_at": "2026-05-01T13:00:00.000Z",
            "time_left_seconds": 3600,
            "buying_options": ["AUCTION"],
            "snipeable": True,
            "not_snipeable_reason": None,
            "currency_decimals": 2,
            "as_of": "2026-05-01T11:59:52.000Z",
            "age_seconds": 8,
            "server_time": "2026-05-01T12:00:00.000Z",
        },
    },
    "fixed_price": {
        "summary": "A Buy It Now listing: nothing to snipe",
        "value": {
            "item_id": "v1|223456789012|0",
            "legacy_item_id": "223456789012",
            "title": "Leica M6 body",
            "image_url": None,
            "item_url": "https://www.ebay.com/itm/223456789012",
            "current_price": {"value": "2450.00", "currency": "USD"},
            "minimum_bid": None,
            "bid_count": 0,
            "end_at": "2026-05-20T09:00:00.000Z",
            "time_left_seconds": 1630800,
            "buying_options": ["FIXED_PRICE"],
            "snipeable": False,
            "not_snipeable_reason": "NOT_AN_AUCTION",
            "currency_decimals": 2,
            "as_of": "2026-05-01T12:00:00.000Z",
            "age_seconds": 0,
            "server_time": "2026-05-01T12:00:00.000Z",
        },
    },
}


def _view(**changes: Any) -> dict[str, Any]:
    """A snipe as GET returns it (no warnings)."""
    snipe = _snipe(**changes)
    del snipe["warnings"]
    return snipe


SNIPE_EXAMPLES: dict[str, Any] = {
    "scheduled": {"summary": "Scheduled, with live values", "value": _view()},
    "won": {
        "summary": "Won (finished: no live values)",
        "value": _view(
            status="WON",
            bid={
                "proxy_bid_id": "pb_7731",
                "sent_at": "2026-05-01T12:59:54.004Z",
                "fire_error_ms": 4.0,
            },
            result={
                "final_price": {"value": "131.00", "currency": "USD"},
                "checked_at": "2026-05-01T13:00:10.210Z",
            },
            notification={"status": "SENT", "at": "2026-05-01T13:00:10.650Z"},
            live=None,
            updated_at="2026-05-01T13:00:10.210Z",
            server_time="2026-05-01T13:05:00.000Z",
        ),
    },
}

CANCELLED_SNIPE_EXAMPLES: dict[str, Any] = {
    "cancelled": {
        "summary": "Cancelled in time",
        "value": _view(
            status="CANCELLED",
            reason="USER_CANCELLED",
            live=None,
            updated_at="2026-05-01T12:00:00.000Z",
        ),
    }
}

SNIPE_LIST_EXAMPLES: dict[str, Any] = {
    "one_page": {
        "summary": "A last page",
        "value": {
            "items": [_view()],
            "next_cursor": None,
            "server_time": "2026-05-01T12:00:00.000Z",
        },
    },
    "empty": {
        "summary": "No snipes",
        "value": {
            "items": [],
            "next_cursor": None,
            "server_time": "2026-05-01T12:00:00.000Z",
        },
    },
}

_GROUP = {
    "group_id": _GROUP_ID,
    "name": "Film cameras: one is enough",
    "wins_wanted": 1,
    "wins": 0,
    "pending": 0,
    "slots_free": 1,
    "members": [
        {
            "snipe_id": _SNIPE_ID,
            "status": "SCHEDULED",
            "reason": None,
            "title": "Leica M6 rangefinder, boxed",
            "end_at": "2026-05-01T13:00:00.000Z",
            "holds_slot": False,
        }
    ],
    "created_at": "2026-05-01T11:00:00.000Z",
    "updated_at": "2026-05-01T11:00:00.000Z",
}

GROUP_EXAMPLES: dict[str, Any] = {
    "one_member": {"summary": "A group with one scheduled member", "value": _GROUP},
}

GROUP_LIST_EXAMPLES: dict[str, Any] = {
    "one_group": {
        "summary": "A last page",
        "value": {
            "items": [
                {
                    "group_id": _GROUP_ID,
                    "name": "Film cameras: one is enough",
                    "wins_wanted": 1,
                    "slots_used": 0,
                    "created_at": "2026-05-01T11:00:00.000Z",
                    "updated_at": "2026-05-01T11:00:00.000Z",
                }
            ],
            "next_cursor": None,
        },
    }
}

GROUP_DELETED_EXAMPLES: dict[str, Any] = {
    "deleted": {
        "summary": "Deleted; its snipe goes on alone",
        "value": {
            "group_id": _GROUP_ID,
            "deleted": True,
            "detached_snipes": [_SNIPE_ID],
        },
    }
}

EBAY_CONNECT_EXAMPLES: dict[str, Any] = {
    "consent": {
        "summary": "Open url in the browser",
        "value": {
            "url": (
                "https://auth.ebay.com/oauth2/authorize?client_id=SnipeApp-PRD-0123"
                "&redirect_uri=Snipe_App-SnipeApp-PRD-abcd&response_type=code"
                "&scope=https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fbuy.offer.auction"
                "&state=st_4f1c9a"
            ),
            "state": "st_4f1c9a",
            "expires_at": "2026-05-01T12:10:00.000Z",
        },
    }
}

EBAY_CALLBACK_EXAMPLES: dict[str, Any] = {
    "from_the_redirect": {
        "summary": "code and state from eBay's redirect to the web app",
        "value": {
            "code": "v^1.1#i^1#p^3#r^1#I^3#f^0#t^Ul41XzA6...",
            "state": "st_4f1c9a",
        },
    }
}

EBAY_LINK_EXAMPLES: dict[str, Any] = {
    "linked": {
        "summary": "Linked",
        "value": {
            "linked": True,
            "linked_at": "2026-05-01T12:01:00.000Z",
            "refresh_expires_at": "2027-11-01T12:01:00.000Z",
            "needs_reconnect": False,
        },
    },
    "not_linked": {
        "summary": "Not linked",
        "value": {
            "linked": False,
            "linked_at": None,
            "refresh_expires_at": None,
            "needs_reconnect": False,
        },
    },
}

EBAY_UNLINK_EXAMPLES: dict[str, Any] = {
    "unlinked": {
        "summary": "Unlinked; two scheduled snipes were skipped",
        "value": {"unlinked": True, "was_linked": True, "skipped_snipes": 2},
    }
}

HEALTH_EXAMPLES: dict[str, Any] = {
    "ok": {"summary": "Alive", "value": {"status": "ok"}}
}

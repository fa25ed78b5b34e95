"""eBay URLs, credentials and sample payloads for the eBay client's tests
(``test_ebay_client``, ``test_ebay_client_contract``)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

BASE = "https://api.ebay.com"
TOKEN_URL = f"{BASE}/identity/v1/oauth2/token"
ITEM_ID = "v1|123456789012|0"
ITEM_ID_ENC = "v1%7C123456789012%7C0"
ITEM_URL = f"{BASE}/buy/browse/v1/item/{ITEM_ID_ENC}"
LEGACY_URL = f"{BASE}/buy/browse/v1/item/get_item_by_legacy_id"
BIDDING_URL = f"{BASE}/buy/offer/v1_beta/bidding/{ITEM_ID_ENC}"
BID_URL = f"{BIDDING_URL}/place_proxy_bid"

CLIENT_ID = "SnipeApp-PRD-0123456789-abcdef01"
CLIENT_SECRET = "PRD-secret-0f1e2d3c4b5a"
BASIC = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
APP_TOKEN = "v^1.1#i^1#p^1#r^0#APP-TOKEN-VALUE"
USER_TOKEN = "v^1.1#i^1#p^3#r^1#USER-TOKEN-VALUE"
REFRESH_TOKEN = "v^1.1#i^1#r^1#REFRESH-TOKEN-VALUE"
AUTH_CODE = "v^1.1#i^1#f^0#AUTH-CODE-VALUE"
SECRETS = (CLIENT_SECRET, BASIC, APP_TOKEN, USER_TOKEN, REFRESH_TOKEN, AUTH_CODE)
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


# --- sample eBay payloads (validated against the OpenAPI specs in
# test_ebay_client_contract.py, so keep them honest) ---------------------------


def ebay_errors(
    error_id: int, message: str, *, domain: str = "API_OFFER", category: str = "REQUEST"
) -> dict[str, Any]:
    return {
        "errors": [
            {
                "errorId": error_id,
                "domain": domain,
                "category": category,
                "message": message,
            }
        ]
    }


ITEM_JSON: dict[str, Any] = {
    "itemId": ITEM_ID,
    "legacyItemId": "123456789012",
    "title": "Vintage Omega Seamaster 1968",
    "buyingOptions": ["AUCTION"],
    "itemEndDate": "2026-05-01T18:30:00.000Z",
    "currentBidPrice": {"value": "127.50", "currency": "USD"},
    "minimumPriceToBid": {"value": "130.00", "currency": "USD"},
    "price": {"value": "127.50", "currency": "USD"},
    "bidCount": 7,
    "reservePriceMet": True,
    "image": {"imageUrl": "https://i.ebayimg.com/images/g/abc/s-l1600.jpg"},
    "itemWebUrl": "https://www.ebay.com/itm/123456789012",
    "seller": {"username": "watch_seller", "feedbackScore": 1520},
    "listingMarketplaceId": "EBAY_US",
}
CONVERTED_ITEM_JSON: dict[str, Any] = {
    "itemId": "v1|223456789012|0",
    "legacyItemId": "223456789012",
    "title": "Leica M6 body",
    "buyingOptions": ["AUCTION", "FIXED_PRICE"],
    "itemEndDate": "2026-05-02T09:00:00.000Z",
    "currentBidPrice": {
        "value": "1180.00",
        "currency": "USD",
        "convertedFromValue": "1000.00",
        "convertedFromCurrency": "EUR",
    },
    "listingMarketplaceId": "EBAY_DE",
}
BIDDING_JSON: dict[str, Any] = {
    "itemId": ITEM_ID,
    "auctionStatus": "ACTIVE",
    "highBidder": True,
    "currentPrice": {"value": "130.00", "currency": "USD"},
    "currentProxyBid": {
        "proxyBidId": "8934756201",
        "maxAmount": {"value": "250.00", "currency": "USD"},
    },
    "bidCount": 8,
    "auctionEndDate": "2026-05-01T18:30:00.000Z",
    "reservePriceMet": True,
    "suggestedBidAmounts": [{"value": "132.50", "currency": "USD"}],
}
PROXY_BID_JSON: dict[str, Any] = {"proxyBidId": "8934756201"}
ERROR_INVALID_TOKEN: dict[str, Any] = {
    "errors": [
        {
            "errorId": 1001,
            "domain": "OAuth",
            "category": "REQUEST",
            "message": "Invalid access token",
            "longMessage": "Invalid access token. Check the value of the "
            "Authorization HTTP request header.",
        }
    ]
}
ERROR_NO_BIDDING = ebay_errors(
    120033, f"There is no bidding activity for this auction (item ID {ITEM_ID})."
)
ERROR_OFFER_ITEM_NOT_FOUND = ebay_errors(
    120001, f"The item ID {ITEM_ID} was not found. Check that this is an active"
)
ERROR_BID_TOO_LOW = ebay_errors(
    120008, "The bid amount is too low.", category="BUSINESS"
)
ERROR_AUCTION_ENDED = ebay_errors(120012, "The auction has ended.", category="BUSINESS")
ERROR_OFFER_INTERNAL = ebay_errors(
    120000, "There was a problem with an eBay internal system.", category="APPLICATION"
)
ERROR_BROWSE_NOT_FOUND = ebay_errors(
    11001, "The specified item ID was not found.", domain="API_BROWSE"
)
ERROR_BROWSE_LEGACY_NOT_FOUND = ebay_errors(
    11003, "The specified legacy item ID was not found.", domain="API_BROWSE"
)
ERROR_BROWSE_UNAVAILABLE = ebay_errors(
    11004, "The item is not available for purchase.", domain="API_BROWSE"
)


def token_json(value: str = APP_TOKEN, expires_in: int = 7200) -> dict[str, Any]:
    return {
        "access_token": value,
        "expires_in": expires_in,
        "token_type": "Application Access Token",
    }

"""eBay's error responses: the Offer and Browse catalogues, OAuth errors."""

from __future__ import annotations

from typing import Any, Final

from sandbox.sim_admin import SimulatorError

_OFFER_ERRORS: Final[dict[int, tuple[int, str, str]]] = {
    120000: (
        500,
        "APPLICATION",
        "There was a problem with an eBay internal system or process. "
        "Contact eBay developer support for assistance.",
    ),
    120001: (
        404,
        "REQUEST",
        "The item ID {item_id} was not found. "
        "Check that this is an active auction item ID.",
    ),
    120002: (
        409,
        "BUSINESS",
        "The auction was ended because the item was purchased with Buy It Now "
        "(fixed_price).",
    ),
    120003: (409, "BUSINESS", "A seller cannot place a bid."),
    120004: (409, "BUSINESS", "You are not eligible to bid on this item."),
    120005: (
        409,
        "BUSINESS",
        "The bid price cannot be greater than the Buy It Now price.",
    ),
    120008: (409, "BUSINESS", "The bid amount is too low."),
    120009: (
        409,
        "BUSINESS",
        "The bid currency needs to match the item price currency.",
    ),
    120010: (409, "BUSINESS", "You cannot lower your proxy bid."),
    120011: (400, "REQUEST", "The bid amount exceeds the limit."),
    120012: (409, "BUSINESS", "The auction has ended."),
    120013: (400, "REQUEST", "The bid amount is missing or invalid."),
    120014: (
        400,
        "REQUEST",
        "The bid currency is invalid. "
        "Refer to the documentation for a list of currency codes.",
    ),
    120015: (
        400,
        "REQUEST",
        "The X-EBAY-C-MARKETPLACE-ID header is missing. This is a required header.",
    ),
    120016: (400, "REQUEST", "The maximum bid amount is missing."),
    120017: (
        400,
        "REQUEST",
        "The Marketplace {marketplace_id} is not supported. "
        "Supported values are {allowed}.",
    ),
    120024: (409, "BUSINESS", "The item is currently unavailable."),
    120033: (
        404,
        "REQUEST",
        "There is no bidding activity for this auction (item ID {item_id}).",
    ),
}


_BROWSE_ERRORS: Final[dict[int, tuple[int, str, str]]] = {
    11000: (
        500,
        "APPLICATION",
        "There was a problem with an eBay internal system or process. "
        "Contact eBay developer support for assistance.",
    ),
    11001: (404, "REQUEST", "The specified item ID was not found."),
    11003: (404, "REQUEST", "The specified legacy item ID was not found."),
    11004: (
        400,
        "REQUEST",
        "The item is not available for purchase. This can be for many reasons, "
        "such as when the listing is being updated by the seller. "
        "Wait a few minutes and try the call again.",
    ),
    11011: (
        400,
        "REQUEST",
        "The marketplace value {marketplace_id} is not supported. "
        "The supported values are: {allowed}",
    ),
    11012: (
        400,
        "REQUEST",
        "The specified item IDs are invalid, or the format of the specified "
        "values are invalid.",
    ),
    11018: (
        400,
        "REQUEST",
        "The specified fieldgroups are invalid. "
        "The COMPACT fieldgroup cannot be combined with another fieldgroup.",
    ),
    11501: (
        400,
        "REQUEST",
        "The 'fieldgroups' value(s) are invalid: {fieldgroups}. "
        "The supported fieldgroups are: {allowed}",
    ),
}


class EbayApiError(Exception):
    """An error answered in eBay's ``{"errors": [...]}`` envelope."""

    def __init__(
        self,
        status: int,
        error_id: int,
        message: str,
        *,
        domain: str,
        category: str,
        long_message: str | None = None,
        parameters: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error_id} {message}")
        self.status = status
        self.error_id = error_id
        self.message = message
        self.domain = domain
        self.category = category
        self.long_message = long_message
        self.parameters = parameters or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "errorId": self.error_id,
            "domain": self.domain,
            "category": self.category,
            "message": self.message,
        }
        if self.long_message:
            error["longMessage"] = self.long_message
        if self.parameters:
            error["parameters"] = [
                {"name": name, "value": value}
                for name, value in self.parameters.items()
            ]
        return {"errors": [error]}


def offer_error(
    error_id: int, status: int | None = None, **params: str
) -> EbayApiError:
    """Build an Offer API (domain ``API_OFFER``) error from the spec's catalogue."""
    fallback = (409, "BUSINESS", "The bid could not be placed.")
    entry = _OFFER_ERRORS.get(error_id, fallback)
    return _catalogued_error("API_OFFER", entry, error_id, status, params)


def browse_error(
    error_id: int, status: int | None = None, **params: str
) -> EbayApiError:
    """Build a Browse API (domain ``API_BROWSE``) error from the spec's catalogue."""
    fallback = (400, "REQUEST", "The request could not be processed.")
    entry = _BROWSE_ERRORS.get(error_id, fallback)
    return _catalogued_error("API_BROWSE", entry, error_id, status, params)


def _catalogued_error(
    domain: str,
    entry: tuple[int, str, str],
    error_id: int,
    status: int | None,
    params: dict[str, str],
) -> EbayApiError:
    default_status, category, template = entry
    return EbayApiError(
        status or default_status,
        error_id,
        template.format_map(_Defaulting(params)),
        domain=domain,
        category=category,
        parameters=params,
    )


def invalid_token_error() -> EbayApiError:
    return EbayApiError(
        401,
        1001,
        "Invalid access token",
        domain="OAuth",
        category="REQUEST",
        long_message=(
            "Invalid access token. "
            "Check the value of the Authorization HTTP request header."
        ),
    )


def access_denied_error() -> EbayApiError:
    return EbayApiError(
        403,
        1100,
        "Access denied",
        domain="ACCESS",
        category="REQUEST",
        long_message="Insufficient permissions to fulfill the request.",
    )


def rate_limit_error() -> EbayApiError:
    return EbayApiError(
        429,
        2001,
        "Too many requests. The request limit has been reached for the resource.",
        domain="ACCESS",
        category="REQUEST",
    )


class _Defaulting(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class OAuthError(SimulatorError):
    """An OAuth error answered as ``{"error": ..., "error_description": ...}``."""

    code_field = "error"
    text_field = "error_description"


_INVALID_GRANT = (
    "the provided authorization grant code is invalid or was issued to another client"
)

"""eBay's error responses: the Offer and Browse catalogues (read from the vendored
OpenAPI contracts in ``sandbox/ebay-specs``), OAuth errors."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from sandbox.sim_admin import SimulatorError

_SPECS: Final = Path(__file__).resolve().parent.parent / "ebay-specs"


# The specs' placeholder names -> the parameter names the simulator's errors carry.
_PLACEHOLDERS: Final = {
    "marketplaceId": "marketplace_id",
    "allowedMarketplaces": "allowed",
    "supportedFieldgroups": "allowed",
}


def _catalogue(
    spec: str,
    operations: tuple[str, ...],
    error_ids: tuple[int, ...],
    statuses: Mapping[int, int] | None = None,
) -> dict[int, tuple[int, str, str]]:
    """``error_ids`` as eBay's OpenAPI contract ``spec`` (``x-response-codes``)
    documents them for ``operations`` (the first one that lists an id wins):
    id -> (HTTP status, category, message template). ``statuses`` overrides
    the documented status of some ids."""
    document = json.loads((_SPECS / spec).read_text(encoding="utf-8"))
    by_operation = {
        operation["operationId"]: operation["responses"]
        for path in document["paths"].values()
        for operation in path.values()
    }
    documented: dict[int, tuple[int, str, str]] = {}
    for name in operations:
        for status, response in by_operation[name].items():
            errors = response.get("x-response-codes", {}).get("errors", {})
            for error_id, error in errors.items():
                entry = (int(status), error["category"], _template(error))
                documented.setdefault(int(error_id), entry)
    overrides = statuses or {}
    return {
        error_id: (overrides.get(error_id, status), category, template)
        for error_id in error_ids
        for status, category, template in [documented[error_id]]
    }


def _template(error: dict[str, str]) -> str:
    """The error's description with the simulator's parameter names."""
    template = error["description"]
    for placeholder, parameter in _PLACEHOLDERS.items():
        template = template.replace(f"{{{placeholder}}}", f"{{{parameter}}}")
    return template


_OFFER_ERRORS: Final = _catalogue(
    "buy_offer_v1_beta_oas3.json",
    ("placeProxyBid", "getBidding"),
    (
        *(120000, 120001, 120002, 120003, 120004, 120005, 120008, 120009, 120010),
        *(120011, 120012, 120013, 120014, 120015, 120016, 120017, 120024, 120033),
    ),
)


_BROWSE_ERRORS: Final = _catalogue(
    "buy_browse_v1_oas3.json",
    ("getItem", "getItemByLegacyId"),
    (11000, 11001, 11003, 11004, 11011, 11012, 11018, 11501),
    # The spec files "not found" under 400; the simulator answers 404.
    statuses={11001: 404, 11003: 404},
)


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


class _CatalogueErrors:
    """Builds one API's errors (domain ``domain``) from its catalogue; an id it
    lacks gets ``fallback`` (status, category, message)."""

    def __init__(
        self,
        domain: str,
        catalogue: Mapping[int, tuple[int, str, str]],
        fallback: tuple[int, str, str],
    ) -> None:
        self.domain = domain
        self.catalogue = catalogue
        self.fallback = fallback

    def __call__(
        self, error_id: int, status: int | None = None, **params: str
    ) -> EbayApiError:
        default_status, category, template = self.catalogue.get(error_id, self.fallback)
        return EbayApiError(
            status or default_status,
            error_id,
            template.format_map(_Defaulting(params)),
            domain=self.domain,
            category=category,
            parameters=params,
        )


offer_error: Final = _CatalogueErrors(
    "API_OFFER", _OFFER_ERRORS, (409, "BUSINESS", "The bid could not be placed.")
)
"""``offer_error(error_id, status=None, **params)``: an Offer API error."""

browse_error: Final = _CatalogueErrors(
    "API_BROWSE",
    _BROWSE_ERRORS,
    (400, "REQUEST", "The request could not be processed."),
)
"""``browse_error(error_id, status=None, **params)``: a Browse API error."""


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

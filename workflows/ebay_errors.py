"""The eBay client's errors (``workflows.ebay`` re-exports them): what failed
at eBay, by kind: unavailable (retry), authorization refused, a grant refused,
an answer we cannot read, or an eBay API error with its ``errorId``.

Messages never carry tokens, secrets or authorization codes.
"""

from __future__ import annotations

from typing import Any


class EbayError(Exception):
    """Base class for eBay client errors."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class EbayUnavailable(EbayError):
    """Transient: 5xx, 429, timeout or connection failure.

    ``request_sent`` is False only when the request never left this process
    (the connection could not be opened): then eBay cannot have acted on it.
    Otherwise (a timeout or a reset after the write, a 5xx) a write such as a
    bid may have taken effect: ask eBay before sending it again.
    """

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        request_sent: bool = True,
    ) -> None:
        super().__init__(message, http_status=http_status)
        self.request_sent = request_sent


class EbayAuthError(EbayError):
    """Access token rejected (401) or bad client credentials (invalid_client)."""


class EbayInvalidGrant(EbayError):
    """Refresh token revoked/unknown or bad authorization code: re-consent."""


class EbayProtocolError(EbayError):
    """A 2xx/3xx response eBay should not send (unparseable or wrong shape)."""


class EbayApiError(EbayError):
    """A 4xx with eBay's error envelope (first error's id and message)."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int,
        error_id: int | None,
        errors: list[dict[str, Any]],
        summary: str | None = None,
    ) -> None:
        super().__init__(summary or message, http_status=http_status)
        self.error_id = error_id
        self.message = message
        self.errors = errors


class EbayItemNotFound(EbayApiError):
    """Browse could not find the item (404 or errorId 11001/11003/11006/11012)."""

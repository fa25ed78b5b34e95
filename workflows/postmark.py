"""Postmark email client (``POST /email``). The only module that calls Postmark.

The server token never appears in reprs, exception messages or logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from workflows.http import DEFAULT_TIMEOUT, HttpClientOwner


@dataclass(frozen=True)
class EmailMessage:
    """One transactional email."""

    from_address: str
    to: str
    subject: str
    text_body: str
    html_body: str | None = None
    tag: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    message_stream: str = "outbound"

    def to_json(self) -> dict[str, Any]:
        """Postmark's PascalCase ``/email`` body; unset optionals are omitted."""
        body: dict[str, Any] = {
            "From": self.from_address,
            "To": self.to,
            "Subject": self.subject,
            "TextBody": self.text_body,
            "MessageStream": self.message_stream,
        }
        if self.html_body is not None:
            body["HtmlBody"] = self.html_body
        if self.tag is not None:
            body["Tag"] = self.tag
        if self.metadata:
            body["Metadata"] = dict(self.metadata)
        return body


@dataclass(frozen=True)
class SendResult:
    message_id: str
    submitted_at: str
    to: str


class PostmarkError(Exception):
    """Base class for Postmark client errors."""

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class PostmarkRejected(PostmarkError):
    """Postmark refused the message (bad token, invalid request, ...). No retry."""

    def __init__(
        self, message: str, *, http_status: int, error_code: int | None
    ) -> None:
        super().__init__(
            f"Postmark rejected the email (HTTP {http_status}, ErrorCode"
            f" {error_code}): {message}",
            http_status=http_status,
        )
        self.error_code = error_code
        self.message = message


class PostmarkUnavailable(PostmarkError):
    """Transient: 429, 5xx, timeout or connection failure."""


class PostmarkClient(HttpClientOwner):
    """Synchronous Postmark client with one reusable httpx.Client."""

    def __init__(
        self,
        *,
        base_url: str = "https://api.postmarkapp.com",
        server_token: str,
        http: httpx.Client | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
    ) -> None:
        if not server_token:
            raise ValueError("server_token is required")
        self._base = base_url.rstrip("/")
        self._token = server_token
        super().__init__(http, timeout)

    def __repr__(self) -> str:
        return f"PostmarkClient(base_url={self._base!r})"

    def send(self, message: EmailMessage) -> SendResult:
        """Send one email; raises PostmarkRejected or PostmarkUnavailable."""
        headers = {
            "X-Postmark-Server-Token": self._token,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        try:
            response = self._http.post(
                f"{self._base}/email",
                json=message.to_json(),
                headers=headers,
                timeout=self._timeout,
            )
        except httpx.TimeoutException as exc:
            raise PostmarkUnavailable("Postmark request timed out") from exc
        except httpx.TransportError as exc:
            name = type(exc).__name__
            raise PostmarkUnavailable(f"Postmark connection failed ({name})") from exc
        return self._result(response)

    def _result(self, response: httpx.Response) -> SendResult:
        status = response.status_code
        if status == 429 or status >= 500:
            raise PostmarkUnavailable(
                f"Postmark unavailable (HTTP {status})", http_status=status
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping):
            body = {}
        error_code = body.get("ErrorCode")
        code = error_code if isinstance(error_code, int) else None
        text = str(body.get("Message") or f"HTTP {status}").replace(self._token, "***")
        if 400 <= status < 500 or (status == 200 and code):
            raise PostmarkRejected(text, http_status=status, error_code=code)
        if status != 200 or code != 0:
            raise PostmarkError(
                f"unexpected Postmark response (HTTP {status})", http_status=status
            )
        try:
            return SendResult(
                message_id=str(body["MessageID"]),
                submitted_at=str(body["SubmittedAt"]),
                to=str(body["To"]),
            )
        except KeyError as exc:
            raise PostmarkError(
                f"Postmark response lacks {exc.args[0]}", http_status=status
            ) from exc

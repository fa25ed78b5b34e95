"""Route declarations: what every authenticated route shares, stated once.

A router's module makes one :class:`Routes` with its OpenAPI tag; each route
then states only what is its own (method, path, operationId, summary,
description, its success answer and its own error statuses, with a text per
status where the default one does not fit). Every route gets the tag, the
Cognito security requirement and error answers with the ErrorResponse schema
(:func:`api.errors.error_responses`), among them :data:`ALWAYS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Literal, TypeVar

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from api.errors import error_responses
from api.params import SECURITY

Handler = TypeVar("Handler", bound=Callable[..., Any])
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]

ALWAYS: tuple[int, ...] = (
    HTTPStatus.UNAUTHORIZED,
    HTTPStatus.INTERNAL_SERVER_ERROR,
    HTTPStatus.SERVICE_UNAVAILABLE,
)
"""What any authenticated route may answer: no identity, an unexpected error,
storage or workflow engine unavailable."""
JSON_BODY: Mapping[int, str] = {
    HTTPStatus.BAD_REQUEST: "The body is not JSON (INVALID_JSON)",
    HTTPStatus.UNPROCESSABLE_ENTITY: (
        "VALIDATION_FAILED (details.errors lists each field)"
    ),
}
"""What a route that reads a JSON body may answer besides :data:`ALWAYS`, with
the texts a route may replace by its own."""


class Routes:
    """The routes of ``router``, all under the OpenAPI tag ``tag``;
    ``descriptions`` are error texts all its routes share (a route may still
    give its own)."""

    def __init__(
        self, router: Router, tag: str, descriptions: Mapping[int, str] | None = None
    ) -> None:
        self._router = router
        self._tags = [tag]
        self._descriptions = descriptions or {}

    def __call__(
        self,
        method: Method,
        path: str,
        *,
        operation_id: str,
        summary: str,
        description: str | None = None,
        ok: OpenAPIResponse,
        status: int = HTTPStatus.OK,
        json_body: bool = False,
        errors: tuple[int, ...] = (),
        descriptions: Mapping[int, str] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Registers the decorated function as ``method path``.

        ``ok`` is the success answer (``status``, 200 unless said; e.g.
        :func:`api.responses.json_response`); ``json_body`` says the route
        reads a JSON body (:data:`JSON_BODY`); ``errors`` are the error statuses
        besides those, ``descriptions`` texts replacing the default ones.
        """
        body = JSON_BODY if json_body else {}
        statuses = sorted({*ALWAYS, *body, *errors})
        texts = {**body, **self._descriptions, **(descriptions or {})}
        return self._router.route(
            path,
            method,
            summary=summary,
            description=description,
            responses={
                status: ok,
                **error_responses(*statuses, descriptions=texts),
            },
            tags=self._tags,
            operation_id=operation_id,
            security=SECURITY,
            status_code=status,
        )

"""What every router's routes share: the security requirement, the caller, the
services, and the page cursor of list routes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from api.auth import current_identity
from workflows.models import Identity
from workflows.services import Services, get_services

SECURITY_SCHEME = "CognitoIdToken"
SECURITY: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]

CallerIdentity = Annotated[Identity, Depends(current_identity)]
AppServices = Annotated[Services, Depends(get_services)]
PageCursor = Annotated[
    str | None,
    Query(max_length=2048, description="next_cursor of the previous page"),
]

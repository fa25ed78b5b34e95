"""Task Lambda: make sure the user's eBay access token is fresh (output has none)."""

from __future__ import annotations

from pydantic import BaseModel

from tasks.handler import task_handler
from workflows.services import Services
from workflows.tokens import TokenStatus, refresh_for_snipe


class RefreshTokenInput(BaseModel):
    snipe_id: str


def _refresh(services: Services, request: RefreshTokenInput) -> TokenStatus:
    return refresh_for_snipe(services, request.snipe_id)


lambda_handler = task_handler(RefreshTokenInput, _refresh)

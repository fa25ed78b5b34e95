"""Idempotent create: ``POST /api/snipes`` with an ``Idempotency-Key`` header.

Powertools idempotency (``idempotent_function``) with its DynamoDB persistence
layer on the snipes table (``SnipeStore.idempotency_layer``: ``PK=IDEMPOTENCY``,
``SK=create_snipe#<hash>``, expiry in the table's TTL attribute ``ttl``):

* the hashed key is ``[user id, Idempotency-Key]``: the same key sent by two
  users names two records;
* the payload hash covers the request body as validated (``CreateSnipeRequest``
  dumped as JSON), so formatting differences do not matter;
* the first request records IN_PROGRESS, creates the snipe and stores it as the
  response; a retry with the same key and body gets that snipe back (same id,
  no second execution) for 24 hours;
* the same key with another body: 409 ``IDEMPOTENCY_KEY_REUSED``; while the
  first request is still running: 409 ``IDEMPOTENCY_IN_PROGRESS`` (an
  in-progress record of a request that died expires with that invocation's
  remaining time, from the Lambda context);
* a create that fails (e.g. 409 AUCTION_ENDED) deletes the record: the key may
  be used again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.idempotency import (
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import (
    PydanticSerializer,
)

from workflows import scheduling
from workflows.errors import (
    IdempotencyInProgress,
    IdempotencyKeyReused,
    StoreUnavailable,
)
from workflows.models import Identity, Snipe
from workflows.observability import logger
from workflows.scheduling import CreateSnipeRequest
from workflows.services import Services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

TTL_SECONDS = 24 * 60 * 60
KEY_PREFIX = "create_snipe"
# The Idempotency-Key header: 1-255 visible ASCII characters.
KEY_PATTERN = r"^[\x21-\x7E]{1,255}$"


def create_snipe_once(
    services: Services,
    identity: Identity,
    request: CreateSnipeRequest,
    *,
    key: str,
    lambda_context: LambdaContext | None = None,
) -> Snipe:
    """``scheduling.create_snipe`` at most once per (user, key) and body."""
    config = IdempotencyConfig(
        event_key_jmespath="[user_id, key]",
        payload_validation_jmespath="request",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=TTL_SECONDS,
    )
    if lambda_context is not None:
        config.register_lambda_context(lambda_context)

    def create(*, payload: dict[str, Any]) -> Snipe:
        return scheduling.create_snipe(services, identity, request)

    once = idempotent_function(
        create,
        data_keyword_argument="payload",
        persistence_store=services.store.idempotency_layer(),
        config=config,
        output_serializer=PydanticSerializer(Snipe),
        key_prefix=KEY_PREFIX,
    )
    payload = {
        "user_id": identity.user_id,
        "key": key,
        "request": request.model_dump(mode="json"),
    }
    try:
        snipe = once(payload=payload)
    except IdempotencyValidationError as exc:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with another request body; use a new key"
        ) from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise IdempotencyInProgress(
            "a request with this Idempotency-Key is still being processed;"
            " retry shortly"
        ) from exc
    except IdempotencyPersistenceLayerError as exc:
        logger.warning("idempotency store failed", exc_info=True)
        raise StoreUnavailable("the snipe store is unavailable; retry shortly") from exc
    if not isinstance(snipe, Snipe):  # Powertools' decorator is untyped
        raise TypeError(f"unexpected idempotent result {type(snipe).__name__}")
    return snipe

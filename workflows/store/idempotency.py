"""Idempotent requests: Powertools' persistence layer on the snipes table."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
    )
from workflows.store.preferences import PreferenceRecords

# Idempotency records (Powertools) share one partition; their sort key is the
# hash of the user id and the client's key (workflows.idempotency).
IDEMPOTENCY_PARTITION = "IDEMPOTENCY"


class IdempotencyRecords(PreferenceRecords):
    # --- idempotent requests (Powertools idempotency) ------------------------
    def idempotency_layer(self) -> DynamoDBPersistenceLayer:
        """Powertools' DynamoDB persistence layer on this table, built once.

        Records live under ``PK=IDEMPOTENCY``, ``SK=<prefix>#<hash of the
        key>`` (callers put the user id in the hashed key) and expire through
        the table's TTL attribute ``ttl``. Built on first use (no environment
        is read at import) and kept: each layer registers a user-agent hook on
        the client it is given.
        """
        if self._idempotency_layer is None:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
            )

            self._idempotency_layer = DynamoDBPersistenceLayer(
                table_name=self.table_name,
                key_attr="PK",
                sort_key_attr="SK",
                static_pk_value=IDEMPOTENCY_PARTITION,
                expiry_attr="ttl",
                in_progress_expiry_attr="in_progress_expiry",
                status_attr="idempotency_status",
                data_attr="response",
                validation_key_attr="payload_hash",
                boto3_client=self._client,
            )
        return self._idempotency_layer

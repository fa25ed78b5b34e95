"""DynamoDB store: the only code that talks to the snipes table.

Single-table layout (keys defined in ``template.yaml``)::

    snipe        PK=SNIPE#<id>     SK=SNIPE
                 GSI1PK=USER#<uid>            GSI1SK=CREATED#<created_at>#<id>
                 GSI2PK=USER#<uid>#<status>   GSI2SK=CREATED#<created_at>#<id>
    eBay link    PK=USER#<uid>     SK=EBAY
                 GSI3PK=EBAY_LINK             GSI3SK=<refresh_expires_at>
                 (GSI3 is sparse: only usable links with a known expiry)
    group        PK=GROUP#<id>     SK=GROUP   (GSI1PK=GROUPS#<uid>)
    preferences  PK=USER#<uid>     SK=PREFS
    OAuth state  PK=OAUTH_STATE#<nonce>
    idempotency  PK=IDEMPOTENCY    SK=<hash of user and key> (Powertools)

``SnipeStore`` is one object with one client and one table; its methods live
with their aggregate, one module each, around the table module:

* ``table``: the client, the error mapping (``workflows.aws``: throttling and
  unavailability become ``StoreUnavailable``), item (de)serialisation,
  transactions and page cursors;
* ``snipes``: snipes, their status transitions (every change is a conditional
  write: no update is lost and no transition happens twice; a refused condition
  becomes ``TransitionRejected``), edits, history;
* ``links``: the eBay account link and its tokens, and OAuth consent state. The
  refresh token and cached access token are stored only sealed by the
  ``TokenVault`` (``workflows.crypto``: KMS Encrypt/Decrypt under the token
  key, encryption context ``{user_id, purpose, value_id, part}``); a store
  without a vault refuses to write or read them. ``ebay_link_status`` and
  ``list_links_expiring_before`` never decrypt anything;
* ``preferences``: notification preferences;
* ``idempotency``: the Powertools idempotency layer on the same table;
* ``slots`` and ``groups``: win-N groups and their slot counter.
"""

from __future__ import annotations

from workflows.store.groups import GroupRecords as GroupRecords
from workflows.store.idempotency import IDEMPOTENCY_PARTITION as IDEMPOTENCY_PARTITION
from workflows.store.links import ACCESS_TOKEN_PURPOSE as ACCESS_TOKEN_PURPOSE
from workflows.store.links import REFRESH_TOKEN_PURPOSE as REFRESH_TOKEN_PURPOSE
from workflows.store.slots import SlotReservation as SlotReservation
from workflows.store.snipes import (
    CURRENT_EXECUTION_CONDITION as CURRENT_EXECUTION_CONDITION,
)


class SnipeStore(GroupRecords):
    """The snipes table: snipes, eBay links, preferences, idempotency, groups."""


__all__ = [
    "ACCESS_TOKEN_PURPOSE",
    "CURRENT_EXECUTION_CONDITION",
    "IDEMPOTENCY_PARTITION",
    "REFRESH_TOKEN_PURPOSE",
    "GroupRecords",
    "SlotReservation",
    "SnipeStore",
]

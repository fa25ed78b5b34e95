"""ONE eBay application token for all containers, kept in the snipes table.

eBay grants 1,000 client-credentials tokens a day per application; a token
lives 2 hours. Minting one per container (as each ``EbayClient`` would) spends
that budget in proportion to concurrency. Instead the token lives in the table,
sealed by the ``TokenVault`` (KMS, like users' tokens), and is refreshed by a
single writer:

``PK=APPTOKEN``, ``SK=EBAY``: ``sealed`` (the token), ``token_id``,
``expires_at`` (epoch s), and a refresh lease (``lease_until`` epoch ms,
``lease_owner``).

* A container keeps the token it read in memory and reads the table again
  when it gets within ``REFRESH_AHEAD`` (15 min) of its expiry.
* A token within ``REFRESH_AHEAD`` of expiry is refreshed by whoever wins
  the lease (a conditional write; one winner). The others keep using the
  current token, which is still valid for up to 15 minutes; without a usable
  one they wait up to ``WAIT_FOR_WRITER`` for the winner's token.
* The winner writes its token only while it still holds the lease
  (``lease_owner`` condition), so a slow writer cannot overwrite a newer one.
* A token eBay rejects is marked expired (only if it is still the stored
  one), so the next ``get`` refreshes it.

If the table or KMS fail, a container mints its own token (logged): bidding
never waits on this optimisation.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from botocore.exceptions import BotoCoreError, ClientError

from workflows.crypto import TokenVault, VaultError
from workflows.ebay import AccessToken
from workflows.errors import StoreUnavailable
from workflows.observability import logger
from workflows.table_access import Table, condition_failed

REFRESH_AHEAD = timedelta(minutes=15)
USABLE_MARGIN = timedelta(minutes=2)
LEASE = timedelta(seconds=15)
WAIT_FOR_WRITER = 3.0
_POLL = 0.2
_KEY = {"PK": {"S": "APPTOKEN"}, "SK": {"S": "EBAY"}}
_VAULT_USER = "ebay-application"
_PURPOSE = "ebay_app_token"


class SharedAppToken:
    """``EbayClient``'s application-token source (``EbayClient.use_app_tokens``)."""

    def __init__(
        self,
        table: Table,
        vault: TokenVault,
        mint: Callable[[], AccessToken],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._table = table
        self._vault = vault
        self._mint = mint
        self._clock = clock
        self._sleep = sleep
        self._owner = secrets.token_hex(8)
        self._lock = threading.Lock()
        self._current: tuple[AccessToken, str] | None = None  # token, token_id

    def get(self) -> AccessToken:
        with self._lock:
            now = self._clock()
            if self._current and self._current[0].expires_at - REFRESH_AHEAD > now:
                return self._current[0]
            try:
                self._current = self._shared(now)
            except (StoreUnavailable, ClientError, BotoCoreError, VaultError):
                logger.warning(
                    "shared eBay app token unavailable; minting one here",
                    exc_info=True,
                )
                self._current = (self._mint(), "")
            return self._current[0]

    def rejected(self, token: AccessToken) -> None:
        """eBay refused ``token``: make every container refresh it."""
        with self._lock:
            current = self._current
            self._current = None
        if current is None or current[0] is not token or not current[1]:
            return
        try:
            self._table.call(
                self._table.client.update_item,
                Key=_KEY,
                UpdateExpression="SET expires_at = :zero",
                ConditionExpression="token_id = :id",
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":id": {"S": current[1]},
                },
            )
        except ClientError as exc:
            if not condition_failed(exc):
                logger.warning("rejected app token not marked", exc_info=True)
        except StoreUnavailable:
            logger.warning("rejected app token not marked", exc_info=True)

    # --- the table --------------------------------------------------------------

    def _shared(self, now: datetime) -> tuple[AccessToken, str]:
        stored = self._read()
        if stored and stored[0].expires_at - REFRESH_AHEAD > now:
            return stored
        if self._claim(now):
            return self._refresh(now)
        if stored and stored[0].expires_at - USABLE_MARGIN > now:
            return stored  # the lease holder is refreshing it
        for _ in range(int(WAIT_FOR_WRITER / _POLL)):
            self._sleep(_POLL)
            stored = self._read()
            if stored and stored[0].expires_at - USABLE_MARGIN > self._clock():
                return stored
        logger.warning("no shared eBay app token in time; minting one here")
        return self._mint(), ""

    def _read(self) -> tuple[AccessToken, str] | None:
        item = self._table.call(
            self._table.client.get_item, Key=_KEY, ConsistentRead=True
        ).get("Item")
        if not item or "sealed" not in item or "expires_at" not in item:
            return None
        expires_at = datetime.fromtimestamp(int(item["expires_at"]["N"]), tz=UTC)
        if expires_at <= self._clock():
            return None
        value = self._vault.open(
            json.loads(item["sealed"]["S"]), user_id=_VAULT_USER, purpose=_PURPOSE
        )
        return AccessToken(value, expires_at), item["token_id"]["S"]

    def _claim(self, now: datetime) -> bool:
        try:
            self._table.call(
                self._table.client.update_item,
                Key=_KEY,
                UpdateExpression="SET lease_until = :until, lease_owner = :me",
                ConditionExpression=(
                    "attribute_not_exists(lease_until) OR lease_until < :now"
                ),
                ExpressionAttributeValues={
                    ":until": {"N": str(_ms(now + LEASE))},
                    ":now": {"N": str(_ms(now))},
                    ":me": {"S": self._owner},
                },
            )
        except ClientError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def _refresh(self, now: datetime) -> tuple[AccessToken, str]:
        token = self._mint()
        token_id = secrets.token_hex(8)
        sealed = self._vault.seal(token.value, user_id=_VAULT_USER, purpose=_PURPOSE)
        try:
            self._table.call(
                self._table.client.update_item,
                Key=_KEY,
                UpdateExpression=(
                    "SET sealed = :sealed, token_id = :id, expires_at = :exp"
                    " REMOVE lease_until, lease_owner"
                ),
                ConditionExpression="lease_owner = :me",
                ExpressionAttributeValues={
                    ":sealed": {"S": json.dumps(dict(sealed))},
                    ":id": {"S": token_id},
                    ":exp": {"N": str(int(token.expires_at.timestamp()))},
                    ":me": {"S": self._owner},
                },
            )
        except ClientError as exc:
            if not condition_failed(exc):
                raise
            logger.info("app token lease lost; using the minted token here only")
            return token, ""
        logger.info("shared eBay app token refreshed")
        return token, token_id


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)

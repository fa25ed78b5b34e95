"""Apps, users and tokens, and the OAuth grants (client credentials, refresh, code)."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

from sandbox.ebay_sim.errors import _INVALID_GRANT, OAuthError
from sandbox.ebay_sim.state import (
    ACCESS_TOKEN_TTL_S,
    API_SCOPE,
    APPLICATION_GRANT,
    AUTH_CODE_TTL_S,
    DEFAULT_USER_SCOPES,
    NOT_APPLICABLE,
    REFRESH_TOKEN_TTL_S,
    USER_GRANT,
    USER_ONLY_SCOPES,
    Auction,
    Fault,
    Rival,
    _AuthCode,
    _RefreshToken,
    _RequestRecord,
    _Scheduler,
    _TokenInfo,
)
from sandbox.faults import FaultRegistry


def _new_token(prefix: str, nbytes: int = 48) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def _append_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = urlencode(params)
    merged = f"{parts.query}&{query}" if parts.query else query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, merged, parts.fragment))


class Accounts(FaultRegistry):
    """Simulator state, its lifecycle, and apps, users, tokens and OAuth."""

    def __init__(  # nosec B107 # simulator defaults, not real credentials
        self,
        client_id: str = "sim-client-id",
        client_secret: str = "sim-client-secret",  # noqa: S107 - simulator default
        ru_name: str = "sim-ru-name",
        accept_url: str = "http://127.0.0.1/ebay/oauth/accepted",
        declined_url: str | None = None,
        *,
        access_token_ttl_s: float = ACCESS_TOKEN_TTL_S,
        auth_code_ttl_s: float = AUTH_CODE_TTL_S,
        browse_not_found_status: int = 404,
        request_log_limit: int = 100_000,
    ) -> None:
        self.client_id = client_id
        self.ru_name = ru_name
        self.accept_url = accept_url
        self.declined_url = declined_url or accept_url
        self.access_token_ttl_s = access_token_ttl_s
        self.auth_code_ttl_s = auth_code_ttl_s
        self.browse_not_found_status = browse_not_found_status
        self.request_log_limit = request_log_limit
        self._default_app = (client_id, client_secret)
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._scheduler = _Scheduler(self._fire_rival)
        self._ids = itertools.count(1)
        self._init_state()

    def _init_state(self) -> None:
        self._apps: dict[str, str] = {self._default_app[0]: self._default_app[1]}
        self._auctions: dict[str, Auction] = {}
        self._legacy: dict[str, str] = {}
        self._rivals: dict[str, Rival] = {}
        self._users: set[str] = set()
        self._access_tokens: dict[str, _TokenInfo] = {}
        self._refresh_tokens: dict[str, _RefreshToken] = {}
        self._auth_codes: dict[str, _AuthCode] = {}
        self._faults: list[Fault] = []
        self._requests: deque[_RequestRecord] = deque(maxlen=self.request_log_limit)
        self._bid_seq = itertools.count(1)
        self._request_seq = itertools.count(1)

    def reset(self) -> None:
        """Forget auctions, rivals, users, tokens, faults and the request log.

        The constructor's app credentials and settings are kept.
        """
        self._scheduler.clear()
        with self._lock:
            self._init_state()

    def close(self) -> None:
        """Stop the rival scheduler and wake any request sleeping in a fault."""
        self._closed.set()
        self._scheduler.stop()

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._closed.wait(seconds)

    def now(self) -> float:
        return time.time()

    def _fire_rival(self, rival_id: str) -> None:
        """Place a due rival's bid: the auctions' (``AuctionHouse``)."""
        raise NotImplementedError

    def app_credentials(self, client_id: str, client_secret: str) -> None:
        """Register (or replace) an application keyset accepted by the token API."""
        with self._lock:
            self._apps[client_id] = client_secret

    def issued_secrets(self) -> list[str]:
        """Every secret value the simulator knows: client secrets, refresh and
        access tokens, authorization codes. Tests search logs and execution
        histories for these (none may appear)."""
        with self._lock:
            return [
                *self._apps.values(),
                *self._refresh_tokens,
                *self._access_tokens,
                *self._auth_codes,
            ]

    def register_user(self, username: str, refresh_token: str | None = None) -> str:
        """Create a simulated eBay user and return a refresh token for them.

        Pass ``refresh_token`` to register a known value (e.g. from a fixture).
        The token belongs to the default client id and carries the Offer scope.
        """
        if not username:
            raise ValueError("username is required")
        with self._lock:
            self._users.add(username)
            token = refresh_token or _new_token("v^1.1#i^1#r^1#p^3#I^3#f^0#t^")
            existing = self._refresh_tokens.get(token)
            if existing is not None and existing.username != username:
                raise ValueError("refresh token already belongs to another user")
            self._refresh_tokens[token] = _RefreshToken(
                username=username,
                client_id=self.client_id,
                scopes=frozenset(DEFAULT_USER_SCOPES),
                expires_at=time.time() + REFRESH_TOKEN_TTL_S,
            )
            return token

    def users(self) -> list[str]:
        with self._lock:
            return sorted(self._users)

    def issue_access_token(
        self,
        username: str | None = None,
        *,
        scopes: Iterable[str] | None = None,
        ttl_s: float | None = None,
    ) -> str:
        """Mint an access token without OAuth: a user token, or an app token."""
        with self._lock:
            if username is not None:
                self._users.add(username)
                granted = frozenset(scopes or DEFAULT_USER_SCOPES)
                return self._mint_access(username, self.client_id, granted, ttl_s)
            return self._mint_access(
                None, self.client_id, frozenset(scopes or (API_SCOPE,)), ttl_s
            )

    def _mint_access(
        self,
        username: str | None,
        client_id: str,
        scopes: frozenset[str],
        ttl_s: float | None = None,
    ) -> str:
        if username is None:
            token = _new_token("v^1.1#i^1#p^1#r^0#I^3#f^0#t^H4sI", 64)
        else:
            token = _new_token("v^1.1#i^1#p^3#r^1#I^3#f^0#t^H4sI", 64)
        ttl = self.access_token_ttl_s if ttl_s is None else ttl_s
        self._access_tokens[token] = _TokenInfo(
            kind="application" if username is None else "user",
            username=username,
            client_id=client_id,
            scopes=scopes,
            expires_at=time.time() + ttl,
        )
        return token

    def revoke_refresh_token(self, refresh_token: str) -> None:
        """Revoke a refresh token: later refresh grants get 400 invalid_grant."""
        with self._lock:
            info = self._refresh_tokens.get(refresh_token)
            if info is None:
                raise KeyError("unknown refresh token")
            info.revoked = True

    def revoke_user_refresh_tokens(self, username: str) -> int:
        """Revoke every refresh token of a user (e.g. a password change)."""
        with self._lock:
            count = 0
            for info in self._refresh_tokens.values():
                if info.username == username and not info.revoked:
                    info.revoked = True
                    count += 1
            return count

    def expire_access_tokens(self, username: str | None = None) -> int:
        """Expire a user's access tokens (all app tokens when username is None)."""
        with self._lock:
            expired = time.time() - 1
            count = 0
            for token, info in list(self._access_tokens.items()):
                if info.username == username and info.expires_at > expired:
                    self._access_tokens[token] = _TokenInfo(
                        info.kind, info.username, info.client_id, info.scopes, expired
                    )
                    count += 1
            return count

    def _authenticate(self, authorization: str | None) -> _TokenInfo | None:
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        with self._lock:
            info = self._access_tokens.get(token.strip())
        if info is None or info.expires_at <= time.time():
            return None
        return info

    def _check_client(self, client_id: str | None, client_secret: str | None) -> str:
        with self._lock:
            expected = self._apps.get(client_id or "")
        if (
            client_id is None
            or expected is None
            or not secrets.compare_digest(expected, client_secret or "")
        ):
            raise OAuthError(401, "invalid_client", "client authentication failed")
        return client_id

    def create_auth_code(
        self, username: str, scopes: Iterable[str], client_id: str | None = None
    ) -> str:
        """Issue a consent code as if ``username`` pressed "Agree"."""
        with self._lock:
            self._users.add(username)
            code = _new_token("v^1.1#i^1#f^0#I^3#p^3#r^1#t^Ul41XzA6", 48)
            self._auth_codes[code] = _AuthCode(
                username=username,
                client_id=client_id or self.client_id,
                scopes=frozenset(scopes),
                expires_at=time.time() + self.auth_code_ttl_s,
            )
            return code

    def token_grant(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[dict[str, Any], str | None]:
        """Run one token-endpoint grant for an authenticated client.

        Returns the JSON body and the username concerned (None for app tokens).
        """
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(
                400, "invalid_request", "request is missing a required parameter"
            )
        if grant_type == "client_credentials":
            return self._grant_client_credentials(client_id, form), None
        if grant_type == "refresh_token":
            return self._grant_refresh(client_id, form)
        if grant_type == "authorization_code":
            return self._grant_auth_code(client_id, form)
        raise OAuthError(
            400,
            "unsupported_grant_type",
            "grant type in request is not supported by the authorization server",
        )

    def _grant_client_credentials(
        self, client_id: str, form: dict[str, str]
    ) -> dict[str, Any]:
        requested = frozenset(form.get("scope", "").split())
        if not requested:
            raise OAuthError(
                400, "invalid_request", "request is missing a required parameter: scope"
            )
        if requested & USER_ONLY_SCOPES or not all(
            s.startswith(API_SCOPE) for s in requested
        ):
            raise OAuthError(
                400,
                "invalid_scope",
                "The requested scope is invalid, unknown, malformed, "
                "or exceeds the scope granted to the client",
            )
        with self._lock:
            token = self._mint_access(None, client_id, requested)
        return {
            "access_token": token,
            "expires_in": int(self.access_token_ttl_s),
            "refresh_token": NOT_APPLICABLE,
            "token_type": APPLICATION_GRANT,
        }

    def _grant_refresh(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[dict[str, Any], str | None]:
        refresh_token = form.get("refresh_token")
        if not refresh_token:
            raise _missing_parameter("refresh_token")
        with self._lock:
            info = _live_grant(
                self._refresh_tokens.get(refresh_token), "revoked", client_id
            )
            requested = frozenset(form.get("scope", "").split()) or info.scopes
            if not requested <= info.scopes:
                raise OAuthError(
                    400,
                    "invalid_scope",
                    "The requested scope is invalid, unknown, malformed, "
                    "or exceeds the scope granted to the client",
                )
            token = self._mint_access(info.username, client_id, requested)
            username = info.username
        return {
            "access_token": token,
            "expires_in": int(self.access_token_ttl_s),
            "token_type": USER_GRANT,
        }, username

    def _grant_auth_code(
        self, client_id: str, form: dict[str, str]
    ) -> tuple[dict[str, Any], str | None]:
        code = form.get("code")
        redirect_uri = form.get("redirect_uri")
        if not code or not redirect_uri:
            raise _missing_parameter("code or redirect_uri")
        with self._lock:
            info = _live_grant(self._auth_codes.get(code), "used", client_id)
            if redirect_uri != self.ru_name:
                raise OAuthError(
                    400,
                    "invalid_grant",
                    "the provided authorization grant code is invalid or was "
                    "issued to another client (redirect_uri does not match the RuName)",
                )
            info.used = True
            refresh = _new_token("v^1.1#i^1#r^1#p^3#I^3#f^0#t^")
            self._refresh_tokens[refresh] = _RefreshToken(
                username=info.username,
                client_id=client_id,
                scopes=info.scopes,
                expires_at=time.time() + REFRESH_TOKEN_TTL_S,
            )
            access = self._mint_access(info.username, client_id, info.scopes)
        return {
            "access_token": access,
            "expires_in": int(self.access_token_ttl_s),
            "refresh_token": refresh,
            "refresh_token_expires_in": REFRESH_TOKEN_TTL_S,
            "token_type": USER_GRANT,
        }, info.username

    def accept_redirect(self, state: str | None, code: str) -> str:
        """The RuName's accept URL with ``state``, ``code`` and ``expires_in``."""
        query: dict[str, str] = {}
        if state is not None:
            query["state"] = state
        query["code"] = code
        query["expires_in"] = str(int(self.auth_code_ttl_s))
        return _append_query(self.accept_url, query)


def _missing_parameter(name: str) -> OAuthError:
    return OAuthError(
        400, "invalid_request", f"request is missing a required parameter: {name}"
    )


_Grant = TypeVar("_Grant", _RefreshToken, _AuthCode)


def _live_grant(info: _Grant | None, spent: str, client_id: str) -> _Grant:
    """The refresh token or code; ``invalid_grant`` unless it exists, is not
    ``spent`` (revoked, used), has not expired and was issued to ``client_id``."""
    if (
        info is None
        or getattr(info, spent)
        or info.expires_at <= time.time()
        or info.client_id != client_id
    ):
        raise OAuthError(400, "invalid_grant", _INVALID_GRANT)
    return info

"""The eBay API over HTTP: OAuth and consent, Browse, Offer."""

from __future__ import annotations

import contextlib
import html
import json
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, request

from sandbox.ebay_sim.accounts import _append_query
from sandbox.ebay_sim.admin import _register_admin_routes
from sandbox.ebay_sim.errors import (
    EbayApiError,
    OAuthError,
    access_denied_error,
    browse_error,
    invalid_token_error,
    offer_error,
    rate_limit_error,
)
from sandbox.ebay_sim.simulator import EbaySimulator
from sandbox.ebay_sim.state import (
    _BEARER_ENDPOINTS,
    _BROWSE_ENDPOINTS,
    _CURRENCY_RE,
    _FIELDGROUPS,
    _ITEM_ID_RE,
    _MONEY_RE,
    BROWSE_MARKETPLACES,
    OFFER_MARKETPLACES,
    OFFER_SCOPE,
    Fault,
    _Ctx,
    _RequestRecord,
    _TokenInfo,
)
from sandbox.httpserver import request_arrival_time
from sandbox.sim_admin import (
    json_response,
)


def _fault_response(fault: Fault, ctx: _Ctx) -> Response:
    status = fault.status or 500
    if ctx.endpoint in ("token", "authorize"):
        error = {
            400: "invalid_request",
            401: "invalid_client",
            429: "too_many_requests",
            503: "temporarily_unavailable",
        }.get(status, "server_error")
        return json_response(
            {"error": error, "error_description": fault.message or "simulated fault"},
            status,
        )
    browse = ctx.endpoint in _BROWSE_ENDPOINTS
    exc: EbayApiError
    if fault.error_id is not None:
        exc = (browse_error if browse else offer_error)(
            fault.error_id, status, item_id=ctx.item_id or ""
        )
    elif status == 401:
        exc = invalid_token_error()
    elif status == 403:
        exc = access_denied_error()
    elif status == 429:
        exc = rate_limit_error()
    elif status >= 500:
        exc = browse_error(11000, status) if browse else offer_error(120000, status)
    else:
        exc = browse_error(11004, status) if browse else offer_error(120024, status)
    if fault.message:
        exc.message = fault.message
    return json_response(exc.body(), exc.status)


def _drop_connection(environ: dict[str, Any]) -> None:
    """Shut the client's connection down without an answer (the server's own
    write of the response then fails quietly: werkzeug drops the connection)."""
    sock = environ.get("werkzeug.socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _raw_path(environ: dict[str, Any]) -> str:
    """The path as the client sent it (``%7C`` kept), without the query string."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw:
        return urlsplit(raw).path
    return str(environ.get("PATH_INFO", ""))


def _error_id_of(response: Response) -> int | None:
    if response.mimetype != "application/json" or response.status_code < 400:
        return None
    try:
        body = json.loads(response.get_data())
        return int(body["errors"][0]["errorId"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _oauth_error_of(response: Response) -> str | None:
    if response.mimetype != "application/json" or response.status_code < 400:
        return None
    try:
        body = json.loads(response.get_data())
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else None


def create_app(sim: EbaySimulator) -> Flask:
    """The Flask app: eBay API routes plus the ``/sim`` admin API."""
    app = Flask("sandbox.ebay_sim")

    def serve(ctx: _Ctx, handler: Callable[[_Ctx], Response]) -> Response:
        arrival = request_arrival_time(request.environ)
        seq = sim._next_request_seq()
        marketplace = request.headers.get("X-EBAY-C-MARKETPLACE-ID")
        if ctx.endpoint in _BEARER_ENDPOINTS:
            info = sim._authenticate(request.headers.get("Authorization"))
            if info is not None:
                ctx.user = info.username
                ctx.token_type = info.kind
                ctx.client_id = info.client_id
        fault = sim._take_fault(ctx.endpoint, ctx.item_id)
        if fault is not None and fault.latency_ms:
            sim._sleep(fault.latency_ms / 1000)
        if fault is not None and fault.status is not None:
            response = _fault_response(fault, ctx)
        elif fault is not None and fault.token_expired:
            response = json_response(invalid_token_error().body(), 401)
        else:
            try:
                response = handler(ctx)
            except EbayApiError as exc:
                response = json_response(exc.body(), exc.status)
            except OAuthError as exc:
                response = json_response(exc.body(), exc.status)
        record = _RequestRecord(
            seq=seq,
            arrival=arrival,
            method=request.method,
            path=request.path,
            raw_path=_raw_path(request.environ),
            endpoint=ctx.endpoint,
            item_id=ctx.item_id,
            status=response.status_code,
            user=ctx.user,
            token_type=ctx.token_type,
            client_id=ctx.client_id,
            marketplace_id=marketplace,
            error_id=_error_id_of(response),
            oauth_error=_oauth_error_of(response) if ctx.endpoint == "token" else None,
            grant_type=ctx.grant_type,
            max_amount=ctx.max_amount,
            proxy_bid_id=ctx.proxy_bid_id,
            fault_id=None if fault is None else fault.fault_id,
            duration_ms=round((time.time() - arrival) * 1000, 3),
        )
        sim._record(record)
        if fault is not None and fault.timeout_s:
            sim._sleep(fault.timeout_s)
        if fault is not None and fault.reset:
            _drop_connection(request.environ)
        return response

    def require_token(ctx: _Ctx) -> _TokenInfo:
        info = sim._authenticate(request.headers.get("Authorization"))
        if info is None:
            raise invalid_token_error()
        return info

    def require_user(ctx: _Ctx) -> str:
        info = require_token(ctx)
        if (
            info.kind != "user"
            or info.username is None
            or OFFER_SCOPE not in info.scopes
        ):
            raise access_denied_error()
        return info.username

    def require_offer_marketplace() -> str:
        marketplace = request.headers.get("X-EBAY-C-MARKETPLACE-ID")
        if not marketplace:
            raise offer_error(120015)
        if marketplace not in OFFER_MARKETPLACES:
            raise offer_error(
                120017,
                marketplace_id=marketplace,
                allowed=", ".join(OFFER_MARKETPLACES),
            )
        return marketplace

    def check_browse_request() -> list[str]:
        marketplace = request.headers.get("X-EBAY-C-MARKETPLACE-ID")
        if marketplace is not None and marketplace not in BROWSE_MARKETPLACES:
            raise browse_error(
                11011,
                marketplace_id=marketplace,
                allowed=", ".join(BROWSE_MARKETPLACES),
            )
        raw = request.args.get("fieldgroups", "")
        groups = [g.strip() for g in raw.split(",") if g.strip()]
        bad = [g for g in groups if g not in _FIELDGROUPS]
        if bad:
            raise browse_error(
                11501, fieldgroups=",".join(bad), allowed=", ".join(_FIELDGROUPS)
            )
        if "COMPACT" in groups and len(groups) > 1:
            raise browse_error(11018)
        return groups

    # -- OAuth -------------------------------------------------------------

    @app.post("/identity/v1/oauth2/token")
    def token() -> Response:
        def handle(ctx: _Ctx) -> Response:
            auth = request.authorization
            client_id = sim._check_client(
                auth.username if auth is not None and auth.type == "basic" else None,
                auth.password if auth is not None and auth.type == "basic" else None,
            )
            ctx.client_id = client_id
            if request.mimetype != "application/x-www-form-urlencoded":
                raise OAuthError(
                    400,
                    "invalid_request",
                    "Content-Type must be application/x-www-form-urlencoded",
                )
            form = dict(request.form.items())
            ctx.grant_type = form.get("grant_type")
            body, username = sim.token_grant(client_id, form)
            ctx.user = username
            ctx.token_type = "user" if username is not None else "application"
            return json_response(body, 200, {"Cache-Control": "no-store"})

        return serve(_Ctx("token"), handle)

    @app.route("/oauth2/authorize", methods=["GET", "POST"])
    def authorize() -> Response:
        def handle(ctx: _Ctx) -> Response:
            params = request.args if request.method == "GET" else request.form
            client_id = params.get("client_id", "")
            ctx.client_id = client_id
            with sim._lock:
                known = client_id in sim._apps
            if not known:
                raise OAuthError(400, "invalid_client", "unknown client_id")
            if params.get("redirect_uri") != sim.ru_name:
                raise OAuthError(
                    400, "invalid_request", "redirect_uri must be the app's RuName"
                )
            if params.get("response_type", "code") != "code":
                raise OAuthError(
                    400, "unsupported_response_type", "response_type must be code"
                )
            scopes = params.get("scope", "").split()
            if not scopes:
                raise OAuthError(400, "invalid_scope", "scope is required")
            state = params.get("state")
            username = params.get("sim_user") or (
                params.get("username") if request.method == "POST" else None
            )
            if request.method == "POST" and params.get("action") == "decline":
                query = {"error": "access_denied"}
                if state is not None:
                    query["state"] = state
                return Response(
                    status=302,
                    headers={"Location": _append_query(sim.declined_url, query)},
                )
            if not username:
                return Response(
                    _consent_html(client_id, sim.ru_name, " ".join(scopes), state),
                    status=200,
                    mimetype="text/html",
                )
            ctx.user = username
            code = sim.create_auth_code(username, scopes, client_id)
            return Response(
                status=302, headers={"Location": sim.accept_redirect(state, code)}
            )

        return serve(_Ctx("authorize"), handle)

    # -- Browse ------------------------------------------------------------

    def serve_item(
        ctx: _Ctx,
        key: str,
        malformed: Callable[[], EbayApiError] | None,
        not_found_id: int,
    ) -> Response:
        """One Browse item read: the item ``key`` names, ``malformed()`` when
        the key is not well-formed, ``not_found_id`` when there is no item."""

        def handle(ctx: _Ctx) -> Response:
            require_token(ctx)
            groups = check_browse_request()
            if malformed is not None:
                raise malformed()
            try:
                body = sim.item_view(key, groups)
            except KeyError:
                raise browse_error(not_found_id, sim.browse_not_found_status) from None
            return json_response(body)

        return serve(ctx, handle)

    def not_found_legacy() -> EbayApiError:
        return browse_error(11003, sim.browse_not_found_status)

    @app.get("/buy/browse/v1/item/get_item_by_legacy_id")
    def get_item_by_legacy_id() -> Response:
        legacy = request.args.get("legacy_item_id", "")
        well_formed = legacy.isdigit()
        item_id = sim._normalize_id(legacy) if well_formed else None
        malformed = None if well_formed else not_found_legacy
        ctx = _Ctx("get_item_by_legacy_id", item_id=item_id)
        return serve_item(ctx, legacy, malformed, 11003)

    @app.get("/buy/browse/v1/item/<item_id>")
    def get_item(item_id: str) -> Response:
        well_formed = _ITEM_ID_RE.match(item_id) is not None
        malformed = None if well_formed else (lambda: browse_error(11012))
        return serve_item(_Ctx("get_item", item_id=item_id), item_id, malformed, 11001)

    # -- Offer -------------------------------------------------------------

    @app.post("/buy/offer/v1_beta/bidding/<item_id>/place_proxy_bid")
    def place_proxy_bid(item_id: str) -> Response:
        def handle(ctx: _Ctx) -> Response:
            username = require_user(ctx)
            require_offer_marketplace()
            try:
                payload = json.loads(request.get_data() or b"null")
            except ValueError:
                raise offer_error(120013) from None
            max_amount = payload.get("maxAmount") if isinstance(payload, dict) else None
            if max_amount is None:
                raise offer_error(120016)
            if not isinstance(max_amount, dict):
                raise offer_error(120013)
            ctx.max_amount = max_amount
            value = max_amount.get("value")
            currency = max_amount.get("currency")
            if not isinstance(value, str) or not _MONEY_RE.match(value):
                raise offer_error(120013)
            if not isinstance(currency, str) or not _CURRENCY_RE.match(currency):
                raise offer_error(120014)
            proxy_bid_id = sim.place_bid(
                item_id, username, value, currency, source="api"
            )
            ctx.proxy_bid_id = proxy_bid_id
            return json_response({"proxyBidId": proxy_bid_id})

        return serve(_Ctx("place_proxy_bid", item_id=item_id), handle)

    @app.get("/buy/offer/v1_beta/bidding/<item_id>")
    def get_bidding(item_id: str) -> Response:
        def handle(ctx: _Ctx) -> Response:
            username = require_user(ctx)
            require_offer_marketplace()
            return json_response(sim.bidding_view(item_id, username))

        return serve(_Ctx("get_bidding", item_id=item_id), handle)

    _register_admin_routes(app, sim)
    return app


def _consent_html(client_id: str, ru_name: str, scope: str, state: str | None) -> str:
    esc = html.escape
    hidden = "".join(
        f'<input type="hidden" name="{esc(k)}" value="{esc(v)}">'
        for k, v in (
            ("client_id", client_id),
            ("redirect_uri", ru_name),
            ("response_type", "code"),
            ("scope", scope),
            *((("state", state),) if state is not None else ()),
        )
    )
    scopes = "".join(f"<li>{esc(s)}</li>" for s in scope.split())
    return (
        "<!doctype html><html><head><title>eBay simulator - grant access</title>"
        "</head><body><h1>Grant application access</h1>"
        f"<p>Application <b>{esc(client_id)}</b> asks for:</p><ul>{scopes}</ul>"
        '<form method="post" action="/oauth2/authorize">'
        f"{hidden}"
        '<label>Simulated eBay user <input name="username" value="sim_buyer">'
        "</label> "
        '<button type="submit" name="action" value="agree">Agree</button> '
        '<button type="submit" name="action" value="decline">I disagree</button>'
        "</form></body></html>"
    )

"""The ``/sim`` admin API."""

from __future__ import annotations

import time
from typing import Any

from flask import Flask, Response, request

from sandbox.ebay_sim.errors import EbayApiError
from sandbox.ebay_sim.simulator import EbaySimulator
from sandbox.ebay_sim.state import MoneyLike, _to_epoch, iso_ms
from sandbox.sim_admin import (
    FaultRoute,
    admin_blueprint,
    admin_body,
    json_response,
)


def _admin_money(value: Any, name: str) -> MoneyLike:
    if value is None:
        raise ValueError(f"{name} is required")
    if isinstance(value, float):
        return str(value)  # JSON numbers from curl: exact for 2-decimal inputs
    if isinstance(value, str | int) and not isinstance(value, bool):
        return value
    raise ValueError(f"{name} must be a string or number")


def _admin_opt_money(value: Any, name: str) -> MoneyLike | None:
    return None if value is None else _admin_money(value, name)


def _register_admin_routes(app: Flask, sim: EbaySimulator) -> None:
    faults = FaultRoute(
        sim.inject_fault,
        default_endpoint="",
        options=("error_id", "item_id"),
        flags=("token_expired", "reset"),
    )
    admin = admin_blueprint(sim, faults, health=lambda: {"now": time.time()})

    @admin.errorhandler(EbayApiError)
    def ebay_error(exc: EbayApiError) -> Response:
        return json_response(exc.body(), exc.status)

    @admin.get("/time")
    def sim_time() -> Response:
        now = time.time()
        return json_response({"now": now, "iso": iso_ms(now)})

    @admin.post("/auctions")
    def create_auction() -> Response:
        data = admin_body()
        end_in_s = data.get("end_in_s")
        auction = sim.create_auction(
            title=str(data.get("title", "Simulated auction item")),
            start_price=_admin_money(data.get("start_price", "0.99"), "start_price"),
            currency=str(data.get("currency", "USD")),
            end_in_s=None if end_in_s is None else float(end_in_s),
            end_at=data.get("end_at"),
            reserve_price=_admin_opt_money(data.get("reserve_price"), "reserve_price"),
            buy_it_now_price=_admin_opt_money(
                data.get("buy_it_now_price"), "buy_it_now_price"
            ),
            seller=str(data.get("seller", "sim_seller")),
            item_id=data.get("item_id"),
            settle_delay_s=float(data.get("settle_delay_s", 0.0)),
            listing_type=data.get("listing_type", "AUCTION"),
            marketplace_id=str(data.get("marketplace_id", "EBAY_US")),
            image_url=data.get("image_url"),
        )
        return json_response(sim.auction_state(auction.item_id), 201)

    @admin.get("/auctions")
    def list_auctions() -> Response:
        return json_response(sim.auctions())

    @admin.get("/auctions/<item_id>")
    def auction_state(item_id: str) -> Response:
        return json_response(sim.auction_state(item_id))

    @admin.post("/auctions/<item_id>/end")
    def end_auction(item_id: str) -> Response:
        return json_response(sim.end_auction(item_id))

    @admin.post("/auctions/<item_id>/end_time")
    def change_end(item_id: str) -> Response:
        return json_response(sim.change_end(item_id, float(admin_body()["end_in_s"])))

    @admin.post("/auctions/<item_id>/buy_it_now")
    def buy_it_now(item_id: str) -> Response:
        buyer = str(admin_body().get("buyer", "bin_buyer"))
        return json_response(sim.buy_it_now(item_id, buyer))

    @admin.post("/auctions/<item_id>/bids")
    def admin_bid(item_id: str) -> Response:
        data = admin_body()
        username = data.get("username")
        if not isinstance(username, str) or not username:
            raise ValueError("username is required")
        proxy_bid_id = sim.place_bid(
            item_id,
            username,
            _admin_money(data.get("max_amount"), "max_amount"),
            data.get("currency"),
        )
        return json_response({"proxyBidId": proxy_bid_id}, 201)

    @admin.post("/auctions/<item_id>/rivals")
    def add_rival(item_id: str) -> Response:
        data = admin_body()
        at = data.get("at")
        before = data.get("seconds_before_end")
        rival = sim.add_rival(
            item_id,
            _admin_money(data.get("max_amount"), "max_amount"),
            at=None if at is None else _to_epoch(at),
            seconds_before_end=None if before is None else float(before),
            username=data.get("username"),
        )
        currency = sim.get_auction(item_id).currency
        return json_response(rival.to_dict(currency), 201)

    @admin.get("/rivals")
    def list_rivals() -> Response:
        return json_response(sim.rivals(request.args.get("item_id")))

    @admin.post("/users")
    def register_user() -> Response:
        data = admin_body()
        username = data.get("username")
        if not isinstance(username, str) or not username:
            raise ValueError("username is required")
        refresh = sim.register_user(username, data.get("refresh_token"))
        return json_response({"username": username, "refresh_token": refresh}, 201)

    @admin.post("/users/<username>/access_token")
    def issue_user_token(username: str) -> Response:
        token = sim.issue_access_token(username)
        return json_response(
            {"access_token": token, "expires_in": int(sim.access_token_ttl_s)}, 201
        )

    @admin.post("/users/<username>/expire_tokens")
    def expire_tokens(username: str) -> Response:
        return json_response({"expired": sim.expire_access_tokens(username)})

    @admin.post("/users/<username>/revoke")
    def revoke_user(username: str) -> Response:
        return json_response({"revoked": sim.revoke_user_refresh_tokens(username)})

    @admin.post("/refresh_tokens/revoke")
    def revoke_refresh() -> Response:
        token = admin_body().get("refresh_token")
        if not isinstance(token, str):
            raise ValueError("refresh_token is required")
        sim.revoke_refresh_token(token)
        return json_response({"revoked": True})

    @admin.post("/apps")
    def add_app() -> Response:
        data = admin_body()
        client_id, secret = data.get("client_id"), data.get("client_secret")
        if not isinstance(client_id, str) or not isinstance(secret, str):
            raise ValueError("client_id and client_secret are required")
        sim.app_credentials(client_id, secret)
        return json_response({"client_id": client_id}, 201)

    @admin.get("/requests")
    def list_requests() -> Response:
        return json_response(
            sim.requests(
                endpoint=request.args.get("endpoint"),
                item_id=request.args.get("item_id"),
                user=request.args.get("user"),
            )
        )

    app.register_blueprint(admin)

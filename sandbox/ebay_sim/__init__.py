"""eBay simulator: OAuth, Browse getItem, Offer bidding and a real-time auction engine.

It serves real HTTP (see :mod:`sandbox.httpserver`) on 127.0.0.1 for integration
tests, the local stack and benchmarks. Auctions end at wall-clock times; there is
no fake clock. State lives in one :class:`EbaySimulator` guarded by a lock, so the
Python API (used by tests) and the HTTP admin API under ``/sim`` see the same data.

Quick start::

    sim, server = start_ebay_simulator(client_id="cid", client_secret="csec")
    auction = sim.create_auction(start_price="10.00", end_in_s=2)
    refresh_token = sim.register_user("alice")
    ...
    server.stop()

One simulator, in modules: ``state`` (constants, money and time, the
records: auctions, bids, rivals, tokens, faults, requests), ``errors`` (eBay's
error catalogue), ``accounts`` (apps, users, tokens, the OAuth grants),
``auctions`` (auctions, the proxy-bidding rules, rivals, the Browse and Offer
views), ``simulator`` (``EbaySimulator``: faults and the request log), ``http``
(OAuth and consent, Browse, Offer routes), ``admin`` (``/sim``).

See docs/simulators.md for what is and is not modelled.
"""

from __future__ import annotations

from sandbox.ebay_sim.errors import EbayApiError as EbayApiError
from sandbox.ebay_sim.errors import OAuthError as OAuthError
from sandbox.ebay_sim.http import create_app as create_app
from sandbox.ebay_sim.serve import main as main
from sandbox.ebay_sim.serve import start_ebay_simulator as start_ebay_simulator
from sandbox.ebay_sim.simulator import EbaySimulator as EbaySimulator
from sandbox.ebay_sim.state import API_SCOPE as API_SCOPE
from sandbox.ebay_sim.state import ENDPOINTS as ENDPOINTS
from sandbox.ebay_sim.state import OFFER_MARKETPLACES as OFFER_MARKETPLACES
from sandbox.ebay_sim.state import OFFER_SCOPE as OFFER_SCOPE
from sandbox.ebay_sim.state import Auction as Auction
from sandbox.ebay_sim.state import Bid as Bid
from sandbox.ebay_sim.state import Fault as Fault
from sandbox.ebay_sim.state import Rival as Rival
from sandbox.ebay_sim.state import bid_increment_cents as bid_increment_cents
from sandbox.ebay_sim.state import format_cents as format_cents
from sandbox.ebay_sim.state import iso_ms as iso_ms
from sandbox.ebay_sim.state import to_cents as to_cents

__all__ = [
    "API_SCOPE",
    "ENDPOINTS",
    "OFFER_MARKETPLACES",
    "OFFER_SCOPE",
    "Auction",
    "Bid",
    "EbayApiError",
    "EbaySimulator",
    "Fault",
    "OAuthError",
    "Rival",
    "bid_increment_cents",
    "create_app",
    "format_cents",
    "iso_ms",
    "main",
    "start_ebay_simulator",
    "to_cents",
]

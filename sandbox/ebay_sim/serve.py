"""Starting the simulator on a port."""

from __future__ import annotations

from typing import Any

from sandbox.ebay_sim.http import create_app
from sandbox.ebay_sim.simulator import EbaySimulator
from sandbox.httpserver import BackgroundServer
from sandbox.sim_admin import (
    serve_until_interrupted,
    simulator_arguments,
    start_simulator,
)


def start_ebay_simulator(
    port: int = 0, sim: EbaySimulator | None = None, **sim_kwargs: Any
) -> tuple[EbaySimulator, BackgroundServer]:
    """Start a simulator on 127.0.0.1:``port`` (0 = ephemeral) in a thread.

    ``server.stop()`` also closes the simulator (rival scheduler, fault sleeps).
    """
    simulator = sim or EbaySimulator(**sim_kwargs)
    return start_simulator(simulator, create_app(simulator), port, "ebay-sim")


def main(argv: list[str] | None = None) -> None:
    """``python -m sandbox.ebay_sim --port 8081``: serve until Ctrl-C."""
    parser = simulator_arguments("eBay simulator on 127.0.0.1")
    parser.add_argument("--client-id", default="sim-client-id")
    parser.add_argument("--client-secret", default="sim-client-secret")
    parser.add_argument("--ru-name", default="sim-ru-name")
    parser.add_argument("--accept-url", default="http://127.0.0.1/ebay/oauth/accepted")
    args = parser.parse_args(argv)
    _sim, server = start_ebay_simulator(
        args.port,
        client_id=args.client_id,
        client_secret=args.client_secret,
        ru_name=args.ru_name,
        accept_url=args.accept_url,
    )
    serve_until_interrupted(server, "eBay simulator")

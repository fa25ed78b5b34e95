"""``python -m sandbox.ebay_sim --port 8081``: serve until Ctrl-C."""

from sandbox.ebay_sim.serve import main

main()

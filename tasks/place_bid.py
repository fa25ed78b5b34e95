"""Task Lambda: claim the snipe and fire the max bid precisely at fire_at."""

from __future__ import annotations

from tasks.handler import task_handler
from workflows.bidding import PlaceBidInput, place_bid

lambda_handler = task_handler(PlaceBidInput, place_bid)

"""Auctions and the proxy-bidding rules, rivals, and the Browse and Offer views."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from sandbox.ebay_sim.accounts import Accounts
from sandbox.ebay_sim.errors import EbayApiError, offer_error
from sandbox.ebay_sim.state import (
    _COMPACT_FIELDS,
    _CURRENCY_RE,
    _ITEM_ID_RE,
    MAX_BID_CENTS,
    Auction,
    Bid,
    MoneyLike,
    Rival,
    _amount,
    _Bidder,
    _to_epoch,
    bid_increment_cents,
    iso_ms,
    to_cents,
)


class AuctionHouse(Accounts):
    """Auctions, bids, rivals and what Browse and Offer show of them."""

    def create_auction(
        self,
        *,
        title: str = "Simulated auction item",
        start_price: MoneyLike = "0.99",
        currency: str = "USD",
        end_in_s: float | None = None,
        end_at: float | datetime | str | None = None,
        reserve_price: MoneyLike | None = None,
        buy_it_now_price: MoneyLike | None = None,
        seller: str = "sim_seller",
        item_id: str | None = None,
        settle_delay_s: float = 0.0,
        listing_type: Literal["AUCTION", "FIXED_PRICE"] = "AUCTION",
        marketplace_id: str = "EBAY_US",
        image_url: str | None = None,
        seller_feedback_score: int = 1234,
        seller_feedback_percentage: str = "99.8",
    ) -> Auction:
        """Create a listing ending ``end_in_s`` from now (default 60 s) or ``end_at``.

        ``item_id`` may be ``v1|<digits>|<digits>`` or bare legacy digits;
        by default a ``v1|<12 digits>|0`` id is generated.
        """
        now = time.time()
        if end_in_s is not None and end_at is not None:
            raise ValueError("give end_in_s or end_at, not both")
        if end_at is not None:
            end = _to_epoch(end_at)
        else:
            end = now + (60.0 if end_in_s is None else end_in_s)
        end = int(end * 1000) / 1000  # ms precision, like itemEndDate
        if not _CURRENCY_RE.match(currency):
            raise ValueError(f"invalid currency {currency!r}")
        if listing_type not in ("AUCTION", "FIXED_PRICE"):
            raise ValueError(f"invalid listing_type {listing_type!r}")
        if settle_delay_s < 0:
            raise ValueError("settle_delay_s must be >= 0")
        start_cents = to_cents(start_price)
        reserve_cents = None if reserve_price is None else to_cents(reserve_price)
        bin_cents = None if buy_it_now_price is None else to_cents(buy_it_now_price)
        if listing_type == "AUCTION" and start_cents <= 0:
            raise ValueError("start_price must be > 0")
        if listing_type == "FIXED_PRICE":
            bin_cents = bin_cents or start_cents
            if bin_cents <= 0:
                raise ValueError("a FIXED_PRICE listing needs a price")
            reserve_cents = None
        if (
            bin_cents is not None
            and listing_type == "AUCTION"
            and (bin_cents <= start_cents)
        ):
            raise ValueError("buy_it_now_price must be above start_price")
        with self._lock:
            restful, legacy = self._allocate_item_id(item_id)
            auction = Auction(
                item_id=restful,
                legacy_item_id=legacy,
                title=title[:80],
                currency=currency,
                start_cents=start_cents,
                end_time=end,
                created_at=now,
                seller=seller,
                listing_type=listing_type,
                reserve_cents=reserve_cents,
                bin_cents=bin_cents,
                settle_delay_s=settle_delay_s,
                marketplace_id=marketplace_id,
                image_url=image_url
                or f"https://i.ebayimg.com/images/g/sim{legacy}/s-l1600.jpg",
                seller_feedback_score=seller_feedback_score,
                seller_feedback_percentage=seller_feedback_percentage,
            )
            self._auctions[restful] = auction
            if restful.endswith("|0"):
                self._legacy[legacy] = restful
            return auction

    def _allocate_item_id(self, item_id: str | None) -> tuple[str, str]:
        if item_id is None:
            while True:
                legacy = str(100_000_000_000 + secrets.randbelow(900_000_000_000))
                restful = f"v1|{legacy}|0"
                if restful not in self._auctions:
                    return restful, legacy
        if item_id.isdigit():
            item_id = f"v1|{item_id}|0"
        match = _ITEM_ID_RE.match(item_id)
        if match is None:
            raise ValueError(
                f"item_id must look like v1|<digits>|<digits>: {item_id!r}"
            )
        if item_id in self._auctions:
            raise ValueError(f"item {item_id} already exists")
        return item_id, match.group(1)

    def get_auction(self, item_id: str) -> Auction:
        """Look up by RESTful id or legacy id; KeyError if unknown."""
        with self._lock:
            return self._find(item_id)

    def _find(self, item_id: str) -> Auction:
        auction = self._auctions.get(item_id)
        if auction is None and item_id.isdigit():
            auction = self._auctions.get(self._legacy.get(item_id, ""))
        if auction is None:
            raise KeyError(item_id)
        return auction

    def end_auction(self, item_id: str) -> dict[str, Any]:
        """End an auction now (seller ended early). Bids after this get 120012."""
        with self._lock:
            auction = self._find(item_id)
            now = time.time()
            if now < auction.closes_at:
                auction.ended_early_at = now
                auction.end_reason = "ended_early"
            return self._state(auction, now)

    def change_end(self, item_id: str, end_in_s: float) -> dict[str, Any]:
        """Move a running auction's scheduled end (as eBay does after an outage).

        Rival bids scheduled "seconds before end" keep their absolute times.
        """
        with self._lock:
            auction = self._find(item_id)
            now = time.time()
            if now >= auction.closes_at:
                raise ValueError("the listing has ended")
            auction.end_time = int((now + float(end_in_s)) * 1000) / 1000
            return self._state(auction, now)

    def buy_it_now(self, item_id: str, buyer: str = "bin_buyer") -> dict[str, Any]:
        """Purchase with Buy It Now: ends the auction; later bids get 120002."""
        with self._lock:
            auction = self._find(item_id)
            now = time.time()
            if auction.bin_cents is None:
                raise ValueError("this listing has no Buy It Now price")
            if now >= auction.closes_at:
                raise ValueError("the listing has ended")
            if auction.listing_type == "AUCTION" and auction.bids:
                raise ValueError("Buy It Now was removed by the first bid")
            if buyer == auction.seller:
                raise ValueError("the seller cannot buy their own item")
            self._users.add(buyer)
            auction.ended_early_at = now
            auction.end_reason = "buy_it_now"
            auction.bin_buyer = buyer
            return self._state(auction, now)

    @staticmethod
    def _ranked(auction: Auction) -> list[_Bidder]:
        return sorted(auction.bidders.values(), key=lambda b: (-b.max_cents, b.max_seq))

    def _price_cents(self, auction: Auction) -> int:
        """Current price from the proxy-bidding rules (see docs/simulators.md)."""
        ranked = self._ranked(auction)
        if not ranked:
            return auction.start_cents
        leader = ranked[0]
        if len(ranked) == 1:
            base = auction.start_cents
        else:
            second = ranked[1].max_cents
            base = min(leader.max_cents, second + bid_increment_cents(second))
        base = max(base, auction.start_cents)
        reserve = auction.reserve_cents
        if reserve is None:
            return base
        if leader.max_cents >= reserve:
            return max(base, reserve)
        # Below the reserve the bidder's whole max is used to try to meet it.
        return leader.max_cents

    def _min_to_bid_cents(self, auction: Auction) -> int:
        if not auction.bids:
            return auction.start_cents
        price = self._price_cents(auction)
        return price + bid_increment_cents(price)

    def _reserve_met(self, auction: Auction) -> bool | None:
        if auction.reserve_cents is None:
            return None
        ranked = self._ranked(auction)
        return bool(ranked) and ranked[0].max_cents >= auction.reserve_cents

    def _bin_available(self, auction: Auction, now: float) -> bool:
        return (
            auction.bin_cents is not None
            and auction.listing_type == "AUCTION"
            and not auction.bids
            and now < auction.closes_at
        )

    def _leader(self, auction: Auction) -> str | None:
        ranked = self._ranked(auction)
        return ranked[0].username if ranked else None

    def _winner(self, auction: Auction) -> str | None:
        """The buyer once bidding has closed (None: unsold)."""
        if auction.bin_buyer is not None:
            return auction.bin_buyer
        if auction.listing_type != "AUCTION":
            return None
        if self._reserve_met(auction) is False:
            return None
        return self._leader(auction)

    def place_bid(
        self,
        item_id: str,
        username: str,
        max_amount: MoneyLike,
        currency: str | None = None,
        *,
        source: str = "admin",
    ) -> str:
        """Place a proxy bid through the engine; returns the proxyBidId.

        Raises :class:`EbayApiError` with the placeProxyBid error ids.
        """
        try:
            cents = to_cents(max_amount)
        except ValueError:
            raise offer_error(120013) from None
        if cents <= 0:
            raise offer_error(120013)
        if cents > MAX_BID_CENTS:
            raise offer_error(120011)
        with self._lock:
            return self._place(item_id, username, cents, currency, source)

    def _place(
        self,
        item_id: str,
        username: str,
        cents: int,
        currency: str | None,
        source: str,
    ) -> str:
        now = time.time()
        auction = self._offer_auction(item_id)
        if currency is not None and currency != auction.currency:
            raise offer_error(120009)
        if username == auction.seller:
            raise offer_error(120003)
        if auction.end_reason == "buy_it_now":
            raise offer_error(120002)
        if now >= auction.closes_at:
            raise offer_error(120012)
        if (
            self._bin_available(auction, now)
            and auction.bin_cents is not None
            and cents > auction.bin_cents
        ):
            raise offer_error(120005)
        current = auction.bidders.get(username)
        if current is not None and cents <= current.max_cents:
            raise offer_error(120010)
        is_leader = current is not None and self._leader(auction) == username
        if not is_leader and cents < self._min_to_bid_cents(auction):
            raise offer_error(120008)
        seq = next(self._bid_seq)
        proxy_bid_id = str(10_000_000_000 + secrets.randbelow(89_999_999_999))
        auction.bids.append(
            Bid(
                seq=seq,
                proxy_bid_id=proxy_bid_id,
                username=username,
                max_cents=cents,
                placed_at=now,
                source=source,
            )
        )
        auction.bidders[username] = _Bidder(username, cents, seq, proxy_bid_id)
        self._users.add(username)
        return proxy_bid_id

    def add_rival(
        self,
        item_id: str,
        max_amount: MoneyLike,
        *,
        at: float | None = None,
        seconds_before_end: float | None = None,
        username: str | None = None,
    ) -> Rival:
        """Schedule a competing proxy bid at epoch ``at`` or N s before the end.

        With neither given the bid fires immediately (on the scheduler thread).
        The same ``username`` twice means one bidder raising their max.
        """
        if at is not None and seconds_before_end is not None:
            raise ValueError("give at or seconds_before_end, not both")
        cents = to_cents(max_amount)
        with self._lock:
            auction = self._find(item_id)
            if at is not None:
                fire_at = float(at)
            elif seconds_before_end is not None:
                fire_at = auction.end_time - float(seconds_before_end)
            else:
                fire_at = time.time()
            rival_id = f"rival-{next(self._ids)}"
            rival = Rival(
                rival_id=rival_id,
                item_id=auction.item_id,
                username=username or f"rival_{rival_id.split('-')[1]}",
                max_cents=cents,
                fire_at=fire_at,
            )
            if rival.username == auction.seller:
                raise ValueError("a rival cannot be the seller")
            self._rivals[rival_id] = rival
        self._scheduler.schedule(fire_at, rival_id)
        return rival

    def _fire_rival(self, rival_id: str) -> None:
        with self._lock:
            rival = self._rivals.get(rival_id)
            if rival is None or rival.status != "pending":
                return
            rival.placed_at = time.time()
            try:
                rival.proxy_bid_id = self._place(
                    rival.item_id, rival.username, rival.max_cents, None, "rival"
                )
                rival.status = "placed"
            except EbayApiError as exc:
                rival.status = "rejected"
                rival.error_id = exc.error_id

    def rivals(self, item_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            result = []
            for rival in self._rivals.values():
                if item_id is not None and rival.item_id != self._find(item_id).item_id:
                    continue
                currency = self._auctions[rival.item_id].currency
                result.append(rival.to_dict(currency))
            return result

    def cancel_rival(self, rival_id: str) -> None:
        with self._lock:
            rival = self._rivals[rival_id]
            if rival.status == "pending":
                rival.status = "cancelled"

    def auction_state(self, item_id: str) -> dict[str, Any]:
        """A JSON-able snapshot: prices, bids, leader/winner, rivals."""
        with self._lock:
            return self._state(self._find(item_id), time.time())

    def auctions(self) -> list[dict[str, Any]]:
        with self._lock:
            now = time.time()
            return [self._state(a, now) for a in self._auctions.values()]

    def _state(self, auction: Auction, now: float) -> dict[str, Any]:
        cur = auction.currency
        closed = now >= auction.closes_at
        settled = now >= auction.closes_at + auction.settle_delay_s
        price = self._price_cents(auction)
        winner = self._winner(auction) if closed else None
        final: int | None = price if winner is not None else None
        if auction.bin_buyer is not None and auction.bin_cents is not None:
            final = auction.bin_cents
        return {
            "item_id": auction.item_id,
            "legacy_item_id": auction.legacy_item_id,
            "title": auction.title,
            "listing_type": auction.listing_type,
            "seller": auction.seller,
            "currency": cur,
            "marketplace_id": auction.marketplace_id,
            "start_price": _amount(auction.start_cents, cur),
            "reserve_price": None
            if auction.reserve_cents is None
            else _amount(auction.reserve_cents, cur),
            "buy_it_now_price": None
            if auction.bin_cents is None
            else _amount(auction.bin_cents, cur),
            "buy_it_now_available": self._bin_available(auction, now),
            "created_at": auction.created_at,
            "end_time": auction.closes_at,
            "end_date": iso_ms(auction.closes_at),
            "scheduled_end_time": auction.end_time,
            "settle_delay_s": auction.settle_delay_s,
            "status": "ENDED" if closed else "ACTIVE",
            "settled": settled,
            "end_reason": (auction.end_reason or "scheduled") if closed else None,
            "current_price": _amount(price, cur),
            "minimum_price_to_bid": _amount(self._min_to_bid_cents(auction), cur),
            "bid_count": len(auction.bids),
            "unique_bidder_count": len(auction.bidders),
            "reserve_met": self._reserve_met(auction),
            "high_bidder": self._leader(auction),
            "winner": winner,
            "final_price": None if final is None else _amount(final, cur),
            "bids": [bid.to_dict(cur) for bid in auction.bids],
            "bidders": [
                {
                    "username": b.username,
                    "max_amount": _amount(b.max_cents, cur),
                    "proxy_bid_id": b.proxy_bid_id,
                }
                for b in self._ranked(auction)
            ],
            "rivals": [
                r.to_dict(cur)
                for r in self._rivals.values()
                if r.item_id == auction.item_id
            ],
        }

    def item_view(
        self, item_id: str, fieldgroups: Iterable[str] = ()
    ) -> dict[str, Any]:
        """The Browse ``Item`` body for getItem / getItemByLegacyId."""
        groups = set(fieldgroups)
        with self._lock:
            auction = self._find(item_id)
            now = time.time()
            body = self._item_json(auction, now, "ADDITIONAL_SELLER_DETAILS" in groups)
        if "COMPACT" in groups:
            body = {k: v for k, v in body.items() if k in _COMPACT_FIELDS}
        return body

    def _item_json(
        self, auction: Auction, now: float, seller_details: bool
    ) -> dict[str, Any]:
        cur = auction.currency
        closed = now >= auction.closes_at
        sold = closed and self._winner(auction) is not None
        seller: dict[str, Any] = {
            "username": auction.seller,
            "feedbackPercentage": auction.seller_feedback_percentage,
            "feedbackScore": auction.seller_feedback_score,
        }
        if seller_details:
            seller["sellerAccountType"] = "INDIVIDUAL"
            seller["userId"] = f"sim-{auction.seller}"
        item: dict[str, Any] = {
            "itemId": auction.item_id,
            "legacyItemId": auction.legacy_item_id,
            "title": auction.title,
            "shortDescription": f"Simulated listing {auction.legacy_item_id}",
            "categoryId": "177",
            "categoryPath": "Computers/Tablets & Networking|PC Laptops & Netbooks",
            "condition": "Used",
            "conditionId": "3000",
            "itemCreationDate": iso_ms(auction.created_at),
            "itemEndDate": iso_ms(auction.closes_at),
            "image": {"imageUrl": auction.image_url},
            "itemWebUrl": auction.item_web_url,
            "itemLocation": {
                "city": "San Jose",
                "stateOrProvince": "CA",
                "postalCode": "951**",
                "country": "US",
            },
            "seller": seller,
            "listingMarketplaceId": auction.marketplace_id,
            "adultOnly": False,
            "immediatePay": False,
            "estimatedAvailabilities": [
                {
                    "estimatedAvailabilityStatus": "OUT_OF_STOCK"
                    if closed
                    else "IN_STOCK",
                    "estimatedAvailableQuantity": 0 if closed else 1,
                    "estimatedSoldQuantity": 1 if sold else 0,
                    "estimatedRemainingQuantity": 0 if closed else 1,
                }
            ],
        }
        if auction.listing_type == "FIXED_PRICE":
            item["buyingOptions"] = ["FIXED_PRICE"]
            item["price"] = _amount(auction.bin_cents or auction.start_cents, cur)
            return item
        price = self._price_cents(auction)
        bin_available = self._bin_available(auction, now)
        item["buyingOptions"] = (
            ["AUCTION", "FIXED_PRICE"] if bin_available else ["AUCTION"]
        )
        show_bin = auction.bin_buyer is not None or bin_available
        if show_bin and auction.bin_cents is not None:
            item["price"] = _amount(auction.bin_cents, cur)
        else:
            item["price"] = _amount(price, cur)
        item["currentBidPrice"] = _amount(price, cur)
        item["minimumPriceToBid"] = _amount(self._min_to_bid_cents(auction), cur)
        item["bidCount"] = len(auction.bids)
        item["uniqueBidderCount"] = len(auction.bidders)
        reserve_met = self._reserve_met(auction)
        if reserve_met is not None:
            item["reservePriceMet"] = reserve_met
        return item

    def _offer_auction(self, item_id: str) -> Auction:
        """The auction the Offer API can bid on; 120001 for anything else."""
        try:
            auction = self._find(item_id)
        except KeyError:
            raise offer_error(120001, item_id=item_id) from None
        if auction.listing_type != "AUCTION":
            raise offer_error(120001, item_id=item_id)
        return auction

    def bidding_view(self, item_id: str, username: str) -> dict[str, Any]:
        """The Offer ``Bidding`` body for ``username``; raises EbayApiError."""
        with self._lock:
            auction = self._offer_auction(item_id)
            bidder = auction.bidders.get(username)
            if bidder is None:
                raise offer_error(120033, item_id=auction.item_id)
            now = time.time()
            cur = auction.currency
            closed = now >= auction.closes_at
            reported_ended = now >= auction.closes_at + auction.settle_delay_s
            if reported_ended:
                high = self._winner(auction) == username
            else:
                high = self._leader(auction) == username
            price = self._price_cents(auction)
            body: dict[str, Any] = {
                "itemId": auction.item_id,
                "auctionStatus": "ENDED" if reported_ended else "ACTIVE",
                "auctionEndDate": iso_ms(auction.closes_at),
                "highBidder": high,
                "currentPrice": _amount(price, cur),
                "currentProxyBid": {
                    "proxyBidId": bidder.proxy_bid_id,
                    "maxAmount": _amount(bidder.max_cents, cur),
                },
                "bidCount": len(auction.bids),
            }
            reserve_met = self._reserve_met(auction)
            if reserve_met is not None:
                body["reservePriceMet"] = reserve_met
            if not closed:
                first = self._min_to_bid_cents(auction)
                second = first + bid_increment_cents(first)
                third = second + bid_increment_cents(second)
                body["suggestedBidAmounts"] = [
                    _amount(v, cur) for v in (first, second, third)
                ]
            return body

import type { Money, Reason, SnipeStatus } from "@/api/client";

/** "$12.34": Money's decimal string goes to Intl as a string (no float). */
export function formatMoney(money: Money | null | undefined): string {
  if (!money) return "—";
  try {
    return new Intl.NumberFormat("en-US", { style: "currency", currency: money.currency }).format(
      money.value as Intl.StringNumericLiteral,
    );
  } catch {
    return `${money.value} ${money.currency}`;
  }
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString("en-GB", {
    day: "numeric",
    month: "short",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    timeZone: "UTC",
    timeZoneName: "short",
  });
}

/** "2d 03:04:05", "03:04", "ended" */
export function formatDuration(seconds: number): string {
  if (seconds <= 0) return "ended";
  const s = Math.floor(seconds);
  const days = Math.floor(s / 86400);
  const hours = Math.floor((s % 86400) / 3600);
  const minutes = Math.floor((s % 3600) / 60);
  const secs = s % 60;
  const pad = (n: number) => String(n).padStart(2, "0");
  const clock = hours > 0 || days > 0 ? `${pad(hours)}:${pad(minutes)}:${pad(secs)}` : `${pad(minutes)}:${pad(secs)}`;
  return days > 0 ? `${days}d ${clock}` : clock;
}

export const STATUS_LABEL: Record<SnipeStatus, string> = {
  SCHEDULED: "Scheduled",
  BIDDING: "Bidding",
  BID_PLACED: "Bid placed",
  WON: "Won",
  LOST: "Lost",
  CANCELLED: "Cancelled",
  SKIPPED: "Skipped",
  FAILED: "Failed",
};

export const FINAL_STATUSES: ReadonlySet<SnipeStatus> = new Set(["WON", "LOST", "CANCELLED", "SKIPPED", "FAILED"]);

/** The API's reason codes in words (the same texts as the result emails). */
export const REASON_TEXT: Record<Reason, string> = {
  USER_CANCELLED: "You cancelled the snipe.",
  EBAY_NOT_LINKED: "Your eBay account is not linked.",
  EBAY_RECONNECT_REQUIRED: "eBay no longer accepts our authorization for your account; reconnect it.",
  ENDED_EARLY: "The listing ended before the bid time (ended by the seller or sold with Buy It Now); no bid was sent.",
  OUTBID_BEFORE_FIRE: "The current price had already reached your maximum bid; no bid was sent.",
  GROUP_SATISFIED:
    "Its group already has as many wins (won, or bids whose result is not known yet) as you wanted; no bid was sent.",
  AUCTION_ENDED: "The auction had already ended when the bid arrived.",
  ENDED_BY_BUY_IT_NOW: "The item was sold with Buy It Now.",
  BID_TOO_LOW: "Your maximum bid was below the minimum eBay accepted.",
  CANNOT_LOWER_BID: "You already had a higher bid on this item.",
  CURRENCY_MISMATCH: "The bid currency differs from the listing currency.",
  BID_ABOVE_BUY_IT_NOW: "The bid was above the Buy It Now price.",
  NOT_ELIGIBLE: "eBay says your account is not eligible to bid on this item.",
  ITEM_NOT_FOUND: "eBay no longer knows this item.",
  BID_INVALID: "eBay refused the bid as invalid.",
  BID_WINDOW_MISSED: "The bid could not be placed before the auction ended.",
  BID_NOT_PLACED: "Our bid did not get through: after the auction ended eBay showed no bid from you on this item.",
  EBAY_UNAVAILABLE: "eBay was unavailable when the bid had to be placed.",
  EBAY_AUTH_FAILED: "eBay refused our access to your account.",
  RESULT_UNKNOWN: "eBay did not report a final result in time.",
  INTERNAL_ERROR: "An internal error stopped the snipe.",
};

export const NOT_SNIPEABLE_TEXT: Record<string, string> = {
  NOT_AN_AUCTION: "This listing is not an auction (Buy It Now only): it cannot be sniped.",
  ENDED: "This auction has ended.",
  ENDING_TOO_SOON: "This auction ends too soon to schedule a snipe.",
};

/**
 * A whole-number form field as the API takes it: the number typed, or, when
 * it is not a whole number, the text as typed (the API then says what is wrong).
 */
export function asWholeNumber(text: string | null): number {
  return (Number.isInteger(Number(text)) && text?.trim() ? Number(text) : text) as number;
}

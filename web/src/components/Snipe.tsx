"use client";

import Link from "next/link";
import type { SnipeStatus, SnipeView } from "@/api/client";
import { Thumb } from "./Thumb";
import { useServerNow } from "@/lib/clock";
import { FINAL_STATUSES, REASON_TEXT, STATUS_LABEL, formatDuration, formatMoney, formatTime } from "@/lib/format";

export function StatusBadge({ status }: { status: SnipeStatus }) {
  return (
    <span className={`badge badge-${status}`} data-testid="status">
      {STATUS_LABEL[status]}
    </span>
  );
}

/** Time left until `endAt`, ticking every second on the server's clock. */
export function Countdown({ endAt }: { endAt: string }) {
  const now = useServerNow();
  const left = (Date.parse(endAt) - now) / 1000;
  return (
    <span className="countdown" data-testid="countdown" aria-label={left > 0 ? `ends in ${formatDuration(left)}` : "ended"}>
      {formatDuration(left)}
    </span>
  );
}

/** The price to show: the live one (with its age when stale), else the final or creation-time one. */
export function PriceNow({ snipe }: { snipe: SnipeView }) {
  if (snipe.result?.final_price) {
    return <span data-testid="final-price">{formatMoney(snipe.result.final_price)}</span>;
  }
  const live = snipe.live;
  if (live?.current_price) {
    return (
      <span data-testid="current-price">
        {formatMoney(live.current_price)}
        {live.age_seconds > 30 ? <span className="hint"> (as of {live.age_seconds} s ago; eBay did not answer)</span> : null}
      </span>
    );
  }
  return <span data-testid="current-price">{formatMoney(snipe.item.current_price)}</span>;
}

export function ReasonText({ snipe }: { snipe: SnipeView }) {
  if (!snipe.reason) return null;
  return (
    <p className="hint" data-testid="reason">
      {REASON_TEXT[snipe.reason] ?? snipe.reason}
    </p>
  );
}

export function SnipeCard({ snipe }: { snipe: SnipeView }) {
  const final = FINAL_STATUSES.has(snipe.status);
  return (
    <li className="card" data-testid="snipe-card" data-snipe-id={snipe.snipe_id}>
      <Thumb src={snipe.item.image_url} />
      <div>
        <h2>
          <Link href={`/snipes/${encodeURIComponent(snipe.snipe_id)}`}>{snipe.item.title}</Link>
        </h2>
        <div className="row">
          <StatusBadge status={snipe.status} />
          <span className="facts">
            <span>
              {final ? "Final" : "Now"} <strong><PriceNow snipe={snipe} /></strong>
            </span>
            <span>
              Max <strong>{formatMoney(snipe.max_bid)}</strong>
            </span>
            <span>
              {final ? "Ended" : "Ends in"}{" "}
              <strong>{final ? formatTime(snipe.plan.end_at) : <Countdown endAt={snipe.plan.end_at} />}</strong>
            </span>
          </span>
        </div>
        <ReasonText snipe={snipe} />
      </div>
    </li>
  );
}

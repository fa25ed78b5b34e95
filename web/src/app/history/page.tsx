"use client";

import { QueryStatus } from "@/components/Blocks";
import { SnipeList } from "@/components/SnipePages";
import { formatMoney } from "@/lib/format";
import { useStats } from "@/lib/queries";

export default function HistoryPage() {
  const stats = useStats();
  return (
    <div className="stack" style={{ maxWidth: "none" }}>
      <h1>History and statistics</h1>
      <QueryStatus query={stats} />
      {stats.data && stats.data.currencies.length === 0 ? <p>No statistics yet: they start with your first snipe.</p> : null}
      {stats.data?.currencies.map((c) => (
        <section key={c.currency} aria-labelledby={`stats-${c.currency}`} data-testid="stats">
          <h2 id={`stats-${c.currency}`}>In {c.currency}</h2>
          <dl className="grid">
            <dt>Won</dt>
            <dd data-testid="stats-won">{c.counts.WON}</dd>
            <dt>Lost</dt>
            <dd data-testid="stats-lost">{c.counts.LOST}</dd>
            <dt>Skipped / failed / cancelled</dt>
            <dd>
              {c.counts.SKIPPED} / {c.counts.FAILED} / {c.counts.CANCELLED}
            </dd>
            <dt>Active</dt>
            <dd>{c.counts.active}</dd>
            <dt>Spent on wins</dt>
            <dd>{formatMoney(c.total_spent)}</dd>
            <dt>Saved on wins</dt>
            <dd data-testid="stats-savings">
              {formatMoney(c.savings_on_wins)}
              <span className="hint"> (your max bids minus what you paid, over {c.priced_wins} priced wins)</span>
            </dd>
            <dt>Bid timing</dt>
            <dd>
              {c.fire_error_ms.count > 0 && c.fire_error_ms.average !== null
                ? `${Math.round(c.fire_error_ms.average)} ms average, ${Math.round(c.fire_error_ms.p95 ?? 0)} ms p95 from the planned moment (${c.fire_error_ms.count} ${c.fire_error_ms.count === 1 ? "bid" : "bids"})`
                : "no bids yet"}
            </dd>
          </dl>
        </section>
      ))}
      <h2>Finished snipes</h2>
      <SnipeList statuses={["WON", "LOST", "SKIPPED", "FAILED", "CANCELLED"]} emptyText={<p>No finished snipes yet.</p>} />
    </div>
  );
}

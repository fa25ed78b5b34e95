"use client";

import Link from "next/link";
import { useState } from "react";
import type { SnipeStatus } from "@/api/client";
import { Pager, QueryStatus } from "@/components/Blocks";
import { STATUS_LABEL } from "@/lib/format";
import { useSnipeList } from "@/lib/queries";
import { SnipeCard } from "./Snipe";

const STATUSES = Object.keys(STATUS_LABEL) as SnipeStatus[];

/** A filterable, cursor-paged list of the caller's snipes. */
export function SnipeList({ statuses, emptyText }: { statuses?: SnipeStatus[]; emptyText: React.ReactNode }) {
  const choices = statuses ?? STATUSES;
  const [status, setStatus] = useState<SnipeStatus | null>(statuses && statuses.length === 1 ? (statuses[0] ?? null) : null);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useSnipeList(status, cursor, 20, statuses);
  const items = page.data?.items; // the API's status filter, or useSnipeList's `only`

  return (
    <section aria-label="Snipes">
      <div className="row" style={{ marginBottom: "0.75rem" }}>
        <label htmlFor="status-filter" style={{ margin: 0 }}>
          Status
        </label>
        <select
          id="status-filter"
          style={{ width: "auto" }}
          value={status ?? ""}
          onChange={(e) => {
            setStatus(e.target.value ? (e.target.value as SnipeStatus) : null);
            setCursors([null]);
          }}
        >
          {statuses && statuses.length === 1 ? null : <option value="">All</option>}
          {choices.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABEL[s]}
            </option>
          ))}
        </select>
      </div>
      <QueryStatus query={page} />
      {items && items.length === 0 && cursors.length === 1 ? <div data-testid="empty">{emptyText}</div> : null}
      {items && items.length > 0 ? (
        <ul className="cards" data-testid="snipe-list">
          {items.map((s) => (
            <SnipeCard key={s.snipe_id} snipe={s} />
          ))}
        </ul>
      ) : null}
      <Pager cursors={cursors} setCursors={setCursors} next={page.data?.next_cursor} />
    </section>
  );
}

export function NoSnipes() {
  return (
    <p>
      No snipes yet. <Link href="/snipes/new">Create your first snipe</Link>.
    </p>
  );
}

"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useRef, useState } from "react";
import { unwrap, type SnipeView } from "@/api/client";
import { Form, ConfirmDialog, ErrorAlert, LoadFailed } from "@/components/Blocks";
import { MaxBidField, OffsetField } from "@/components/SnipeFields";
import { Countdown, PriceNow, ReasonText, StatusBadge } from "@/components/Snipe";
import { useApi } from "@/lib/api";
import { useServerNow } from "@/lib/clock";
import { snipeFieldErrors } from "@/lib/fieldErrors";
import { FINAL_STATUSES, asWholeNumber, formatMoney, formatTime } from "@/lib/format";
import { keys, useSnipe } from "@/lib/queries";

function Timeline({ snipe }: { snipe: SnipeView }) {
  const now = useServerNow();
  const woke = Date.parse(snipe.plan.wake_at) <= now && snipe.status !== "CANCELLED";
  const steps: { key: string; done: boolean; text: React.ReactNode }[] = [
    { key: "created", done: true, text: <>Created {formatTime(snipe.created_at)}</> },
    {
      key: "woke",
      done: woke || snipe.bid !== null,
      text: (
        <>
          {snipe.status === "CANCELLED" && snipe.bid === null
            ? `Cancelled before waking; the bid was due ${formatTime(snipe.plan.fire_at)}`
            : `${woke ? "Woke" : "Wakes"} ${formatTime(snipe.plan.wake_at)}; bid due ${formatTime(snipe.plan.fire_at)}`}
        </>
      ),
    },
    {
      key: "bid",
      done: snipe.bid !== null,
      text: snipe.bid ? (
        <>
          Bid sent {formatTime(snipe.bid.sent_at)} ({snipe.bid.fire_error_ms >= 0 ? "+" : ""}
          {Math.round(snipe.bid.fire_error_ms)} ms from the planned moment)
        </>
      ) : (
        <>No bid sent{FINAL_STATUSES.has(snipe.status) ? "" : " yet"}</>
      ),
    },
    {
      key: "result",
      done: snipe.result !== null,
      text: snipe.result ? (
        <>
          Result {snipe.status === "WON" ? "won" : snipe.status === "LOST" ? "lost" : snipe.status.toLowerCase()} at{" "}
          {formatMoney(snipe.result.final_price)}, checked {formatTime(snipe.result.checked_at)}
        </>
      ) : (
        <>Auction ends {formatTime(snipe.plan.end_at)}; result read after {formatTime(snipe.plan.settle_at)}</>
      ),
    },
    {
      key: "email",
      done: snipe.notification !== null,
      text: snipe.notification ? (
        <>
          Email {snipe.notification.status === "SENT" ? "sent" : snipe.notification.status.toLowerCase()}{" "}
          {formatTime(snipe.notification.at)}
        </>
      ) : (
        <>{snipe.status === "CANCELLED" ? "No email: you cancelled the snipe" : "Email not sent yet"}</>
      ),
    },
  ];
  return (
    <ol className="timeline" data-testid="timeline">
      {steps.map((s) => (
        <li key={s.key} className={s.done ? "done" : undefined} data-step={s.key}>
          {s.text}
        </li>
      ))}
    </ol>
  );
}

const EDIT_FIELDS = ["max_bid", "bid_offset_seconds"] as const;

function EditForm({ snipe }: { snipe: SnipeView }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [maxBid, setMaxBid] = useState(snipe.max_bid.value);
  const [offset, setOffset] = useState(String(snipe.bid_offset_seconds));
  const [saved, setSaved] = useState<string | null>(null);
  const edit = useMutation({
    mutationFn: async () => {
      const body: { max_bid?: { value: string; currency: string }; bid_offset_seconds?: number } = {};
      if (maxBid.trim() !== snipe.max_bid.value) body.max_bid = { value: maxBid.trim(), currency: snipe.max_bid.currency };
      if (offset.trim() !== String(snipe.bid_offset_seconds)) body.bid_offset_seconds = asWholeNumber(offset);
      return unwrap(await api.PATCH("/api/snipes/{snipe_id}", { params: { path: { snipe_id: snipe.snipe_id } }, body }));
    },
    onSuccess: (updated) => {
      setMaxBid(updated.max_bid.value);
      setOffset(String(updated.bid_offset_seconds));
      queryClient.setQueryData(keys.snipe(snipe.snipe_id), updated);
      void queryClient.invalidateQueries({ queryKey: keys.snipes });
      setSaved(
        `Saved: max bid ${formatMoney(updated.max_bid)}, bid ${updated.bid_offset_seconds} s before the end.` +
          (updated.warnings?.length ? ` ${updated.warnings.join(" ")}` : ""),
      );
    },
  });
  const errors = snipeFieldErrors(edit.error, EDIT_FIELDS);
  const other = edit.error && !errors.max_bid && !errors.bid_offset_seconds;
  return (
    <Form
      labelledBy="edit-title"
      onSubmit={() => {
        setSaved(null);
        edit.mutate();
      }}
    >
      <h2 id="edit-title">Change the snipe</h2>
      <MaxBidField
        id="edit-max-bid"
        label="Maximum bid"
        currency={snipe.max_bid.currency}
        value={maxBid}
        onChange={setMaxBid}
        error={errors.max_bid}
      />
      <OffsetField id="edit-offset" value={offset} onChange={setOffset} error={errors.bid_offset_seconds} />
      <ErrorAlert error={other ? edit.error : null} testId="edit-error" />
      {saved ? (
        <p className="success" role="status" data-testid="edit-saved">
          {saved}
        </p>
      ) : null}
      <div>
        <button type="submit" disabled={edit.isPending}>
          Save changes
        </button>
      </div>
    </Form>
  );
}

function CancelButton({ snipe }: { snipe: SnipeView }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useMutation({
    mutationFn: async () =>
      unwrap(await api.DELETE("/api/snipes/{snipe_id}", { params: { path: { snipe_id: snipe.snipe_id } } })),
    onSuccess: (updated) => {
      queryClient.setQueryData(keys.snipe(snipe.snipe_id), (old: SnipeView | undefined) =>
        old ? { ...old, ...updated } : updated,
      );
      void queryClient.invalidateQueries({ queryKey: keys.snipes });
      dialog.current?.close();
    },
    onError: () => {
      dialog.current?.close();
      void queryClient.invalidateQueries({ queryKey: keys.snipe(snipe.snipe_id) });
    },
  });
  return (
    <>
      <button type="button" className="danger" onClick={() => dialog.current?.showModal()}>
        Cancel snipe
      </button>
      <ErrorAlert error={cancel.error} testId="cancel-error" />
      <ConfirmDialog
        dialog={dialog}
        titleId="cancel-title"
        title="Cancel this snipe?"
        action="Yes, cancel it"
        mutation={cancel}
        showError={false}
      >
        <p>No bid will be placed for {snipe.item.title}.</p>
      </ConfirmDialog>
    </>
  );
}

export default function SnipeDetailPage() {
  const params = useParams<{ id: string }>();
  const id = decodeURIComponent(params.id);
  const query = useSnipe(id);
  const snipe = query.data;

  if (query.isPending) return <p aria-live="polite">Loading…</p>;
  if (query.error) {
    return <LoadFailed error={query.error} noun="snipe" back={{ href: "/snipes", text: "Back to your snipes" }} />;
  }
  if (!snipe) return null;
  const final = FINAL_STATUSES.has(snipe.status);
  return (
    <div className="stack" style={{ maxWidth: "none" }}>
      <p>
        <Link href="/snipes">← Your snipes</Link>
      </p>
      <h1>{snipe.item.title}</h1>
      <div className="row">
        <StatusBadge status={snipe.status} />
        {!final ? (
          <span>
            Ends in <Countdown endAt={snipe.plan.end_at} />
          </span>
        ) : null}
      </div>
      <ReasonText snipe={snipe} />
      <dl className="grid">
        <dt>{snipe.status === "WON" || snipe.status === "LOST" ? "Final price" : "Current price"}</dt>
        <dd>
          <PriceNow snipe={snipe} />
        </dd>
        <dt>Your maximum bid</dt>
        <dd data-testid="max-bid">{formatMoney(snipe.max_bid)}</dd>
        <dt>Bid</dt>
        <dd data-testid="offset">{snipe.bid_offset_seconds} s before the end</dd>
        <dt>Auction ends</dt>
        <dd>{formatTime(snipe.plan.end_at)}</dd>
        {snipe.group_id ? (
          <>
            <dt>Group</dt>
            <dd>
              <Link href={`/groups/${encodeURIComponent(snipe.group_id)}`}>Open the group</Link>
            </dd>
          </>
        ) : null}
        {snipe.item.item_url ? (
          <>
            <dt>Listing</dt>
            <dd>
              <a href={snipe.item.item_url} target="_blank" rel="noreferrer noopener">
                View on eBay
              </a>
            </dd>
          </>
        ) : null}
      </dl>
      <h2>Timeline</h2>
      <Timeline snipe={snipe} />
      {snipe.status === "SCHEDULED" ? <EditForm key={snipe.snipe_id} snipe={snipe} /> : null}
      {!final ? (
        <div>
          <CancelButton snipe={snipe} />
        </div>
      ) : null}
    </div>
  );
}

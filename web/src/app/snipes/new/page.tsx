"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { ApiError, unwrap } from "@/api/client";
import { Form, FieldError } from "@/components/Blocks";
import { MaxBidField, OffsetField } from "@/components/SnipeFields";
import { Countdown } from "@/components/Snipe";
import { Thumb } from "@/components/Thumb";
import { useApi } from "@/lib/api";
import { messageOf, snipeFieldErrors } from "@/lib/fieldErrors";
import { NOT_SNIPEABLE_TEXT, asWholeNumber, formatMoney } from "@/lib/format";
import { keys, useGroupList, useItemPreview } from "@/lib/queries";

const FIELDS = ["item_id", "max_bid", "bid_offset_seconds", "group_id"] as const;

export default function NewSnipePage() {
  const api = useApi();
  const router = useRouter();
  const queryClient = useQueryClient();
  const groups = useGroupList(null);

  const [itemText, setItemText] = useState("");
  const [ref, setRef] = useState<string | null>(null);
  const [maxBid, setMaxBid] = useState("");
  const [offset, setOffset] = useState("6");
  const [groupId, setGroupId] = useState("");
  // One Idempotency-Key per intended snipe: a retry of the same submission
  // (e.g. after a lost answer) reuses it; any change to the form makes a new one.
  const idempotencyKey = useRef<string | null>(null);
  const changed = () => {
    idempotencyKey.current = null;
  };
  /** A field's setter that also marks the request as a new one (a new idempotency key). */
  const edits = (set: (value: string) => void) => (value: string) => {
    set(value);
    changed();
  };

  const preview = useItemPreview(ref);
  const item = preview.data;

  const create = useMutation({
    mutationFn: async () => {
      if (!item) throw new Error("Look the item up first.");
      idempotencyKey.current ??= crypto.randomUUID();
      return unwrap(
        await api.POST("/api/snipes", {
          params: { header: { "idempotency-key": idempotencyKey.current } },
          body: {
            item_id: itemText.trim(),
            max_bid: { value: maxBid.trim(), currency: item.current_price.currency },
            bid_offset_seconds: asWholeNumber(offset),
            ...(groupId ? { group_id: groupId } : {}),
          },
        }),
      );
    },
    onSuccess: async (snipe) => {
      await queryClient.invalidateQueries({ queryKey: keys.snipes });
      router.push(`/snipes/${encodeURIComponent(snipe.snipe_id)}`);
    },
  });

  const errors = snipeFieldErrors(create.error, FIELDS);
  const apiError = create.error instanceof ApiError ? create.error : null;
  const fieldShown = Object.keys(errors).some((k) => k !== "");
  const lookupError = preview.error ? messageOf(preview.error) : null;
  const existing =
    apiError?.code === "SNIPE_EXISTS" && typeof apiError.details.snipe_id === "string" ? apiError.details.snipe_id : null;

  return (
    <div className="stack">
      <h1>New snipe</h1>
      <form
        className="stack"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          const text = itemText.trim();
          setRef(text || null);
          create.reset();
        }}
        aria-label="Find the item"
      >
        <div>
          <label htmlFor="item">eBay listing URL or item number</label>
          <input
            id="item"
            name="item"
            inputMode="url"
            placeholder="https://www.ebay.com/itm/123456789012"
            value={itemText}
            onChange={(e) => edits(setItemText)(e.target.value)}
            aria-invalid={lookupError || errors.item_id ? true : undefined}
            aria-describedby="item-hint item-lookup-error error-item_id"
          />
          <p className="hint" id="item-hint">
            Paste the listing&apos;s address, or type its item number.
          </p>
          {lookupError ? (
            <p className="field-error" id="item-lookup-error" role="alert">
              {lookupError}
            </p>
          ) : null}
          <FieldError name="item_id" message={errors.item_id} />
        </div>
        <div>
          <button type="submit" className="secondary" disabled={!itemText.trim() || preview.isFetching}>
            {preview.isFetching ? "Looking up…" : "Look up"}
          </button>
        </div>
      </form>

      {item ? (
        <section aria-labelledby="preview-title" className="preview" data-testid="item-preview">
          <Thumb src={item.image_url} className="preview-image" />
          <div>
            <h2 id="preview-title" style={{ marginTop: 0 }}>
              {item.title}
            </h2>
            <dl className="grid">
              <dt>Current price</dt>
              <dd data-testid="preview-price">{formatMoney(item.current_price)}</dd>
              <dt>Minimum bid</dt>
              <dd data-testid="preview-minimum">{formatMoney(item.minimum_bid)}</dd>
              <dt>Bids</dt>
              <dd>{item.bid_count}</dd>
              <dt>Time left</dt>
              <dd>
                <Countdown endAt={item.end_at} />
              </dd>
            </dl>
            {item.item_url ? (
              <p>
                <a href={item.item_url} target="_blank" rel="noreferrer noopener">
                  View on eBay
                </a>
              </p>
            ) : null}
          </div>
        </section>
      ) : null}

      {item && !item.snipeable ? (
        <p className="alert" role="alert">
          {NOT_SNIPEABLE_TEXT[item.not_snipeable_reason ?? ""] ?? "This item cannot be sniped."}
        </p>
      ) : null}

      {item && item.snipeable ? (
        <Form label="Snipe" onSubmit={() => create.mutate()}>
          <MaxBidField
            id="max-bid"
            label="Your maximum bid"
            currency={item.current_price.currency}
            value={maxBid}
            onChange={edits(setMaxBid)}
            error={errors.max_bid}
            hint={
              <>
                The most you will pay{item.minimum_bid ? `; at least ${formatMoney(item.minimum_bid)}` : ""}. eBay bids
                only as much as it takes to win.
              </>
            }
          />
          <OffsetField
            id="offset"
            value={offset}
            onChange={edits(setOffset)}
            error={errors.bid_offset_seconds}
            hint="1 to 60 seconds; 6 is a good default."
          />
          <div>
            <label htmlFor="group">Group (optional)</label>
            <select
              id="group"
              name="group_id"
              value={groupId}
              onChange={(e) => edits(setGroupId)(e.target.value)}
              aria-describedby="error-group_id"
            >
              <option value="">No group</option>
              {groups.data?.items.map((g) => (
                <option key={g.group_id} value={g.group_id}>
                  {g.name} (win {g.wins_wanted})
                </option>
              ))}
            </select>
            <FieldError name="group_id" message={errors.group_id} />
          </div>
          {create.error && !fieldShown ? (
            <div className="alert" role="alert" data-testid="form-error">
              {existing
                ? "You already have an active snipe on this item: change or cancel that one."
                : messageOf(create.error)}
              {existing ? (
                <>
                  {" "}
                  <Link href={`/snipes/${encodeURIComponent(existing)}`}>Open the existing snipe</Link>
                </>
              ) : null}
              {apiError?.code === "EBAY_NOT_LINKED" || apiError?.code === "EBAY_RECONNECT_REQUIRED" ? (
                <>
                  {" "}
                  <Link href="/ebay">Link your eBay account</Link>
                </>
              ) : null}
            </div>
          ) : null}
          {fieldShown ? (
            <p className="visually-hidden" role="alert">
              Some fields need attention.
            </p>
          ) : null}
          <div>
            <button type="submit" disabled={create.isPending}>
              {create.isPending ? "Scheduling…" : "Schedule snipe"}
            </button>
          </div>
        </Form>
      ) : null}
    </div>
  );
}

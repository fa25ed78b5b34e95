"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { unwrap, type EbayLinkView } from "@/api/client";
import { ConfirmDialog, ErrorAlert, QueryStatus } from "@/components/Blocks";
import { useApi } from "@/lib/api";
import { formatTime } from "@/lib/format";
import { keys, useEbayStatus } from "@/lib/queries";

const EXPIRING_WITHIN_DAYS = 14;

type LinkState = "not-linked" | "linked" | "expiring" | "relink";

function linkState(link: EbayLinkView, now = Date.now()): LinkState {
  if (link.needs_reconnect) return "relink";
  if (!link.linked) return "not-linked";
  const ends = link.refresh_expires_at ? Date.parse(link.refresh_expires_at) : NaN;
  if (!Number.isNaN(ends) && ends - now < EXPIRING_WITHIN_DAYS * 86400_000) return "expiring";
  return "linked";
}

export default function EbayAccountPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const status = useEbayStatus();
  const dialog = useRef<HTMLDialogElement>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const connect = useMutation({
    mutationFn: async () => unwrap(await api.GET("/api/ebay/connect")),
    onSuccess: (answer) => window.location.assign(answer.url),
  });
  const unlink = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/ebay/connection")),
    onSuccess: async (answer) => {
      dialog.current?.close();
      setNotice(
        answer.skipped_snipes > 0
          ? `Your eBay account is unlinked. ${answer.skipped_snipes} scheduled snipe(s) were skipped.`
          : "Your eBay account is unlinked.",
      );
      await queryClient.invalidateQueries({ queryKey: keys.ebay });
      await queryClient.invalidateQueries({ queryKey: keys.snipes });
    },
  });

  const link = status.data;
  const state = link ? linkState(link) : null;
  return (
    <div className="stack">
      <h1>eBay account</h1>
      {notice ? (
        <p className="success" role="status">
          {notice}
        </p>
      ) : null}
      <QueryStatus query={status} />
      {link && state ? (
        <section aria-labelledby="link-status">
          <h2 id="link-status">Status</h2>
          <p data-testid="ebay-status" data-state={state}>
            {state === "linked" ? <strong>Linked.</strong> : null}
            {state === "expiring" ? (
              <strong>Linked, but eBay&apos;s authorization ends soon: connect again to keep sniping.</strong>
            ) : null}
            {state === "relink" ? (
              <strong>eBay no longer accepts the authorization: connect your account again.</strong>
            ) : null}
            {state === "not-linked" ? <strong>Not linked. Snipes need a linked eBay account to bid.</strong> : null}
          </p>
          {link.linked ? (
            <dl className="grid">
              <dt>Linked since</dt>
              <dd>{formatTime(link.linked_at)}</dd>
              <dt>Authorization ends</dt>
              <dd>{formatTime(link.refresh_expires_at)}</dd>
            </dl>
          ) : null}
          <div className="row" style={{ marginTop: "1rem" }}>
            <button type="button" onClick={() => connect.mutate()} disabled={connect.isPending}>
              {state === "not-linked" ? "Connect eBay account" : "Connect again"}
            </button>
            {link.linked || link.needs_reconnect ? (
              <button type="button" className="secondary" onClick={() => dialog.current?.showModal()}>
                Unlink
              </button>
            ) : null}
          </div>
          <ErrorAlert error={connect.error} />
        </section>
      ) : null}
      <ConfirmDialog
        dialog={dialog}
        titleId="unlink-title"
        title="Unlink your eBay account?"
        action="Unlink"
        mutation={unlink}
      >
        <p>Scheduled snipes will be skipped; snipes already bidding finish on their own.</p>
      </ConfirmDialog>
    </div>
  );
}

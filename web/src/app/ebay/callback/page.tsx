"use client";

import { useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useSearchParams } from "next/navigation";
import { Suspense, useEffect, useRef, useState } from "react";
import { unwrap } from "@/api/client";
import { useApi } from "@/lib/api";
import { messageOf } from "@/lib/fieldErrors";
import { keys } from "@/lib/queries";

type Outcome = { kind: "working" } | { kind: "linked" } | { kind: "failed"; message: string };

/** eBay's consent page sends the browser here with `code` and `state`. */
function Callback() {
  const api = useApi();
  const queryClient = useQueryClient();
  const params = useSearchParams();
  const code = params.get("code");
  const state = params.get("state");
  const refused: Outcome | null = params.get("error")
    ? { kind: "failed", message: "You did not grant access on eBay, so your account is not linked." }
    : !code || !state
      ? { kind: "failed", message: "eBay did not send an authorization code. Start again from your eBay account page." }
      : null;
  const [sentOutcome, setOutcome] = useState<Outcome>({ kind: "working" });
  const outcome = refused ?? sentOutcome;
  const sent = useRef(false); // the state is single use: send it once

  useEffect(() => {
    if (sent.current || !code || !state || params.get("error")) return;
    sent.current = true;
    (async () => {
      try {
        unwrap(await api.POST("/api/ebay/callback", { body: { code, state } }));
        await queryClient.invalidateQueries({ queryKey: keys.ebay });
        setOutcome({ kind: "linked" });
      } catch (e) {
        setOutcome({ kind: "failed", message: messageOf(e) });
      }
    })();
  }, [api, code, state, params, queryClient]);

  return (
    <div className="stack">
      <h1>Linking your eBay account</h1>
      {outcome.kind === "working" ? <p aria-live="polite">Finishing the link with eBay…</p> : null}
      {outcome.kind === "linked" ? (
        <p className="success" role="status" data-testid="ebay-linked">
          Your eBay account is linked. <Link href="/snipes/new">Create a snipe</Link>
        </p>
      ) : null}
      {outcome.kind === "failed" ? (
        <p className="alert" role="alert">
          {outcome.message}
        </p>
      ) : null}
      <p>
        <Link href="/ebay">Back to your eBay account</Link>
      </p>
    </div>
  );
}

export default function EbayCallbackPage() {
  return (
    <Suspense>
      <Callback />
    </Suspense>
  );
}

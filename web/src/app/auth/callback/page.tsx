"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useState } from "react";
import { useAuth } from "@/lib/auth";

/** Cognito Hosted UI returns here with the authorization code (PKCE). */
export default function AuthCallbackPage() {
  const { completeCognito } = useAuth();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    completeCognito()
      .then((returnTo) => router.replace(returnTo))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : "Sign-in failed."));
  }, [completeCognito, router]);
  return error ? (
    <div className="alert" role="alert">
      Sign-in failed: {error} <a href="/signin">Try again</a>
    </div>
  ) : (
    <p aria-live="polite">Signing you in…</p>
  );
}

"use client";

import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useEffect, useState } from "react";
import { useAuth } from "@/lib/auth";
import { peekSignInMessage, setSignInMessage } from "@/lib/session";

const DEV_USERS = ["demo", "alice", "bob"];

function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/signin") ? next : "/snipes";
}

function SignIn() {
  const { config, session, signInDev, signInCognito } = useAuth();
  const router = useRouter();
  const params = useSearchParams();
  const next = safeNext(params.get("next"));
  // Rendered only in the browser (the Shell waits for the session to load).
  const [message] = useState<string | null>(() => peekSignInMessage());
  const [userId, setUserId] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    setSignInMessage(null); // shown once
  }, []);
  useEffect(() => {
    if (session) router.replace(next);
  }, [session, next, router]);

  async function devSignIn(user: string) {
    setBusy(true);
    setError(null);
    try {
      await signInDev(user.trim());
    } catch (e) {
      setError(e instanceof Error ? e.message : "Sign-in failed.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="stack">
      <h1>Sign in</h1>
      {message ? (
        <div className="warning" role="alert" data-testid="signin-message">
          {message}
        </div>
      ) : null}
      {config.auth.mode === "cognito" ? (
        <>
          <p>Sign in with your Snipe account.</p>
          <div>
            <button type="button" disabled={busy} onClick={() => void signInCognito(next)}>
              Sign in
            </button>
          </div>
        </>
      ) : (
        <>
          <p className="notice">
            Local sandbox: no passwords. Pick a user or type any name; each user sees only their own snipes.
          </p>
          <div className="row" role="group" aria-label="Sandbox users">
            {DEV_USERS.map((u) => (
              <button key={u} type="button" className="secondary" disabled={busy} onClick={() => void devSignIn(u)}>
                {u}
              </button>
            ))}
          </div>
          <form
            className="stack"
            noValidate
            onSubmit={(e) => {
              e.preventDefault();
              if (!userId.trim()) {
                setError("Type a user name.");
                return;
              }
              void devSignIn(userId);
            }}
          >
            <div>
              <label htmlFor="user-id">User name</label>
              <input
                id="user-id"
                name="user_id"
                autoComplete="username"
                value={userId}
                onChange={(e) => setUserId(e.target.value)}
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? "signin-error" : undefined}
              />
              {error ? (
                <p className="field-error" id="signin-error" role="alert">
                  {error}
                </p>
              ) : null}
            </div>
            <div>
              <button type="submit" disabled={busy}>
                Sign in
              </button>
            </div>
          </form>
        </>
      )}
    </div>
  );
}

export default function SignInPage() {
  return (
    <Suspense>
      <SignIn />
    </Suspense>
  );
}

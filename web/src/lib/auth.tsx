"use client";

// Who is signed in, and how to sign in and out.
//  - sandbox (auth mode "dev"): pick or type a user; the local API's dev-only
//    POST /dev/token signs them in.
//  - AWS (auth mode "cognito"): Cognito Hosted UI, OIDC authorization code
//    with PKCE through oidc-client-ts; the API gets the ID token (what API
//    Gateway's Cognito user-pool authorizer checks).
// Any 401 from the API, or a token past its expiry, ends the session and
// returns to /signin with a message.
import { UserManager, WebStorageStateStore, type User } from "oidc-client-ts";
import { useRouter } from "next/navigation";
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { AppConfig } from "@/config";
import {
  devSignIn,
  isExpired,
  loadSession,
  saveSession,
  setSignInMessage,
  type Session,
} from "./session";

export const EXPIRED_MESSAGE = "Your session has expired or is no longer valid. Please sign in again.";

type AuthState = {
  config: AppConfig;
  /** undefined until the stored session has been read */
  session: Session | null | undefined;
  signInDev: (userId: string) => Promise<void>;
  signInCognito: (returnTo: string) => Promise<void>;
  completeCognito: () => Promise<string>;
  signOut: (message?: string) => void;
  /** true once the user signed out on purpose: /signin then offers no way back */
  signedOut: boolean;
};

const AuthContext = createContext<AuthState | null>(null);

function sessionOf(user: User): Session | null {
  if (!user.id_token || user.expired) return null;
  const profile = user.profile;
  return {
    token: user.id_token,
    userId: profile.sub,
    email: typeof profile.email === "string" ? profile.email : "",
    expiresAt: new Date((user.expires_at ?? 0) * 1000).toISOString(),
  };
}

export function AuthProvider({ config, children }: { config: AppConfig; children: React.ReactNode }) {
  const router = useRouter();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [signedOut, setSignedOut] = useState(false);

  const manager = useMemo(() => {
    if (config.auth.mode !== "cognito" || typeof window === "undefined") return null;
    return new UserManager({
      authority: config.auth.authority,
      client_id: config.auth.clientId,
      redirect_uri: `${window.location.origin}/auth/callback`,
      post_logout_redirect_uri: `${window.location.origin}/signin`,
      response_type: "code",
      scope: "openid email",
      userStore: new WebStorageStateStore({ store: window.sessionStorage }),
    });
  }, [config]);

  useEffect(() => {
    const stored: Promise<Session | null> = manager
      ? manager.getUser().then((user) => (user ? sessionOf(user) : null))
      : Promise.resolve(loadSession());
    stored.then(setSession, () => setSession(null));
  }, [manager]);

  const signOut = useCallback(
    (message?: string) => {
      saveSession(null);
      void manager?.removeUser();
      setSignInMessage(message ?? null);
      setSignedOut(!message);
      setSession(null);
      if (config.auth.mode === "cognito" && !message) {
        // Also end the Hosted UI's own session, or the next sign-in would skip the login.
        const logout = new URL(`${config.auth.domain}/logout`);
        logout.searchParams.set("client_id", config.auth.clientId);
        logout.searchParams.set("logout_uri", `${window.location.origin}/signin`);
        window.location.assign(logout.toString());
        return;
      }
      const here = window.location.pathname + window.location.search;
      const next = here && here !== "/signin" && message ? `?next=${encodeURIComponent(here)}` : "";
      router.replace(`/signin${next}`);
    },
    [config, manager, router],
  );

  // End the session when its token expires.
  useEffect(() => {
    if (!session) return;
    const left = isExpired(session) ? 0 : Date.parse(session.expiresAt) - Date.now();
    const timer = window.setTimeout(() => signOut(EXPIRED_MESSAGE), Math.min(left, 2 ** 31 - 1));
    return () => window.clearTimeout(timer);
  }, [session, signOut]);

  const value = useMemo<AuthState>(
    () => ({
      config,
      session,
      async signInDev(userId: string) {
        const fresh = await devSignIn(config.apiUrl, userId);
        saveSession(fresh);
        setSignInMessage(null);
        setSignedOut(false);
        setSession(fresh);
      },
      async signInCognito(returnTo: string) {
        if (!manager) throw new Error("Cognito sign-in is not configured");
        await manager.signinRedirect({ state: { returnTo } });
      },
      async completeCognito() {
        if (!manager) throw new Error("Cognito sign-in is not configured");
        const user = await manager.signinRedirectCallback();
        setSignedOut(false);
        setSession(sessionOf(user));
        const state = user.state as { returnTo?: unknown } | undefined;
        return typeof state?.returnTo === "string" && state.returnTo.startsWith("/") ? state.returnTo : "/snipes";
      },
      signOut,
      signedOut,
    }),
    [config, session, manager, signOut, signedOut],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthState {
  const value = useContext(AuthContext);
  if (!value) throw new Error("useAuth outside AuthProvider");
  return value;
}

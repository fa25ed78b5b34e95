// The signed-in session as the app keeps it (per browser tab).
export type Session = {
  token: string;
  userId: string;
  email: string;
  /** ISO UTC; the token's expiry */
  expiresAt: string;
};

const SESSION_KEY = "snipe.session";
const MESSAGE_KEY = "snipe.signin.message";

export function loadSession(): Session | null {
  try {
    const raw = window.sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const value: unknown = JSON.parse(raw);
    if (
      typeof value === "object" &&
      value !== null &&
      typeof (value as Session).token === "string" &&
      typeof (value as Session).userId === "string" &&
      typeof (value as Session).email === "string" &&
      typeof (value as Session).expiresAt === "string"
    ) {
      return value as Session;
    }
  } catch {
    // unreadable: treat as signed out
  }
  return null;
}

export function saveSession(session: Session | null): void {
  if (session) window.sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  else window.sessionStorage.removeItem(SESSION_KEY);
}

/** A message for the sign-in page (e.g. why the session ended). */
export function setSignInMessage(message: string | null): void {
  if (message) window.sessionStorage.setItem(MESSAGE_KEY, message);
  else window.sessionStorage.removeItem(MESSAGE_KEY);
}

export function peekSignInMessage(): string | null {
  return typeof window === "undefined" ? null : window.sessionStorage.getItem(MESSAGE_KEY);
}

export function isExpired(session: Session, now: number = Date.now()): boolean {
  const at = Date.parse(session.expiresAt);
  return Number.isNaN(at) || at <= now;
}

type DevTokenAnswer = { token: string; user_id: string; email: string; expires_at: string };

function isDevTokenAnswer(value: unknown): value is DevTokenAnswer {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return ["token", "user_id", "email", "expires_at"].every((k) => typeof v[k] === "string");
}

/**
 * Sandbox only: a token from the local API gateway's `POST /dev/token`
 * (not part of the API, absent on AWS).
 */
export async function devSignIn(apiUrl: string, userId: string): Promise<Session> {
  let response: Response;
  try {
    response = await fetch(`${apiUrl}/dev/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user_id: userId }),
    });
  } catch {
    throw new Error(`The local API at ${apiUrl} does not answer. Is \`make dev\` running?`);
  }
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok || !isDevTokenAnswer(body)) {
    const message =
      typeof body === "object" && body !== null && "error" in body
        ? ((body as { error: { details?: { errors?: { message: string }[] }; message: string } }).error
            .details?.errors?.[0]?.message ??
          (body as { error: { message: string } }).error.message)
        : `Sign-in failed (HTTP ${response.status}).`;
    throw new Error(message);
  }
  return { token: body.token, userId: body.user_id, email: body.email, expiresAt: body.expires_at };
}

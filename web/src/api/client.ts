// The typed API client: openapi-fetch over the types openapi-typescript
// generates from docs/openapi.json (`npm run gen:api`; `npm run check:api`
// fails when they drift). Nothing here is typed by hand.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type SnipeView = Schemas["SnipeView"];
export type ScheduledSnipeView = Schemas["ScheduledSnipeView"];
export type SnipeListView = Schemas["SnipeListView"];
export type SnipeStatus = SnipeView["status"];
export type Reason = NonNullable<SnipeView["reason"]>;
export type Money = SnipeView["max_bid"];
export type ItemPreview = Schemas["ItemPreview"];
export type LiveItemView = NonNullable<SnipeView["live"]>;
export type EbayLinkView = Schemas["EbayLinkView"];
export type GroupView = Schemas["GroupView"];
export type GroupSummaryView = Schemas["GroupSummaryView"];
export type StatsView = Schemas["StatsView"];
export type CurrencyStatsView = Schemas["CurrencyStatsView"];
export type PreferencesView = Schemas["PreferencesView"];
export type ErrorResponse = Schemas["ErrorResponse"];
export type FieldError = Schemas["FieldError"];

export type ApiClient = ReturnType<typeof createClient<paths>>;

/** A failed call, with the API's one error shape when it sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly fieldErrors: FieldError[];

  constructor(status: number, body: unknown) {
    const info = errorInfo(body);
    super(info?.message ?? defaultMessage(status));
    this.name = "ApiError";
    this.status = status;
    this.code = info?.code ?? (status === 401 ? "UNAUTHORIZED" : `HTTP_${status}`);
    this.details = (info?.details as Record<string, unknown> | undefined) ?? {};
    this.fieldErrors = info?.details?.errors ?? [];
  }
}

function errorInfo(body: unknown): ErrorResponse["error"] | null {
  if (typeof body !== "object" || body === null || !("error" in body)) return null;
  const error = (body as { error: unknown }).error;
  if (typeof error !== "object" || error === null) return null;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== "string" || typeof message !== "string") return null;
  return error as ErrorResponse["error"];
}

function defaultMessage(status: number): string {
  if (status === 401) return "Your session is not valid any more.";
  if (status === 429) return "Too many requests: wait a moment and try again.";
  if (status >= 500) return "The service is not available right now. Try again in a moment.";
  return `The request failed (HTTP ${status}).`;
}

/** The client for one signed-in session; `onUnauthorized` runs on every 401. */
export function makeClient(
  apiUrl: string,
  token: () => string | null,
  onUnauthorized: () => void,
): ApiClient {
  const client = createClient<paths>({ baseUrl: apiUrl });
  const auth: Middleware = {
    onRequest({ request }) {
      const value = token();
      if (value) request.headers.set("Authorization", `Bearer ${value}`);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized();
      return response;
    },
  };
  client.use(auth);
  return client;
}

/** The data of an openapi-fetch result, or an ApiError thrown. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.data !== undefined) return result.data;
  throw new ApiError(result.response.status, result.error);
}

import { ApiError, type FieldError } from "@/api/client";
import { formatMoney } from "./format";

/**
 * The API's field errors (details.errors, loc like ["body", "max_bid",
 * "value"]) by form field: the first loc part after "body" that the form
 * knows, e.g. "max_bid". Errors for no known field go under "". The API
 * starts each message with the field's path ("max_bid.value: must be ..."):
 * shown at its field, that path is dropped; under "" it is kept.
 */
/**
 * A form's own words where the API's speak to API clients: the form always
 * sends the max bid as a string, so "as a string" would only puzzle a person.
 * Keyed by the error's loc after "body" and its type.
 */
const FORM_WORDS: Record<string, string> = {
  "max_bid.value string_pattern_mismatch": "Enter an amount greater than zero, e.g. 12.34.",
  "max_bid.value string_type": "Enter an amount greater than zero, e.g. 12.34.",
};

export function fieldErrorsByName(error: unknown, fields: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(error instanceof ApiError)) return out;
  const errors: FieldError[] = error.fieldErrors;
  for (const e of errors) {
    const parts = e.loc.filter((p): p is string => typeof p === "string" && p !== "body");
    const name = parts.find((p) => fields.includes(p)) ?? "";
    const path = `${e.loc.slice(1).join(".")}: `;
    const text = name && e.message.startsWith(path) ? e.message.slice(path.length) : e.message;
    const message = (name && FORM_WORDS[`${e.loc.slice(1).join(".")} ${e.type}`]) || sentence(text.replace(/^Value error, /, ""));
    out[name] = out[name] ? `${out[name]} ${message}` : message;
  }
  return out;
}

/** A snipe form's field errors: the API's, and MAX_BID_TOO_LOW at the max bid. */
export function snipeFieldErrors(error: unknown, fields: readonly string[]): Record<string, string> {
  const errors = fieldErrorsByName(error, fields);
  if (error instanceof ApiError && error.code === "MAX_BID_TOO_LOW" && !errors.max_bid) {
    const minimum = error.details.minimum_bid as { value: string; currency: string } | undefined;
    errors.max_bid = minimum ? `The maximum bid must be at least ${formatMoney(minimum)}.` : messageOf(error);
  }
  return errors;
}

const TOO_LATE = new Set(["SNIPE_ALREADY_BIDDING", "SNIPE_ALREADY_FINISHED", "AUCTION_ENDED", "AUCTION_ENDING_TOO_SOON"]);

function sentence(text: string): string {
  const t = text.trim();
  return t ? `${t[0]?.toUpperCase() ?? ""}${t.slice(1)}${/[.!?]$/.test(t) ? "" : "."}` : t;
}

/** The message to show for a failed call: the API's own words, "too late" said plainly. */
export function messageOf(error: unknown): string {
  if (error instanceof ApiError) {
    return TOO_LATE.has(error.code) ? `Too late: ${error.message}.`.replace(/\.\.$/, ".") : sentence(error.message);
  }
  if (error instanceof TypeError) {
    // fetch's network failure: the request may or may not have arrived.
    return "The service could not be reached (or its answer was lost). Check your connection and try again: trying again is safe.";
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}

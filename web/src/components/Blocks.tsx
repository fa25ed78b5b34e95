"use client";

import Link from "next/link";
import type { Dispatch, ReactNode, RefObject, SetStateAction } from "react";
import { ApiError } from "@/api/client";
import { messageOf } from "@/lib/fieldErrors";

/** A failed call's message as an alert; nothing when there is no error. */
export function ErrorAlert({ error, testId }: { error: unknown; testId?: string }) {
  return error ? (
    <p className="alert" role="alert" data-testid={testId}>
      {messageOf(error)}
    </p>
  ) : null;
}

/** "Loading…" while a query is pending, its error once it has failed. */
export function QueryStatus({ query }: { query: { isPending: boolean; error: unknown } }) {
  return (
    <>
      {query.isPending ? <p aria-live="polite">Loading…</p> : null}
      <ErrorAlert error={query.error} />
    </>
  );
}

/** The page shown when one resource (a snipe, a group) could not be loaded. */
export function LoadFailed({ error, noun, back }: { error: unknown; noun: string; back: { href: string; text: string } }) {
  const notFound = error instanceof ApiError && error.status === 404;
  return (
    <div className="stack">
      <h1>{notFound ? `${noun[0]?.toUpperCase() ?? ""}${noun.slice(1)} not found` : `Could not load the ${noun}`}</h1>
      <p className="alert" role="alert">
        {notFound ? `There is no such ${noun} among yours.` : messageOf(error)}
      </p>
      <Link href={back.href}>{back.text}</Link>
    </div>
  );
}

/** A field's error message, linked from its input by aria-describedby="error-{name}". */
export function FieldError({ name, message }: { name: string; message: string | undefined }) {
  return message ? (
    <p className="field-error" id={`error-${name}`} data-testid={`error-${name}`}>
      {message}
    </p>
  ) : null;
}

/** A labelled text input with an optional hint and the API's error for its field. */
export function TextField({
  id,
  label,
  field,
  value,
  onChange,
  error,
  inputMode,
  name,
  autoComplete,
  hint,
}: {
  id: string;
  label: ReactNode;
  /** The API's name for the field, as in its errors' loc (e.g. "max_bid"). */
  field: string;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
  inputMode?: "decimal" | "numeric" | "text";
  name?: string;
  autoComplete?: string;
  hint?: ReactNode;
}) {
  return (
    <div>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        name={name}
        inputMode={inputMode}
        autoComplete={autoComplete}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={hint ? `${id}-hint error-${field}` : `error-${field}`}
      />
      {hint ? (
        <p className="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      <FieldError name={field} message={error} />
    </div>
  );
}

/** Newer/Older buttons over a stack of page cursors (the last is the current page). */
export function Pager({
  cursors,
  setCursors,
  next,
}: {
  cursors: (string | null)[];
  setCursors: Dispatch<SetStateAction<(string | null)[]>>;
  next: string | null | undefined;
}) {
  return (
    <nav className="pager" aria-label="Pages">
      {cursors.length > 1 ? (
        <button type="button" className="secondary" onClick={() => setCursors((c) => c.slice(0, -1))}>
          Newer
        </button>
      ) : null}
      {next ? (
        <button type="button" className="secondary" onClick={() => setCursors((c) => [...c, next])}>
          Older
        </button>
      ) : null}
    </nav>
  );
}

/** A modal that asks before a destructive action, with the action's error inside. */
export function ConfirmDialog({
  dialog,
  titleId,
  title,
  children,
  action,
  mutation,
  showError = true,
}: {
  dialog: RefObject<HTMLDialogElement | null>;
  titleId: string;
  title: ReactNode;
  children: ReactNode;
  action: ReactNode;
  /** The action; its error shows inside the dialog unless showError is false. */
  mutation: { error: unknown; isPending: boolean; mutate: () => void };
  showError?: boolean;
}) {
  return (
    <dialog ref={dialog} aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      {children}
      {showError ? <ErrorAlert error={mutation.error} /> : null}
      <div className="row">
        <button type="button" className="danger" onClick={() => mutation.mutate()} disabled={mutation.isPending}>
          {action}
        </button>
        <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
          Keep it
        </button>
      </div>
    </dialog>
  );
}

/** A form that the browser does not validate and that runs onSubmit instead of navigating. */
export function Form({
  labelledBy,
  label,
  onSubmit,
  children,
}: {
  labelledBy?: string;
  label?: string;
  onSubmit: () => void;
  children: ReactNode;
}) {
  return (
    <form
      className="stack"
      noValidate
      aria-labelledby={labelledBy}
      aria-label={label}
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}

"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap, type PreferencesView } from "@/api/client";
import { ErrorAlert, QueryStatus } from "@/components/Blocks";
import { useApi } from "@/lib/api";
import { keys, usePreferences } from "@/lib/queries";

type EmailOn = PreferencesView["email_on"];
const OUTCOMES: { key: keyof EmailOn; label: string }[] = [
  { key: "WON", label: "I won an auction" },
  { key: "LOST", label: "I lost an auction" },
  { key: "SKIPPED", label: "A snipe was skipped without bidding" },
  { key: "FAILED", label: "A snipe failed" },
];

function PreferencesForm({ initial }: { initial: EmailOn }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const [emailOn, setEmailOn] = useState<EmailOn>(initial);
  const [saved, setSaved] = useState(false);
  const save = useMutation({
    mutationFn: async () => unwrap(await api.PUT("/api/me/preferences", { body: { email_on: emailOn } })),
    onSuccess: (prefs) => {
      queryClient.setQueryData(keys.preferences, prefs);
      setSaved(true);
    },
  });
  return (
    <form
      className="stack"
      onSubmit={(e) => {
        e.preventDefault();
        setSaved(false);
        save.mutate();
      }}
    >
      <fieldset>
        <legend>Email me when</legend>
        {OUTCOMES.map((o) => (
          <div key={o.key}>
            <label style={{ fontWeight: 400 }}>
              <input
                type="checkbox"
                name={o.key}
                checked={emailOn[o.key]}
                onChange={(e) => {
                  setSaved(false);
                  setEmailOn({ ...emailOn, [o.key]: e.target.checked });
                }}
              />
              {o.label}
            </label>
          </div>
        ))}
        <p className="hint">Cancelled snipes are never emailed.</p>
      </fieldset>
      <ErrorAlert error={save.error} />
      {saved ? (
        <p className="success" role="status">
          Saved.
        </p>
      ) : null}
      <div>
        <button type="submit" disabled={save.isPending}>
          Save preferences
        </button>
      </div>
    </form>
  );
}

export default function SettingsPage() {
  const prefs = usePreferences();
  return (
    <div className="stack">
      <h1>Email preferences</h1>
      <QueryStatus query={prefs} />
      {prefs.data ? <PreferencesForm initial={prefs.data.email_on} /> : null}
    </div>
  );
}

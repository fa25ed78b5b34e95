"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { unwrap } from "@/api/client";
import { Form, ConfirmDialog, ErrorAlert, LoadFailed, TextField } from "@/components/Blocks";
import { StatusBadge } from "@/components/Snipe";
import { useApi } from "@/lib/api";
import { fieldErrorsByName } from "@/lib/fieldErrors";
import { REASON_TEXT, asWholeNumber, formatTime } from "@/lib/format";
import { keys, useGroup, useSnipeList } from "@/lib/queries";

export default function GroupPage() {
  const params = useParams<{ id: string }>();
  const id = decodeURIComponent(params.id);
  const api = useApi();
  const router = useRouter();
  const queryClient = useQueryClient();
  const group = useGroup(id);
  const scheduled = useSnipeList("SCHEDULED", null, 100);
  const [wins, setWins] = useState<string | null>(null);
  const [addId, setAddId] = useState("");
  const dialog = useRef<HTMLDialogElement>(null);

  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: keys.groups });
    await queryClient.invalidateQueries({ queryKey: keys.snipes });
  };
  const update = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PATCH("/api/groups/{group_id}", {
          params: { path: { group_id: id } },
          body: { wins_wanted: asWholeNumber(wins) },
        }),
      ),
    onSuccess: async () => {
      setWins(null);
      await refresh();
    },
  });
  const membership = useMutation({
    mutationFn: async ({ snipeId, join }: { snipeId: string; join: boolean }) =>
      unwrap(
        await api.PATCH("/api/snipes/{snipe_id}", {
          params: { path: { snipe_id: snipeId } },
          body: { group_id: join ? id : null },
        }),
      ),
    onSuccess: async () => {
      setAddId("");
      await refresh();
    },
  });
  const remove = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/api/groups/{group_id}", { params: { path: { group_id: id } } })),
    onSuccess: async () => {
      await refresh();
      router.push("/groups");
    },
  });

  if (group.isPending) return <p aria-live="polite">Loading…</p>;
  if (group.error || !group.data) {
    return <LoadFailed error={group.error} noun="group" back={{ href: "/groups", text: "Back to your groups" }} />;
  }
  const g = group.data;
  const memberIds = new Set(g.members.map((m) => m.snipe_id));
  const candidates = (scheduled.data?.items ?? []).filter((s) => !memberIds.has(s.snipe_id) && !s.group_id);
  const winsErrors = fieldErrorsByName(update.error, ["wins_wanted"]);
  return (
    <div className="stack" style={{ maxWidth: "none" }}>
      <p>
        <Link href="/groups">← Groups</Link>
      </p>
      <h1>{g.name}</h1>
      <dl className="grid">
        <dt>Wins wanted</dt>
        <dd>{g.wins_wanted}</dd>
        <dt>Won</dt>
        <dd>{g.wins}</dd>
        <dt>Pending</dt>
        <dd>{g.pending}</dd>
        <dt>Slots free</dt>
        <dd>{g.slots_free}</dd>
      </dl>
      <h2>Snipes in this group</h2>
      {g.members.length === 0 ? <p>No snipes yet: add one below, or choose this group when you create a snipe.</p> : null}
      <ul className="cards">
        {g.members.map((m) => (
          <li key={m.snipe_id} className="card" style={{ gridTemplateColumns: "1fr" }}>
            <div>
              <h3>
                <Link href={`/snipes/${encodeURIComponent(m.snipe_id)}`}>{m.title}</Link>
              </h3>
              <div className="row">
                <StatusBadge status={m.status} />
                <span className="hint">ends {formatTime(m.end_at)}</span>
                {m.holds_slot ? <span className="hint">holds a slot</span> : null}
                {m.status === "SCHEDULED" ? (
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => membership.mutate({ snipeId: m.snipe_id, join: false })}
                    disabled={membership.isPending}
                  >
                    Remove from group
                  </button>
                ) : null}
              </div>
              {m.reason ? <p className="hint">{REASON_TEXT[m.reason] ?? m.reason}</p> : null}
            </div>
          </li>
        ))}
      </ul>
      <ErrorAlert error={membership.error} />
      <form
        className="stack"
        aria-labelledby="add-title"
        onSubmit={(e) => {
          e.preventDefault();
          if (addId) membership.mutate({ snipeId: addId, join: true });
        }}
      >
        <h2 id="add-title">Add a scheduled snipe</h2>
        <div>
          <label htmlFor="add-snipe">Snipe</label>
          <select id="add-snipe" value={addId} onChange={(e) => setAddId(e.target.value)}>
            <option value="">Choose a snipe…</option>
            {candidates.map((s) => (
              <option key={s.snipe_id} value={s.snipe_id}>
                {s.item.title}
              </option>
            ))}
          </select>
        </div>
        <div>
          <button type="submit" disabled={!addId || membership.isPending}>
            Add to group
          </button>
        </div>
      </form>
      <Form labelledBy="wins-title" onSubmit={() => update.mutate()}>
        <h2 id="wins-title">Wins wanted</h2>
        <TextField
          id="wins-wanted"
          label="How many of these items you want"
          field="wins_wanted"
          inputMode="numeric"
          value={wins ?? String(g.wins_wanted)}
          onChange={setWins}
          error={winsErrors.wins_wanted}
        />
        <ErrorAlert error={winsErrors.wins_wanted ? null : update.error} />
        <div>
          <button type="submit" disabled={update.isPending || wins === null}>
            Save
          </button>
        </div>
      </Form>
      <div>
        <button type="button" className="danger" onClick={() => dialog.current?.showModal()}>
          Delete group
        </button>
      </div>
      <ConfirmDialog
        dialog={dialog}
        titleId="delete-title"
        title="Delete this group?"
        action="Delete"
        mutation={remove}
      >
        <p>Its snipes leave the group and go on as ordinary snipes.</p>
      </ConfirmDialog>
    </div>
  );
}

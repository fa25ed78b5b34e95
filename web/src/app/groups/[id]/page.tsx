"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useParams, useRouter } from "next/navigation";
import { useRef, useState } from "react";
import { ApiError, unwrap } from "@/api/client";
import { StatusBadge } from "@/components/Snipe";
import { useApi } from "@/lib/api";
import { fieldErrorsByName, messageOf } from "@/lib/fieldErrors";
import { REASON_TEXT, formatTime } from "@/lib/format";
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
          body: { wins_wanted: (Number.isInteger(Number(wins)) && wins?.trim() ? Number(wins) : wins) as number },
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
    const notFound = group.error instanceof ApiError && group.error.status === 404;
    return (
      <div className="stack">
        <h1>{notFound ? "Group not found" : "Could not load the group"}</h1>
        <p className="alert" role="alert">
          {notFound ? "There is no such group among yours." : messageOf(group.error)}
        </p>
        <Link href="/groups">Back to your groups</Link>
      </div>
    );
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
      {membership.error ? (
        <p className="alert" role="alert">
          {messageOf(membership.error)}
        </p>
      ) : null}
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
      <form
        className="stack"
        noValidate
        aria-labelledby="wins-title"
        onSubmit={(e) => {
          e.preventDefault();
          update.mutate();
        }}
      >
        <h2 id="wins-title">Wins wanted</h2>
        <div>
          <label htmlFor="wins-wanted">How many of these items you want</label>
          <input
            id="wins-wanted"
            inputMode="numeric"
            value={wins ?? String(g.wins_wanted)}
            onChange={(e) => setWins(e.target.value)}
            aria-invalid={winsErrors.wins_wanted ? true : undefined}
            aria-describedby="error-wins"
          />
          {winsErrors.wins_wanted ? (
            <p className="field-error" id="error-wins">
              {winsErrors.wins_wanted}
            </p>
          ) : null}
        </div>
        {update.error && !winsErrors.wins_wanted ? (
          <p className="alert" role="alert">
            {messageOf(update.error)}
          </p>
        ) : null}
        <div>
          <button type="submit" disabled={update.isPending || wins === null}>
            Save
          </button>
        </div>
      </form>
      <div>
        <button type="button" className="danger" onClick={() => dialog.current?.showModal()}>
          Delete group
        </button>
      </div>
      <dialog ref={dialog} aria-labelledby="delete-title">
        <h2 id="delete-title">Delete this group?</h2>
        <p>Its snipes leave the group and go on as ordinary snipes.</p>
        {remove.error ? (
          <p className="alert" role="alert">
            {messageOf(remove.error)}
          </p>
        ) : null}
        <div className="row">
          <button type="button" className="danger" onClick={() => remove.mutate()} disabled={remove.isPending}>
            Delete
          </button>
          <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
            Keep it
          </button>
        </div>
      </dialog>
    </div>
  );
}

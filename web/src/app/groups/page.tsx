"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { unwrap } from "@/api/client";
import { Form, ErrorAlert, Pager, QueryStatus, TextField } from "@/components/Blocks";
import { useApi } from "@/lib/api";
import { fieldErrorsByName } from "@/lib/fieldErrors";
import { asWholeNumber } from "@/lib/format";
import { keys, useGroupList } from "@/lib/queries";

export default function GroupsPage() {
  const api = useApi();
  const queryClient = useQueryClient();
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const list = useGroupList(cursors[cursors.length - 1] ?? null);
  const [name, setName] = useState("");
  const [wins, setWins] = useState("1");
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/groups", {
          body: { name: name.trim(), wins_wanted: asWholeNumber(wins) },
        }),
      ),
    onSuccess: async () => {
      setName("");
      setWins("1");
      await queryClient.invalidateQueries({ queryKey: keys.groups });
    },
  });
  const errors = fieldErrorsByName(create.error, ["name", "wins_wanted"]);
  return (
    <div className="stack" style={{ maxWidth: "none" }}>
      <h1>Groups</h1>
      <p>
        A group wins at most the number of items you want: once it has that many wins, its other snipes are skipped
        without bidding.
      </p>
      <QueryStatus query={list} />
      {list.data && list.data.items.length === 0 && cursors.length === 1 ? <p>No groups yet.</p> : null}
      {list.data && list.data.items.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col">Group</th>
              <th scope="col">Wins wanted</th>
              <th scope="col">Slots used</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((g) => (
              <tr key={g.group_id}>
                <td>
                  <Link href={`/groups/${encodeURIComponent(g.group_id)}`}>{g.name}</Link>
                </td>
                <td>{g.wins_wanted}</td>
                <td>{g.slots_used}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <Pager cursors={cursors} setCursors={setCursors} next={list.data?.next_cursor} />
      <Form labelledBy="new-group" onSubmit={() => create.mutate()}>
        <h2 id="new-group">New group</h2>
        <TextField id="group-name" label="Name" field="name" value={name} onChange={setName} error={errors.name} />
        <TextField
          id="group-wins"
          label="Wins wanted"
          field="wins_wanted"
          inputMode="numeric"
          value={wins}
          onChange={setWins}
          error={errors.wins_wanted}
        />
        <ErrorAlert error={errors.name || errors.wins_wanted ? null : create.error} />
        <div>
          <button type="submit" disabled={create.isPending}>
            Create group
          </button>
        </div>
      </Form>
    </div>
  );
}

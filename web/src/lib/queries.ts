"use client";

import { useQuery } from "@tanstack/react-query";
import { unwrap, type SnipeStatus, type SnipeView } from "@/api/client";
import { useApi } from "./api";
import { noteServerTime } from "./clock";
import { FINAL_STATUSES } from "./format";

export const keys = {
  snipes: ["snipes"] as const,
  snipeList: (status: SnipeStatus | null, cursor: string | null, only?: readonly SnipeStatus[]) =>
    ["snipes", "list", status, cursor, only?.join(",") ?? null] as const,
  snipe: (id: string) => ["snipes", "one", id] as const,
  item: (ref: string) => ["items", ref] as const,
  ebay: ["ebay", "status"] as const,
  groups: ["groups"] as const,
  groupList: (cursor: string | null) => ["groups", "list", cursor] as const,
  group: (id: string) => ["groups", "one", id] as const,
  stats: ["stats"] as const,
  preferences: ["preferences"] as const,
};

/** Active snipes change on their own (the workflow): poll them. */
function pollWhileActive(snipes: SnipeView[] | undefined): number | false {
  if (!snipes) return false;
  return snipes.some((s) => !FINAL_STATUSES.has(s.status)) ? 2000 : false;
}

/**
 * One page of the caller's snipes, newest first. `only` (when no single status
 * is asked for) keeps the snipes in those statuses: the API filters by one
 * status at most, so pages are read on until `limit` of them are found (or
 * the list ends, or MAX_SCAN pages were read), and the cursor after the last
 * page read is the next one. Without it, a user whose newest 20 snipes are
 * active would see no finished snipes in History at all.
 */
export function useSnipeList(
  status: SnipeStatus | null,
  cursor: string | null,
  limit = 20,
  only?: readonly SnipeStatus[],
) {
  const api = useApi();
  const keep = status ? undefined : only;
  return useQuery({
    queryKey: keys.snipeList(status, cursor, keep),
    queryFn: async () => {
      let next = cursor;
      let scanned = 0;
      const found: SnipeView[] = [];
      for (;;) {
        const page = unwrap(
          await api.GET("/api/snipes", {
            params: { query: { limit, ...(status ? { status } : {}), ...(next ? { cursor: next } : {}) } },
          }),
        );
        noteServerTime(page.server_time);
        if (!keep) return page;
        found.push(...page.items.filter((s) => keep.includes(s.status)));
        next = page.next_cursor ?? null;
        scanned += 1;
        if (found.length >= limit || !next || scanned >= MAX_SCAN) return { ...page, items: found, next_cursor: next };
      }
    },
    refetchInterval: (query) => pollWhileActive(query.state.data?.items),
  });
}

const MAX_SCAN = 10;

export function useSnipe(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.snipe(id),
    queryFn: async () => {
      const snipe = unwrap(await api.GET("/api/snipes/{snipe_id}", { params: { path: { snipe_id: id } } }));
      noteServerTime(snipe.server_time);
      return snipe;
    },
    refetchInterval: (query) => pollWhileActive(query.state.data ? [query.state.data] : undefined),
  });
}

export function useItemPreview(ref: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: keys.item(ref ?? ""),
    enabled: ref !== null && ref !== "",
    queryFn: async () => {
      const item = unwrap(await api.GET("/api/items/{ref}", { params: { path: { ref: ref ?? "" } } }));
      noteServerTime(item.server_time);
      return item;
    },
    staleTime: 15_000,
  });
}

export function useEbayStatus() {
  const api = useApi();
  return useQuery({ queryKey: keys.ebay, queryFn: async () => unwrap(await api.GET("/api/ebay/status")) });
}

export function useGroupList(cursor: string | null) {
  const api = useApi();
  return useQuery({
    queryKey: keys.groupList(cursor),
    queryFn: async () =>
      unwrap(await api.GET("/api/groups", { params: { query: { limit: 50, ...(cursor ? { cursor } : {}) } } })),
  });
}

export function useGroup(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.group(id),
    queryFn: async () => unwrap(await api.GET("/api/groups/{group_id}", { params: { path: { group_id: id } } })),
    refetchInterval: (query) =>
      query.state.data?.members.some((m) => !FINAL_STATUSES.has(m.status)) ? 3000 : false,
  });
}

export function useStats() {
  const api = useApi();
  return useQuery({ queryKey: keys.stats, queryFn: async () => unwrap(await api.GET("/api/stats")) });
}

export function usePreferences() {
  const api = useApi();
  return useQuery({ queryKey: keys.preferences, queryFn: async () => unwrap(await api.GET("/api/me/preferences")) });
}

"use client";

import { useQuery } from "@tanstack/react-query";
import { unwrap, type SnipeStatus, type SnipeView } from "@/api/client";
import { useApi } from "./api";
import { noteServerTime } from "./clock";
import { FINAL_STATUSES } from "./format";

export const keys = {
  snipes: ["snipes"] as const,
  snipeList: (status: SnipeStatus | null, cursor: string | null) => ["snipes", "list", status, cursor] as const,
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

export function useSnipeList(status: SnipeStatus | null, cursor: string | null, limit = 20) {
  const api = useApi();
  return useQuery({
    queryKey: keys.snipeList(status, cursor),
    queryFn: async () => {
      const page = unwrap(
        await api.GET("/api/snipes", {
          params: { query: { limit, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) } },
        }),
      );
      noteServerTime(page.server_time);
      return page;
    },
    refetchInterval: (query) => pollWhileActive(query.state.data?.items),
  });
}

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

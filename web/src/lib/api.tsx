"use client";

import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { createContext, useContext, useMemo } from "react";
import { ApiError, makeClient, type ApiClient } from "@/api/client";
import { EXPIRED_MESSAGE, useAuth } from "./auth";

const ClientContext = createContext<ApiClient | null>(null);

function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (count, error) => !(error instanceof ApiError && error.status >= 400 && error.status < 500) && count < 2,
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}

/** The typed API client and TanStack Query, bound to the current session. */
export function ApiProvider({ children }: { children: React.ReactNode }) {
  const { config, session, signOut } = useAuth();
  const token = session?.token ?? null;
  const client = useMemo(() => {
    const state = { ended: false }; // one sign-out per session, however many calls fail
    return makeClient(
      config.apiUrl,
      () => token,
      () => {
        if (token && !state.ended) {
          state.ended = true;
          signOut(EXPIRED_MESSAGE);
        }
      },
    );
  }, [config.apiUrl, token, signOut]);
  // One cache per user: a new user never sees the previous user's data.
  const userId = session?.userId ?? null;
  const queryClient = useMemo(() => {
    void userId;
    return newQueryClient();
  }, [userId]);
  return (
    <ClientContext.Provider value={client}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </ClientContext.Provider>
  );
}

export function useApi(): ApiClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useApi outside ApiProvider");
  return client;
}

"use client";

import { useEffect, useState } from "react";

// The server's clock, as last seen in a response (server_time), minus ours:
// countdowns use server time so that a wrong local clock does not mislead.
let skewMs = 0;

export function noteServerTime(serverTime: string | null | undefined): void {
  if (!serverTime) return;
  const at = Date.parse(serverTime);
  if (!Number.isNaN(at)) skewMs = at - Date.now();
}

export function serverNow(): number {
  return Date.now() + skewMs;
}

/** Re-renders every `intervalMs`; returns the server's "now" (ms). */
export function useServerNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => serverNow());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(serverNow()), intervalMs);
    return () => window.clearInterval(timer);
  }, [intervalMs]);
  return now;
}

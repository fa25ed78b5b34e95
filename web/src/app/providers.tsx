"use client";

import type { AppConfig } from "@/config";
import { ApiProvider } from "@/lib/api";
import { AuthProvider } from "@/lib/auth";
import { Shell } from "@/components/Shell";

export function Providers({ config, children }: { config: AppConfig; children: React.ReactNode }) {
  return (
    <AuthProvider config={config}>
      <ApiProvider>
        <Shell>{children}</Shell>
      </ApiProvider>
    </AuthProvider>
  );
}

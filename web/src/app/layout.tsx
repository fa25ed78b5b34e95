import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import { readConfig } from "@/config";
import { Providers } from "./providers";
import "./globals.css";

export const metadata: Metadata = {
  title: { default: "Snipe", template: "%s · Snipe" },
  description: "Bid on eBay auctions in their last seconds.",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: React.ReactNode }) {
  await connection(); // configuration is read per request, not baked into the build
  const config = readConfig();
  return (
    <html lang="en">
      <body>
        <Providers config={config}>{children}</Providers>
      </body>
    </html>
  );
}

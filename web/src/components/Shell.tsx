"use client";

import Link from "next/link";
import { usePathname, useRouter } from "next/navigation";
import { useEffect, useRef } from "react";
import { useAuth } from "@/lib/auth";

const PUBLIC_PATHS = new Set(["/signin", "/auth/callback"]);
const NAV = [
  { href: "/snipes", label: "Snipes" },
  { href: "/snipes/new", label: "New snipe" },
  { href: "/groups", label: "Groups" },
  { href: "/history", label: "History" },
  { href: "/ebay", label: "eBay account" },
  { href: "/settings", label: "Email" },
];

/** Header, navigation, and the sign-in guard for every page but /signin. */
export function Shell({ children }: { children: React.ReactNode }) {
  const { session, signOut, signedOut } = useAuth();
  const pathname = usePathname() ?? "/";
  const router = useRouter();
  const isPublic = PUBLIC_PATHS.has(pathname);
  const mainRef = useRef<HTMLElement>(null);

  useEffect(() => {
    if (session === null && !isPublic) {
      // After "Sign out" there is nothing to come back to; otherwise (a link
      // opened signed out, an expired session) sign-in returns here.
      const query = typeof window === "undefined" ? "" : window.location.search;
      router.replace(signedOut ? "/signin" : `/signin?next=${encodeURIComponent(pathname + query)}`);
    }
  }, [session, isPublic, pathname, router, signedOut]);

  const active = (href: string) =>
    href === "/snipes" ? pathname === "/snipes" || /^\/snipes\/(?!new)/.test(pathname) : pathname.startsWith(href);

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <Link href={session ? "/snipes" : "/signin"} className="brand">
          Snipe
        </Link>
        {session ? (
          <>
            <nav aria-label="Main">
              <ul>
                {NAV.map((item) => (
                  <li key={item.href}>
                    <Link href={item.href} aria-current={active(item.href) ? "page" : undefined}>
                      {item.label}
                    </Link>
                  </li>
                ))}
              </ul>
            </nav>
            <div className="who">
              <span title={session.email} data-testid="signed-in-user">
                {session.userId}
              </span>
              <button type="button" className="link-button" onClick={() => signOut()}>
                Sign out
              </button>
            </div>
          </>
        ) : null}
      </header>
      <main id="main" ref={mainRef} tabIndex={-1}>
        {session !== undefined && (isPublic || session) ? children : <p aria-live="polite">Loading…</p>}
      </main>
    </>
  );
}

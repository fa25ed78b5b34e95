"use client";

import Link from "next/link";
import { NoSnipes, SnipeList } from "@/components/SnipePages";

export default function SnipesPage() {
  return (
    <>
      <div className="row" style={{ justifyContent: "space-between" }}>
        <h1>Your snipes</h1>
        <Link className="button" href="/snipes/new">
          New snipe
        </Link>
      </div>
      <SnipeList emptyText={<NoSnipes />} />
    </>
  );
}

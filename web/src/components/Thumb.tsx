"use client";

import { useState } from "react";

/** A listing's picture, or a plain placeholder when there is none or it does not load. */
export function Thumb({ src, className }: { src: string | null | undefined; className?: string }) {
  const [failed, setFailed] = useState(false);
  if (!src || failed) return <div className={`thumb ${className ?? ""}`} aria-hidden="true" />;
  return (
    // eslint-disable-next-line @next/next/no-img-element -- eBay's image host, any size
    <img src={src} alt="" className={className} onError={() => setFailed(true)} />
  );
}

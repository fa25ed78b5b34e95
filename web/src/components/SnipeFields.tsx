"use client";

import type { ReactNode } from "react";
import { TextField } from "./Blocks";

type FieldProps = {
  id: string;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
  hint?: ReactNode;
};

/** The max bid as the API takes it (`max_bid`, a decimal in the item's currency). */
export function MaxBidField({ label, currency, ...props }: FieldProps & { label: string; currency: string }) {
  return (
    <TextField
      {...props}
      label={`${label} (${currency})`}
      field="max_bid"
      name="max_bid"
      inputMode="decimal"
      autoComplete="off"
    />
  );
}

/** The bid offset as the API takes it (`bid_offset_seconds`, whole seconds). */
export function OffsetField(props: FieldProps) {
  return (
    <TextField
      {...props}
      label="Seconds before the end to bid"
      field="bid_offset_seconds"
      name="bid_offset_seconds"
      inputMode="numeric"
    />
  );
}

"""Schemathesis hooks for ``make fuzz`` and ``tests/integration/test_fuzz.py``
(loaded through ``SCHEMATHESIS_HOOKS``; docs/fuzzing.md).

``positive_data_acceptance`` is replaced by ``valid_data_passes_validation``:
schemathesis expects schema-valid data to be answered 2xx/401/403/404/409/429,
but a 422 for a *domain* reason (an item number eBay does not know as an
auction, a max bid below eBay's minimum, a currency that is not the
listing's) is the API working as documented; no schema can say which item
numbers exist on eBay. What a schema does promise - that its valid data
passes request validation - is checked here: a positive case must never get
VALIDATION_FAILED, INVALID_JSON, UNSUPPORTED_MEDIA_TYPE or BAD_REQUEST.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

SCHEMA_REFUSALS = frozenset(
    {"VALIDATION_FAILED", "INVALID_JSON", "UNSUPPORTED_MEDIA_TYPE", "BAD_REQUEST"}
)


@schemathesis.check
def valid_data_passes_validation(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 415, 422):
        return None
    try:
        code = json.loads(response.content)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    if code in SCHEMA_REFUSALS or code is None:
        raise AssertionError(
            f"schema-valid data was refused by request validation"
            f" ({response.status_code} {code}): {response.content[:500]!r}"
        )
    return None

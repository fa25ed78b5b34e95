"""Write (or check) the committed OpenAPI document, docs/openapi.json.

``make openapi`` runs ``python scripts/openapi.py`` after an API change;
``python scripts/openapi.py --check`` exits 1 when the file is stale.
``tests/unit/test_openapi_contract.py`` fails on the same drift.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "openapi.json"


def rendered() -> str:
    """The served document, pretty-printed with sorted keys (stable diffs)."""
    sys.path.insert(0, str(ROOT))
    from api.app import openapi_document

    return json.dumps(json.loads(openapi_document()), indent=2, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only compare")
    args = parser.parse_args()
    text = rendered()
    if args.check:
        if not DOCUMENT.exists() or DOCUMENT.read_text() != text:
            print(f"{DOCUMENT} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

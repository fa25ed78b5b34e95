"""The committed OpenAPI document (docs/openapi.json) is the served one.

The web app generates its TypeScript client from the committed file, so the
served ``/api/openapi.json`` must never drift from it (``make openapi``
rewrites it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.apigw import api_event, call

ROOT = Path(__file__).resolve().parents[2]
COMMITTED: dict[str, Any] = json.loads((ROOT / "docs" / "openapi.json").read_text())

OPERATION_IDS = {
    ("post", "/api/snipes"): "createSnipe",
    ("get", "/api/snipes"): "listSnipes",
    ("get", "/api/snipes/{snipe_id}"): "getSnipe",
    ("patch", "/api/snipes/{snipe_id}"): "updateSnipe",
    ("delete", "/api/snipes/{snipe_id}"): "cancelSnipe",
    ("post", "/api/groups"): "createGroup",
    ("get", "/api/groups"): "listGroups",
    ("get", "/api/groups/{group_id}"): "getGroup",
    ("patch", "/api/groups/{group_id}"): "updateGroup",
    ("delete", "/api/groups/{group_id}"): "deleteGroup",
    ("get", "/api/ebay/connect"): "connectEbay",
    ("post", "/api/ebay/callback"): "completeEbayConnect",
    ("get", "/api/ebay/status"): "getEbayStatus",
    ("delete", "/api/ebay/connection"): "unlinkEbay",
    ("get", "/api/me/preferences"): "getPreferences",
    ("put", "/api/me/preferences"): "updatePreferences",
    ("get", "/api/stats"): "getStats",
    ("get", "/api/health"): "getHealth",
    ("get", "/api/openapi.json"): "getOpenApi",
}


def served() -> dict[str, Any]:
    status, _, document = call(api_event("GET", "/api/openapi.json", user=None))
    assert status == 200
    assert isinstance(document, dict)
    return document


def test_the_served_document_is_the_committed_one() -> None:
    assert served() == COMMITTED, "docs/openapi.json is stale: run `make openapi`"


def test_every_operation_has_its_agreed_operation_id() -> None:
    found = {
        (method, path): operation["operationId"]
        for path, operations in COMMITTED["paths"].items()
        for method, operation in operations.items()
    }
    for key, operation_id in OPERATION_IDS.items():
        assert found.get(key) == operation_id, key
    assert len(set(found.values())) == len(found)

"""Check eBay HTTP traffic against eBay's published OpenAPI contracts.

``validate_request`` / ``validate_response`` take plain values, so both client
tests (requests captured with respx) and simulator tests (its responses) can use
them. They raise ``ContractViolation`` (an AssertionError) listing every problem.

The spec files are eBay's published contracts, copied verbatim into
``sandbox/ebay-specs`` (``tests/unit/test_ebay_client_contract.py`` checks the
copy against the team's reference in ``../shared/reference/ebay-specs`` when that
is present), unless ``EBAY_SPECS_DIR`` points elsewhere. Each spec is parsed
once per process and adjusted before use (documented, so nothing is silently
looser than eBay's):

* ``servers`` becomes the bare base path (``/buy/offer/v1_beta``): any host is
  accepted, so a simulator on localhost validates too.
* strict mode (default) adds ``additionalProperties: false`` to every object
  schema: eBay's schemas declare no ``required`` fields and allow any extra
  property, so without this a typo such as ``auctionEndTime`` would pass.
* error responses (4xx/5xx) get eBay's ``{"errors": [Error]}`` envelope as their
  schema (the spec documents none), and 401/429, which eBay's gateway returns but
  the spec omits, are accepted with that envelope. When the spec lists the
  ``errorId`` values for a status (``x-response-codes``), only those pass.
* openapi-core does not check oauth2 security, so an ``Authorization: Bearer``
  header is checked here, as is percent-encoding of the raw path (``|`` → %7C).
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.finders import APICallPathFinder
from werkzeug.datastructures import Headers, ImmutableMultiDict

SpecName = Literal["offer", "browse"]
SPEC_FILES: Mapping[SpecName, str] = {
    "offer": "buy_offer_v1_beta_oas3.json",
    "browse": "buy_browse_v1_oas3.json",
}
REPO_ROOT = Path(__file__).resolve().parents[2]
GATEWAY_STATUSES = {"401": "Unauthorized (gateway)", "429": "Too many requests"}
_ERROR_REF = "#/components/schemas/ErrorEnvelope"
_RAW_PATH = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")

HeadersIn = Mapping[str, str] | Iterable[tuple[str, str]]
BodyIn = bytes | str | Mapping[str, Any] | None


class ContractViolation(AssertionError):
    """Traffic does not conform to eBay's OpenAPI contract."""


def specs_dir() -> Path:
    override = os.environ.get("EBAY_SPECS_DIR")
    if override:
        return Path(override)
    return REPO_ROOT / "sandbox" / "ebay-specs"


REFERENCE_SPECS_DIR = REPO_ROOT.parent / "shared" / "reference" / "ebay-specs"


@functools.cache
def raw_spec(name: SpecName) -> Mapping[str, Any]:
    """eBay's spec exactly as published (parsed once per process)."""
    with (specs_dir() / SPEC_FILES[name]).open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


@functools.cache
def spec_dict(name: SpecName, strict: bool = True) -> Mapping[str, Any]:
    """The adjusted spec described in the module docstring."""
    spec = copy.deepcopy(dict(raw_spec(name)))
    base_path = spec["servers"][0]["variables"]["basePath"]["default"]
    spec["servers"] = [{"url": base_path}]
    schemas = spec["components"]["schemas"]
    if strict:
        for schema in schemas.values():
            _forbid_extra(schema)
    error_list = {"type": "array", "items": {"$ref": "#/components/schemas/Error"}}
    schemas["ErrorEnvelope"] = {
        "type": "object",
        "properties": {"errors": error_list, "warnings": error_list},
        **({"additionalProperties": False} if strict else {}),
    }
    for path_item in spec["paths"].values():
        for operation in path_item.values():
            responses = operation["responses"]
            for status, description in GATEWAY_STATUSES.items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if status[0] in "45" and "content" not in response:
                    schema = {"$ref": _ERROR_REF}
                    response["content"] = {"application/json": {"schema": schema}}
    return spec


@functools.cache
def openapi(name: SpecName, strict: bool = True) -> OpenAPI:
    return OpenAPI.from_dict(dict(spec_dict(name, strict)))


def _forbid_extra(schema: Any) -> None:
    if not isinstance(schema, dict):
        return
    if "properties" in schema:
        schema.setdefault("additionalProperties", False)
        for sub in schema["properties"].values():
            _forbid_extra(sub)
    _forbid_extra(schema.get("items"))
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key, ()):
            _forbid_extra(sub)


@dataclass
class _Request:
    """openapi_core.protocols.Request built from plain values."""

    host_url: str
    path: str
    method: str
    parameters: RequestParameters
    content_type: str
    body: bytes | None


@dataclass
class _Response:
    """openapi_core.protocols.Response built from plain values."""

    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


def _as_bytes(body: BodyIn) -> bytes | None:
    if body is None or isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def _request(method: str, url: str, headers: HeadersIn, body: BodyIn) -> _Request:
    parts = urlsplit(url)
    header = Headers(headers)
    query = parse_qs(parts.query, keep_blank_values=True)
    return _Request(
        host_url=f"{parts.scheme}://{parts.netloc}",
        path=unquote(parts.path),  # openapi-core does not decode path params
        method=method.lower(),
        parameters=RequestParameters(query=ImmutableMultiDict(query), header=header),
        content_type=header.get("Content-Type", ""),
        body=_as_bytes(body),
    )


def _describe(errors: Iterable[Exception]) -> list[str]:
    lines = []
    for error in errors:
        lines.append(f"{type(error).__name__}: {error}")
        cause: BaseException | None = error.__cause__
        while cause is not None:
            for schema_error in getattr(cause, "schema_errors", ()):
                where = "/".join(str(p) for p in getattr(schema_error, "path", ()))
                message = getattr(schema_error, "message", schema_error)
                lines.append(f"  at {where or '<root>'}: {message}")
            cause = cause.__cause__
    return lines


def _fail(what: str, problems: list[str]) -> None:
    if problems:
        raise ContractViolation(what + ":\n  " + "\n  ".join(problems))


def validate_request(
    spec_name: SpecName,
    method: str,
    url: str,
    headers: HeadersIn,
    body: BodyIn = None,
    *,
    strict: bool = True,
) -> None:
    """Raise ContractViolation unless the request conforms to the spec."""
    request = _request(method, url, headers, body)
    problems: list[str] = []
    raw_path = urlsplit(url).path
    if not _RAW_PATH.fullmatch(raw_path):
        problems.append(f"path is not percent-encoded: {raw_path!r}")
    auth = request.parameters.header.get("Authorization", "")
    if not re.fullmatch(r"Bearer \S+", auth):
        problems.append("missing 'Authorization: Bearer <token>' (oauth2 security)")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Unsupported scheme type")
        result = openapi(spec_name, strict).unmarshal_request(request)
    problems += _describe(result.errors)
    _fail(f"{spec_name} request {method.upper()} {url}", problems)


def validate_response(
    spec_name: SpecName,
    method: str,
    url: str,
    status: int,
    headers: HeadersIn,
    body: BodyIn,
    *,
    strict: bool = True,
) -> None:
    """Raise ContractViolation unless the response conforms to the spec."""
    request = _request(method, url, {}, None)
    header = Headers(headers)
    response = _Response(
        status, header.get("Content-Type", ""), header, _as_bytes(body)
    )
    api = openapi(spec_name, strict)
    result = api.unmarshal_response(request, response)
    problems = _describe(result.errors)
    if not problems and status >= 400:
        problems = _undocumented_error_ids(api, spec_name, request, status, body)
    _fail(f"{spec_name} response {method.upper()} {url} -> {status}", problems)


def _undocumented_error_ids(
    api: OpenAPI, name: SpecName, request: _Request, status: int, body: BodyIn
) -> list[str]:
    found = APICallPathFinder(api.spec).find(request.method, request.path)
    operation = spec_dict(name)["paths"][found.path_result.pattern][request.method]
    listed = operation["responses"][str(status)].get("x-response-codes", {})
    allowed = {int(code) for code in listed.get("errors", {})}
    payload = json.loads(_as_bytes(body) or b"{}")
    ids = [error.get("errorId") for error in payload.get("errors", [])]
    if allowed:
        return [
            f"errorId {i} is not documented for HTTP {status}"
            for i in ids
            if i not in allowed
        ]
    return []

"""The published Trading 212 OpenAPI spec as a referee for the emulator and for our client.

Every request the emulator receives (path, method, query, body) and every ordinary answer it gives
(status and body) is checked against `tests/fixtures/t212/openapi.yaml` (requests with openapi-core,
answers with its OAS 3.0 schema validator, openapi-schema-validator), so the
emulator cannot drift from what Trading 212 publishes, and the client cannot send what the broker
does not accept. The copy lives in the repo (tests must not depend on a path outside it);
`test_t212_spec.py` fails when it differs from `../shared/t212/openapi.yaml`.

Two corrections to the spec, both documented by ../shared/t212/README.md:
- each operation's `security` lists the Basic scheme and the legacy header in ONE requirement
  (in OpenAPI: both at once); they are alternatives, so they are split into two requirements;
- `servers` name the real hosts: a local server is added so requests to 127.0.0.1 match.

Marked answers skip the check on purpose (`Exemption`): injected faults, and the real-world
deviations the README documents. The one deviation checked in part is `nulls` (fields null where
the spec allows no null): the body is checked with its nulls removed, so its structure still is.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "t212"
SPEC_COPY = FIXTURES / "openapi.yaml"
SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "t212" / "openapi.yaml"  # beside the clone
HOST = "http://127.0.0.1"

# Deviations of the real API from its spec, named as ../shared/t212/README.md describes them.
DEVIATIONS = {
    "nulls": "a field is null where the spec allows no null (README 'Data quality'): checked without the nulls",
    "fault": "an injected fault (a 5xx page, garbage, a wrong shape, a fixture body): not an ordinary answer",
}


@dataclass(frozen=True)
class Exemption:
    """Why an answer is not checked (or checked only in part): one of DEVIATIONS."""

    deviation: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.deviation not in DEVIATIONS:
            raise ValueError(f"unknown deviation {self.deviation!r}: document it in DEVIATIONS first")


def spec_dict() -> dict[str, Any]:
    """The spec as published, with the two documented corrections (a fresh copy: callers may change it)."""
    return copy.deepcopy(_spec())


@lru_cache(maxsize=1)
def _spec() -> dict[str, Any]:
    spec = yaml.safe_load(SPEC_COPY.read_text(encoding="utf-8"))
    for item in spec.get("paths", {}).values():
        for operation in item.values():
            if isinstance(operation, dict) and isinstance(operation.get("security"), list):
                operation["security"] = [{name: scopes} for req in operation["security"]
                                         for name, scopes in req.items()]
    spec["servers"] = [*spec.get("servers", []), {"url": HOST + ":{port}", "variables": {"port": {"default": "80"}}}]
    return spec


@lru_cache(maxsize=1)
def openapi() -> OpenAPI:
    return OpenAPI.from_dict(spec_dict())  # openapi-core keeps its own (deep) view of it


@lru_cache(maxsize=1)
def _query_names() -> dict[tuple[str, str], frozenset[str]]:
    """(METHOD, path template) -> the query parameter names it declares (openapi-core ignores extras)."""
    out = {}
    for path, item in _spec()["paths"].items():
        shared = item.get("parameters", [])
        for method, operation in item.items():
            if method == "parameters" or not isinstance(operation, dict):
                continue
            params = [*shared, *operation.get("parameters", [])]
            out[(method.upper(), path)] = frozenset(p["name"] for p in params if p.get("in") == "query")
    return out


def _describe(errors: list[Exception]) -> str:
    parts = []
    for err in errors:
        text = str(err) if type(err).__name__ in str(err) else f"{type(err).__name__}: {err}"
        causes = getattr(err.__cause__, "schema_errors", None) or ()
        details = [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in causes]
        if not details and err.__cause__ is not None and str(err.__cause__) not in text:
            details = [str(err.__cause__)]
        parts.append(text + (" [" + "; ".join(d[:200] for d in details[:5]) + "]" if details else ""))
    return "; ".join(parts)


def _template(path: str) -> str | None:
    """The spec's path template for a concrete path (None: not in the spec)."""
    for template in _spec()["paths"]:
        t_parts, p_parts = template.strip("/").split("/"), path.strip("/").split("/")
        if len(t_parts) == len(p_parts) and all(t == p or (t.startswith("{") and t.endswith("}"))
                                                for t, p in zip(t_parts, p_parts, strict=True)):
            return template
    return None


def _request(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
             body: bytes) -> MockRequest:
    content_type = headers.get("content-type") or headers.get("Content-Type") or "application/json"
    return MockRequest(HOST + ":80", method.lower(), path, args={k: v[-1] for k, v in query.items()},
                       headers=dict(headers), data=body or None, content_type=content_type.split(";")[0])


def check_request(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                  body: bytes) -> str | None:
    """What is wrong with this request by the spec (None: nothing). `path` starts with /api/v0."""
    request = _request(method, path, query, headers, body)
    result = openapi().unmarshal_request(request)
    problems = _describe(list(result.errors)) if result.errors else ""
    template = _template(path)
    if template is not None:
        extra = set(query) - _query_names().get((method.upper(), template), frozenset())
        if extra:
            problems = "; ".join(x for x in (problems, f"query parameters not in the spec: {sorted(extra)}") if x)
    return f"{method} {path}: request: {problems}" if problems else None


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value if v is not None]
    return value


@lru_cache(maxsize=128)
def _answer_validator(template: str, method: str, status: int) -> OAS30Validator | None | str:
    """The schema validator for one documented answer; None: no body documented; str: not documented."""
    operation = _spec()["paths"][template].get(method.lower())
    if operation is None:
        return f"{method} is not an operation of {template}"
    answer = operation.get("responses", {}).get(str(status))
    if answer is None:
        return f"status {status} is not documented for {method} {template}"
    schema = (answer.get("content") or {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    return OAS30Validator({**schema, "components": _spec()["components"]}, format_checker=oas30_format_checker)


def check_response(method: str, path: str, status: int, body: bytes,
                   exemption: Exemption | None = None) -> str | None:
    """What is wrong with this answer by the spec (None: nothing, or exempt).

    Only 2xx answers are ordinary: the spec gives error answers no schema (the README lists the
    shapes they really come in), so a 4xx/5xx body is not checked here. The body is checked with
    openapi-schema-validator's OAS 3.0 validator (the one openapi-core uses) on the answer's schema,
    built once per answer: openapi-core's own answer unmarshalling costs ~30-120 ms a request.
    """
    if status >= 300 or (exemption is not None and exemption.deviation != "nulls"):
        return None
    template = _template(path)
    if template is None:
        return None  # the request check already says the path is not in the spec
    validator = _answer_validator(template, method, status)
    if isinstance(validator, str):
        return f"{method} {path}: answer {status}: {validator}"
    if validator is None:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return f"{method} {path}: answer {status}: the body is not JSON"
    if exemption is not None:  # "nulls": the documented deviation; the rest of the structure is checked
        data = _without_nulls(data)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    details = "; ".join(f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message[:200]}"
                        for e in errors[:5])
    return f"{method} {path}: answer {status}: {details}"

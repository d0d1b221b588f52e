"""The OpenAPI document (chalicelib/openapi.json): valid OpenAPI 3.1, one entry for every route the
app registers and none more (a new route without documentation fails here), and served as it is."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from openapi_spec_validator import OpenAPIV31SpecValidator

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "chalicelib" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


def documented() -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in document()["paths"].items()
            for method in item if method in METHODS}


def registered() -> set[tuple[str, str]]:
    from app import app

    return {(method, path) for path, entries in app.routes.items() for method in entries}


def test_the_document_is_valid_openapi_3_1() -> None:
    doc = document()
    assert doc["openapi"] == "3.1.0"
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in OpenAPIV31SpecValidator(doc).iter_errors()]
    assert not errors, "\n".join(errors)


def test_every_route_is_documented_and_nothing_else() -> None:
    routes, doc = registered(), documented()
    assert not routes - doc, f"routes missing from chalicelib/openapi.json: {sorted(routes - doc)}"
    assert not doc - routes, f"documented but not routes of the app: {sorted(doc - routes)}"


def test_every_operation_answers_errors_and_names_an_id() -> None:
    ids = []
    for path, item in document()["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            assert op.get("responses"), f"{method.upper()} {path} documents no answer"
            assert "security" in op, f"{method.upper()} {path} does not say which credential it takes"
    assert len(ids) == len(set(ids)), "operationId must be unique"


def test_the_document_is_packaged_with_chalicelib() -> None:
    # `chalice package` ships chalicelib/ whole: the route reads the file next to it.
    from chalicelib.routes import docs

    assert docs._DOCUMENT == DOCUMENT and DOCUMENT.is_relative_to(ROOT / "chalicelib")


def test_the_service_serves_it(stack: Any) -> None:
    r = requests.get(f"{stack.api_url}/openapi.json", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == document()

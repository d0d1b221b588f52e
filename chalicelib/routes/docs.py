"""The public API's description: the OpenAPI 3.1 document (chalicelib/openapi.json), hand-written
and checked against the routes by tests/test_openapi.py.  No credential: it is documentation."""
from __future__ import annotations

import functools
from pathlib import Path

from chalice import Blueprint, Response

bp = Blueprint(__name__)

_DOCUMENT = Path(__file__).resolve().parent.parent / "openapi.json"  # packaged with chalicelib/


@functools.cache
def _document() -> str:
    return _DOCUMENT.read_text(encoding="utf-8")


@bp.route("/openapi.json", methods=["GET"])
def openapi() -> Response:
    return Response(body=_document(), status_code=200,
                    headers={"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-cache"})

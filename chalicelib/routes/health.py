"""Health: every dependency paging needs, checked (chalicelib.doctor), on demand and hourly."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate, Response

from .. import access, doctor
from .access import require
from .http import guarded, json_response

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
@guarded
def health() -> Response:
    """200 when every check passes, 503 otherwise; each failure says how to fix it.  For
    managers and admins: it names the service's settings."""
    require(bp.current_request, access.REPORT_READ)
    checks = doctor.run()
    ok = all(c.ok for c in checks)
    return json_response(200 if ok else 503, {"ok": ok, "checks": [c.as_dict() for c in checks]})


@bp.schedule(Rate(1, unit=Rate.HOURS), name="self-check")
def self_check(event: Any) -> None:
    """The same checks every hour: a failure is logged and counted, and its alarm goes off."""
    doctor.self_check()

"""Managers' review: KPIs, coverage, astreinte hours for payroll, fairness, the dashboard."""
from __future__ import annotations

import functools
from pathlib import Path

from chalice import Blueprint, Response
from chalice.app import Request

from .. import access, clock, errors
from ..hotline import calls as hotline_calls
from ..reports import review
from ..rotas import directory
from .access import require
from .http import csv, guarded, int_query, json_response, query, wants_csv

bp = Blueprint(__name__)

_DASHBOARD = Path(__file__).resolve().parent.parent / "dashboard" / "index.html"
_DASHBOARD_CSP = ("default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                  "img-src 'self' data: blob:")


def _for_managers() -> tuple[Request, set[str] | None]:
    """The request, once its token is known to be a manager's or an admin's (403 otherwise),
    and the teams whose reports they read (None: every team)."""
    request = bp.current_request
    person = require(request, access.REPORT_READ)
    return request, access.report_teams(directory.bundle(), person)


@bp.route("/v1/reports/kpis", methods=["GET"])
@guarded
def kpi_report() -> Response:
    request, teams = _for_managers()
    start, end = review.parse_period(query(request, "from"), query(request, "to"), clock.now())
    report = review.kpi_report(start, end, clock.now(), teams=teams)
    quality = hotline_calls.report(start, end, review.default_zone(), teams)
    report["hotline"] = {k: quality[k] for k in ("overall", "by", "truncated", "service_level_seconds")}
    return json_response(200, report)


@bp.route("/v1/reports/hotline", methods=["GET"])
@guarded
def hotline_report() -> Response:
    """The hotline's quality figures (calls, service level, abandons, CSAT, first-contact
    resolution), per service, team and agent and by hour of week; `team`: one team's services."""
    request, teams = _for_managers()
    start, end = review.parse_period(query(request, "from"), query(request, "to"), clock.now())
    team = query(request, "team")
    if team:
        if team not in directory.bundle()["teams"]:
            raise errors.NotFound(f"there is no team '{team[:40]}' / aucune équipe '{team[:40]}'")
        if teams is not None and team not in teams:
            raise review.Forbidden(f"the reports of team '{team[:40]}' are for its managers / "
                                   f"les rapports de l'équipe '{team[:40]}' sont pour ses responsables")
        teams = {team}
    return json_response(200, hotline_calls.report(start, end, review.default_zone(), teams))


@bp.route("/v1/reports/coverage", methods=["GET"])
@guarded
def coverage_report() -> Response:
    request, teams = _for_managers()
    return json_response(200, review.coverage_report(query(request, "team"), int_query(request, "weeks", 13),
                                                     clock.now(), teams))


@bp.route("/v1/reports/astreinte", methods=["GET"])
@guarded
def astreinte_report() -> Response:
    request, teams = _for_managers()
    month, first = review.parse_month(query(request, "month"), clock.now())
    report = review.astreinte_report(month, first, clock.now(), teams=teams)
    if wants_csv(request):
        return csv(review.astreinte_csv(report), f"astreinte-{month}.csv")
    return json_response(200, report)


@bp.route("/v1/reports/fairness", methods=["GET"])
@guarded
def fairness_report() -> Response:
    request, teams = _for_managers()
    return json_response(200, review.fairness_report(query(request, "team"), int_query(request, "days", 90),
                                                     clock.now(), teams))


@functools.cache
def _dashboard_page() -> str:
    return _DASHBOARD.read_text(encoding="utf-8")


@bp.route("/dashboard", methods=["GET"])
def dashboard() -> Response:
    """The page only: it holds no data, and asks for an API token before it fetches any."""
    return Response(body=_dashboard_page(), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
                             "Content-Security-Policy": _DASHBOARD_CSP})

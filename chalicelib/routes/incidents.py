"""The incidents API: read one, act on one, list them (and the escalation log), one-click links."""
from __future__ import annotations

from html import escape

from chalice import Blueprint, Response

from .. import clock, errors, incidents, replies
from ..reports import review
from .http import (
    JSON_TYPES,
    body,
    caller,
    csv,
    guarded,
    incident_number,
    int_query,
    json_response,
    query,
    wants_csv,
)

bp = Blueprint(__name__)


@bp.route("/v1/incidents/{number}", methods=["GET"])
@guarded
def get_incident(number: str) -> Response:
    request = bp.current_request
    caller(request)
    inc = incidents.get(incident_number(number))
    if inc is None:
        raise errors.NotFound(f"there is no incident #{number} / aucun incident #{number}",
                              code="no_incident")
    if wants_csv(request):  # the timeline, one row per entry
        return csv(review.to_csv(review.timeline_rows([inc.number]), review.CSV_TIMELINE_FIELDS),
                   f"incident-{inc.number}.csv")
    return json_response(200, incidents.as_json(inc))


@bp.route("/v1/incidents/{number}/{action}", methods=["POST"], content_types=JSON_TYPES)
@guarded
def act_on_incident(number: str, action: str) -> Response:
    request = bp.current_request
    person = caller(request)
    body(request)
    if action not in replies.ACTIONS:
        raise errors.NotFound("action must be acknowledge, resolve or escalate", code="unknown_action")
    outcome = replies.api_action(incident_number(number), person, action)
    status = 200 if outcome.changed else (404 if outcome.result == "no_incident" else 409)
    return json_response(status, {**outcome.as_dict(), "message": replies.answer(outcome, "en")})


@bp.route("/l/{token}", methods=["GET"])
@guarded
def one_click(token: str) -> Response:
    outcome, sentence = replies.link_clicked(token)
    status = 200 if outcome.changed else 409
    if "text/html" in bp.current_request.headers.get("accept", ""):
        page = (f"<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
                f"<title>Astreinte</title><h1>{escape(sentence)}</h1>")
        return Response(body=page, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})
    return json_response(status, {**outcome.as_dict(), "message": sentence})


@bp.route("/v1/incidents", methods=["GET"])
@guarded
def list_incidents() -> Response:
    request = bp.current_request
    caller(request)
    start, end = review.parse_period(query(request, "from"), query(request, "to"), clock.now())
    filters = {k: query(request, k) for k in ("service", "severity", "state", "person")}
    rows = query(request, "rows") or "incidents"
    if rows not in ("incidents", "timeline"):
        raise errors.BadRequest(f"'rows' is incidents or timeline, not {rows[:20]!r}")
    if rows == "timeline":  # the escalation log: every entry of every incident listed
        found = review.escalation_log(start, end, filters,
                                      int_query(request, "limit", review.TIMELINE_MAX_INCIDENTS))
        if wants_csv(request):
            return csv(review.to_csv(found["timeline"], review.CSV_TIMELINE_FIELDS), "escalation-log.csv")
        return json_response(200, found)
    found = review.list_incidents(start, end, filters, limit=int_query(request, "limit", 1000))
    if wants_csv(request):
        return csv(review.to_csv(found["incidents"], review.CSV_INCIDENT_FIELDS), "incidents.csv")
    return json_response(200, found)

"""The incidents API: read one, act on one, list them (and the escalation log), one-click links."""
from __future__ import annotations

from html import escape

from chalice import Blueprint, Response
from chalice.app import Request

from .. import clock, errors, incidents, replies, text
from ..reports import review
from ..rotas import directory
from .http import (
    JSON_TYPES,
    caller,
    csv,
    guarded,
    incident_number,
    int_query,
    json_body,
    json_response,
    query,
    wants_csv,
)

bp = Blueprint(__name__)


@bp.route("/v1/incidents/{number}", methods=["GET"])
@guarded
def get_incident(number: str) -> Response:
    request = bp.current_request
    person = caller(request)
    inc = incidents.get(incident_number(number))
    if inc is None:
        raise errors.NotFound(f"there is no incident #{number} / aucun incident #{number}",
                              code="no_incident")
    if wants_csv(request):  # the timeline, one row per entry
        return csv(review.to_csv(review.timeline_rows([inc.number]), review.CSV_TIMELINE_FIELDS),
                   f"incident-{inc.number}.csv")
    return json_response(200, incidents.as_json(inc, lang=directory.language_of(person)))


@bp.route("/v1/incidents/{number}/{action}", methods=["POST"], content_types=JSON_TYPES)
@guarded
def act_on_incident(number: str, action: str) -> Response:
    """Any action of replies.API_ACTIONS, its JSON body as documented; answered in the
    caller's language.  An Idempotency-Key header makes a retried request act once."""
    request = bp.current_request
    person = caller(request)
    outcome, message = replies.api_action(incident_number(number), person, action, json_body(request),
                                          request.headers.get("idempotency-key"))
    if outcome.changed:
        return json_response(200, {**outcome.as_dict(), "message": message})
    # A refusal says why as every error does ({"error", "message"}), `result` kept beside it.
    status = 404 if outcome.result == "no_incident" else 409
    return json_response(status, {"error": outcome.result, **outcome.as_dict(), "message": message})


_PAGE = ("<!doctype html><html lang={lang}><meta charset=utf-8>"
         "<meta name=viewport content='width=device-width'><meta name=robots content=noindex>"
         "<title>Astreinte</title><style>body{{font:1.1em system-ui;margin:1.5em}}"
         "h1{{font-size:1.2em;unicode-bidi:isolate}}button{{font-size:1.2em;padding:.6em 1.2em}}</style>"
         "<h1>{title}</h1>{body}")
_HTML: dict[str, str | list[str]] = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
         "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}


def _accepts(kind: str) -> bool:
    return kind in bp.current_request.headers.get("accept", "")


@bp.route("/l/{token}", methods=["GET"])
@guarded
def open_link(token: str) -> Response:
    """A one-click link opened: the incident and a button; a GET never acts (link previews
    and mail scanners open every link they see)."""
    page = replies.link_opened(token)
    if _accepts("application/json"):  # a script; browsers and link previews get the page
        return json_response(200, {"number": page.number, "action": page.action, "state": page.state,
                                   "message": f"{page.title}. POST to this URL: {page.button}"},
                             {"Cache-Control": "no-store"})
    form = (f"<form method=post><button type=submit>{escape(page.button)}</button></form>"
            f"<p>{escape(page.hint)}</p>" if page.state in ("triggered", "acknowledged") else "")
    return Response(body=_PAGE.format(lang=page.lang, title=escape(page.title), body=form),
                    status_code=200, headers=dict(_HTML))


@bp.route("/l/{token}", methods=["POST"], content_types=JSON_TYPES)
@guarded
def press_link(token: str) -> Response:
    """The link's button pressed: acknowledge or resolve for the person the link names."""
    outcome, sentence, lang = replies.link_clicked(token)
    status = 200 if outcome.changed else 409
    if _accepts("text/html"):  # the page's form, posted by a browser
        return Response(body=_PAGE.format(lang=lang, title=escape(sentence),
                                          body=""), status_code=status, headers=dict(_HTML))
    return json_response(status, {**outcome.as_dict(), "message": sentence}, {"Cache-Control": "no-store"})


def pagerduty_statuses(request: Request) -> str | None:
    """PagerDuty's `statuses[]=triggered&statuses[]=acknowledged`, as our `state` (comma-separated)."""
    params = request.query_params
    given = params.getlist("statuses[]") if params is not None and "statuses[]" in params else []
    return ",".join(text.clean(str(v)) for v in given) or None


@bp.route("/v1/incidents", methods=["GET"])
@guarded
def list_incidents() -> Response:
    request = bp.current_request
    caller(request)
    filters = {k: query(request, k) for k in ("service", "severity", "state", "person")}
    filters["state"] = filters["state"] or query(request, "status") or pagerduty_statuses(request)
    rows = query(request, "rows") or "incidents"
    # By default what is open (whenever it opened) and the last days; a period given: that period.
    chosen = query(request, "from") or query(request, "to")
    recent = rows == "incidents" and not chosen
    start, end = review.parse_period(
        query(request, "from") or (clock.iso(clock.now() - review.RECENT_DAYS * 86400) if recent else None),
        query(request, "to"), clock.now())
    if rows not in ("incidents", "timeline"):
        raise errors.BadRequest(f"'rows' is incidents or timeline, not {rows[:20]!r}")
    if rows == "timeline":  # the escalation log: every entry of every incident listed
        found = review.escalation_log(start, end, filters,
                                      int_query(request, "limit", review.TIMELINE_MAX_INCIDENTS))
        if wants_csv(request):
            return csv(review.to_csv(found["timeline"], review.CSV_TIMELINE_FIELDS), "escalation-log.csv")
        return json_response(200, found)
    found = review.list_incidents(start, end, filters, limit=int_query(request, "limit", 1000),
                                  with_open=recent, period_given=bool(chosen))
    if wants_csv(request):
        return csv(review.to_csv(found["incidents"], review.CSV_INCIDENT_FIELDS), "incidents.csv")
    return json_response(200, found)

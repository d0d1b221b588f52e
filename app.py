"""HTTP routes and event handlers: parse the request, call chalicelib, answer.

No route holds logic of its own; errors become 4xx JSON bodies that name the problem.
"""
from __future__ import annotations

import functools
import json
import time
import urllib.parse
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

from chalice import Chalice, Rate, Response
from pynamodb.exceptions import PynamoDBException

from chalicelib import (
    clock,
    config,
    directory,
    feeds,
    handoffs,
    heartbeats,
    incidents,
    integrations,
    links,
    overrides,
    ratelimit,
    replies,
    review,
    schedules,
    sns,
    store,
    timers,
    tokens,
)
from chalicelib.intake import InvalidEvent, opsgenie, pagerduty

app = Chalice(app_name="astreinte")

FORM = "application/x-www-form-urlencoded"
JSON_TYPES = ["application/json", "text/plain", FORM, "application/octet-stream"]


def _json(status: int, body: dict[str, Any]) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=status,
                    headers={"Content-Type": "application/json; charset=utf-8"})


def _error(status: int, code: str, message: str) -> Response:
    return _json(status, {"error": code, "message": message})


def _xml(body: str) -> Response:
    return Response(body=body, status_code=200, headers={"Content-Type": "text/xml; charset=utf-8"})


def _body() -> bytes:
    raw = app.current_request.raw_body or b""
    if len(raw) > config.settings().max_body_bytes:
        raise _TooLarge(len(raw))
    return raw


class _TooLarge(Exception):
    pass


class _Unauthorised(Exception):
    pass


def guarded(fn: Callable[..., Response]) -> Callable[..., Response]:
    """Turn known failures into 4xx JSON; the service never answers a traceback."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return fn(*args, **kwargs)
        except _TooLarge as exc:
            limit = config.settings().max_body_bytes
            return _error(413, "body_too_large", f"the body is {exc.args[0]} bytes; the limit is {limit}")
        except replies.Forbidden as exc:
            return _error(403, "bad_signature", str(exc))
        except review.Forbidden as exc:
            return _error(403, "forbidden", str(exc))
        except _Unauthorised as exc:
            return _error(401, "unauthorised", str(exc))
        except (replies.BadRequest, schedules.BadQuery, overrides.BadOverride, feeds.BadFeed) as exc:
            return _error(400, "bad_request", str(exc))
        except schedules.NotFound as exc:
            return _error(404, "not_found", str(exc))
        except sns.BadSignature as exc:
            return _error(403, "bad_signature", str(exc))
        except sns.ConfirmationFailed as exc:
            return _error(502, "confirmation_failed", str(exc))
        except ratelimit.Limited as exc:
            response = _error(429, "rate_limited", str(exc))
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except links.BadLink as exc:
            return _error(403, "bad_link", str(exc))
        except directory.NotConfigured as exc:
            return _error(503, "not_configured", str(exc))
        except PynamoDBException as exc:
            if not store.too_large(exc):
                raise
            return _error(413, "event_too_large", "the event is too large to store (one DynamoDB item "
                          "holds 400 KB): send smaller details / détails trop volumineux")
    return wrapper


def _caller() -> str:
    """The person an API token acts for."""
    auth = app.current_request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    person = tokens.person_for(token) if token else None
    if person is None:
        raise _Unauthorised("send 'Authorization: Bearer <token>' with a valid API token")
    return person


# ---------------------------------------------------------------- intake

@app.route("/v2/enqueue", methods=["POST"], content_types=JSON_TYPES)
@guarded
def enqueue() -> Response:
    try:
        return _json(202, pagerduty.enqueue(_body()))
    except InvalidEvent as exc:
        return _json(exc.status, {"status": "invalid event", "message": "Event object is invalid",
                                  "errors": exc.errors})


# ---------------------------------------------------------------- incidents API

@app.route("/v1/incidents/{number}", methods=["GET"])
@guarded
def get_incident(number: str) -> Response:
    _caller()
    inc = incidents.get(int(number)) if number.isdigit() else None
    if inc is None:
        return _error(404, "no_incident", f"there is no incident #{number}")
    if _wants_csv():  # the timeline, one row per entry
        return _csv(review.to_csv(review.timeline_rows([inc.number]), review.CSV_TIMELINE_FIELDS),
                    f"incident-{inc.number}.csv")
    return _json(200, incidents.as_json(inc))


@app.route("/v1/incidents/{number}/{action}", methods=["POST"], content_types=JSON_TYPES)
@guarded
def act_on_incident(number: str, action: str) -> Response:
    person = _caller()
    _body()
    if action not in replies.ACTIONS:
        return _error(404, "unknown_action", "action must be acknowledge, resolve or escalate")
    if not number.isdigit():
        return _error(404, "no_incident", f"there is no incident #{number}")
    outcome = replies.api_action(int(number), person, action)
    status = 200 if outcome.changed else (404 if outcome.result == "no_incident" else 409)
    return _json(status, {**outcome.as_dict(), "message": replies.answer(outcome, "en")})


@app.route("/l/{token}", methods=["GET"])
@guarded
def one_click(token: str) -> Response:
    outcome, sentence = replies.link_clicked(token)
    status = 200 if outcome.changed else 409
    if "text/html" in app.current_request.headers.get("accept", ""):
        page = (f"<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
                f"<title>Astreinte</title><h1>{escape(sentence)}</h1>")
        return Response(body=page, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"})
    return _json(status, {**outcome.as_dict(), "message": sentence})


# ---------------------------------------------------------------- Twilio webhooks

def _twilio_params(path: str) -> dict[str, str]:
    url = f"{config.settings().public_url}{path}"
    return replies.verify_twilio(url, _body(), app.current_request.headers.get("x-twilio-signature"))


@app.route("/webhooks/twilio/sms", methods=["POST"], content_types=[FORM])
@guarded
def twilio_sms() -> Response:
    return _xml(replies.sms_received(_twilio_params("/webhooks/twilio/sms")))


@app.route("/webhooks/twilio/voice/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def twilio_voice(ref: str) -> Response:
    _twilio_params(f"/webhooks/twilio/voice/{ref}")
    return _xml(replies.voice_answered(ref))


@app.route("/webhooks/twilio/gather/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def twilio_gather(ref: str) -> Response:
    return _xml(replies.voice_key(ref, _twilio_params(f"/webhooks/twilio/gather/{ref}")))


@app.route("/webhooks/twilio/status/{ref}", methods=["POST"], content_types=[FORM])
@guarded
def twilio_status(ref: str) -> Response:
    replies.status_callback(ref, _twilio_params(f"/webhooks/twilio/status/{ref}"))
    return Response(body="", status_code=204)


# ---------------------------------------------------------------- Slack webhook

@app.route("/webhooks/slack/interactivity", methods=["POST"], content_types=[FORM])
@guarded
def slack_interactivity() -> Response:
    headers = app.current_request.headers
    payload = replies.verify_slack(_body(), headers.get("x-slack-request-timestamp"),
                                   headers.get("x-slack-signature"))
    replies.slack_clicked(payload)
    return Response(body="", status_code=200)


# ---------------------------------------------------------------- timers

@app.schedule(Rate(1, unit=Rate.MINUTES), name="escalation-sweeper")
def sweeper(event: Any) -> None:
    """Backstop: run every escalation step or page whose timer was lost; missed heartbeats."""
    incidents.sweep()
    heartbeats.sweep()


@app.schedule(Rate(1, unit=Rate.MINUTES), name="handoff-notices")
def handoff_notices(event: Any) -> None:
    """Tell people before their shift, and the team channel at handoff."""
    handoffs.send_due()


@app.schedule(Rate(1, unit=Rate.HOURS), name="manager-notices")
def manager_notices(event: Any) -> None:
    """Rest warnings in the morning, the monthly summary on the first days of a month."""
    from chalicelib import manager_notices as notices

    notices.send_rest_notices()
    notices.send_monthly_summaries()


@app.on_sqs_message(queue="astreinte-timers", batch_size=10, name="escalation-timer")
def escalation_timer(event: Any) -> None:
    for record in event:
        timers.on_message(record.body)


# ---------------------------------------------------------------- rotas

def _query(name: str) -> str | None:
    return (app.current_request.query_params or {}).get(name)


def _json_body() -> dict[str, Any]:
    try:
        body = json.loads(_body() or b"{}")
    except (ValueError, RecursionError) as exc:
        raise schedules.BadQuery(f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise schedules.BadQuery("the body must be a JSON object")
    return body


@app.route("/v1/rotas", methods=["GET"])
@guarded
def list_rotas() -> Response:
    _caller()
    return _json(200, {"rotas": schedules.all_on_call(schedules.parse_instant(_query("at"), clock.now()))})


@app.route("/v1/rotas/{rota}/oncall", methods=["GET"])
@guarded
def rota_on_call(rota: str) -> Response:
    _caller()
    return _json(200, schedules.on_call(rota, schedules.parse_instant(_query("at"), clock.now())))


@app.route("/v1/people/{person}/shifts", methods=["GET"])
@guarded
def person_shifts(person: str) -> Response:
    _caller()
    start = schedules.parse_instant(_query("from"), clock.now(), "from")
    end = schedules.parse_instant(_query("to"), start + 30 * 86400, "to")
    return _json(200, schedules.person_shifts(person, start, end))


@app.route("/v1/rotas/{rota}/overrides", methods=["POST"], content_types=JSON_TYPES)
@guarded
def create_override(rota: str) -> Response:
    by = _caller()
    return _json(201, overrides.create(rota, _json_body(), by))


@app.route("/v1/rotas/{rota}/overrides/{override}", methods=["DELETE"])
@guarded
def delete_override(rota: str, override: str) -> Response:
    _caller()
    if not overrides.delete(rota, override):
        return _error(404, "not_found", f"there is no override '{override}' on rota '{rota}'")
    return Response(body="", status_code=204)


# ---------------------------------------------------------------- iCal feeds

@app.route("/ical/{token}", methods=["GET"])
@guarded
def ical_feed(token: str) -> Response:
    """The token is the credential (calendar apps send no headers); `<token>.ics` works too."""
    body = feeds.calendar(token.removesuffix(".ics"), _query("lang"))
    if body is None:
        return _error(404, "no_feed", "this calendar link is unknown, revoked, or its rota or person is gone")
    return Response(body=body.decode(), status_code=200,
                    headers={"Content-Type": "text/calendar; charset=utf-8", "Cache-Control": "no-store"})


@app.route("/v1/feeds", methods=["POST"], content_types=JSON_TYPES)
@guarded
def create_feed() -> Response:
    by = _caller()
    kind, target = feeds.target_of(_json_body())
    return _json(201, feeds.as_json(feeds.create(kind, target, by), kind, target))


@app.route("/v1/feeds/rotate", methods=["POST"], content_types=JSON_TYPES)
@guarded
def rotate_feed() -> Response:
    by = _caller()
    kind, target = feeds.target_of(_json_body())
    return _json(201, feeds.as_json(feeds.rotate(kind, target, by), kind, target))


@app.route("/v1/feeds/{token}", methods=["DELETE"])
@guarded
def revoke_feed(token: str) -> Response:
    _caller()
    if not feeds.revoke(token.removesuffix(".ics")):
        return _error(404, "no_feed", "there is no such feed token (or it was already revoked)")
    return Response(body="", status_code=204)


# ---------------------------------------------------------------- integrations

@app.route("/v1/integrations/{key}", methods=["POST"], content_types=JSON_TYPES)
@guarded
def integration(key: str) -> Response:
    """Every source but PagerDuty's own path: the key in the URL says which format."""
    try:
        return _json(202, integrations.accept(key, _body(), dict(app.current_request.headers)))
    except integrations.UnknownKey as exc:
        return _error(403, "unknown_key", str(exc))
    except InvalidEvent as exc:
        return _json(exc.status, {"error": "invalid_event", "message": "; ".join(exc.errors),
                                  "errors": exc.errors})


@app.route("/v1/services/{service}/integrations", methods=["GET", "POST"], content_types=JSON_TYPES)
@guarded
def service_integrations(service: str) -> Response:
    by = _caller()
    if service not in directory.bundle()["services"]:
        return _error(404, "not_found", f"there is no service '{service}'")
    if app.current_request.method == "GET":
        return _json(200, {"service": service, "integrations": integrations.listing(service)})
    body = _json_body()
    try:
        key = integrations.create(service, str(body.get("source", "")), by, str(body.get("label", "")),
                                  body.get("options"))
    except InvalidEvent as exc:
        return _error(400, "bad_request", "; ".join(exc.errors))
    return _json(201, {"key": key, "url": integrations.url(key), "source": body["source"]})


@app.route("/v1/services/{service}/integrations/{key_id}", methods=["DELETE"])
@guarded
def revoke_integration(service: str, key_id: str) -> Response:
    _caller()
    if not integrations.revoke(service, key_id):
        return _error(404, "not_found", f"no single key of '{service}' has the id '{key_id}'")
    return Response(body="", status_code=204)


@app.route("/v1/services/{service}/integrations/{key_id}/rotate", methods=["POST"], content_types=JSON_TYPES)
@guarded
def rotate_integration(service: str, key_id: str) -> Response:
    by = _caller()
    key = integrations.rotate(service, key_id, by)
    if key is None:
        return _error(404, "not_found", f"no single key of '{service}' has the id '{key_id}'")
    return _json(201, {"key": key, "url": integrations.url(key)})


@app.route("/v1/heartbeats/{key}", methods=["GET", "POST"], content_types=JSON_TYPES)
@guarded
def heartbeat(key: str) -> Response:
    """A job's beat (GET or POST, so `curl URL` in a cron line is enough)."""
    try:
        return _json(200, heartbeats.beat(key))
    except integrations.UnknownKey as exc:
        return _error(403, "unknown_key", str(exc))
    except InvalidEvent as exc:
        return _error(400, "not_a_heartbeat", "; ".join(exc.errors))


# ---------------------------------------------------------------- Opsgenie's Alert API

def _opsgenie(parse: Callable[[dict[str, Any]], list[dict[str, Any]]] | None) -> Response:
    """For teams leaving Opsgenie: its paths, its GenieKey header, its answers."""
    started = time.monotonic()
    request = app.current_request
    key = opsgenie.genie_key(dict(request.headers))
    if key is None:
        return _json(401, opsgenie.error(["send 'Authorization: GenieKey <integration key>'"]))
    try:
        integrations.accept(key, _body(), dict(request.headers), source_only="opsgenie", parse=parse)
    except integrations.UnknownKey as exc:
        return _json(403, opsgenie.error([str(exc)]))
    except InvalidEvent as exc:
        return _json(exc.status, opsgenie.error(exc.errors))
    return _json(202, opsgenie.accepted(started))


@app.route("/v2/alerts", methods=["POST"], content_types=JSON_TYPES)
@guarded
def opsgenie_create() -> Response:
    return _opsgenie(None)


@app.route("/v2/alerts/{identifier}/{action}", methods=["POST"], content_types=JSON_TYPES)
@guarded
def opsgenie_action(identifier: str, action: str) -> Response:
    """acknowledge or close, by alias (?identifierType=alias)."""
    raw = _body()
    kind = (app.current_request.query_params or {}).get("identifierType")
    alias = urllib.parse.unquote(identifier)
    return _opsgenie(lambda options: opsgenie.parse_action(action, alias, raw, kind))


# ---------------------------------------------------------------- manager review

def _csv(body: str, filename: str) -> Response:
    return Response(body=body, status_code=200,
                    headers={"Content-Type": "text/csv; charset=utf-8",
                             "Content-Disposition": f'attachment; filename="{filename}"'})


def _wants_csv() -> bool:
    fmt = _query("format") or "json"
    if fmt not in ("json", "csv"):
        raise schedules.BadQuery(f"'format' is json or csv, not {fmt!r}")
    return fmt == "csv"


def _int_query(name: str, default: int) -> int:
    value = _query(name)
    if value is None:
        return default
    if not value.isdigit():
        raise schedules.BadQuery(f"'{name}' must be a whole number, not {value!r}")
    return int(value)


@app.route("/v1/incidents", methods=["GET"])
@guarded
def list_incidents() -> Response:
    _caller()
    start, end = review.parse_period(_query("from"), _query("to"), clock.now())
    filters = {k: _query(k) for k in ("service", "severity", "state", "person")}
    rows = _query("rows") or "incidents"
    if rows not in ("incidents", "timeline"):
        raise schedules.BadQuery(f"'rows' is incidents or timeline, not {rows!r}")
    if rows == "timeline":  # the escalation log: every entry of every incident listed
        found = review.escalation_log(start, end, filters, _int_query("limit", review.TIMELINE_MAX_INCIDENTS))
        if _wants_csv():
            return _csv(review.to_csv(found["timeline"], review.CSV_TIMELINE_FIELDS), "escalation-log.csv")
        return _json(200, found)
    found = review.list_incidents(start, end, filters, limit=_int_query("limit", 1000))
    if _wants_csv():
        return _csv(review.to_csv(found["incidents"], review.CSV_INCIDENT_FIELDS), "incidents.csv")
    return _json(200, found)


@app.route("/v1/reports/kpis", methods=["GET"])
@guarded
def kpi_report() -> Response:
    review.require_manager(_caller())
    start, end = review.parse_period(_query("from"), _query("to"), clock.now())
    return _json(200, review.kpi_report(start, end, clock.now()))


@app.route("/v1/reports/coverage", methods=["GET"])
@guarded
def coverage_report() -> Response:
    review.require_manager(_caller())
    return _json(200, review.coverage_report(_query("team"), _int_query("weeks", 13), clock.now()))


@app.route("/v1/reports/astreinte", methods=["GET"])
@guarded
def astreinte_report() -> Response:
    review.require_manager(_caller())
    month, first = review.parse_month(_query("month"), clock.now())
    report = review.astreinte_report(month, first, clock.now())
    if _wants_csv():
        return _csv(review.astreinte_csv(report), f"astreinte-{month}.csv")
    return _json(200, report)


@app.route("/v1/reports/fairness", methods=["GET"])
@guarded
def fairness_report() -> Response:
    review.require_manager(_caller())
    return _json(200, review.fairness_report(_query("team"), _int_query("days", 90), clock.now()))


@app.route("/v1/rotas/{rota}/shifts", methods=["GET"])
@guarded
def rota_shifts(rota: str) -> Response:
    _caller()
    start, end = review.parse_period(_query("from"), _query("to"), clock.now())
    return _json(200, review.rota_shifts(rota, start, end))


# ---------------------------------------------------------------- managers' dashboard

_DASHBOARD = Path(__file__).parent / "chalicelib" / "dashboard" / "index.html"
_DASHBOARD_CSP = ("default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                  "img-src 'self' data: blob:")


@functools.cache
def _dashboard_page() -> str:
    return _DASHBOARD.read_text(encoding="utf-8")


@app.route("/dashboard", methods=["GET"])
def dashboard() -> Response:
    """The page only: it holds no data, and asks for an API token before it fetches any."""
    return Response(body=_dashboard_page(), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
                             "Content-Security-Policy": _DASHBOARD_CSP})

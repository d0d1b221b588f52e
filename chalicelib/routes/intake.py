"""What monitoring and ticketing tools post: events, in their own formats."""
from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable
from typing import Any

from chalice import Blueprint, Response

from .. import heartbeats, integrations, text
from ..intake import Event, InvalidEvent, opsgenie
from .http import JSON_TYPES, body, guarded, json_response, query

bp = Blueprint(__name__)


@bp.route("/v2/enqueue", methods=["POST"], content_types=JSON_TYPES)
@guarded
def enqueue() -> Response:
    """PagerDuty's Events API v2, answered as PagerDuty answers."""
    try:
        return json_response(202, integrations.enqueue(body(bp.current_request)))
    except InvalidEvent as exc:
        return json_response(exc.status, {"status": "invalid event", "message": "Event object is invalid",
                                          "errors": exc.errors})


@bp.route("/v2/change/enqueue", methods=["POST"], content_types=JSON_TYPES)
@guarded
def change_enqueue() -> Response:
    """PagerDuty's change events (a deploy, a configuration applied), answered as PagerDuty
    answers; shown on the service's incidents that open within the hour."""
    try:
        return json_response(202, integrations.change_event(body(bp.current_request)))
    except InvalidEvent as exc:
        return json_response(exc.status, {"status": "invalid event", "message": "Event object is invalid",
                                          "errors": exc.errors})


@bp.route("/v1/integrations/{key}", methods=["POST"], content_types=JSON_TYPES)
@guarded
def integration(key: str) -> Response:
    """Every source but PagerDuty's own path: the key in the URL says which format."""
    request = bp.current_request
    try:
        return json_response(202, integrations.accept(key, body(request), dict(request.headers)))
    except InvalidEvent as exc:
        return json_response(exc.status, {"error": "invalid_event", "message": "; ".join(exc.errors),
                                          "errors": exc.errors})


@bp.route("/v1/heartbeats/{key}", methods=["GET", "POST"], content_types=JSON_TYPES)
@guarded
def heartbeat(key: str) -> Response:
    """A job's beat (GET or POST, so `curl URL` in a cron line is enough)."""
    try:
        return json_response(200, heartbeats.beat(key))
    except InvalidEvent as exc:
        return json_response(400, {"error": "not_a_heartbeat", "message": "; ".join(exc.errors)})


def _opsgenie(parse: Callable[[dict[str, Any]], list[Event]] | None) -> Response:
    """For teams leaving Opsgenie: its paths, its GenieKey header, its answers."""
    started = time.monotonic()
    request = bp.current_request
    key = opsgenie.genie_key(dict(request.headers))
    if key is None:
        return json_response(401, opsgenie.error(["send 'Authorization: GenieKey <integration key>'"]))
    try:
        integrations.accept(key, body(request), dict(request.headers), source_only="opsgenie", parse=parse)
    except integrations.UnknownKey as exc:
        return json_response(403, opsgenie.error([str(exc)]))
    except InvalidEvent as exc:
        return json_response(exc.status, opsgenie.error(exc.errors))
    return json_response(202, opsgenie.accepted(started))


@bp.route("/v2/alerts", methods=["POST"], content_types=JSON_TYPES)
@guarded
def opsgenie_create() -> Response:
    return _opsgenie(None)


@bp.route("/v2/alerts/{identifier}/{action}", methods=["POST"], content_types=JSON_TYPES)
@guarded
def opsgenie_action(identifier: str, action: str) -> Response:
    """acknowledge or close, by alias (?identifierType=alias)."""
    request = bp.current_request
    raw = body(request)
    kind = query(request, "identifierType")
    # API Gateway hands path parameters decoded; the local server does not.
    decoded = (request.context or {}).get("domainName")
    alias = text.clean(identifier if decoded else urllib.parse.unquote(identifier))
    return _opsgenie(lambda options: opsgenie.parse_action(action, alias, raw, kind))

"""Rotas: who is on call, shifts, overrides (swaps), and the iCal feeds.

Every person may read the rotas (phone numbers masked outside their rota, chalicelib.access);
overrides and feeds are checked against the caller's role (chalicelib.routes.access)."""
from __future__ import annotations

from chalice import Blueprint, Response

from .. import access, clock, errors
from ..reports import review
from ..rotas import feeds, overrides, queries
from .access import allow, checker, require
from .http import JSON_TYPES, caller, empty, guarded, json_body, json_response, query

bp = Blueprint(__name__)


@bp.route("/v1/rotas", methods=["GET"])
@guarded
def list_rotas() -> Response:
    request = bp.current_request
    viewer = require(request, access.ROTA_READ)
    at = queries.parse_instant(query(request, "at"), clock.now())
    return json_response(200, {"rotas": queries.all_on_call(at, viewer)})


@bp.route("/v1/rotas/{rota}/oncall", methods=["GET"])
@guarded
def rota_on_call(rota: str) -> Response:
    request = bp.current_request
    viewer = require(request, access.ROTA_READ)
    return json_response(200, queries.on_call(rota, queries.parse_instant(query(request, "at"), clock.now()),
                                              viewer))


@bp.route("/v1/people/{person}/shifts", methods=["GET"])
@guarded
def person_shifts(person: str) -> Response:
    request = bp.current_request
    require(request, access.ROTA_READ)
    start = queries.parse_instant(query(request, "from"), clock.now(), "from")
    end = queries.parse_instant(query(request, "to"), start + 30 * 86400, "to")
    return json_response(200, queries.person_shifts(person, start, end))


@bp.route("/v1/rotas/{rota}/shifts", methods=["GET"])
@guarded
def rota_shifts(rota: str) -> Response:
    request = bp.current_request
    require(request, access.ROTA_READ)
    start, end = review.parse_period(query(request, "from"), query(request, "to"), clock.now())
    return json_response(200, review.rota_shifts(rota, start, end))


@bp.route("/v1/rotas/{rota}/overrides", methods=["POST"], content_types=JSON_TYPES)
@guarded
def create_override(rota: str) -> Response:
    request = bp.current_request
    by = caller(request)
    return json_response(201, overrides.create(rota, json_body(request), by,
                                               checker(by, access.OVERRIDE_CREATE)))


@bp.route("/v1/rotas/{rota}/overrides/{override}", methods=["DELETE"])
@guarded
def delete_override(rota: str, override: str) -> Response:
    by = caller(bp.current_request)
    if not overrides.delete(rota, override, checker(by, access.OVERRIDE_DELETE)):
        raise errors.NotFound(f"there is no override '{override}' on rota '{rota}'")
    return empty()


@bp.route("/ical/{token}", methods=["GET"])
@guarded
def ical_feed(token: str) -> Response:
    """The token is the credential (calendar apps send no headers); `<token>.ics` works too."""
    calendar = feeds.calendar(token.removesuffix(".ics"), query(bp.current_request, "lang"))
    if calendar is None:
        raise errors.NotFound("this calendar link is unknown, revoked, or its rota or person is gone",
                              code="no_feed")
    return Response(body=calendar.decode(), status_code=200,
                    headers={"Content-Type": "text/calendar; charset=utf-8", "Cache-Control": "no-store"})


@bp.route("/v1/feeds", methods=["POST"], content_types=JSON_TYPES)
@guarded
def create_feed() -> Response:
    request = bp.current_request
    by = caller(request)
    kind, target = feeds.target_of(json_body(request))
    allow(by, access.FEED_MANAGE, feeds.as_target(kind, target))
    return json_response(201, feeds.as_json(feeds.create(kind, target, by), kind, target))


@bp.route("/v1/feeds/rotate", methods=["POST"], content_types=JSON_TYPES)
@guarded
def rotate_feed() -> Response:
    request = bp.current_request
    by = caller(request)
    kind, target = feeds.target_of(json_body(request))
    allow(by, access.FEED_MANAGE, feeds.as_target(kind, target))
    return json_response(201, feeds.as_json(feeds.rotate(kind, target, by), kind, target))


@bp.route("/v1/feeds/{token}", methods=["DELETE"])
@guarded
def revoke_feed(token: str) -> Response:
    by = caller(bp.current_request)
    if not feeds.revoke(token.removesuffix(".ics"), checker(by, access.FEED_REVOKE)):
        raise errors.NotFound("there is no such feed token (or it was already revoked)", code="no_feed")
    return empty()

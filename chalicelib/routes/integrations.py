"""A service's integration keys: list, create, rotate, revoke (admins only)."""
from __future__ import annotations

from chalice import Blueprint, Response

from .. import access, errors, heartbeats, integrations
from ..intake import InvalidEvent
from ..rotas import directory
from .access import require
from .http import JSON_TYPES, empty, guarded, json_body, json_response

bp = Blueprint(__name__)


def _no_key(service: str, key_id: str) -> errors.NotFound:
    return errors.NotFound(f"no single key of '{service}' has the id '{key_id}'")


@bp.route("/v1/services/{service}/integrations", methods=["GET", "POST"], content_types=JSON_TYPES)
@guarded
def service_integrations(service: str) -> Response:
    request = bp.current_request
    by = require(request, access.INTEGRATION_MANAGE)
    if service not in directory.bundle()["services"]:
        raise errors.NotFound(f"there is no service '{service}' / aucun service '{service}'")
    if request.method == "GET":
        return json_response(200, {"service": service, "integrations": integrations.listing(service)})
    doc = json_body(request)
    try:
        key = integrations.create(service, str(doc.get("source", "")), by, str(doc.get("label", "")),
                                  doc.get("options"))
    except InvalidEvent as exc:
        raise errors.BadRequest("; ".join(exc.errors)) from exc
    return json_response(201, {"key": key, "url": integrations.url(key), "source": doc["source"]})


@bp.route("/v1/services/{service}/integrations/{key_id}", methods=["DELETE"])
@guarded
def revoke_integration(service: str, key_id: str) -> Response:
    require(bp.current_request, access.INTEGRATION_MANAGE)
    if not integrations.revoke(service, key_id):
        raise _no_key(service, key_id)
    return empty()


@bp.route("/v1/services/{service}/integrations/{key_id}/rotate", methods=["POST"], content_types=JSON_TYPES)
@guarded
def rotate_integration(service: str, key_id: str) -> Response:
    by = require(bp.current_request, access.INTEGRATION_MANAGE)
    key = heartbeats.rotate_key(service, key_id, by)
    if key is None:
        raise _no_key(service, key_id)
    return json_response(201, {"key": key, "url": integrations.url(key)})

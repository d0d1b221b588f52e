"""API tokens: list (your own; an admin's: anyone's), create (admins), revoke by id."""
from __future__ import annotations

from chalice import Blueprint, Response

from .. import access, errors, tokens
from ..rotas import directory
from .access import allow, require
from .http import JSON_TYPES, caller, guarded, json_body, json_response, query

bp = Blueprint(__name__)


@bp.route("/v1/tokens", methods=["GET", "POST"], content_types=JSON_TYPES)
@guarded
def api_tokens() -> Response:
    request = bp.current_request
    if request.method == "GET":
        by = caller(request)
        person = query(request, "person")
        if person is None and access.role_of(directory.bundle(), by) != access.ADMIN:
            person = by  # without ?person= an admin sees everyone's, anyone else their own
        if person is not None:
            allow(by, access.TOKEN_MANAGE, {"person": person})
        return json_response(200, {"tokens": tokens.listing(person)})
    doc = json_body(request)
    person = doc.get("person")
    by = require(request, access.TOKEN_CREATE, {"person": str(person)})
    if not isinstance(person, str) or directory.person(person) is None:
        raise errors.BadRequest(f"'person' must be a person of the rotas, not {person!r} / "
                                "'person' doit être une personne des astreintes")
    label = doc.get("label", "")
    if not isinstance(label, str) or len(label) > 200:
        raise errors.BadRequest("'label' must be a text of at most 200 characters / "
                                "'label' : 200 caractères au plus")
    days = tokens.check_days(doc.get("expires_in_days", tokens.DEFAULT_DAYS))
    token = tokens.create(person, label, days, by)
    return json_response(201, {"token": token, **(tokens.describe(token) or {"id": tokens.token_id(token)})})


@bp.route("/v1/tokens/{token_id}", methods=["DELETE"])
@guarded
def revoke_token(token_id: str) -> Response:
    by = caller(bp.current_request)
    mine_only = access.role_of(directory.bundle(), by) != access.ADMIN  # others' ids: as unknown as none
    found = tokens.find(token_id, person=by if mine_only else None)
    if found is None:
        raise errors.NotFound(f"no single API token has the id '{token_id[:20]}' (at least 8 characters) / "
                              f"aucun jeton d'API n'a l'identifiant '{token_id[:20]}'", code="no_token")
    allow(by, access.TOKEN_MANAGE, {"person": found.person})
    revoked = tokens.revoke_id(token_id, person=by if mine_only else None)
    if revoked is None:
        raise errors.NotFound(f"the API token '{token_id[:20]}' was already revoked", code="no_token")
    return json_response(200, {"revoked": revoked})

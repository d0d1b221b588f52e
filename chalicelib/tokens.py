"""API tokens: each acts for one person, for a limited time, and only its SHA-256 is stored.

Two items per token, with the same fields: TOKEN#<sha256> / TOKEN (the lookup) and
TOKENS / <person>#<sha256> (the listing: `GET /v1/tokens`, revoking by id, offboarding in
chalicelib.rotas.directory.sync).  A token stops when it expires, when it is revoked, and at
once when its person is no longer in the synced rotas.
"""
from __future__ import annotations

import secrets
import threading
from typing import Any

from cachetools import TTLCache
from pynamodb.exceptions import DoesNotExist

from . import clock, errors, hashing
from .rotas import directory
from .store import ApiToken, transaction

CACHE_SECONDS = 30.0  # a revoked token stops working within this, per warm container
DEFAULT_DAYS, MAX_DAYS = 90, 365
LISTING = "TOKENS"
ID_CHARS, MIN_ID_CHARS = 12, 8  # a token's id: the first characters of its hash
_cache: TTLCache[str, tuple[str, float] | None] = TTLCache(maxsize=10_000, ttl=CACHE_SECONDS)
_lock = threading.Lock()  # cachetools caches are not thread-safe (the local server is threaded)
_UNKNOWN: Any = object()  # not looked up yet (None is a token that does not exist)


class Expired(errors.Unauthorised):
    """A token past its expires_at (a 401 that says so, so its owner asks for a new one)."""

    code = "token_expired"


def _pk(token: str) -> str:
    return "TOKEN#" + hashing.sha256_hex(token)


def _expires(item: ApiToken) -> float:
    """Tokens made before expiry existed last a year from their creation."""
    if item.expires_at is not None:
        return float(item.expires_at)
    return float(item.created_at) + MAX_DAYS * 86400


def check_days(days: Any) -> int:
    """A lifetime in whole days, 1 to MAX_DAYS (400 otherwise)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise errors.BadRequest(f"'expires_in_days' must be a whole number from 1 to {MAX_DAYS}, "
                                f"not {days!r} / 'expires_in_days' (durée de validité) : un nombre de jours "
                                f"de 1 à {MAX_DAYS}")
    return days


def create(person: str, label: str = "", days: int = DEFAULT_DAYS, by: str | None = None) -> str:
    """A new token for `person`, valid `days` days; shown once, never stored in clear."""
    check_days(days)
    token = "ast_" + secrets.token_urlsafe(24)
    digest, now = hashing.sha256_hex(token), clock.now()
    fields: dict[str, Any] = dict(person=person, label=label or None, created_at=now,
                                  expires_at=now + days * 86400, created_by=by)
    with transaction() as tx:
        tx.save(ApiToken(f"TOKEN#{digest}", "TOKEN", **fields), condition=ApiToken.pk.does_not_exist())
        tx.save(ApiToken(LISTING, f"{person}#{digest}", **fields))
    return token


def person_for(token: str) -> str | None:
    """Who the token acts for: None for an unknown or revoked token, or a person no longer in
    the rotas; Expired (401) past its expiry.  Remembered briefly, as a script calls the API
    in bursts."""
    pk = _pk(token)
    with _lock:
        hit = _cache.get(pk, _UNKNOWN)
    if hit is _UNKNOWN:
        try:
            item = ApiToken.get(pk, "TOKEN")
            hit = (item.person, _expires(item))
        except DoesNotExist:
            hit = None
        with _lock:
            _cache[pk] = hit
    if hit is None:
        return None
    person, expires_at = hit
    if directory.person(person) is None:  # offboarded: stops before the next sync deletes it
        return None
    if clock.now() >= expires_at:
        when = clock.iso(expires_at)
        raise Expired(f"this API token expired on {when}: ask an admin for a new one / "
                      f"ce jeton d'API a expiré le {when} : demandez-en un nouveau à un admin")
    return person


def token_id(token: str) -> str:
    """How a token is named in listings and revoked: the first characters of its hash."""
    return hashing.sha256_hex(token)[:ID_CHARS]


def _entry(item: ApiToken, now: float) -> dict[str, Any]:
    digest = item.sk.partition("#")[2] if item.pk == LISTING else item.pk.removeprefix("TOKEN#")
    expires_at = _expires(item)
    return {"id": digest[:ID_CHARS], "person": item.person, "label": item.label,
            "created_at": clock.iso(item.created_at), "created_by": item.created_by,
            "expires_at": clock.iso(expires_at), "expired": now >= expires_at}


def _items(person: str | None = None) -> list[ApiToken]:
    if person is None:
        return list(ApiToken.query(LISTING))
    return list(ApiToken.query(LISTING, ApiToken.sk.startswith(f"{person}#")))


def listing(person: str | None = None) -> list[dict[str, Any]]:
    """The tokens of a person (everyone's without one), by id: never the token itself."""
    now = clock.now()
    entries = [_entry(item, now) for item in _items(person)]
    return sorted(entries, key=lambda e: (e["person"], e["created_at"]))


def describe(token: str) -> dict[str, Any] | None:
    """A token's listing entry, from the token itself."""
    try:
        return _entry(ApiToken.get(_pk(token), "TOKEN"), clock.now())
    except DoesNotExist:
        return None


def find(token_id: str, person: str | None = None) -> ApiToken | None:
    """The one token (of `person`, when given) whose id this is: at least 8 characters of its hash."""
    if len(token_id) < MIN_ID_CHARS:
        return None
    found = [item for item in _items(person) if item.sk.partition("#")[2].startswith(token_id)]
    return found[0] if len(found) == 1 else None


def _delete(items: list[ApiToken]) -> None:
    with ApiToken.batch_write() as batch:  # batches of 25, retried until all are written
        for item in items:
            digest = item.sk.partition("#")[2]
            batch.delete(ApiToken(f"TOKEN#{digest}", "TOKEN"))
            batch.delete(ApiToken(LISTING, item.sk))
    with _lock:
        for item in items:
            _cache.pop("TOKEN#" + item.sk.partition("#")[2], None)


def revoke_id(token_id: str, person: str | None = None) -> dict[str, Any] | None:
    """Revoke by id; the revoked token's entry, None when no single token has this id."""
    item = find(token_id, person)
    if item is None:
        return None
    _delete([item])
    return _entry(item, clock.now())


def revoke(token: str) -> None:
    """Revoke a token given in clear."""
    pk = _pk(token)
    try:
        item = ApiToken.get(pk, "TOKEN")
        ApiToken(LISTING, f"{item.person}#{pk.removeprefix('TOKEN#')}").delete()
    except DoesNotExist:
        pass
    ApiToken(pk, "TOKEN").delete()
    with _lock:
        _cache.pop(pk, None)

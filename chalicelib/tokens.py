"""API tokens: each acts for one person, and only its SHA-256 is stored."""
from __future__ import annotations

import hashlib
import secrets
import time

from pynamodb.exceptions import DoesNotExist

from . import clock
from .store import ApiToken


def _pk(token: str) -> str:
    return "TOKEN#" + hashlib.sha256(token.encode()).hexdigest()


def create(person: str, label: str = "") -> str:
    """A new token for `person`; shown once, never stored in clear."""
    token = "ast_" + secrets.token_urlsafe(24)
    ApiToken(_pk(token), person=person, label=label or None, created_at=clock.now()).save()
    return token


CACHE_SECONDS = 30.0  # a revoked token stops working within this, per warm container
_cache: dict[str, tuple[float, str | None]] = {}


def person_for(token: str) -> str | None:
    """Who the token acts for; remembered briefly, as a script calls the API in bursts."""
    pk = _pk(token)
    hit = _cache.get(pk)
    if hit is None or time.monotonic() - hit[0] > CACHE_SECONDS:
        try:
            person: str | None = ApiToken.get(pk, "TOKEN").person
        except DoesNotExist:
            person = None
        if len(_cache) > 10_000:
            _cache.clear()
        hit = _cache[pk] = (time.monotonic(), person)
    return hit[1]


def revoke(token: str) -> None:
    ApiToken(_pk(token)).delete()
    _cache.pop(_pk(token), None)

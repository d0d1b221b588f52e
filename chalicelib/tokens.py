"""API tokens: each acts for one person, and only its SHA-256 is stored."""
from __future__ import annotations

import secrets
import threading
from typing import Any

from cachetools import TTLCache
from pynamodb.exceptions import DoesNotExist

from . import clock, hashing
from .store import ApiToken

CACHE_SECONDS = 30.0  # a revoked token stops working within this, per warm container
_cache: TTLCache[str, str | None] = TTLCache(maxsize=10_000, ttl=CACHE_SECONDS)
_lock = threading.Lock()  # cachetools caches are not thread-safe (the local server is threaded)
_UNKNOWN: Any = object()  # not looked up yet (None is a token that does not exist)


def _pk(token: str) -> str:
    return "TOKEN#" + hashing.sha256_hex(token)


def create(person: str, label: str = "") -> str:
    """A new token for `person`; shown once, never stored in clear."""
    token = "ast_" + secrets.token_urlsafe(24)
    ApiToken(_pk(token), person=person, label=label or None, created_at=clock.now()).save()
    return token


def person_for(token: str) -> str | None:
    """Who the token acts for; remembered briefly, as a script calls the API in bursts."""
    pk = _pk(token)
    with _lock:
        hit = _cache.get(pk, _UNKNOWN)
    if hit is not _UNKNOWN:
        return hit
    try:
        person: str | None = ApiToken.get(pk, "TOKEN").person
    except DoesNotExist:
        person = None
    with _lock:
        _cache[pk] = person
    return person


def revoke(token: str) -> None:
    ApiToken(_pk(token)).delete()
    with _lock:
        _cache.pop(_pk(token), None)

"""API tokens: each acts for one person, and only its SHA-256 is stored."""
from __future__ import annotations

import hashlib
import secrets

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


def person_for(token: str) -> str | None:
    try:
        return ApiToken.get(_pk(token), "TOKEN").person
    except DoesNotExist:
        return None


def revoke(token: str) -> None:
    ApiToken(_pk(token)).delete()

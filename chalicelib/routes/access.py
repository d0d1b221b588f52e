"""The one check routes make before acting for a caller: chalicelib.access decides, this
raises errors.Forbidden (403 JSON through http.guarded) naming the role needed."""
from __future__ import annotations

from collections.abc import Callable

from chalice.app import Request

from .. import access, errors
from ..rotas import directory
from .http import caller


def allow(person: str, action: str, target: access.Target | None = None) -> None:
    """Nothing when `person` may do `action` on `target`; a 403 naming the role needed otherwise."""
    refused = access.refusal(directory.bundle(), person, action, target)
    if refused is not None:
        raise errors.Forbidden(refused.message(), role_needed=refused.needed)


def require(request: Request, action: str, target: access.Target | None = None) -> str:
    """The caller's person, once they may do `action` on `target` (401 without a valid token,
    403 when their role does not allow it)."""
    person = caller(request)
    allow(person, action, target)
    return person


def checker(person: str, action: str) -> Callable[[access.Target], None]:
    """`allow` for one person and action, for a service that learns the target as it goes
    (an override's layer once its body is valid, a feed's creator once it is read)."""
    return lambda target: allow(person, action, target)

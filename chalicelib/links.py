"""Signed one-click links (acknowledge / resolve from a phone's browser, no login).

The token carries incident number, person, action and expiry, signed with HMAC-SHA256
under ASTREINTE_SIGNING_SECRET; nothing is stored, so links cost nothing until clicked.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

from . import clock, config, errors, text

ACTIONS = ("ack", "resolve")
TTL_SECONDS = 24 * 3600


class BadLink(errors.Forbidden):
    """A one-click link that is malformed, forged or expired."""

    code = "bad_link"


def _sign(payload: str) -> str:
    secret = config.settings().signing_secret.encode()
    mac = hmac.new(secret, payload.encode(), hashlib.sha256).digest()[:18]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def make(number: int, person: str, action: str, ttl: float = TTL_SECONDS) -> str:
    payload = f"{number}.{person}.{action}.{int(clock.now() + ttl)}"
    token = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"{config.settings().public_url}/l/{token}.{_sign(payload)}"


def verify(token: str) -> tuple[int, str, str]:
    """(number, person, action) of a valid, unexpired link; BadLink otherwise."""
    if not config.settings().signing_secret:
        raise BadLink("links are disabled: ASTREINTE_SIGNING_SECRET is not set")
    try:
        body, sig = token.rsplit(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        number, person, action, expires = payload.split(".")
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadLink("this link is malformed / ce lien est invalide") from exc
    if not sig.isascii() or not hmac.compare_digest(sig, _sign(payload)):
        raise BadLink("this link's signature is wrong / la signature de ce lien est fausse")
    incident, until = text.whole_number(number, 1), text.whole_number(expires)
    if action not in ACTIONS or incident is None or until is None:
        raise BadLink("this link is malformed / ce lien est invalide")
    if until < clock.now():
        raise BadLink("this link has expired / ce lien a expiré")
    return incident, person, action

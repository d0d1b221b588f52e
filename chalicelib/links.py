"""Signed one-click links (acknowledge / resolve from a phone's browser, no login).

The token carries incident number, person, action and expiry, signed with HMAC-SHA256
under ASTREINTE_SIGNING_SECRET; nothing is stored, so links cost nothing until clicked.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re

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


# ---------------------------------------------------------------- details links (/d/…)
# Short enough for an SMS: `/d/<number>.<person>.<expiry, base 36>.<HMAC-SHA256, 12 bytes,
# base64url>` (~35 characters).  It shows the incident for a week; its buttons (POSTing to the
# one-click links above) only while a one-click link sent with it would still act, TTL_SECONDS
# after it was made (`details_issued`): holding a details link is no week of power to act.
# The MAC is taken over a "d|" prefix, so that no one-click link's signature ever passes for a
# details link's, or the other way round.
DETAILS_TTL_SECONDS = 7 * 24 * 3600
_PERSON = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def _details_mac(number: str, person: str, expires: str) -> str:
    secret = config.settings().signing_secret.encode()
    mac = hmac.new(secret, f"d|{number}|{person}|{expires}".encode(), hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(mac).decode()  # 12 bytes: 16 characters, no padding


def details(number: int, person: str, ttl: float = DETAILS_TTL_SECONDS) -> str:
    """The signed URL of an incident's details page, for one person (their language, their
    buttons)."""
    expires = _base36(int(clock.now() + ttl))
    sig = _details_mac(str(number), person, expires)
    return f"{config.settings().public_url}/d/{number}.{person}.{expires}.{sig}"


def verify_details(token: str) -> tuple[int, str]:
    """(number, person) of a valid, unexpired details link; BadLink otherwise."""
    if not config.settings().signing_secret:
        raise BadLink("links are disabled: ASTREINTE_SIGNING_SECRET is not set")
    parts = token.split(".")
    if len(parts) != 4 or len(token) > 200:
        raise BadLink("this link is malformed / ce lien est invalide")
    number, person, expires, sig = parts
    incident = text.whole_number(number, 1)
    if incident is None or not _PERSON.match(person) or not re.fullmatch(r"[0-9a-z]{1,10}", expires):
        raise BadLink("this link is malformed / ce lien est invalide")
    if not sig.isascii() or not hmac.compare_digest(sig, _details_mac(number, person, expires)):
        raise BadLink("this link's signature is wrong / la signature de ce lien est fausse")
    if int(expires, 36) < clock.now():
        raise BadLink("this link has expired / ce lien a expiré")
    return incident, person


def details_issued(token: str) -> float:
    """When a details link (already verified: verify_details) was made: its expiry less
    DETAILS_TTL_SECONDS."""
    return int(token.split(".")[2], 36) - DETAILS_TTL_SECONDS


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            return out

"""iCal feed tokens: the secret in a calendar URL, one feed per rota or person.

Calendar apps cannot send an Authorization header, so the URL itself is the credential:
an unguessable token (192 random bits), stored only as its SHA-256 like API tokens, that
can be revoked alone or rotated (a new one, and every older one of the same rota or
person stops working, for a URL that leaked).
"""
from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from cachetools import TTLCache
from pynamodb.exceptions import DoesNotExist

from .. import access, clock, config, errors, hashing
from ..store import ConfigBundle, FeedToken, OverrideItem, transaction
from . import directory

SECTIONS = {"rota": "rotas", "person": "people"}  # kind -> its section of the bundle


class BadFeed(errors.BadRequest):
    """The request does not name one existing rota or person."""




def _target_pk(kind: str, target: str) -> str:
    return f"FEEDS#{kind}#{target}"


def _exists(kind: str, target: str) -> bool:
    """Whether the rota or person a feed shows is (still) in the synced rotas."""
    b = directory.bundle()
    return target in (b["rotas"] if kind == "rota" else b["people"])


def target_of(body: dict[str, Any]) -> tuple[str, str]:
    """(kind, id) from {"rota": id} or {"person": id}, checked against the directory."""
    named = [k for k in SECTIONS if k in body]
    if len(named) != 1 or set(body) - set(SECTIONS):
        raise BadFeed('the body must be {"rota": "<id>"} or {"person": "<id>"}')
    kind, target = named[0], body[named[0]]
    if not isinstance(target, str) or not _exists(kind, target):
        raise BadFeed(f"there is no {kind} {target!r}")
    return kind, target


def as_target(kind: str, target: str, created_by: str | None = None) -> access.Target:
    """What chalicelib.access decides on: {"rota": id} or {"person": id}, and who made it."""
    return {"rota": target, "created_by": created_by} if kind == "rota" else \
        {"person": target, "created_by": created_by}


def create(kind: str, target: str, by: str | None = None) -> str:
    """A new feed token; shown once, never stored in clear."""
    token = secrets.token_urlsafe(24)
    digest, now = hashing.sha256_hex(token), clock.now()
    with transaction() as tx:
        tx.save(FeedToken(f"FEED#{digest}", "FEED", kind=kind, target=target, created_by=by, created_at=now),
                condition=FeedToken.pk.does_not_exist())
        tx.save(FeedToken(_target_pk(kind, target), digest, kind=kind, target=target, created_by=by,
                          created_at=now))
    return token


def lookup(token: str) -> tuple[str, str] | None:
    """(kind, target) of a live token, None for an unknown or revoked one."""
    try:
        # consistent: a revoked token is revoked now
        item = FeedToken.get(f"FEED#{hashing.sha256_hex(token)}", "FEED", consistent_read=True)
    except DoesNotExist:
        return None
    return item.kind, item.target


def record(token: str) -> tuple[str, str, str | None] | None:
    """(kind, target, created_by) of a live token: who may revoke it depends on all three."""
    try:
        item = FeedToken.get(f"FEED#{hashing.sha256_hex(token)}", "FEED", consistent_read=True)
    except DoesNotExist:
        return None
    return item.kind, item.target, item.created_by


def revoke(token: str, check: Callable[[access.Target], None] | None = None) -> bool:
    """False when the token was unknown (or already revoked); `check` sees what the feed
    shows and who made it before it goes (and raises to keep it)."""
    found = record(token)
    if found is None:
        return False
    kind, target, created_by = found
    if check is not None:
        check(as_target(kind, target, created_by))
    _delete([hashing.sha256_hex(token)], kind, target)
    return True


def rotate(kind: str, target: str, by: str | None = None) -> str:
    """A new token for the target; every older one stops working."""
    old = [item.sk for item in FeedToken.query(_target_pk(kind, target))]
    token = create(kind, target, by)
    _delete(old, kind, target)
    return token


def _delete(digests: list[str], kind: str, target: str) -> None:
    with FeedToken.batch_write() as batch:  # batches of 25, retried until all are written
        for digest in digests:
            batch.delete(FeedToken(f"FEED#{digest}", "FEED"))
            batch.delete(FeedToken(_target_pk(kind, target), digest))


def url(token: str) -> str:
    """The address to paste into a calendar app (any URL works; .ics reassures people)."""
    return f"{config.settings().public_url}/ical/{token}.ics"


def as_json(token: str, kind: str, target: str) -> dict[str, Any]:
    link = url(token)
    return {"url": link, "webcal": "webcal://" + link.split("://", 1)[1], "token": token,
            "kind": kind, "target": target}


def calendar(token: str, lang: str | None = None) -> bytes | None:
    """The feed a token shows, None when the token or its rota or person is gone.
    `lang` (fr, en) picks a rota feed's language; a person feed is in the person's."""
    found = lookup(token)
    if found is None or not _exists(*found):
        return None
    kind, target = found
    from . import ical  # (icalendar: imported by the feeds' route alone, not at every cold start)

    bundle, now = directory.bundle(), clock.now()
    if kind == "rota":
        return ical.rota_feed(bundle, target, now, version(), lang if lang in ("fr", "en") else "fr")
    return ical.person_feed(bundle, target, now, version())


_versions: TTLCache[str, int] = TTLCache(maxsize=1, ttl=30)
_lock = threading.Lock()  # cachetools caches are not thread-safe (the local server is threaded)


def version() -> int:
    """The minute the feeds' data last changed: the last sync, or the newest API override.

    The SEQUENCE of every event starts from it (ical._sequence).  Read at most once per
    ASTREINTE_CONFIG_TTL, like the bundle.  Deleting an API override leaves a marker
    (overrides.delete) whose time counts too."""
    global _versions
    ttl = config.settings().config_ttl_seconds
    with _lock:
        if _versions.ttl != ttl:
            _versions = TTLCache(maxsize=1, ttl=ttl)
        found = _versions.get("version")
    if found is None:
        try:
            synced = float(ConfigBundle.get("CONFIG", "bundle", attributes_to_get=["synced_at"]).synced_at)
        except DoesNotExist:
            synced = 0.0
        overrides = [float(o.created_at) for o in OverrideItem.query("OVERRIDES",
                                                                       attributes_to_get=["created_at"])]
        found = int(max([synced, *overrides]) // 60)
        with _lock:
            _versions["version"] = found
    return found

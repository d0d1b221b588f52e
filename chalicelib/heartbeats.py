"""Heartbeats: a job calls its URL every N minutes; a missed beat opens an incident and
the next beat resolves it.

A heartbeat is an integration key of source "heartbeat" with options interval (5m) and
grace (1m), plus name and severity.  Monitoring starts at the first beat.  Each beat
moves the heartbeat's due time on the sparse `due` index (partition "hb"); the
one-minute sweeper opens an incident for every heartbeat past due.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from . import clock, hashing, incidents, integrations, log, ratelimit, store
from .clock import parse_duration
from .incidents import dedup
from .intake import Event, InvalidEvent
from .rotas import directory
from .store import HEARTBEAT_SHARD as SHARD
from .store import Heartbeat


def _dedup(digest: str) -> str:
    """A heartbeat's incidents' dedup key, from the key it was first made with."""
    return f"heartbeat:{digest[:16]}"


def _event(name: str, dedup_key: str, summary: str, severity: str) -> Event:
    return {"dedup_key": dedup_key, "summary": summary, "source": name,
            "severity": severity, "via": "heartbeat", "details": {"heartbeat": name}}


def beat(key: str) -> dict[str, Any]:
    """One beat: the heartbeat is alive until `next_beat_before`."""
    service, source, options = integrations.lookup(key)
    if source != "heartbeat":
        raise InvalidEvent([f"this key is a {source} integration, not a heartbeat"])
    digest = hashing.sha256_hex(key)
    ratelimit.take(digest, options.get("rate_limit_per_minute"))
    interval = parse_duration(options.get("interval", "5m"))
    grace = parse_duration(options.get("grace", "1m"))
    name = str(options.get("name") or f"{service['name']} heartbeat")
    now = clock.now()
    try:
        before = Heartbeat.get(f"HB#{digest}", "HB", consistent_read=True)
        was_missed, dedup_key = before.missed, before.dedup or _dedup(digest)
    except DoesNotExist:
        was_missed, dedup_key = False, _dedup(digest)
    Heartbeat(f"HB#{digest}", service=service["id"], name=name, interval=interval, last_beat=now,
              missed=False, options=str(options.get("severity", "eleve")), dedup=dedup_key,
              due_shard=SHARD, due_at=now + interval + grace).save()
    if was_missed:
        incidents.source_event(service, _event(name, dedup_key, f"{name}: beating again", "eleve"), "resolve")
    return {"status": "ok", "heartbeat": name, "next_beat_before": clock.iso(now + interval + grace)}


def sweep(limit: int = 200) -> int:
    """Open an incident for every heartbeat past due (run with the escalation sweeper).

    A missed heartbeat stays on the `due` index, looked at again every interval, so that a
    heartbeat whose key was revoked or rotated away meanwhile is retired: its open incident
    is resolved, saying why, and it opens none again."""
    now, opened = clock.now(), 0
    for hb in Heartbeat.due_index.query(SHARD, Heartbeat.due_at <= now, limit=limit):
        try:
            opened += _due(hb, now)
        except Exception as exc:
            if store.unavailable(exc):
                raise  # the next run catches up
            log.error("heartbeat_not_swept", heartbeat=hb.name, error=f"{type(exc).__name__}: {exc}"[:300])
    return opened


def _due(hb: Heartbeat, now: float) -> int:
    """One heartbeat past due: retired if its key is gone, else paged once (1) and watched."""
    digest = hb.pk[3:]
    if not integrations.live(digest):
        _retire(hb, now)
        return 0
    service = directory.bundle()["services"].get(hb.service)
    opening = not hb.missed and service is not None
    if opening and service is not None:  # paged before it is marked: a failure here is tried again
        summary = (f"Heartbeat missed / battement manqué: {hb.name} — last beat {clock.iso(hb.last_beat)}, "
                   f"expected every {int(hb.interval // 60)} min")
        event = _event(hb.name, hb.dedup or _dedup(digest), summary, hb.options or "eleve")
        incidents.trigger(service, event)
    try:  # one sweeper marks it (two opening at once make one incident: the same dedup key)
        hb.update(actions=[Heartbeat.missed.set(True), Heartbeat.due_at.set(now + hb.interval)],
                  condition=Heartbeat.due_at == hb.due_at)
    except UpdateError:
        return 0
    return int(opening)


def rotate_key(service: str, key_id: str, by: str | None = None) -> str | None:
    """Rotate an integration key (any source); a heartbeat's watch carries over to the new
    key, so that rotating never silently stops watching a job."""
    return integrations.rotate(service, key_id, by, before_revoke=_carry_watch)


def _carry_watch(old_digest: str, new_key: str) -> None:
    """Move a heartbeat's watch (last beat, due time, missed, open incident) to its new key,
    before the old key is revoked, so the sweeper never sees it keyless."""
    try:
        hb = Heartbeat.get(f"HB#{old_digest}", "HB", consistent_read=True)
    except DoesNotExist:
        return
    due_at = hb.due_at
    hb.pk, hb.dedup = f"HB#{hashing.sha256_hex(new_key)}", hb.dedup or _dedup(old_digest)
    hb.save()
    try:
        Heartbeat(f"HB#{old_digest}", "HB").delete(condition=Heartbeat.due_at == due_at)
    except DeleteError:
        pass  # swept or beaten meanwhile: the sweeper retires what is left once the key is gone


RETIRED = ("its integration key was revoked or rotated away: the heartbeat is no longer watched / "
           "sa clé d'intégration a été révoquée ou renouvelée : le battement n'est plus surveillé")


def _retire(hb: Heartbeat, now: float) -> None:
    """Stop watching a heartbeat whose key is gone, and resolve what it had opened."""
    try:
        hb.delete(condition=Heartbeat.due_at == hb.due_at)  # one sweeper retires it, as it still is
    except DeleteError:
        return
    log.info("heartbeat_retired", heartbeat=hb.name, service=hb.service)
    if not hb.missed:
        return
    pointer = dedup.open_pointer(hb.service, hb.dedup or _dedup(hb.pk[3:]))
    if pointer is not None:
        incidents.entry(pointer.number, "heartbeat_retired", now, actor="astreinte", channel="heartbeat",
                        detail={"heartbeat": hb.name, "why": RETIRED}).save()
        incidents.resolve(pointer.number, "astreinte", "heartbeat", authorised=True)

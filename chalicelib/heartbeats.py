"""Heartbeats: a job calls its URL every N minutes; a missed beat opens an incident and
the next beat resolves it.

A heartbeat is an integration key of source "heartbeat" with options interval (5m) and
grace (1m), plus name and severity.  Monitoring starts at the first beat.  Each beat
moves the heartbeat's due time on the sparse `due` index (partition "hb"); the
one-minute sweeper opens an incident for every heartbeat past due.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist, UpdateError

from . import clock, hashing, incidents, integrations, ratelimit
from .clock import parse_duration
from .intake import Event, InvalidEvent
from .rotas import directory
from .store import HEARTBEAT_SHARD as SHARD
from .store import Heartbeat


def _event(name: str, digest: str, summary: str, severity: str) -> Event:
    return {"dedup_key": f"heartbeat:{digest[:16]}", "summary": summary, "source": name,
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
        was_missed = Heartbeat.get(f"HB#{digest}", "HB", consistent_read=True).missed
    except DoesNotExist:
        was_missed = False
    Heartbeat(f"HB#{digest}", service=service["id"], name=name, interval=interval, last_beat=now,
              missed=False, options=str(options.get("severity", "eleve")), due_shard=SHARD,
              due_at=now + interval + grace).save()
    if was_missed:
        incidents.source_event(service, _event(name, digest, f"{name}: beating again", "eleve"), "resolve")
    return {"status": "ok", "heartbeat": name, "next_beat_before": clock.iso(now + interval + grace)}


def sweep(limit: int = 200) -> int:
    """Open an incident for every heartbeat past due (run with the escalation sweeper)."""
    now, opened = clock.now(), 0
    for hb in Heartbeat.due_index.query(SHARD, Heartbeat.due_at <= now, limit=limit):
        try:  # only one sweeper opens it
            hb.update(actions=[Heartbeat.missed.set(True), Heartbeat.due_shard.remove(),
                               Heartbeat.due_at.remove()],
                      condition=Heartbeat.due_at == hb.due_at)
        except UpdateError:
            continue
        service = directory.bundle()["services"].get(hb.service)
        if service is None:
            continue
        summary = (f"Heartbeat missed / battement manqué: {hb.name} — last beat {clock.iso(hb.last_beat)}, "
                   f"expected every {int(hb.interval // 60)} min")
        incidents.trigger(service, _event(hb.name, hb.pk[3:], summary, hb.options or "eleve"))
        opened += 1
    return opened

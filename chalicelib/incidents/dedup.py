"""Events from sources: one incident per open dedup_key, every event stored.

A trigger opens an incident with its first pages decided (and leased) in one transaction
with the dedup pointer, or is counted on the open incident with its dedup_key (one write,
the event, when the container remembers the pointer: see _repeat).  acknowledge/resolve from the
source act on the open incident; when nothing is open they are still kept for a while.

A `Hold` opens an incident whose first pages wait (the hotline: a customer's call is being
routed live to a person, and pages would only ring them twice).  It is the support-hours
deferral with another deadline: step 1 is due at `Hold.until`, so the sweeper pages it then
if nothing else does; `engine.release` makes it due now (voicemail left, caller gone), and
acknowledging or resolving it (the call was taken) means nobody is ever paged.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from .. import clock, log
from ..intake import Event
from ..model import Policy, Service
from ..rotas import directory
from ..store import Counter, DedupKey, Incident, TimelineEntry, conflict, transaction
from . import engine, escalation, service_hours
from .lifecycle import Outcome, acknowledge, forget_merged, merged_note_of, resolve
from .records import dedup_pk, entry, known_pointer, pk, remember_pointer, timeline_since

ORPHAN_DAYS = 90


@dataclass
class Hold:
    """Open without paging yet: step 1 waits until `until` (or engine.release).  `policy`
    replaces the one the service picks by severity; `events` go on the timeline with the
    opening, in the same transaction."""

    until: float
    policy: str | None = None
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def trigger(service: Service, event: Event, hold: Hold | None = None) -> tuple[Incident, bool]:
    """Open an incident for the event, or count it on the open one with its dedup_key.

    Returns (incident, created).  The first pages are sent before this returns (unless held).
    """
    inc, decision = open_incident(service, event, hold)
    if decision is None:
        return inc, False
    engine.send_and_record(inc, decision)
    return inc, True


def open_incident(service: Service, event: Event,
                  hold: Hold | None = None) -> tuple[Incident, escalation.Decision | None]:
    """Store the event: a new incident with its first pages decided (and leased), or a
    repeat counted on the open one (decision None).  Once this returns, the pages will be
    sent even if this Lambda dies now: the sweeper finds them due when the lease ends."""
    for _ in range(3):  # lost the race to open, and the winner was resolved already: open again
        found = _open_once(service, event, hold)
        if found is not None:
            return found
    raise RuntimeError(f"could not open or count {event['dedup_key']!r}: it keeps opening and closing")


def _open_once(service: Service, event: Event,
               hold: Hold | None = None) -> tuple[Incident, escalation.Decision | None] | None:
    repeat = _repeat(service["id"], event)
    if repeat is not None:
        return repeat, None
    now = clock.now()
    number = _next_number()
    held_policy = directory.bundle()["policies"].get(hold.policy) if hold and hold.policy else None
    policy = held_policy or directory.policy_for(service, event["severity"])
    decision = _first_decision(service, policy, event["severity"], now, hold)
    inc = Incident(pk(number), "META", number=number, service=service["id"],
                   severity=event["severity"], summary=event["summary"], source=event.get("source"),
                   dedup_key=event["dedup_key"], details=event.get("details"), state="triggered",
                   created_at=now, policy=policy["id"], paged=[])
    engine.claim(inc, decision, now)
    items = [entry(number, "triggered", now, actor=event.get("actor", "source"),
                   channel=event.get("via", "events-api"), detail={"event": event})]
    items += [entry(number, kind, now, actor="astreinte", detail=d)
              for kind, d in [*(hold.events if hold else []), *decision.events]]
    try:
        with transaction() as tx:
            tx.save(DedupKey(dedup_pk(service["id"], event["dedup_key"]), number=number),
                    condition=DedupKey.pk.does_not_exist())
            tx.save(inc, condition=Incident.pk.does_not_exist())
            for item in items:
                tx.save(item)
    except TransactWriteError as exc:
        if not conflict(exc):
            raise  # the store did not answer (503) or refused the item (413): nothing half-stored
        # Another trigger with the same dedup_key won the race: count this one on it.
        repeat = _repeat(service["id"], event)
        return None if repeat is None else (repeat, None)
    return inc, decision


def _first_decision(service: Service, policy: Policy, severity: str, now: float,
                    hold: Hold | None = None) -> escalation.Decision:
    """Page now, or not at all (maintenance), or when held (Hold) or support hours end.  A
    held incident is a customer on the line: maintenance does not silence it."""
    window = service_hours.maintenance_at(service, now) if hold is None else None
    if window is not None:
        return escalation.Decision(state=escalation.initial_state(), events=[(
            "maintenance", {"until": clock.iso(window["end"]), "reason": window["reason"],
                            "note": "kept, nobody paged / conservé, personne n'est appelé"})])
    if hold is not None:
        return escalation.Decision(state={**escalation.initial_state(), "next_step_at": hold.until}, events=[(
            "held", {"until": clock.iso(hold.until),
                     "note": "pages wait: being handled live / appels différés : traité en direct"})])
    until = service_hours.deferred_until(service, severity, now)
    if until is not None:
        return escalation.Decision(state={**escalation.initial_state(), "next_step_at": until}, events=[(
            "deferred", {"until": clock.iso(until),
                         "note": "outside support hours / hors heures de support"})])
    return escalation.tick(escalation.initial_state(), policy, severity, directory.bundle(), now)


def _next_number() -> int:
    counter = Counter("COUNTER", "incident")
    counter.update(actions=[Counter.value.add(1)])
    return int(counter.value)


def open_pointer(service_id: str, dedup_key: str) -> DedupKey | None:
    try:
        return DedupKey.get(dedup_pk(service_id, dedup_key), "DEDUP", consistent_read=True)
    except DoesNotExist:
        return None


def _repeat(service_id: str, event: Event) -> Incident | None:
    """Count the event on the open incident with its dedup_key, if there is one: stored on
    its timeline (where it is counted), nobody re-paged.  One write when this container
    remembers the pointer (an alert storm), one read and one write otherwise.

    Resolved meanwhile elsewhere, the incident still gets the event; reopen_late_repeats
    finds it there and opens the next incident with it."""
    number = known_pointer(service_id, event["dedup_key"])
    if number is None:
        pointer = open_pointer(service_id, event["dedup_key"])
        if pointer is None:
            return None
        number = pointer.number
        remember_pointer(service_id, event["dedup_key"], number)
    # The time of the write, not of the request: after a resolution, it is later than it.
    entry(number, "repeated", clock.now(), actor=event.get("actor", "source"),
          channel=event.get("via", "events-api"), detail={"event": event}).save()
    return Incident(pk(number), "META", number=number)  # a handle: the number is what callers need


def reopen_late_repeats(inc: Incident) -> int | None:
    """Repeats stored on an incident after it was resolved (a container still remembered
    its pointer): the first one opens the next incident now, as it would have then.  Run by
    the sweeper LATE_REPEATS_SECONDS after the resolution; returns the incident opened.

    Not when the repeats were another incident's (one with this dedup_key opened after
    the resolution: it paged), nor when the source resolved them after.  Once done, a
    `late_repeats` entry says so, and a second run does nothing; a run that dies before
    writing it is followed by one that finds the incident it opened, and stops there.
    First, the pointers of duplicates merged into it that the resolution could not delete
    (lifecycle.forget_merged) are deleted: a run that fails stays due and tries again."""
    if inc.resolved_at is None:
        return None
    forget_merged(inc.number)  # what the resolution's own run of it left undone, if anything
    after = timeline_since(inc.number, inc.resolved_at)
    late = [e for e in after if e.kind == "repeated" and e.at > inc.resolved_at
            and e.detail and isinstance(e.detail.get("event"), dict)]
    if not late or any(e.kind == "late_repeats" for e in after):
        return None
    event: Event = late[0].detail["event"]
    service = directory.bundle()["services"].get(inc.service)
    why = ("the service is no longer in rotas/ / le service n'est plus dans les astreintes" if service is None
           else _not_to_reopen(inc, event["dedup_key"], late[-1].at))
    reopened = None
    if service is not None and why is None:
        remember_pointer(inc.service, event["dedup_key"], None)  # this container may be one of them
        reopened = trigger(service, event)[0].number
        entry(reopened, "late_repeats", clock.now(), actor="astreinte", detail={
            "repeats_of": inc.number, "repeats": len(late),
            "note": f"events received after #{inc.number} was resolved / "
                    f"événements reçus après la résolution de #{inc.number}"}).save()
    entry(inc.number, "late_repeats", clock.now(), actor="astreinte", detail={
        "reopened_as": reopened, "repeats": len(late),
        "note": why or "events received after the resolution / événements reçus après la résolution"}).save()
    if why is not None:
        log.info("late_repeats_not_reopened", incident=inc.number, why=why)
    return reopened


def _not_to_reopen(inc: Incident, dedup_key: str, last: float) -> str | None:
    """Why late repeats must not open the next incident, or None."""
    months = dict.fromkeys(clock.iso(t)[:7] for t in (inc.resolved_at or last, clock.now()))
    for month in months:
        for item in Incident.month_index.query(month, Incident.created_at > (inc.resolved_at or last)):
            line = json.loads(item.line or "{}")
            other = line.get("number")
            same_key = (line.get("service"), line.get("dedup_key")) == (inc.service, dedup_key)
            if same_key and other != inc.number:
                return (f"incident #{other} opened for the same dedup_key after the resolution / "
                        f"incident #{other} ouvert pour la même dedup_key après la résolution")
    resolved_later = TimelineEntry.query(f"ORPHAN#{inc.service}", TimelineEntry.sk > f"T#{clock.iso(last)}",
                                         filter_condition=TimelineEntry.kind == "resolve")
    if any((e.detail or {}).get("event", {}).get("dedup_key") == dedup_key for e in resolved_later):
        return "the source resolved it after them / la source l'a résolu après eux"
    return None


def source_event(service: Service, event: Event, action: str) -> Outcome | None:
    """acknowledge/resolve sent by the monitoring tool itself, matched by dedup_key; about a
    duplicate merged into another incident, it is about that alert only (_merged_alert)."""
    actor = event.get("actor") or event.get("source") or "source"
    via = event.get("via", "events-api")
    for _ in range(3):  # the pointer changed while a merged alert was being retired: read it again
        pointer = open_pointer(service["id"], event["dedup_key"])
        if pointer is None:
            _store_orphan(service["id"], event, action)
            return None
        note = merged_note_of(pointer.number, pointer.pk)
        if note is None:
            if action == "acknowledge":
                return acknowledge(pointer.number, actor, via, authorised=True)
            return resolve(pointer.number, actor, via, authorised=True)
        if _merged_alert(service["id"], event, action, pointer, note, actor):
            return Outcome("merged", pointer.number, actor)
    raise RuntimeError(f"{event['dedup_key']!r} kept changing incident / change sans cesse d'incident")


def _merged_alert(service_id: str, event: Event, action: str, pointer: DedupKey, note: DedupKey,
                  actor: str) -> bool:
    """An acknowledge/resolve from the source of a duplicate merged into incident N (its
    pointer now names N): about that one alert, never N's state, whose own problem may still
    be firing (as PagerDuty's incident of several alerts).  A resolve retires the alert: its
    pointer and N's note of it are deleted, so that its next trigger opens a new incident; an
    acknowledge is only noted.  Either way N's timeline says which alert (`merged_alert`).
    False when the pointer changed meanwhile (nothing written)."""
    kept = pointer.number
    said = entry(kept, "merged_alert", clock.now(), actor=actor, channel=event.get("via", "events-api"),
                 detail={"action": action, "dedup_key": event["dedup_key"], "merged_from": note.number,
                         "event": event,
                         "note": (f"alert of #{note.number} recovered / alerte de #{note.number} rétablie"
                                  if action == "resolve" else
                                  f"alert of #{note.number} acknowledged by its source / "
                                  f"alerte de #{note.number} acquittée par sa source")})
    if action != "resolve":
        said.save()
        return True
    try:
        with transaction() as tx:
            tx.delete(DedupKey(pointer.pk), condition=DedupKey.number == kept)
            tx.delete(note)
            tx.save(said)
    except TransactWriteError as exc:
        if not conflict(exc):
            raise
        return False
    remember_pointer(service_id, event["dedup_key"], None)
    return True


def _store_orphan(service_id: str, event: Event, action: str) -> None:
    """An acknowledge/resolve for nothing open is still kept (an accepted event is stored),
    for ORPHAN_DAYS: a monitoring tool resolving what it never opened, every minute, must
    not grow the table for ever."""
    now = clock.now()
    item = TimelineEntry(f"ORPHAN#{service_id}", f"T#{clock.iso(now)}#{secrets.token_hex(4)}",
                         at=now, kind=action, actor="source", channel=event.get("via", "events-api"),
                         detail={"event": event, "note": "no open incident for this dedup_key"},
                         expires=int(now + ORPHAN_DAYS * 86400))
    item.save()

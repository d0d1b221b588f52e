"""Incidents: deduplication, the state machine, and the timeline.

triggered ──ack──▶ acknowledged ──resolve──▶ resolved   (resolve also straight from triggered)

Every change is a DynamoDB transaction guarded by the incident's version (pynamodb's
VersionAttribute), so two acknowledgements racing produce exactly one winner; the loser
re-reads and is told who won.  Inbound webhooks pass an idempotency key that is written in
the same transaction, so a retried delivery changes nothing twice.

Pages are sent at least once: the transaction that decides to page also moves those
pages' due time a lease ahead; if the Lambda dies before recording the delivery, the
sweeper finds them due again and sends them.
"""
from __future__ import annotations

import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from . import clock, directory, escalation, notify, service_hours, timers
from .store import (
    DUE_SHARD,
    Counter,
    DedupKey,
    Idempotency,
    Incident,
    TimelineEntry,
    transaction,
)

LEASE_SECONDS = 60.0
IDEMPOTENCY_DAYS = 7
_seq = itertools.count()


@dataclass
class Outcome:
    """What an action did, in words every channel can turn into a reply."""

    result: str  # acknowledged, resolved, escalated, already_acknowledged, already_resolved,
    # not_paged, no_incident
    number: int
    by: str | None = None
    incident: Incident | None = None
    notices: list[dict[str, Any]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.result in ("acknowledged", "resolved", "escalated")

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.result, "number": self.number, "by": self.by}


def pk(number: int) -> str:
    return f"INC#{number}"


def entry(number: int, kind: str, at: float, actor: str | None = None, channel: str | None = None,
          detail: dict[str, Any] | None = None) -> TimelineEntry:
    """A timeline item; the key sorts by time, then by write order within a millisecond."""
    sk = f"T#{clock.iso(at)}#{next(_seq) % 1_000_000:06d}{secrets.token_hex(2)}"
    return TimelineEntry(pk(number), sk, at=at, kind=kind, actor=actor, channel=channel,
                         detail=detail or None)


def get(number: int) -> Incident | None:
    try:
        return Incident.get(pk(number), "META", consistent_read=True)
    except DoesNotExist:
        return None


def timeline(number: int) -> list[TimelineEntry]:
    return list(TimelineEntry.query(pk(number), TimelineEntry.sk.startswith("T#"),
                                    consistent_read=True))


def view(inc: Incident) -> dict[str, Any]:
    """The fields message templates use."""
    svc = directory.bundle()["services"].get(inc.service, {})
    return {"number": inc.number, "service": svc.get("name", inc.service), "sev": inc.severity,
            "summary": inc.summary, "source": inc.source or "-", "at": clock.iso(inc.created_at)[11:19]}


# ---------------------------------------------------------------- events from sources

def trigger(service: dict[str, Any], event: dict[str, Any]) -> tuple[Incident, bool]:
    """Open an incident for the event, or count it on the open one with its dedup_key.

    Returns (incident, created).  The first pages are sent before this returns.
    """
    inc, decision = open_incident(service, event)
    if decision is None:
        return inc, False
    _send_and_record(inc, decision)
    return inc, True


def open_incident(service: dict[str, Any],
                  event: dict[str, Any]) -> tuple[Incident, escalation.Decision | None]:
    """Store the event: a new incident with its first pages decided (and leased), or a
    repeat counted on the open one (decision None).  Once this returns, the pages will be
    sent even if this Lambda dies now: the sweeper finds them due when the lease ends."""
    now = clock.now()
    repeat = _repeat(service["id"], event, now)
    if repeat is not None:
        return repeat, None
    number = _next_number()
    policy = directory.policy_for(service, event["severity"])
    decision = _first_decision(service, policy, event["severity"], now)
    inc = Incident(pk(number), "META", number=number, service=service["id"],
                   severity=event["severity"], summary=event["summary"], source=event.get("source"),
                   dedup_key=event["dedup_key"], details=event.get("details"), state="triggered",
                   created_at=now, policy=policy["id"], paged=[])
    _claim(inc, decision, now)
    items = [entry(number, "triggered", now, actor=event.get("actor", "source"),
                   channel=event.get("via", "events-api"), detail={"event": event})]
    items += [entry(number, kind, now, actor="astreinte", detail=d) for kind, d in decision.events]
    try:
        with transaction() as tx:
            tx.save(DedupKey(_dedup_pk(service["id"], event["dedup_key"]), number=number),
                    condition=DedupKey.pk.does_not_exist())
            tx.save(inc, condition=Incident.pk.does_not_exist())
            for item in items:
                tx.save(item)
    except TransactWriteError:
        # Another trigger with the same dedup_key won the race: count this one on it.
        repeat = _repeat(service["id"], event, now)
        if repeat is None:
            raise
        return repeat, None
    return inc, decision


def _first_decision(service: dict[str, Any], policy: dict[str, Any], severity: str,
                    now: float) -> escalation.Decision:
    """Page now, or not at all (maintenance), or when support hours start."""
    window = service_hours.maintenance_at(service, now)
    if window is not None:
        return escalation.Decision(state=escalation.initial_state(), events=[(
            "maintenance", {"until": clock.iso(window["end"]), "reason": window["reason"],
                            "note": "kept, nobody paged / conservé, personne n'est appelé"})])
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


def _dedup_pk(service_id: str, dedup_key: str) -> str:
    return f"DEDUP#{service_id}#{dedup_key}"


def _open_pointer(service_id: str, dedup_key: str) -> DedupKey | None:
    try:
        return DedupKey.get(_dedup_pk(service_id, dedup_key), "DEDUP", consistent_read=True)
    except DoesNotExist:
        return None


_pointers: dict[tuple[str, str], int] = {}  # (service, dedup_key) -> open incident, per container


def _count_repeat(service_id: str, dedup_key: str, number: int, event: dict[str, Any],
                  now: float) -> Incident | None:
    """A repeated trigger: stored on the timeline (where it is counted), nobody re-paged.

    One transaction that checks the dedup pointer still names this incident and stores
    the event: in an alert storm that is the only request most events cost (the pointer
    is remembered per container; the check catches one that was resolved meanwhile).
    None when the pointer moved on."""
    try:
        with transaction() as tx:
            tx.condition_check(DedupKey, _dedup_pk(service_id, dedup_key), "DEDUP",
                               condition=DedupKey.number == number)
            tx.save(entry(number, "repeated", now, actor=event.get("actor", "source"),
                          channel=event.get("via", "events-api"), detail={"event": event}))
    except TransactWriteError:
        _pointers.pop((service_id, dedup_key), None)
        return None
    _pointers[(service_id, dedup_key)] = number
    if len(_pointers) > 50_000:
        _pointers.clear()
    return Incident(pk(number), "META", number=number)  # a handle: the number is what callers need


def _repeat(service_id: str, event: dict[str, Any], now: float) -> Incident | None:
    """Count the event on the open incident with its dedup_key, if there is one."""
    known = _pointers.get((service_id, event["dedup_key"]))
    if known is not None:
        inc = _count_repeat(service_id, event["dedup_key"], known, event, now)
        if inc is not None:
            return inc
    for _ in range(3):  # a conflicting transaction on the pointer: read it again
        pointer = _open_pointer(service_id, event["dedup_key"])
        if pointer is None:
            return None
        inc = _count_repeat(service_id, event["dedup_key"], pointer.number, event, now)
        if inc is not None:
            return inc
    raise RuntimeError(f"could not count a repeat of {event['dedup_key']!r}")


def source_event(service: dict[str, Any], event: dict[str, Any], action: str) -> Outcome | None:
    """acknowledge/resolve sent by the monitoring tool itself, matched by dedup_key."""
    pointer = _open_pointer(service["id"], event["dedup_key"])
    if pointer is None:
        _store_orphan(service["id"], event, action)
        return None
    actor = event.get("actor") or event.get("source") or "source"
    if action == "acknowledge":
        return acknowledge(pointer.number, actor, event.get("via", "events-api"), authorised=True)
    return resolve(pointer.number, actor, event.get("via", "events-api"), authorised=True)


ORPHAN_DAYS = 90


def _store_orphan(service_id: str, event: dict[str, Any], action: str) -> None:
    """An acknowledge/resolve for nothing open is still kept (an accepted event is stored),
    for ORPHAN_DAYS: a monitoring tool resolving what it never opened, every minute, must
    not grow the table for ever."""
    now = clock.now()
    item = TimelineEntry(f"ORPHAN#{service_id}", f"T#{clock.iso(now)}#{secrets.token_hex(4)}",
                         at=now, kind=action, actor="source", channel=event.get("via", "events-api"),
                         detail={"event": event, "note": "no open incident for this dedup_key"},
                         expires=int(now + ORPHAN_DAYS * 86400))
    item.save()


# ---------------------------------------------------------------- people acting

def acknowledge(number: int, actor: str, how: str, idem_key: str | None = None,
                authorised: bool = False) -> Outcome:
    return _act(number, actor, how, "acknowledged", idem_key, authorised)


def resolve(number: int, actor: str, how: str, idem_key: str | None = None,
            authorised: bool = False) -> Outcome:
    return _act(number, actor, how, "resolved", idem_key, authorised)


def escalate(number: int, actor: str, how: str, idem_key: str | None = None,
             authorised: bool = False) -> Outcome:
    return _act(number, actor, how, "escalated", idem_key, authorised)


def _refusal(inc: Incident | None, number: int, actor: str, target: str,
             authorised: bool) -> Outcome | None:
    """Why this action changes nothing, or None when it may go ahead."""
    if inc is None:
        return Outcome("no_incident", number)
    if inc.state == "resolved":
        return Outcome("already_resolved", number, inc.resolved_by, inc)
    if inc.state == "acknowledged" and target in ("acknowledged", "escalated"):
        return Outcome("already_acknowledged", number, inc.acknowledged_by, inc)
    if not authorised and actor not in (inc.paged or []):
        return Outcome("not_paged", number, None, inc)
    return None


def _act(number: int, actor: str, how: str, target: str, idem_key: str | None,
         authorised: bool) -> Outcome:
    for _ in range(5):
        inc = get(number)
        refusal = _refusal(inc, number, actor, target, authorised)
        if refusal is not None:
            seen = _seen(idem_key) if idem_key else None
            if seen is not None:  # a retried delivery of what already happened: same answer
                return Outcome(seen.get("result", target), number, seen.get("by"), inc)
            return refusal
        assert inc is not None
        now = clock.now()
        items = _apply(inc, actor, how, target, now)
        try:
            with transaction() as tx:
                tx.save(inc)
                for item in items:
                    tx.save(item)
                if idem_key:
                    tx.save(_idem(idem_key, {"result": target, "by": actor}),
                            condition=Idempotency.pk.does_not_exist())
                if target == "resolved":  # the next trigger with this dedup_key opens anew
                    tx.delete(DedupKey(_dedup_pk(inc.service, inc.dedup_key)))
        except TransactWriteError:
            seen = _seen(idem_key) if idem_key else None
            if seen is not None:  # the same delivery, handled meanwhile by another worker
                return Outcome(seen.get("result", target), number, seen.get("by"), get(number))
            continue  # someone else changed the incident first: re-read and decide again
        outcome = Outcome(target, number, actor, inc)
        if target == "escalated":
            process_due(number)
        else:
            outcome.notices = _tell_others(inc, actor, how, target, now)
            if target == "acknowledged":
                _tell_ticket(inc, actor, now)
        timers.schedule(number, inc.due_at)
        return outcome
    raise RuntimeError(f"incident {number} kept changing under us")


def _apply(inc: Incident, actor: str, how: str, target: str, now: float) -> list[TimelineEntry]:
    """Change the incident in memory; return the timeline entries that go with it."""
    if target == "escalated":
        inc.escalation = escalation.escalate_now(inc.escalation, now)
        _set_due(inc, now)
        return [entry(inc.number, "escalate_requested", now, actor=actor, channel=how)]
    inc.escalation = escalation.stopped(inc.escalation)
    _set_due(inc, None)
    if target == "acknowledged":
        inc.state, inc.acknowledged_at, inc.acknowledged_by = "acknowledged", now, actor
        return [entry(inc.number, "acknowledged", now, actor=actor, channel=how,
                      detail={"tta_seconds": round(now - inc.created_at, 3)})]
    inc.state, inc.resolved_at, inc.resolved_by = "resolved", now, actor
    return [entry(inc.number, "resolved", now, actor=actor, channel=how,
                  detail={"ttr_seconds": round(now - inc.created_at, 3)})]


def _tell_others(inc: Incident, actor: str, how: str, target: str, now: float) -> list[dict]:
    """Update the Slack pages in place and tell everyone else who was paged who took it."""
    from .notify import slack as slack_notify

    key = "taken" if target == "acknowledged" else "resolved"
    v = {**view(inc), "by": directory.name_of(actor), "how": how}
    records = []
    footer_key = "slack_taken" if target == "acknowledged" else "slack_resolved"
    for ch, ts, lang in inc.slack_messages or []:
        try:
            footer = notify.text(lang, footer_key, **{**v, "at": clock.iso(now)[11:19]})
            msg, blocks = slack_notify.page_blocks(lang, view(inc), inc.state, footer)
            slack_notify.update(ch, ts, msg, blocks)
            records.append({"to": ch, "channel": "slack", "ok": True, "ref": ts, "notice": "update"})
        except Exception as exc:  # noqa: BLE001
            records.append({"to": ch, "channel": "slack", "ok": False, "error": str(exc)[:200]})
    people = directory.bundle()["people"]
    for pid in inc.paged or []:
        if pid == actor or pid not in people:
            continue
        records.append(notify.tell(people[pid], key, v))
    if records:
        with transaction() as tx:
            for r in records:
                tx.save(entry(inc.number, "notified", clock.now(), actor="astreinte",
                              channel=r.get("channel"), detail=r))
    return records


def _tell_ticket(inc: Incident, actor: str, now: float) -> None:
    """An incident opened by a ticket: an internal note on it, and the requester told."""
    ticket = (inc.details or {}).get("ticket") if isinstance(inc.details, dict) else None
    if not ticket:
        return
    from . import ticketing

    options = ticketing.integration_options(inc.service, ticket["tool"], ticket.get("api_base"))
    if options:
        record = ticketing.on_acknowledged(inc.details, directory.name_of(actor), clock.iso(now), options)
        entry(inc.number, "notified", clock.now(), actor="astreinte", channel=ticket["tool"],
              detail=record).save()


# ---------------------------------------------------------------- escalation timers

def process_due(number: int) -> int:
    """Run whatever is due on this incident (steps, delayed pages); returns pages sent.

    Called inline after a trigger, by the per-step timer, and by the sweeper; the
    version guard makes concurrent callers safe.
    """
    for _ in range(5):
        inc = get(number)
        if inc is None:
            return 0
        now = clock.now()
        if inc.state != "triggered":
            if inc.due_at is not None:
                _set_due(inc, None)
                try:
                    inc.save()
                except Exception:  # noqa: BLE001 - someone else cleared or changed it
                    pass
            return 0
        if inc.due_at is None or inc.due_at > now:
            return 0
        policy = directory.bundle()["policies"].get(inc.policy)
        if policy is None:
            return 0
        decision = escalation.tick(inc.escalation, policy, inc.severity, directory.bundle(), now)
        if not decision.pages and not decision.events and decision.state == inc.escalation:
            _set_due(inc, escalation.next_due(inc.escalation))
            inc.save()
            return 0
        _claim(inc, decision, now)
        items = [entry(number, kind, now, actor="astreinte", detail=d) for kind, d in decision.events]
        try:
            with transaction() as tx:
                tx.save(inc)
                for item in items:
                    tx.save(item)
        except TransactWriteError:
            continue
        _send_and_record(inc, decision)
        return len(decision.pages)
    return 0


def _claim(inc: Incident, decision: escalation.Decision, now: float) -> None:
    """Put the decision on the incident, keeping the pages about to go out leased."""
    leased = [{**p, "at": now + LEASE_SECONDS, "leased": True} for p in decision.pages]
    inc.escalation = {**decision.state, "pending": decision.state["pending"] + leased}
    for kind, detail in decision.events:
        if kind == "escalated":
            inc.paged = list(dict.fromkeys([*(inc.paged or []), *detail["to"]]))
    if decision.exhausted:
        inc.unanswered = True
    _set_due(inc, escalation.next_due(inc.escalation))


def _send_and_record(inc: Incident, decision: escalation.Decision) -> None:
    """Send the claimed pages, then record each delivery and release the lease."""
    if not decision.pages:
        timers.schedule(inc.number, inc.due_at)
        return
    v = view(inc)
    bundle = directory.bundle()
    deliveries = [notify.deliver(page, v, bundle) for page in decision.pages]
    sent = {(p["to"], p["channel"], p["step"]) for p in decision.pages}

    def change(fresh: Incident) -> list[TimelineEntry]:
        state = dict(fresh.escalation)
        state["pending"] = [p for p in state["pending"]
                            if not (p.get("leased") and (p["to"], p["channel"], p["step"]) in sent)]
        fresh.escalation = state
        slack_refs = [d["slack"] for d in deliveries if d.get("slack")]
        if slack_refs:
            fresh.slack_messages = [*(fresh.slack_messages or []), *slack_refs]
        if fresh.state == "triggered":
            _set_due(fresh, escalation.next_due(state))
        now = clock.now()
        fresh.pages = [*(fresh.pages or []), *({"at": now, "to": d["to"], "channel": d["channel"],
                                                 "step": d["step"], "ok": d["ok"]} for d in deliveries)]
        return [entry(fresh.number, "paged", now, actor="astreinte", channel=d["channel"], detail=d)
                for d in deliveries]

    try:
        updated = _mutate(inc.number, change, first=inc)
        timers.schedule(inc.number, updated.due_at)
    except _Gone:
        pass


def sweep(limit: int = 200) -> int:
    """Run everything due now (the one-minute backstop, and the local timer runner)."""
    now = clock.now()
    done = 0
    for inc in Incident.due_index.query(DUE_SHARD, Incident.due_at <= now, limit=limit):
        process_due(inc.number)
        done += 1
    return done


def record_delivery_status(ref: str, status: str, sid: str, duration: str | None,
                           error: str | None) -> bool:
    """A Twilio status callback: delivered, failed, call completed (with its duration)."""
    number_s, person, channel = ref.split(".", 2)
    number = int(number_s)
    now = clock.now()
    detail: dict[str, Any] = {"status": status, "ref": sid, "to": person}
    if duration:
        detail["duration_seconds"] = int(duration)
    if error:
        detail["error_code"] = error
    answered = channel == "voice" and status == "completed" and bool(duration) and int(duration) > 0
    for _ in range(5):
        inc = get(number)
        if inc is None:
            return False
        if answered:  # a call answered is work time: reports read it from the incident
            inc.calls = [*(inc.calls or []), {"at": now, "to": person, "seconds": int(duration or 0)}]
        try:
            with transaction() as tx:
                tx.save(_idem(f"twilio-status:{sid}:{status}", {"result": "recorded"}),
                        condition=Idempotency.pk.does_not_exist())
                tx.save(entry(number, "delivery", now, actor=person, channel=channel, detail=detail))
                if answered:
                    tx.save(inc)
        except TransactWriteError:
            if _seen(f"twilio-status:{sid}:{status}") is not None:
                return False  # already recorded: Twilio retried the callback
            continue  # the incident changed meanwhile: read it again
        return True
    raise RuntimeError(f"incident {number} kept changing under us")


# ---------------------------------------------------------------- helpers

class _Gone(Exception):
    pass


def _mutate(number: int, change: Callable[[Incident], list[TimelineEntry]],
            first: Incident | None = None) -> Incident:
    """Read, change, write under the version guard; retry when someone else wrote first.

    `first` is a copy already in hand (saves a read when nobody else wrote meanwhile).
    """
    for _ in range(8):
        inc, first = (first, None) if first is not None else (get(number), None)
        if inc is None:
            raise _Gone(number)
        items = change(inc)
        try:
            with transaction() as tx:
                tx.save(inc)
                for item in items:
                    tx.save(item)
            return inc
        except TransactWriteError:
            continue
    raise RuntimeError(f"incident {number} kept changing under us")


def _set_due(inc: Incident, due: float | None) -> None:
    inc.due_at = due
    inc.due_shard = DUE_SHARD if due is not None else None


def _idem(key: str, answer: dict[str, Any]) -> Idempotency:
    return Idempotency(f"IDEM#{key}", answer=answer,
                       expires=int(clock.now() + IDEMPOTENCY_DAYS * 86400))


def _seen(key: str) -> dict[str, Any] | None:
    try:
        return Idempotency.get(f"IDEM#{key}", "IDEM", consistent_read=True).answer or {}
    except DoesNotExist:
        return None


def as_json(inc: Incident, with_timeline: bool = True) -> dict[str, Any]:
    """The incident as the API returns it: every time in UTC ISO-8601."""
    def t(v: float | None) -> str | None:
        return clock.iso(v) if v is not None else None

    state = inc.escalation or {}
    body: dict[str, Any] = {
        "id": inc.number, "number": inc.number, "service": inc.service, "severity": inc.severity,
        "state": inc.state, "unanswered": bool(inc.unanswered), "summary": inc.summary,
        "source": inc.source, "dedup_key": inc.dedup_key, "details": inc.details,
        "created_at": t(inc.created_at), "acknowledged_at": t(inc.acknowledged_at),
        "acknowledged_by": inc.acknowledged_by, "resolved_at": t(inc.resolved_at),
        "resolved_by": inc.resolved_by,
        "escalation": {"policy": inc.policy, "step": state.get("step", -1) + 1,
                       "repeat": state.get("loop", 0),
                       "next_step_at": t(state.get("next_step_at"))},
        "paged": inc.paged or [],
    }
    entries = timeline(inc.number)
    body["event_count"] = 1 + sum(1 for e in entries if e.kind == "repeated")
    if with_timeline:
        body["timeline"] = [
            {"at": clock.iso(e.at), "kind": e.kind, "actor": e.actor, "channel": e.channel,
             **({"detail": e.detail} if e.detail else {})}
            for e in entries
        ]
    return body


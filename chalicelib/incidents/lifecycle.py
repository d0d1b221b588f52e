"""The incident's state machine, and people acting on it.

triggered ──ack──▶ acknowledged ──resolve──▶ resolved   (resolve also straight from triggered)

Two acknowledgements racing produce exactly one winner (records.mutate); the loser is told
who won.  A webhook's idempotency key is written with the change, so a retried delivery
changes nothing twice and gets the same answer.  Follow-ups (pages updated, others told,
ticket notes) run once the change is stored (chalicelib.incidents.followups).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist

from .. import clock
from ..store import DedupKey, Incident, TimelineEntry
from . import engine, escalation, followups, timers
from .records import (
    LATE_REPEATS_SECONDS,
    RECENT_REPEATS_SECONDS,
    AlreadyDone,
    Change,
    Gone,
    dedup_pk,
    entry,
    get,
    mutate,
    remember_pointer,
    seen,
    set_due,
    timeline_since,
)

# What an action did (the first ones change the incident), or why it changed nothing.
CHANGED = ("acknowledged", "resolved", "escalated", "noted", "reassigned", "snoozed", "responders_added",
           "merged", "customer_replied")
RESULTS = (*CHANGED, "already_acknowledged", "already_resolved", "not_paged", "no_incident",
           "not_acknowledged", "bad_target")


@dataclass
class Outcome:
    """What an action did, in words every channel can turn into a reply."""

    result: str  # one of RESULTS
    number: int
    by: str | None = None
    incident: Incident | None = None
    notices: list[dict[str, Any]] = field(default_factory=list)
    words: dict[str, Any] = field(default_factory=dict)  # more for the answer: until, to, into…

    @property
    def changed(self) -> bool:
        return self.result in CHANGED

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.result, "number": self.number, "by": self.by}


def acknowledge(number: int, actor: str, how: str, idem_key: str | None = None,
                authorised: bool = False) -> Outcome:
    return act(number, actor, how, "acknowledged", idem_key, authorised)


def resolve(number: int, actor: str, how: str, idem_key: str | None = None,
            authorised: bool = False) -> Outcome:
    return act(number, actor, how, "resolved", idem_key, authorised)


def escalate(number: int, actor: str, how: str, idem_key: str | None = None,
             authorised: bool = False) -> Outcome:
    return act(number, actor, how, "escalated", idem_key, authorised)


def refusal(inc: Incident | None, number: int, actor: str, target: str, authorised: bool) -> Outcome | None:
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


def act(number: int, actor: str, how: str, target: str, idem_key: str | None = None,
        authorised: bool = False) -> Outcome:
    """Acknowledge, resolve or escalate for `actor`, once, whoever else is trying."""
    refused: list[Outcome] = []

    def change(inc: Incident) -> Change | None:
        refused.clear()
        why = refusal(inc, number, actor, target, authorised)
        if why is not None:
            refused.append(why)
            return None
        items = apply(inc, actor, how, target, clock.now())
        done = Change(entries=items, once=(idem_key, {"result": target, "by": actor}) if idem_key else None)
        if target == "resolved":  # the next trigger with this dedup_key opens anew (and, once
            # forget_merged has run, with those of the duplicates merged into it)
            done.deletes.append(DedupKey(dedup_pk(inc.service, inc.dedup_key)))
            remember_pointer(inc.service, inc.dedup_key, None)
        return done

    try:
        written = mutate(number, change)
    except Gone:
        written, refused[:] = None, [Outcome("no_incident", number)]
    except AlreadyDone as exc:  # the same delivery, handled meanwhile by another worker
        return Outcome(exc.answer.get("result", target), number, exc.answer.get("by"), get(number))
    if written is None:
        answer = seen(idem_key)
        if answer is not None:  # a retried delivery of what already happened: the same answer
            return Outcome(answer.get("result", target), number, answer.get("by"), refused[0].incident)
        return refused[0]
    inc = written[0]
    if target == "resolved" and inc.merged_from:  # after the resolution, never in its transaction
        forget_merged(number)
    outcome = Outcome(target, number, actor, inc)
    if target == "escalated":
        engine.process_due(number, within=engine.TRIGGER_SECONDS)  # a person waits (Slack: 3 s)
    else:
        outcome.notices = followups.after_change(inc, actor, how, target, clock.now())
    timers.schedule(number, inc.due_at)
    return outcome


def apply(inc: Incident, actor: str, how: str, target: str, now: float) -> list[TimelineEntry]:
    """Change the incident in memory; return the timeline entries that go with it."""
    if target == "escalated":
        inc.escalation = escalation.escalate_now(inc.escalation, now)
        set_due(inc, now)
        return [entry(inc.number, "escalate_requested", now, actor=actor, channel=how)]
    inc.escalation = escalation.stopped(inc.escalation)
    inc.snoozed_until = None  # taken or closed: no snooze to run out
    set_due(inc, None)
    if target == "acknowledged":
        inc.state, inc.acknowledged_at, inc.acknowledged_by = "acknowledged", now, actor
        return [entry(inc.number, "acknowledged", now, actor=actor, channel=how,
                      detail={"tta_seconds": round(now - inc.created_at, 3)})]
    if any(e.kind == "repeated" for e in timeline_since(inc.number, now - RECENT_REPEATS_SECONDS)) \
            or (inc.merged_from and has_merged(inc.number)):
        # A container may still remember its dedup pointer: the sweeper looks for repeats
        # stored on it after this (chalicelib.incidents.dedup.reopen_late_repeats), and
        # deletes the merged duplicates' pointers that forget_merged could not.
        set_due(inc, now + LATE_REPEATS_SECONDS)
    inc.state, inc.resolved_at, inc.resolved_by = "resolved", now, actor
    return [entry(inc.number, "resolved", now, actor=actor, channel=how,
                  detail={"ttr_seconds": round(now - inc.created_at, 3)})]


# ---------------------------------------------------------------- merged duplicates
# A duplicate merged into incident N (chalicelib.incidents.actions.merge) leaves its dedup
# pointer pointing to N, so that its source's later events count on N; N keeps a note of each
# such pointer (pk INC#N, sk MERGED#<pointer's pk>) so that resolving N deletes them too:
# otherwise the duplicate's next events would be counted on a resolved incident for ever.
# They are deleted after the resolution is stored (forget_merged), not in its transaction:
# an alert storm merges far more than DynamoDB's 100 items per transaction.

MERGED = "MERGED#"
FORGET_BATCH = 25  # DynamoDB's BatchWriteItem takes 25 items


def merged_note(into: int, pointer_pk: str, duplicate: int) -> DedupKey:
    """The note on N that the pointer `pointer_pk` now points to it (from `duplicate`)."""
    return DedupKey(f"INC#{into}", f"{MERGED}{pointer_pk}", number=duplicate)


def merged_notes(number: int) -> list[DedupKey]:
    return list(DedupKey.query(f"INC#{number}", DedupKey.sk.startswith(MERGED), consistent_read=True))


def has_merged(number: int) -> bool:
    """Whether duplicates merged into this incident left pointers to it (notes not deleted yet)."""
    return any(True for _ in DedupKey.query(f"INC#{number}", DedupKey.sk.startswith(MERGED), limit=1,
                                            consistent_read=True))


def merged_note_of(number: int, pointer_pk: str) -> DedupKey | None:
    """The note that this pointer was left pointing to incident `number` by a merge, if so."""
    try:
        return DedupKey.get(f"INC#{number}", f"{MERGED}{pointer_pk}", consistent_read=True)
    except DoesNotExist:
        return None


def forget_pointer(pointer_pk: str, number: int) -> None:
    """Delete a dedup pointer if it still points to `number` (else it is another incident's)."""
    _, service, key = pointer_pk.split("#", 2)
    remember_pointer(service, key, None)
    try:
        DedupKey(pointer_pk).delete(condition=DedupKey.number == number)
    except DeleteError as exc:
        if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
            raise
        # gone already, or pointing to an incident opened since: theirs


def forget_merged(number: int) -> None:
    """Delete the merged duplicates' pointers that still point to this (resolved) incident,
    then their notes, a batch at a time: run after the resolution is stored, so a merge
    written meanwhile is not missed.  A note goes only once its pointer is gone, so a run
    that dies midway leaves the rest to the next one (the sweeper's look for late repeats,
    chalicelib.incidents.dedup.reopen_late_repeats, runs it again)."""
    notes = merged_notes(number)
    for start in range(0, len(notes), FORGET_BATCH):
        batch = notes[start:start + FORGET_BATCH]
        for note in batch:
            forget_pointer(note.sk[len(MERGED):], number)
        with DedupKey.batch_write() as writes:
            for note in batch:
                writes.delete(note)

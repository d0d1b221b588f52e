"""What responders do to an incident besides taking and closing it: note, reassign, snooze,
add responders, merge (as on PagerDuty or Opsgenie).

Each action is one version-guarded change (records.mutate) with the channel's idempotency
key, then what a person would notice: pages sent through the engine (retries, fallbacks),
notices to the others in their language, each on the timeline.  The answer is an Outcome,
turned into the same sentence on every channel (chalicelib.replies.answer).

A field that makes no sense (an unknown person or policy, a note too long, a duration out of
range) is a 400 naming it, before anything is read; a state that forbids the action is an
Outcome saying why (409).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pynamodb.exceptions import PutError

from .. import clock, errors, notify
from ..model import Bundle, Step
from ..notify.channels import Message
from ..notify.templates import local_time
from ..rotas import directory
from ..store import DedupKey, Incident, TimelineEntry
from ..text import clean
from . import engine, escalation, followups, timers
from .lifecycle import MERGED, Outcome, forget_merged, merged_note, merged_notes
from .records import (
    AlreadyDone,
    Change,
    Gone,
    dedup_pk,
    entry,
    get,
    mutate,
    record_notices,
    remember_pointer,
    seen,
    set_due,
    timeline,
)

NOTE_MAX = 2000
SNOOZE_DEFAULT, SNOOZE_MAX = 60, 1440  # minutes: a day at most
RESPONDERS_MAX = 10


class BadTarget(errors.BadRequest):
    """A person, policy or incident the action cannot go to."""

    code = "bad_target"


# ---------------------------------------------------------------- pure decisions

def note_text(value: Any) -> str:
    """A note as stored: cleaned text (chalicelib.text), 1 to NOTE_MAX characters."""
    text = clean(value).strip() if isinstance(value, str) else ""
    if not text or len(text) > NOTE_MAX:
        raise errors.BadRequest(f"'text' must be a note of 1 to {NOTE_MAX} characters / "
                                f"'text' doit être une note de 1 à {NOTE_MAX} caractères")
    return text


def snooze_minutes(value: Any) -> int:
    """Minutes to snooze: a whole number from 1 to SNOOZE_MAX (SNOOZE_DEFAULT when not given)."""
    if value is None:
        return SNOOZE_DEFAULT
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= SNOOZE_MAX:
        raise errors.BadRequest(f"'minutes' must be a whole number from 1 to {SNOOZE_MAX} / "
                                f"'minutes' doit être un nombre entier de 1 à {SNOOZE_MAX}")
    return value


def responder_ids(value: Any, known: Iterable[str]) -> list[str]:
    """The people to add: 1 to RESPONDERS_MAX ids of the directory, each once."""
    if not isinstance(value, list) or not 1 <= len(value) <= RESPONDERS_MAX \
            or not all(isinstance(p, str) for p in value):
        raise errors.BadRequest(f"'people' must be a list of 1 to {RESPONDERS_MAX} person ids / "
                                f"'people' doit être une liste de 1 à {RESPONDERS_MAX} identifiants")
    known = set(known)
    unknown = [p for p in value if p not in known]
    if unknown:
        names = ", ".join(repr(p[:40]) for p in unknown)
        raise BadTarget(f"'people': {names} not in the directory / "
                        f"'people' : {names} absent(s) de l'annuaire")
    return list(dict.fromkeys(value))


def previous_holders(state: str, acknowledged_by: str | None, pages: list[dict[str, Any]],
                     step: int) -> list[str]:
    """Who held the incident before a reassignment: who acknowledged it, else the people
    paged at its current step (`step` 0-based; page records count steps from 1)."""
    if state == "acknowledged" and acknowledged_by:
        return [acknowledged_by]
    return list(dict.fromkeys(str(p["to"]) for p in pages
                              if p.get("step") == step + 1 and not str(p["to"]).startswith("slack:")))


def others_paged(paged: Iterable[str], *besides: str | None) -> list[str]:
    """The people paged for the incident (team channels aside), but `besides`."""
    return [p for p in dict.fromkeys(paged) if not p.startswith("slack:") and p not in besides]


def with_people(paged: Any, more: Iterable[str]) -> Any:
    """An incident's `paged` with more people, each once, in order."""
    return list(dict.fromkeys([*map(str, paged or []), *more]))


def one_person_step(person: str, delay: float) -> Step:
    """A step of one person, on their own notification rules (reassign, add responders)."""
    return {"targets": [{"person": person}], "delay": delay, "channels": None}


def copy_of(item: TimelineEntry, into: int, duplicate: int) -> TimelineEntry:
    """A duplicate's timeline entry as it joins the kept incident: same time (the key keeps
    the order, and writing it twice writes one item), detail saying where it came from.  Its
    opening event joins as a `repeated` one: an event of the kept incident, counted in its
    event_count, beside the kept incident's own `triggered`."""
    kind = "repeated" if item.kind == "triggered" else item.kind
    detail = {**(item.detail or {}), "merged_from": duplicate}
    if kind != item.kind:
        detail["was"] = item.kind
    return TimelineEntry(f"INC#{into}", f"{item.sk}#m{duplicate}", at=item.at, kind=kind, actor=item.actor,
                         channel=item.channel, detail=detail)


# ---------------------------------------------------------------- the actions

Decide = Callable[[Incident, float], "tuple[Change, dict[str, Any]] | Outcome"]


def _act(number: int, actor: str, result: str, idem_key: str | None, decide: Decide) -> tuple[Outcome, bool]:
    """One change under the version guard (records.mutate), once per idempotency key; the
    Outcome says what it did (with `words` for the answer) or why it did nothing, and whether
    it was done now (False: refused, or a retried delivery answered as the first time)."""
    refused: list[Outcome] = []
    words: dict[str, Any] = {}

    def change(inc: Incident) -> Change | None:
        refused.clear()
        decided = decide(inc, clock.now())
        if isinstance(decided, Outcome):
            refused.append(decided)
            return None
        done, said = decided
        words.clear()
        words.update(said)
        if idem_key:
            done.once = (idem_key, {"result": result, "by": actor, "words": said})
        return done

    try:
        written = mutate(number, change)
    except Gone:
        return Outcome("no_incident", number), False
    except AlreadyDone as exc:  # the same delivery, handled meanwhile by another worker
        return _again(number, exc.answer, result), False
    if written is None:
        answer = seen(idem_key)
        return (_again(number, answer, result) if answer is not None else refused[0]), False
    return Outcome(result, number, actor, written[0], words=dict(words)), True


def _again(number: int, answer: Mapping[str, Any], result: str) -> Outcome:
    """A retried delivery of what already happened: the same answer, nothing done twice."""
    return Outcome(str(answer.get("result", result)), number, answer.get("by"), get(number),
                   words=dict(answer.get("words") or {}))


def _resolved(inc: Incident) -> Outcome | None:
    return Outcome("already_resolved", inc.number, inc.resolved_by, inc) if inc.state == "resolved" else None


def note(number: int, actor: str, how: str, text: Any, idem_key: str | None = None) -> Outcome:
    """A note on the timeline; the others paged are told (not once the incident is resolved:
    a post-mortem note is for the record)."""
    said = note_text(text)

    def decide(inc: Incident, now: float) -> tuple[Change, dict[str, Any]]:
        return Change(entries=[entry(number, "note", now, actor=actor, channel=how, detail={"text": said})],
                      save_incident=False), {}

    outcome, fresh = _act(number, actor, "noted", idem_key, decide)
    inc = outcome.incident
    if fresh and inc is not None and inc.state != "resolved":
        outcome.notices = tell(inc, others_paged(map(str, inc.paged or []), actor), "note_notice",
                               {"by": directory.name_of(actor), "text": said})
    return outcome


def reassign(number: int, actor: str, how: str, to: Any = None, policy: Any = None,
             idem_key: str | None = None) -> Outcome:
    """To a person: paged now on their own rules, the escalation restarted from the current
    step (its delay runs again).  To a policy: its step 1 pages now.  Either way the incident
    is unacknowledged again and whoever held it is told."""
    bundle = directory.bundle()
    if (to is None) == (policy is None):
        raise errors.BadRequest("give 'to' (a person id) or 'policy' (a policy id), not both / "
                                "indiquez 'to' (une personne) ou 'policy' (une politique), pas les deux")
    if to is not None and (not isinstance(to, str) or to not in bundle["people"]):
        raise BadTarget(f"'to': {str(to)[:40]!r} is not a person of the directory / "
                        f"'to' : {str(to)[:40]!r} n'est pas une personne de l'annuaire")
    if policy is not None and (not isinstance(policy, str) or policy not in bundle["policies"]):
        raise BadTarget(f"'policy': {str(policy)[:40]!r} is not an escalation policy / "
                        f"'policy' : {str(policy)[:40]!r} n'est pas une politique d'escalade")
    before: list[str] = []
    decided: list[escalation.Decision] = []
    context = {"kind": "reassigned", "by": actor, **latest_note(number)}  # said on their page

    def decide(inc: Incident, now: float) -> tuple[Change, dict[str, Any]] | Outcome:
        decided.clear()
        if (why := _resolved(inc)) is not None:
            return why
        if isinstance(to, str) and (why := unreachable(inc, [to], bundle)) is not None:
            return why
        state: escalation.State = inc.escalation or escalation.initial_state()
        before[:] = previous_holders(inc.state, inc.acknowledged_by, inc.pages or [], state["step"])
        engine.let_go(inc, now)
        if isinstance(to, str):
            step = max(0, state["step"])
            steps = bundle["policies"][inc.policy]["steps"] if inc.policy in bundle["policies"] else []
            delay = steps[step]["delay"] if step < len(steps) else 0
            inc.escalation = {"step": step, "loop": state["loop"], "next_step_at": now + delay, "pending": []}
            decided.append(page_now(inc, [to], bundle, now, why=context))
            detail: dict[str, Any] = {"to": to, "from": before}
            said = {"to": directory.name_of(to)}
        else:
            inc.policy, inc.escalation = str(policy), escalation.initial_state()
            set_due(inc, now)
            detail, said = {"policy": policy, "from": before}, {"to": bundle["policies"][str(policy)]["name"]}
        done = Change(entries=[entry(number, "reassigned", now, actor=actor, channel=how, detail=detail)])
        return done, said

    outcome, fresh = _act(number, actor, "reassigned", idem_key, decide)
    inc = outcome.incident
    if not fresh or inc is None:
        return outcome  # (a retried delivery: its pages are leased, the sweeper sends them if need be)
    if decided:
        engine.send_and_record(inc, decided[0], within=engine.TRIGGER_SECONDS)
    else:
        engine.process_due(number, within=engine.TRIGGER_SECONDS)
    # The pages sent before (inc as stored: not the new ones) are open again, saying to whom.
    engine.reopened(inc, "slack_reassigned",
                    {"to": outcome.words.get("to", "?"), "by": directory.name_of(actor)})
    outcome.notices = tell(inc, others_paged(before, actor, to), "reassigned_notice",
                           {"by": directory.name_of(actor), **outcome.words})
    return outcome


def snooze(number: int, actor: str, how: str, minutes: Any = None, idem_key: str | None = None,
           authorised: bool = False) -> Outcome:
    """An acknowledged incident comes back unacknowledged after `minutes`, and pages again
    from step 1 (chalicelib.incidents.engine.unsnooze)."""
    wait = snooze_minutes(minutes)

    def decide(inc: Incident, now: float) -> tuple[Change, dict[str, Any]] | Outcome:
        if (why := _resolved(inc)) is not None:
            return why
        if inc.state != "acknowledged":
            return Outcome("not_acknowledged", number, None, inc)
        if not authorised and actor not in (inc.paged or []):
            return Outcome("not_paged", number, None, inc)
        until = now + wait * 60
        inc.snoozed_until = until
        set_due(inc, until)
        return (Change(entries=[entry(number, "snoozed", now, actor=actor, channel=how,
                                      detail={"until": clock.iso(until), "minutes": wait})]),
                {"until": until_said(actor, until), "minutes": wait})

    outcome, fresh = _act(number, actor, "snoozed", idem_key, decide)
    if fresh and outcome.incident is not None:
        timers.schedule(number, outcome.incident.due_at)
    return outcome


def until_said(actor: str, until: float) -> str:
    """When a snooze ends, as its author reads it: in their time zone and language
    ("06:27 (heure de Paris)"), in UTC for a caller who is no person of the directory."""
    person = directory.person(actor)
    if person is None:
        return local_time("en", until, None)
    return local_time(person["language"], until, person["timezone"])


def add_responders(number: int, actor: str, how: str, people: Any, idem_key: str | None = None) -> Outcome:
    """Page more people now, on their own rules, without touching the escalation; they may
    then acknowledge it as anyone paged."""
    bundle = directory.bundle()
    who = responder_ids(people, bundle["people"])
    decided: list[escalation.Decision] = []
    context = {"kind": "added", "by": actor, **latest_note(number)}  # said on their page

    def decide(inc: Incident, now: float) -> tuple[Change, dict[str, Any]] | Outcome:
        decided.clear()
        if (why := _resolved(inc)) is not None:
            return why
        if (why := unreachable(inc, who, bundle)) is not None:
            return why
        decided.append(page_now(inc, who, bundle, now, why=context))
        return (Change(entries=[entry(number, "responders_added", now, actor=actor, channel=how,
                                      detail={"people": who})]),
                {"people": ", ".join(directory.name_of(p) for p in who)})

    outcome, fresh = _act(number, actor, "responders_added", idem_key, decide)
    if fresh and outcome.incident is not None and decided:
        engine.send_and_record(outcome.incident, decided[0], within=engine.TRIGGER_SECONDS)
    return outcome


def pages_for(person: str, inc: Incident, bundle: Bundle, now: float) -> list[escalation.PlannedPage]:
    """A person's pages for this incident at its current step, on their own rules; with no
    rule for its severity, their first urgent channel (engine.urgent_channel: SMS, Slack,
    email, never a call), as a fallback would.  Empty: nothing reaches them.  Each marked
    `added`: retried and fallen back on while the incident is not resolved (engine)."""
    step = max(0, (inc.escalation or escalation.initial_state())["step"])
    planned = escalation.plan_pages([person], step, one_person_step(person, 0), inc.severity, bundle, now)
    if not planned and (channel := engine.urgent_channel(bundle["people"][person])) is not None:
        planned = [{"to": person, "channel": channel, "at": now, "step": step}]
    return [{**p, "added": True} for p in planned]


NOTE_KEPT = 300  # characters of the latest note kept on a planned page (a page shows fewer)


def latest_note(number: int) -> dict[str, str]:
    """The incident's latest note, for the page of someone reassigned or added: {note, note_by},
    or nothing when it has none."""
    notes = [e for e in timeline(number) if e.kind == "note" and isinstance(e.detail, dict)]
    if not notes:
        return {}
    last = notes[-1]
    return {"note": str(last.detail.get("text") or "")[:NOTE_KEPT], "note_by": str(last.actor or "")}


def unreachable(inc: Incident, people: list[str], bundle: Bundle) -> Outcome | None:
    """`bad_target` naming who no page can reach (pages_for), or None."""
    nobody = [p for p in people if not pages_for(p, inc, bundle, 0.0)]
    if not nobody:
        return None
    return Outcome("bad_target", inc.number, None, inc,
                   words={"to": ", ".join(directory.name_of(p) for p in nobody), "sev": inc.severity})


def page_now(inc: Incident, people: list[str], bundle: Bundle, now: float,
             why: dict[str, Any] | None = None) -> escalation.Decision:
    """Pages for `people` (pages_for) at the incident's current step, claimed (leased) on the
    incident as the engine's own: engine.send_and_record sends them, retries and falls back
    while the incident is not resolved.  Their later pages (a call after 2 min) wait on a
    triggered incident only.  `why` ({kind: reassigned|added, by, note?, note_by?}): each page
    says it (chalicelib.notify.in_context)."""
    state: escalation.State = inc.escalation or escalation.initial_state()
    planned = [p for person in people for p in pages_for(person, inc, bundle, now)]
    if why:
        planned = [{**p, "why": dict(why)} for p in planned]
    later = [p for p in planned if p["at"] > now] if inc.state == "triggered" else []
    decision = escalation.Decision(state={**state, "pending": [*state["pending"], *later]},
                                   pages=[p for p in planned if p["at"] <= now])
    engine.claim(inc, decision, now)
    inc.paged = with_people(inc.paged, people)
    return decision


def merge(number: int, actor: str, how: str, into: Any, idem_key: str | None = None) -> Outcome:
    """This incident is a duplicate of `into`: resolved here (`merged` {into}), and on the kept
    one a `merged` {from} entry, copies of its timeline, the people it paged; its dedup_key
    (and those merged into it before) now count events on the kept one."""
    if isinstance(into, bool) or not isinstance(into, int) or into < 1:
        raise errors.BadRequest("'into' must be an incident number / 'into' doit être un numéro d'incident")
    if into == number:
        raise BadTarget(f"'into': #{number} cannot be merged into itself / "
                        f"'into' : #{number} ne peut pas être fusionné dans lui-même")

    def decide(dup: Incident, now: float) -> tuple[Change, dict[str, Any]] | Outcome:
        if dup.state == "resolved" and dup.merged_into == into:  # done, maybe not finished: again
            return Outcome("merged", number, dup.resolved_by, dup, words={"into": into})
        if (why := _resolved(dup)) is not None:
            return why
        kept = get(into)
        if kept is None:
            return Outcome("no_incident", into)
        if kept.state == "resolved":
            return Outcome("already_resolved", into, kept.resolved_by, kept)
        dup.state, dup.resolved_at, dup.resolved_by, dup.merged_into = "resolved", now, actor, into
        dup.escalation = escalation.stopped(dup.escalation or escalation.initial_state())
        dup.snoozed_until = None
        set_due(dup, None)
        merged = entry(number, "merged", now, actor=actor, channel=how, detail={"into": into})
        return Change(entries=[merged]), {"into": into}

    outcome, fresh = _act(number, actor, "merged", idem_key, decide)
    dup = outcome.incident if outcome.incident is not None and outcome.incident.number == number else None
    if outcome.result == "merged" and dup is not None and dup.merged_into == into:
        join(dup, into, actor, how)
        if fresh:
            outcome.notices = merged_followups(dup, into, actor)
    return outcome


def merged_followups(dup: Incident, into: int, actor: str) -> list[dict[str, Any]]:
    """The duplicate, resolved by its merge, as any resolution: its pages updated in place
    (no more buttons), the others paged told, "(→ #N)" saying where it went on.  Its ticket
    is not told now: its problem is not fixed; the kept incident's resolution tells it
    (followups.after_change, merged_into_it)."""
    return followups.tell_others(dup, actor, f"→ #{into}", "resolved", clock.now(), directory.bundle())


def join(dup: Incident, into: int, actor: str, how: str) -> None:
    """The merge's second half, on the kept incident; every write can be made again (a retry
    finishes what a Lambda that died left undone)."""
    number = dup.number
    now = clock.now()

    def on_kept(kept: Incident) -> Change | None:
        if kept.state == "resolved":
            return None
        kept.paged = with_people(kept.paged, map(str, dup.paged or []))
        kept.merged_from = list(dict.fromkeys([*(kept.merged_from or []), number, *(dup.merged_from or [])]))
        return Change(entries=[entry(into, "merged", now, actor=actor, channel=how, detail={"from": number})],
                      once=(f"merge:{number}:{into}", {"result": "merged"}))

    try:
        mutate(into, on_kept)
    except (Gone, AlreadyDone):
        pass
    # The duplicate's pointer, and those of incidents merged into it before, now point to the
    # kept one; a note on the kept one for each, written first, so that resolving it deletes them.
    pointers = [(dedup_pk(dup.service, dup.dedup_key), number)]
    pointers += [(n.sk[len(MERGED):], number) for n in merged_notes(number)]
    for pointer_pk, owner in pointers:
        merged_note(into, pointer_pk, owner).save()
        try:
            DedupKey(pointer_pk, number=into).save(condition=DedupKey.number.is_in(owner, into))
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) != "ConditionalCheckFailedException":
                raise  # (gone: the kept incident was resolved meanwhile, which deleted it)
    # This container's memory too; another one may still count events on the duplicate for
    # up to records.POINTER_SECONDS (they stay on its timeline).
    remember_pointer(dup.service, dup.dedup_key, into)
    with TimelineEntry.batch_write() as batch:
        for item in timeline(number):
            if item.kind != "merged":
                batch.save(copy_of(item, into, number))
    kept = get(into)
    if kept is None or kept.state == "resolved":  # resolved while we wrote the pointers
        forget_merged(into)


# ---------------------------------------------------------------- notices

def tell(inc: Incident, people: list[str], key: str, words: dict[str, Any]) -> list[dict[str, Any]]:
    """Tell people something about the incident, each in their language, on the channel
    they read first (Slack, email, SMS); each notice on the timeline as `notified`."""
    bundle = directory.bundle()
    records = []
    for pid in people:
        person = bundle["people"].get(pid)
        if person is None:
            continue
        lang = person["language"]
        said = {"number": inc.number, **words}
        message = Message(notify.text(lang, key, **said), notify.text(lang, f"{key}_subject", **said))
        records.append({**notify.tell(person, message, order=notify.READING), "notice": key})
    record_notices(inc.number, records)
    return records

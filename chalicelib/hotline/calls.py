"""A hotline call, webhook by webhook.  Every request is signed by Twilio (routes/hotline.py
verifies it first); a retried one changes nothing twice (idempotency records keyed by the
caller's CallSid and the step, as the other webhooks).

  incoming    the number is called: office hours -> forwarded; else the menu
  menu        a key: 9 switches language; a reason opens the incident, held (dedup.Hold:
              its pages wait while the call is routed live), and rings the first person
  whisper     the person's leg, before it is bridged: "press 1 to take the call"
  accept      they pressed 1: answered (the incident is acknowledged by them)
  dialed      the Dial ended: answered -> its duration, the incident resolved; else the next
              person, or voicemail when nobody is left
  voicemail   the message is recorded: on the timeline, and the held pages are released
  ended       the number's status callback: a caller who hung up before choosing a reason
              leaves no incident, only a `hotline_abandoned` item of the service's call log
              (HOTLINE#<service>, kept ABANDONED_DAYS, for the quality report); one who hangs
              up while being routed releases the pages

An agent's callback: a phone of the rotas (directory.person_by_phone) calling the number
gets no menu (at any hour) but, in their language, "the incident number, then #":
  callback    the number typed: a hotline incident of this service (resolved: within
              logic.CALLBACK_DAYS) -> `hotline_callback_started`, the incident acknowledged
              by the agent (if nobody had), and the customer dialled with callerId = the
              hotline number; a wrong one: an error and one more try, then goodbye
  callback_dialed  the Dial ended: `hotline_callback` (who, how long, status) on the
              timeline, and an answered callback in the incident's `calls` (intervention
              time in the astreinte report, as any answered call); the resolution rule is
              unchanged (a callback resolves nothing, reopens nothing)

After an answered call, its caller is asked to score it by SMS (csat.py).  `call_records`
reads the calls back for the quality report (quality.py does the arithmetic).

The caller's number is masked (access.mask_phone) in everything a person reads: the
summary, the timeline, the logs.  Whole only in the incident's event details.
"""
from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError

from .. import clock, errors, log
from .. import text as inbound
from ..access import mask_phone
from ..incidents import dedup, engine, lifecycle, records
from ..incidents.records import (
    AlreadyDone,
    Change,
    Gone,
    entry,
    get,
    idempotency,
    mutate,
    seen,
    timeline_since,
)
from ..intake import Event
from ..model import Hotline, MenuItem, Person, Service
from ..notify.templates import text
from ..reports import review
from ..rotas import directory
from ..store import Idempotency, Incident, TimelineEntry, conflict, transaction
from . import csat, logic, quality, twiml

SEVERITY = "eleve"
SOURCE = "hotline"
CALLER_PK = "HOTLINE#CALLER#{}"  # the caller's whole number, one item per incident (never shown)
CALLER_DAYS = 60
ABANDONED_DAYS = review.MAX_DAYS  # as far back as a report reads
REPORT_MAX_CALLS = 5000  # one timeline read per answered-or-not call with an incident


class BadRequest(errors.BadRequest):
    """A signed hotline request that names no call, incident or person we know."""


def _line(number: str) -> tuple[Service, Hotline]:
    for service in directory.bundle()["services"].values():
        hotline = service.get("hotline")
        if hotline and hotline["number"] == number:
            return service, hotline
    raise errors.NotFound(f"no service has the hotline {number[:20]!r} / aucun service n'a ce numéro",
                          code="hotline_not_found")


def _opened_key(call_sid: str) -> str:
    return f"hotline:{call_sid}:opened"


def _forwarded_key(call_sid: str) -> str:
    return f"hotline:{call_sid}:forwarded"


def _staff_key(call_sid: str) -> str:
    return f"hotline:{call_sid}:staff"


def _log_pk(service_id: str) -> str:
    return f"HOTLINE#{service_id}"


# ---------------------------------------------------------------- the caller's side

def incoming(params: dict[str, str]) -> str:
    service, hotline = _line(params.get("To", ""))
    agent = _staff(params)
    if agent is not None:  # one of ours, to call a customer back: no menu
        log.info("hotline_staff_call", service=service["id"], call_sid=params.get("CallSid"),
                 person=agent["id"])
        if params.get("CallSid"):  # its status callback is no abandoned call
            idempotency(_staff_key(params["CallSid"]), {"person": agent["id"]}).save()
        return twiml.callback_ask(agent["language"], service["name"], 0)
    if hotline["office_forward"] and logic.in_office_hours(service, clock.now()):
        log.info("hotline_forwarded", service=service["id"], call_sid=params.get("CallSid"),
                 caller=params.get("From"))
        if params.get("CallSid"):  # its status callback is no abandoned call
            idempotency(_forwarded_key(params["CallSid"]), {}).save()
        return twiml.forward(hotline["office_forward"], hotline["ring_seconds"])
    return _menu(service, hotline, hotline["languages"][0])


def forwarded(params: dict[str, str]) -> str:
    """The office's Dial ended: taken there (goodbye), or not (the menu, as out of hours)."""
    service, hotline = _line(params.get("To", ""))
    if params.get("DialCallStatus") == "completed":
        return twiml.goodbye(hotline["languages"][0], None)
    log.info("hotline_office_no_answer", service=service["id"], call_sid=params.get("CallSid"),
             status=params.get("DialCallStatus"))
    return _menu(service, hotline, hotline["languages"][0])


def _menu(service: Service, hotline: Hotline, lang: str) -> str:
    other = logic.next_language(hotline["languages"], lang)
    return twiml.menu(service["name"], hotline, lang, other if other != lang else None)


def menu(lang: str, params: dict[str, str]) -> str:
    service, hotline = _line(params.get("To", ""))
    if lang not in hotline["languages"]:
        raise BadRequest(f"'{lang[:10]}' is not a language of this hotline")
    digit = params.get("Digits", "")
    if digit == logic.SWITCH_KEY:
        return _menu(service, hotline, logic.next_language(hotline["languages"], lang))
    item = logic.choice(hotline, digit)
    if item is None:
        return _menu(service, hotline, lang)
    call_sid = params.get("CallSid", "")
    if not call_sid:
        raise BadRequest("a hotline call needs its CallSid")
    opened = seen(_opened_key(call_sid))
    if opened is not None:  # a retried delivery: the call was routed already
        inc = get(int(opened["number"]))
        if inc is None:
            raise BadRequest("this call's incident is gone")
        return _route(inc, service, hotline, 0, first=True)
    inc = _open(service, hotline, item, lang, params)
    return _route(inc, service, hotline, 0, first=True)


def _open(service: Service, hotline: Hotline, item: MenuItem, lang: str, params: dict[str, str]) -> Incident:
    """The incident for this call, held: its pages wait while the call is routed."""
    now = clock.now()
    caller, call_sid = params.get("From", ""), params["CallSid"]
    default = hotline["languages"][0]
    policy_id = item["policy"] or service["policies"]["default"]
    bundle = directory.bundle()
    people = [] if item["voicemail"] else logic.candidates(bundle["policies"][policy_id], bundle, now)
    reason = logic.label(item, default, hotline["languages"])
    masked = mask_phone(caller)
    event: Event = {
        "dedup_key": call_sid, "severity": SEVERITY, "source": SOURCE, "via": SOURCE, "actor": "caller",
        "summary": text(default, "hotline_summary", service=service["name"], reason=reason, caller=masked),
        "details": {"caller": masked, "call_sid": call_sid, "reason_key": item["key"], "reason": reason,
                    "language": lang, "people": people}}
    events: list[tuple[str, dict[str, Any]]] = [("hotline_call", {
        "caller": masked, "reason": reason, "key": item["key"], "language": lang,
        "max_wait_seconds": len(people) * hotline["ring_seconds"], "people": people})]
    if people:
        events.append(("hotline_ringing", {"to": people[0], "index": 0,
                                           "ring_seconds": hotline["ring_seconds"]}))
    else:
        events.append(("hotline_voicemail", {"why": "chosen" if item["voicemail"] else "nobody on call"}))
    hold = dedup.Hold(until=now + logic.hold_seconds(hotline, len(people)), policy=policy_id, events=events)
    inc, _ = dedup.trigger(service, event, hold)
    TimelineEntry(CALLER_PK.format(inc.number), "CALLER", at=now, kind="hotline_caller", actor="caller",
                  detail={"caller": caller}, expires=int(now + CALLER_DAYS * 86400)).save()
    idempotency(_opened_key(call_sid), {"number": inc.number}).save()
    return get(inc.number) or inc


def _people(inc: Incident) -> list[str]:
    """Who this call rings, as decided when it came in (the rotas at that instant): the list
    kept with the call, so that a sync of the rotas during the call changes nobody's place."""
    if (inc.details or {}).get("reason_key") is None:
        return []
    kept = (inc.details or {}).get("people")
    if isinstance(kept, list):
        return [str(p) for p in kept]
    bundle = directory.bundle()
    service = bundle["services"].get(inc.service)
    hotline = service.get("hotline") if service is not None else None
    item = logic.choice(hotline, inc.details["reason_key"]) if hotline else None
    policy = bundle["policies"].get(inc.policy)
    if item is None or item["voicemail"] or policy is None:
        return []
    return logic.candidates(policy, bundle, inc.created_at)


def _route(inc: Incident, service: Service, hotline: Hotline, index: int | None, first: bool = False) -> str:
    """Ring person `index` of the call, or voicemail (None, or nobody at that index)."""
    lang = (inc.details or {}).get("language") or hotline["languages"][0]
    people = _people(inc)
    if index is None or index >= len(people):
        return twiml.voicemail(lang, inc.number, hotline["voicemail_transcription"])
    person = directory.person(people[index])
    if person is None or not person["phone"]:
        raise BadRequest("the person to ring has left the directory")
    said = text(lang, "hotline_wait", minutes=logic.max_wait_minutes(hotline, len(people))) if first \
        else text(lang, "hotline_next")
    return twiml.ring(lang, said, person["phone"], f"{inc.number}.{index}", hotline["ring_seconds"],
                      caller_id=hotline["number"])


def _call(ref: str) -> tuple[Incident, Service, Hotline, int]:
    parsed = logic.parse_ref(ref)
    inc = get(parsed[0]) if parsed else None
    service = directory.bundle()["services"].get(inc.service) if inc else None
    hotline = service.get("hotline") if service else None
    if parsed is None or inc is None or service is None or not hotline or inc.source != SOURCE:
        raise BadRequest(f"'{ref[:30]}' is not a hotline call of ours")
    return inc, service, hotline, parsed[1]


def _check_sid(inc: Incident, params: dict[str, str]) -> str:
    """The caller's CallSid (the parent call's, on the agent's leg) must be this incident's."""
    sid = params.get("ParentCallSid") or params.get("CallSid", "")
    if sid != inc.dedup_key:
        raise BadRequest("this request is about another call")
    return sid


def dialed(ref: str, params: dict[str, str]) -> str:
    """The Dial ended: taken (the call is over: duration, resolved) or the next person."""
    inc, service, hotline, index = _call(ref)
    sid = _check_sid(inc, params)
    people = _people(inc)
    person = people[index] if index < len(people) else None
    # Taken: the person pressed 1 (recorded) and Twilio bridged the call (DialBridged, when
    # Twilio says it): a leg that failed after the key press is no call taken.
    taken = seen(f"hotline:{sid}:answered:{index}") is not None and params.get("DialBridged") != "false"
    nxt = None if taken else logic.next_index(len(people), index)
    answer: dict[str, Any]
    items: list[tuple[str, dict[str, Any]]]
    if taken:
        seconds = inbound.whole_number(params.get("DialCallDuration") or "0") or 0
        items = [("hotline_call_ended", {"by": person, "duration_seconds": seconds,
                                         "status": params.get("DialCallStatus")})]
        answer = {"taken": True}
    else:
        items = [("hotline_no_answer", {"to": person, "index": index,
                                        "status": params.get("DialCallStatus")})]
        if nxt is not None:
            items.append(("hotline_ringing", {"to": people[nxt], "index": nxt,
                                              "ring_seconds": hotline["ring_seconds"]}))
        else:
            items.append(("hotline_voicemail", {"why": "nobody answered"}))
        answer = {"next": nxt}
    first = True
    try:
        _note(inc.number, items, f"hotline:{sid}:dial:{index}", answer)
    except AlreadyDone as exc:
        answer, first = exc.answer, False
    if answer.get("taken"):
        if person is not None:
            lifecycle.resolve(inc.number, person, SOURCE, idem_key=f"hotline:{sid}:resolve", authorised=True)
        if first:  # once per call: a retried callback asks nothing twice
            csat.ask(inc, service["name"], _caller(inc) or "")
        return twiml.goodbye(hotline["languages"][0], None)
    return _route(inc, service, hotline, answer.get("next"))


def _note(number: int, items: list[tuple[str, dict[str, Any]]], key: str, answer: dict[str, Any],
          actor: str = "astreinte") -> None:
    """Timeline entries, once for this idempotency key (raises AlreadyDone on a retry)."""
    def change(inc: Incident) -> Change:
        now = clock.now()
        return Change(entries=[entry(number, kind, now, actor=actor, channel=SOURCE, detail=d)
                               for kind, d in items], once=(key, answer), save_incident=False)

    try:
        mutate(number, change)
    except Gone:
        raise BadRequest(f"incident {number} is gone") from None


# ---------------------------------------------------------------- the agent's leg

def _agent(inc: Incident, index: int) -> Person:
    people = _people(inc)
    person = directory.person(people[index]) if index < len(people) else None
    if person is None:
        raise BadRequest("no person at this place of the call")
    return person


def whisper(ref: str, params: dict[str, str]) -> str:
    inc, service, hotline, index = _call(ref)
    _check_sid(inc, params)
    person = _agent(inc, index)
    lang = person["language"]
    item = logic.choice(hotline, (inc.details or {}).get("reason_key", ""))
    reason = logic.label(item, lang, hotline["languages"]) if item else inc.summary
    return twiml.whisper(lang, text(lang, "hotline_whisper", service=service["name"], reason=reason), ref)


def accept(ref: str, params: dict[str, str]) -> str:
    """Key 1 on the whisper: the person takes the call (acknowledged by them); else their leg
    hangs up and the Dial goes on to the next person."""
    inc, _, hotline, index = _call(ref)
    sid = _check_sid(inc, params)
    person = _agent(inc, index)
    if params.get("Digits") != "1":
        return twiml.goodbye(person["language"], None)
    waited = round(clock.now() - inc.created_at, 1)
    # Acknowledged first: "answered" is what the Dial's end reads as taken, so it is written
    # only once the incident is theirs (a failure in between leaves the call to the next).
    lifecycle.acknowledge(inc.number, person["id"], SOURCE, idem_key=f"hotline:{sid}:ack", authorised=True)
    try:
        _note(inc.number, [("hotline_answered", {"by": person["id"], "index": index,
                                                 "wait_seconds": waited})],
              f"hotline:{sid}:answered:{index}", {"by": person["id"]})
    except AlreadyDone:
        pass
    return twiml.bridge()


# ---------------------------------------------------------------- voicemail, hang-ups

def voicemail(number: str, params: dict[str, str]) -> str:
    """The Record action: the message on the timeline, then the incident pages as any."""
    inc, _, hotline, _ = _call(f"{number}.0")
    sid = _check_sid(inc, params)
    lang = (inc.details or {}).get("language") or hotline["languages"][0]
    detail = {"recording_url": params.get("RecordingUrl"), "recording_sid": params.get("RecordingSid"),
              "duration_seconds": inbound.whole_number(params.get("RecordingDuration") or "0") or 0}
    try:
        _note(inc.number, [("voicemail", detail)], f"hotline:{sid}:voicemail", {})
    except AlreadyDone:
        pass  # a retried delivery: releasing again is safe (nothing twice), and may be needed
    engine.release(inc.number, {"why": "voicemail",
                                "note": "nobody took the call / personne n'a pris l'appel"})
    return twiml.goodbye(lang, "hotline_thanks")


def transcription(number: str, params: dict[str, str]) -> None:
    inc, _, _, _ = _call(f"{number}.0")
    sid = _check_sid(inc, params)
    detail = {"text": params.get("TranscriptionText", ""), "status": params.get("TranscriptionStatus"),
              "recording_url": params.get("RecordingUrl")}
    try:
        _note(inc.number, [("voicemail_transcription", detail)], f"hotline:{sid}:transcription", {})
    except AlreadyDone:
        pass


def ended(params: dict[str, str]) -> None:
    """The number's status callback: the caller's call is over."""
    service, _ = _line(params.get("To", ""))
    sid = params.get("CallSid", "")
    opened = seen(_opened_key(sid)) if sid else None
    if opened is None:
        # No reason chosen (or forwarded to the office), no incident: nothing is paged and
        # nothing stored but this line.
        if sid and seen(_forwarded_key(sid)) is None and seen(_staff_key(sid)) is None:
            _abandoned(service["id"], sid, params)
        log.info("hotline_abandoned", service=service["id"], call_sid=sid, caller=params.get("From"),
                 status=params.get("CallStatus"), seconds=params.get("CallDuration"))
        return
    released = engine.release(int(opened["number"]), {
        "why": "caller hung up", "note": "the caller hung up before anyone answered / "
                                         "l'appelant a raccroché avant toute réponse"})
    log.info("hotline_call_ended", service=service["id"], incident=opened["number"], released=released,
             seconds=params.get("CallDuration"))


def _abandoned(service_id: str, sid: str, params: dict[str, str]) -> None:
    """A caller gone before choosing a reason: one item of the service's call log, once."""
    now = clock.now()
    duration = params.get("CallDuration") or ""
    seconds = inbound.whole_number(duration) if duration else None
    item = TimelineEntry(_log_pk(service_id), f"T#{clock.iso(now)}#{sid[:64]}", at=now,
                         kind="hotline_abandoned", actor="caller", channel=SOURCE,
                         detail={"call_sid": sid[:64], "caller": mask_phone(params.get("From", "")),
                                 "seconds": seconds},
                         expires=int(now + ABANDONED_DAYS * 86400))
    try:
        with transaction() as tx:
            tx.save(item)
            tx.save(idempotency(f"hotline:{sid}:abandoned", {}), condition=Idempotency.pk.does_not_exist())
    except TransactWriteError as exc:
        if not conflict(exc):
            raise  # a retried callback wrote it already: nothing twice


# ---------------------------------------------------------------- an agent's callback

def _staff(params: dict[str, str]) -> Person | None:
    """The person of the rotas whose phone calls, or None (a customer)."""
    person = directory.person_by_phone(params.get("From", ""))
    return person if person is not None and person["phone"] else None


def _may_call_back(person: str, inc: Incident) -> bool:
    """Caller ID can be spoofed: a staff number alone must not dial any customer.  Only who
    was rung or paged for this call, or is a member or manager of the service's team, calls
    its customer back."""
    if person in (inc.paged or []) or person == inc.acknowledged_by:
        return True
    rung = [e.detail.get("to") for e in timeline_since(inc.number, inc.created_at)
            if e.kind == "hotline_ringing" and e.detail]
    if person in rung:
        return True
    bundle = directory.bundle()
    service = bundle["services"].get(inc.service)
    team = bundle["teams"].get(service.get("team") or "") if service is not None else None
    return team is not None and (person in team["members"] or person in team["managers"])


def _caller(inc: Incident) -> str | None:
    """The customer's whole number: kept out of the incident (people read it) in an item of
    its own that only the callback and the CSAT SMS read."""
    try:
        item = TimelineEntry.get(CALLER_PK.format(inc.number), "CALLER", consistent_read=True)
    except DoesNotExist:
        return None
    return str((item.detail or {}).get("caller") or "") or None


def _callback_key(call_sid: str) -> str:
    return f"hotline:{call_sid}:callback"


def callback(attempt: str, params: dict[str, str]) -> str:
    """The incident number the agent typed (try `attempt`): the customer dialled, or an error."""
    service, hotline = _line(params.get("To", ""))
    agent, sid = _staff(params), params.get("CallSid", "")
    tries = inbound.whole_number(attempt, 0, logic.CALLBACK_TRIES - 1)
    if agent is None or not sid or tries is None:
        raise BadRequest("only people of the rotas call customers back, in their call")
    lang = agent["language"]
    number = logic.incident_number(params.get("Digits", ""))
    inc = get(number) if number is not None else None
    caller = _caller(inc) if inc is not None else None
    why = logic.callback_refusal(service["id"], inc.service if inc else None, inc.source if inc else None,
                                 caller, inc.resolved_at if inc else None, clock.now(), hotline["number"],
                                 allowed=inc is not None and _may_call_back(agent["id"], inc))
    if inc is None or why is not None:
        log.info("hotline_callback_refused", service=service["id"], call_sid=sid, person=agent["id"],
                 digits=params.get("Digits", "")[:12], why=why, attempt=tries)
        said = [text(lang, f"hotline_callback_{why}", days=logic.CALLBACK_DAYS)]
        nxt = logic.next_try(tries)
        if nxt is None:
            return twiml.say_goodbye(lang, [*said, text(lang, "hotline_callback_bye")])
        return twiml.callback_ask(lang, service["name"], nxt, [*said, text(lang, "hotline_callback_again")])
    try:
        _note(inc.number, [("hotline_callback_started", {"by": agent["id"], "to": mask_phone(caller or ""),
                                                         "call_sid": sid})],
              _callback_key(sid), {"number": inc.number, "by": agent["id"]}, actor=agent["id"])
    except AlreadyDone as exc:  # a retried delivery: the same call, the same customer
        if exc.answer.get("number") != inc.number:
            raise BadRequest("this call already called another customer back") from None
    lifecycle.acknowledge(inc.number, agent["id"], SOURCE, idem_key=f"{_callback_key(sid)}:ack",
                          authorised=True)
    return twiml.callback_dial(lang, inc.number, caller or "", hotline["number"])


def callback_dialed(number: str, params: dict[str, str]) -> str:
    """The Dial to the customer ended: who called back, how long, on the timeline (once)."""
    _line(params.get("To", ""))
    agent, sid = _staff(params), params.get("CallSid", "")
    started = seen(_callback_key(sid)) if sid else None
    if agent is None or started is None or str(started.get("number")) != number:
        raise BadRequest("this request is about another call")
    status = params.get("DialCallStatus", "")
    duration = params.get("DialCallDuration") or "0"
    seconds = inbound.whole_number(duration) or 0
    answered = status == "completed" and seconds > 0

    def change(inc: Incident) -> Change:
        now = clock.now()
        if answered:  # intervention time, as any answered call (reports.astreinte)
            inc.calls = [*(inc.calls or []), {"at": now, "to": agent["id"], "seconds": seconds}]
        detail = {"by": agent["id"], "duration_seconds": seconds, "status": status, "call_sid": sid}
        return Change(entries=[entry(inc.number, "hotline_callback", now, actor=agent["id"], channel=SOURCE,
                                     detail=detail)],
                      once=(f"{_callback_key(sid)}:ended", {"answered": answered}), save_incident=answered)

    try:
        mutate(int(started["number"]), change)
    except AlreadyDone:
        pass
    except Gone:
        raise BadRequest(f"incident {number[:12]} is gone") from None
    over = "hotline_callback_over" if answered else "hotline_callback_no_answer"
    return twiml.goodbye(agent["language"], over)


# ---------------------------------------------------------------- the calls, for reports

def call_records(start: float, end: float, teams: set[str] | None = None) -> tuple[list[quality.Call], bool]:
    """The hotline calls that came in during [start, end) (`teams`: of these teams' services;
    None: all), and whether the list was cut at REPORT_MAX_CALLS."""
    bundle = directory.bundle()

    def team_of(service_id: str) -> str | None:
        service = bundle["services"].get(service_id)
        return service["team"] if service is not None else None

    out: list[quality.Call] = []
    for f in review.facts_between(start, end):
        if f["source"] != SOURCE or (teams is not None and f["team"] not in teams):
            continue
        if len(out) == REPORT_MAX_CALLS:
            return out, True
        rows = [(e.kind, e.at, e.detail) for e in records.timeline(f["number"])]
        out.append(quality.from_timeline(f["service"], f["team"], f["number"], f["created_at"], rows))
    for service_id, service in bundle["services"].items():
        if not service.get("hotline") or (teams is not None and team_of(service_id) not in teams):
            continue
        when = TimelineEntry.sk.between(f"T#{clock.iso(start)}", f"T#{clock.iso(end)}")
        for e in TimelineEntry.query(_log_pk(service_id), when):
            if e.kind == "hotline_abandoned" and start <= e.at < end:
                out.append(quality.Call(service=service_id, at=e.at, outcome="abandoned_menu",
                                        team=team_of(service_id)))
    return out, False


def report(start: float, end: float, zone: ZoneInfo, teams: set[str] | None = None) -> dict[str, Any]:
    """The quality figures of [start, end): overall, per service, team and agent, by hour of week."""
    calls, truncated = call_records(start, end, teams)
    return {"from": clock.iso(start), "to": clock.iso(end), "timezone": str(zone), "truncated": truncated,
            **quality.report(calls, zone)}

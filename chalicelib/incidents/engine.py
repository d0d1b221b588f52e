"""The escalation engine: run whatever is due on an incident, send its pages, record them.

Called inline after a trigger, by the per-step timer (SQS), and by the one-minute sweeper;
the version guard makes concurrent callers safe.  Pages are sent at least once: the write
that decides to page also moves those pages' due time a lease ahead; if the Lambda dies
before recording the delivery, the sweeper finds them due again and sends them.  A step's
pages go out in parallel; after a trigger the request waits for them at most
TRIGGER_SECONDS (send_and_record says what becomes of a page still being sent then).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from .. import clock, config, log, metrics, notify
from ..model import Bundle, Person
from ..notify.channels import REGISTRY, Message
from ..rotas import directory
from ..store import Incident, TimelineEntry
from . import escalation, flood, followups, timers
from .records import Change, Gone, entry, mutate, record_notices, set_due, timeline
from .views import view

LEASE_SECONDS = 60.0


def claim(inc: Incident, decision: escalation.Decision, now: float) -> None:
    """Put the decision on the incident, keeping the pages about to go out leased."""
    leased: list[escalation.PlannedPage] = [{**p, "at": now + LEASE_SECONDS, "leased": True}
                                            for p in decision.pages]
    state: escalation.State = {**decision.state, "pending": decision.state["pending"] + leased}
    inc.escalation = state
    for kind, detail in decision.events:
        if kind == "escalated":
            inc.paged = list(dict.fromkeys([*(inc.paged or []), *detail["to"]]))
    if decision.exhausted:
        inc.unanswered = True
    set_due(inc, next_due(inc))


def next_due(inc: Incident) -> float | None:
    """When an open incident has work next: its escalation's next step or page, or its
    snooze running out (an acknowledged incident's pending pages are added responders')."""
    times = [t for t in (escalation.next_due(inc.escalation), inc.snoozed_until) if t is not None]
    return min(times) if times else None


def added_pages_due(inc: Incident, now: float) -> escalation.Decision | None:
    """An acknowledged incident's pages that are due: added responders' (actions.page_now,
    marked `added`), their retries and fallbacks, or one whose lease ran out (its sender
    died).  Acknowledging clears every other pending page."""
    state: escalation.State = inc.escalation
    due = [p for p in state["pending"] if p["at"] <= now and p.get("added")]
    if not due:
        return None
    return escalation.Decision(state={**state, "pending": [p for p in state["pending"] if p not in due]},
                               pages=due)


def process_due(number: int, first: Incident | None = None, within: float | None = None) -> int:
    """Run whatever is due on this incident (steps, delayed pages); returns pages sent.
    `first`: a copy already in hand (the sweeper's), saving a read; `within`: how long to
    wait for the pages (send_and_record; None: until they are all back, the timer's and the
    sweeper's way).  A step that runs late is measured: EscalationLateness, the seconds
    between its due time and now."""
    decided: list[escalation.Decision] = []
    lateness: list[float] = []
    woken: list[str] = []  # whose snooze ran out: their pages say so once stored (reopened)

    def change(inc: Incident) -> Change | None:
        decided.clear()
        lateness.clear()
        woken.clear()
        now = clock.now()
        woke: list[TimelineEntry] = []
        if inc.state == "acknowledged" and inc.snoozed_until is not None and inc.snoozed_until <= now:
            woken.append(str(inc.acknowledged_by or ""))
            woke.append(unsnooze(inc, now))
        if inc.state == "acknowledged":  # added responders' pages, else due when the snooze ends
            added = added_pages_due(inc, now)
            if added is not None:
                claim(inc, added, now)
                decided.append(added)
                return Change()
            if inc.due_at == next_due(inc):
                return None
            set_due(inc, next_due(inc))
            return Change()
        if inc.state != "triggered":
            if inc.due_at is None or (inc.state == "resolved" and inc.due_at > now):
                return None  # (a resolved incident's look for late repeats is not due yet)
            set_due(inc, None)  # acknowledged or resolved meanwhile: off the due index
            return Change()
        if inc.due_at is None or inc.due_at > now:
            return None
        bundle = directory.bundle()
        policy = bundle["policies"].get(inc.policy)
        if policy is None:
            return Change(entries=woke) if woke else None
        step_due = inc.escalation.get("next_step_at")
        decision = escalation.tick(inc.escalation, policy, inc.severity, bundle, now)
        if not decision.pages and not decision.events and decision.state == inc.escalation:
            set_due(inc, escalation.next_due(inc.escalation))
            return Change(entries=woke)
        claim(inc, decision, now)
        decided.append(decision)
        if step_due is not None and step_due <= now and any(k == "escalated" for k, _ in decision.events):
            lateness.append(now - step_due)
        return Change(entries=[*woke, *(entry(number, kind, now, actor="astreinte", detail=d)
                                         for kind, d in decision.events)])

    try:
        done = mutate(number, change, first)
    except Gone:
        return 0
    if done is None:
        return 0
    try:
        if not decided:
            return 0
        for late in lateness:
            metrics.seconds("EscalationLateness", late)
        send_and_record(done[0], decided[0], within=within)
        return len(decided[0].pages)
    finally:  # its new pages first; then those sent before say it is open again
        if woken:
            reopened(done[0], "slack_reopened", {"by": directory.name_of(woken[0]) if woken[0] else "?"})


def unsnooze(inc: Incident, now: float) -> TimelineEntry:
    """A snooze ran out (chalicelib.incidents.actions.snooze): the incident is unacknowledged
    again and its escalation starts over from step 1, due now."""
    until, holder = inc.snoozed_until, inc.acknowledged_by
    let_go(inc, now)
    inc.escalation = escalation.initial_state()
    set_due(inc, now)
    return entry(inc.number, "unsnoozed", now, actor="astreinte",
                 detail={"snoozed_until": clock.iso(until) if until is not None else None, "holder": holder})


def reopened(inc: Incident, footer_key: str, words: dict[str, Any]) -> list[dict[str, Any]]:
    """An incident triggered again (a snooze ran out, reassigned): the pages already sent that
    can be edited in place (Slack) get the triggered buttons back, and a footer saying why
    (`footer_key`: slack_reopened {by}, slack_reassigned {to, by}).  `inc`: as stored by the
    change, before any new page (its `sent`: the pages sent before).  Run once the change is
    stored, never inside it; never raises (logged and counted)."""
    try:
        bundle: Bundle = directory.bundle()
        about = {**view(inc, bundle), "created_at": inc.created_at}
        sent = followups.sent_pages(inc)
        zones = {pid: p["timezone"] for pid, p in bundle["people"].items()}
        records = notify.update_pages(sent, about, "triggered",
                                      lambda lang: notify.text(lang, footer_key, **words), zones=zones)
        record_notices(inc.number, records)
        return records
    except Exception as exc:  # noqa: BLE001 - the change is stored: its pages' update fails alone
        log.error("pages_not_updated", incident=inc.number, error=f"{type(exc).__name__}: {str(exc)[:300]}")
        metrics.count("HandlerErrors")
        return []


def why_called(number: int, person: str) -> dict[str, Any] | None:
    """Why a call to `person` was placed, for its words when answered (the TwiML is fetched
    then; chalicelib.notify.voice.page_said): its `paged` entry's `why` (notify.deliver), by
    whom (the latest reassignment to them, or adding them), the latest note.  None: an
    ordinary page."""
    entries = timeline(number)
    calls = [e for e in entries if e.kind == "paged" and isinstance(e.detail, dict)
             and e.detail.get("to") == person and e.channel == "voice"]
    kind = calls[-1].detail.get("why") if calls else None
    if kind not in ("reassigned", "added"):
        return None
    by = None
    for e in entries:
        detail = e.detail if isinstance(e.detail, dict) else {}
        if (kind == "reassigned" and e.kind == "reassigned" and detail.get("to") == person) or \
                (kind == "added" and e.kind == "responders_added" and person in (detail.get("people") or [])):
            by = e.actor
    notes = [e for e in entries if e.kind == "note" and isinstance(e.detail, dict)]
    why: dict[str, Any] = {"kind": kind, "by": by}
    if notes:
        why.update(note=str(notes[-1].detail.get("text") or ""), note_by=notes[-1].actor)
    return why


def let_go(inc: Incident, now: float) -> None:
    """Unacknowledged again (reassigned, or a snooze ran out), the holder's acknowledgement
    kept for the reports: the first one as `first_acknowledged_at` (TTA and the SLA count to
    it, not to whoever takes it next), and each holder's time, from their acknowledgement to
    now, in `earlier_holds` (payroll's interventions: reports.astreinte).  A snoozed incident
    stays its holder's until the snooze runs out: their call to wait."""
    if inc.state == "acknowledged" and inc.acknowledged_at is not None:
        if inc.first_acknowledged_at is None:
            inc.first_acknowledged_at = inc.acknowledged_at
        inc.earlier_holds = [*(inc.earlier_holds or []),
                             {"by": inc.acknowledged_by, "from": inc.acknowledged_at, "to": now}]
    inc.state, inc.acknowledged_at, inc.acknowledged_by = "triggered", None, None
    inc.snoozed_until = None


def release(number: int, detail: dict[str, Any]) -> bool:
    """Page a held incident now (dedup.Hold; a deferred one too): step 1, due later, is made
    due now and run, with a `released` entry saying why.  False when there was nothing to
    release: step 1 already ran, or the incident was acknowledged, resolved or is in a
    maintenance window (nothing due)."""
    def change(inc: Incident) -> Change | None:
        state = inc.escalation or escalation.initial_state()
        if inc.state != "triggered" or state["step"] >= 0 or state["next_step_at"] is None:
            return None
        now = clock.now()
        inc.escalation = {**state, "next_step_at": now}
        set_due(inc, now)
        return Change(entries=[entry(number, "released", now, actor="astreinte", detail=detail)])

    try:
        if mutate(number, change) is None:
            return False
    except Gone:
        return False
    process_due(number, within=TRIGGER_SECONDS)
    return True


TRIGGER_SECONDS = 2.5  # a trigger's pages get this long: its answer, recorded, leaves within ~3 s
MAX_PARALLEL = 10
RECORD_WAIT_SECONDS = 30.0  # a late page waits this long at most for its request's own record
Key = tuple[str, str, int]  # (to, channel, step): a page of a step


def send_and_record(inc: Incident, decision: escalation.Decision,
                    within: float | None = TRIGGER_SECONDS) -> None:
    """Send the claimed pages, in parallel, then record each delivery and release its lease.

    A page that failed is sent again later (RETRY_BACKOFF) while the incident is triggered,
    unless the provider said never; at its first failure the person's next channel is tried
    at once.  Both are pending pages on the incident, so they survive the Lambda.

    `within` (seconds; None: no limit but the Lambda's) bounds the wait: inline after a
    trigger (dedup.trigger) the answer must not wait on a slow provider (API Gateway gives up
    at 29 s; 3 targets, 3 tries of 5 s each).  The pages back by then are recorded as usual.
    A page still being sent stays leased, its lease cut to `late_lease()` (past the longest
    its send can take: every try of `notify.with_retries` timing out) and the incident's timer
    set for then.  Its thread records it alone when it comes back (`_late`), releasing the lease
    if it is still the one this send holds.  If the Lambda is frozen after its answer (or
    dies) first, the lease ends and the timer or the sweeper sends the page again: at least
    once, as every page (a page that reached the provider before the freeze may then arrive
    twice; its late record, when the container thaws, is kept on the timeline beside the
    second send's, and releases nothing).  Nothing a late thread does can fail the request
    that is gone: its errors are logged."""
    if not decision.pages:
        timers.schedule(inc.number, inc.due_at)
        return
    started = time.monotonic()
    bundle: Bundle = directory.bundle()
    about = {**view(inc, bundle), "created_at": inc.created_at}  # (a person's page: in their time)
    now = clock.now()
    first_step = decision.state["step"] == 0 and decision.state["loop"] == 0
    critique_first = inc.severity == "critique" and first_step  # never held
    pages = list(decision.pages)
    # The leases this send holds (claim's; then the cut one): a late page releases only these.
    held = {_key(p): {p["at"]} for p in (inc.escalation or {}).get("pending", []) if p.get("leased")}
    sending = _Sending()

    def send(i: int, page: escalation.PlannedPage) -> None:
        outcome: notify.Delivery | Exception
        try:
            if not page["to"].startswith("slack:") and "attempt" not in page \
                    and flood.held(page["to"], inc.number, critique_first, now):
                outcome = _held(page)
            else:
                outcome = notify.deliver(dict(page), about, bundle["people"])
        except Exception as exc:  # noqa: BLE001 - raised again by the caller, or logged if late
            outcome = exc
        with sending.lock:
            if not sending.closed:
                sending.results[i] = outcome
                return
        _late(inc.number, page, outcome, sending, held.get(_key(page), set()), bundle)

    pool = ThreadPoolExecutor(max_workers=min(len(pages), MAX_PARALLEL), thread_name_prefix="page")
    futures = [pool.submit(send, i, page) for i, page in enumerate(pages)]
    pool.shutdown(wait=False)  # the threads end with their page: nobody waits past the deadline
    wait(futures, timeout=None if within is None else max(0.0, within - (time.monotonic() - started)))
    with sending.lock:
        sending.closed = True
        results = dict(sending.results)
    late = [p for i, p in enumerate(pages) if i not in results]
    try:
        raised = [r for r in results.values() if isinstance(r, Exception)]
        done = [(pages[i], r) for i, r in sorted(results.items()) if isinstance(r, notify.Delivery)]
        if raised:  # (the store, in flood.held): that page stays leased and goes again later, but
            if done:  # the pages that did go out are recorded first, not sent twice
                gone_out = [page for page, _ in done]
                _record(inc.number, inc, done, pages, bundle, late=[p for p in pages if p not in gone_out])
            raise raised[0]
        if late:
            sending.late_at = clock.now() + late_lease()
            waited = round(time.monotonic() - started, 2)
            log.warning("pages_still_sending", incident=inc.number, waited=waited,
                        pages=[{"to": p["to"], "channel": p["channel"]} for p in late],
                        due_again=clock.iso(sending.late_at))
        _record(inc.number, inc, done, pages, bundle, late=late, late_at=sending.late_at)
    finally:
        sending.recorded.set()


class _Sending:
    """One send_and_record's pages: each comes back before the deadline (in `results`,
    recorded with the others) or after it (`closed`: recorded by its own thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.results: dict[int, notify.Delivery | Exception] = {}
        self.closed = False
        self.late_at: float | None = None  # the cut lease of the pages still being sent
        self.recorded = threading.Event()  # the request's own record is written (or failed)


def late_lease() -> float:
    """How long a page still being sent after a trigger's answer stays leased: past every try
    of its send timing out (a try may wait for the connection and then for the answer, each
    up to the timeout; the store read before it and a secret refresh too), so a send that is
    running is not doubled by the sweeper.  Never shorter than the usual lease."""
    s = config.settings()
    tries = len(notify.RETRY_DELAYS) + 1
    worst = tries * 2 * s.http_timeout_seconds + sum(notify.RETRY_DELAYS) + 2 * s.store_timeout_seconds + 5.0
    return max(LEASE_SECONDS, worst)


def _late(number: int, page: escalation.PlannedPage, outcome: notify.Delivery | Exception, sending: _Sending,
          leases: set[float], bundle: Bundle) -> None:
    """A page that came back after its request answered: recorded alone, in its own thread
    (never raises: there is nobody left to tell but the log)."""
    try:
        sending.recorded.wait(RECORD_WAIT_SECONDS)  # the request's record first: it cut this lease
        if isinstance(outcome, Exception):
            raise outcome
        owned = set(leases)
        if sending.late_at is not None:
            owned.add(sending.late_at)
        _record(number, None, [(page, outcome)], [], bundle, owned=owned)
    except Exception as exc:  # noqa: BLE001
        log.error("late_page_not_recorded", incident=number, channel=page["channel"], to=page["to"],
                  error=f"{type(exc).__name__}: {exc}"[:300])


def _key(page: Mapping[str, Any]) -> Key:
    return (page["to"], page["channel"], page["step"])


def _record(number: int, first: Incident | None, done: list[tuple[escalation.PlannedPage, notify.Delivery]],
            batch: list[escalation.PlannedPage], bundle: Bundle, late: Sequence[escalation.PlannedPage] = (),
            late_at: float | None = None, owned: set[float] | None = None) -> None:
    """Record deliveries on the incident: timeline, `pages`, `sent`; release their leases and
    plan again what failed.  `late`: pages still being sent, their lease cut to `late_at`.
    `owned`: release only a lease at one of these times (a page recorded after its request
    answered: the lease may have ended and another worker sent it again)."""
    deliveries = [d for _, d in done]
    sent_keys = {_key(p) for p, _ in done}
    late_keys = {_key(p) for p in late}
    released: set[Key] = set()
    fallbacks: list[escalation.PlannedPage] = []

    def ours(p: escalation.PlannedPage) -> bool:
        return bool(p.get("leased")) and _key(p) in sent_keys and (owned is None or p["at"] in owned)

    def change(fresh: Incident) -> Change:
        now = clock.now()
        state: escalation.State = fresh.escalation
        delivered = {(d.record["to"], d.record["channel"]) for d in deliveries if d.record["ok"]}
        released.clear()
        released.update(_key(p) for p in state["pending"] if ours(p))
        # Released: the pages just sent; and a retry still waiting for a page that has now got
        # through (sent again by a repeat of the policy, or by another worker).
        kept = [p for p in state["pending"]
                if not ours(p) and not ("attempt" in p and (p["to"], p["channel"]) in delivered)]
        if late_at is not None:  # still being sent: due again soon if their thread never comes back
            kept = [{**p, "at": min(p["at"], late_at)} if p.get("leased") and _key(p) in late_keys else p
                    for p in kept]
        fallbacks.clear()
        for d in deliveries:  # said again on each try: a re-read may decide otherwise
            for said in ("attempt", "retry_at", "fallback"):
                d.record.pop(said, None)
        reached = {to for to, _ in delivered}
        for page, d in done:  # tried again while triggered; an added responder's while its lease
            # is still on the acknowledged incident (acknowledging clears those sent before)
            acknowledged = fresh.state == "acknowledged" and page.get("added") and _key(page) in released
            goes_on = fresh.state == "triggered" or acknowledged
            if goes_on and not d.record["ok"] and (owned is None or _key(page) in released):
                kept += _again(fresh, page, d.record, kept, batch, reached, bundle, now, fallbacks)
        state = {**state, "pending": kept}
        fresh.escalation = state
        sent = [d.sent.as_dict() for d in deliveries if d.sent is not None]
        if sent:
            fresh.sent = [*(fresh.sent or []), *sent]
        if fresh.state != "resolved":
            set_due(fresh, next_due(fresh))
        # Reports read `pages`: what got through, and a page's first failure; every attempt
        # is on the timeline (a long outage must not grow the incident's item without end).
        fresh.pages = [*(fresh.pages or []),
                       *({"at": now, **{k: d.record[k] for k in ("to", "channel", "step", "ok")}}
                         for d in deliveries if d.record["ok"] or d.record.get("attempt", 1) == 1)]
        items: list[TimelineEntry] = [entry(fresh.number, "paged", now, actor="astreinte",
                                            channel=d.record["channel"], detail=d.record) for d in deliveries]
        return Change(entries=items)

    failed = [d for d in deliveries if not d.record["ok"]]
    try:
        written = mutate(number, change, first=first)
    except Gone:
        return
    finally:  # loud even when it could not be recorded
        for d in failed:
            log.error("page_failed", incident=number, address=d.address, **d.record)
    retried = sum(1 for d in failed if "retry_at" in d.record)
    if retried:
        metrics.count("PagesRetried", retried)
    if written is None:
        return
    permanent = [d.record for d in failed if d.record.get("permanent")]
    followups.tell_managers_of_permanent_failures(written[0], permanent, bundle)
    tell_who_added(written[0], [d.record for d in failed if d.record.get("gave_up")], bundle)
    # A fallback is due now, or a page still being sent is due again soon: the timer (or the
    # runner) sends it then.
    timers.schedule(number, written[0].due_at)


def undelivered(number: int, to: str, channel: str, detail: dict[str, Any]) -> None:
    """A page the provider accepted and later said never arrived (Twilio's "undelivered"):
    planned again and the person's next channel tried, as if the send had failed."""
    bundle: Bundle = directory.bundle()
    fallbacks: list[escalation.PlannedPage] = []
    record: dict[str, Any] = {}

    def change(inc: Incident) -> Change | None:
        if inc.state != "triggered":
            return None
        now = clock.now()
        state: escalation.State = inc.escalation
        step = max(0, state["step"])
        page: escalation.PlannedPage = {"to": to, "channel": channel, "at": now, "step": step}
        fallbacks.clear()
        record.clear()
        record.update(detail, to=to, channel=channel, ok=False)
        added = _again(inc, page, record, list(state["pending"]), [], set(), bundle, now, fallbacks,
                       undelivered=True)
        state = {**state, "pending": [*state["pending"], *added]}
        inc.escalation = state
        set_due(inc, escalation.next_due(state))
        return Change(entries=[entry(number, "undelivered", now, actor="astreinte", channel=channel,
                                     detail=record)])

    try:
        done = mutate(number, change)
    except Gone:
        return
    if done is None:
        return
    metrics.count("PagesFailed")
    if "retry_at" in record:
        metrics.count("PagesRetried")
    log.error("page_undelivered", incident=number, **record)
    if record.get("permanent"):
        followups.tell_managers_of_permanent_failures(done[0], [record], bundle)
    timers.schedule(number, done[0].due_at)


def _held(page: escalation.PlannedPage) -> notify.Delivery:
    """A page kept for the person's flood bundle (chalicelib.incidents.flood): it goes out with
    the others when the window ends."""
    return notify.Delivery({"to": page["to"], "channel": page["channel"], "step": page["step"] + 1,
                            "ok": True, "bundled": True}, None)


RETRY_BACKOFF = (30, 60, 120, 240, 480, 600)  # seconds after each failed attempt; then every 10 min
Planned = escalation.PlannedPage


def _again(inc: Incident, page: Planned, record: dict[str, Any], pending: list[Planned], batch: list[Planned],
           reached: set[str], bundle: Bundle, now: float, fallbacks: list[Planned],
           undelivered: bool = False) -> list[Planned]:
    """What a failed page plans: the same page again later (unless never deliverable; one
    retry per person and channel), and at its first failure, unless the person was reached
    some other way for this step, their next channel now.  Said in the page's record."""
    attempt = page.get("attempt", 0) + 1
    record["attempt"] = attempt
    out: list[Planned] = []
    same = (page["to"], page["channel"])
    waiting = any("attempt" in p and (p["to"], p["channel"]) == same for p in pending)
    # An added responder's page on an acknowledged incident goes through the backoff once
    # (about 25 minutes), not for ever: then whoever added them is told (tell_who_added).
    tries_left = inc.state == "triggered" or attempt <= len(RETRY_BACKOFF)
    if not record.get("permanent") and not waiting and tries_left:
        at = now + RETRY_BACKOFF[min(attempt, len(RETRY_BACKOFF)) - 1]
        retry: Planned = {"to": page["to"], "channel": page["channel"], "at": at, "step": page["step"],
                          "attempt": attempt}
        out.append(_added_if(page, retry))
        record["retry_at"] = clock.iso(at)
    got_through = page["to"] in reached or any(  # (a page said undelivered later did not)
        p["to"] == page["to"] and p["step"] == page["step"] + 1 and p.get("ok")
        and not (undelivered and p["channel"] == page["channel"]) for p in inc.pages or [])
    if attempt == 1 and not got_through:
        channel = _next_channel(inc, page, [*pending, *batch], bundle)
        if channel is not None:
            fallback: Planned = _added_if(page, {"to": page["to"], "channel": channel, "at": now,
                                                 "step": page["step"], "fallback_for": page["channel"]})
            out.append(fallback)
            fallbacks.append(fallback)
            record["fallback"] = channel
    if page.get("added") and inc.state != "triggered" and not out and not waiting:
        record["gave_up"] = True  # nothing more will be tried: tell_who_added
    return out


def _added_if(page: Planned, planned: Planned) -> Planned:
    """A retry or fallback of an added responder's page is one too, and says why as it did."""
    if "why" in page:
        planned = {**planned, "why": page["why"]}
    return {**planned, "added": True} if page.get("added") else planned


def tell_who_added(inc: Incident, records: list[dict[str, Any]], bundle: Bundle) -> None:
    """An added responder's page that failed for good (nothing more will be tried): the
    person who added them (the latest `responders_added` naming them) is told, in their
    language, on the channel they read first; on the timeline as `notified`."""
    if not records:
        return
    added_by = {p: e.actor for e in timeline(inc.number) if e.kind == "responders_added"
                for p in (e.detail or {}).get("people", [])}
    notices = []
    for r in records:
        asker = bundle["people"].get(str(added_by.get(r["to"])))
        if asker is None:
            continue
        words = {"number": inc.number, "name": directory.name_of(r["to"]), "channel": r["channel"],
                 "error": str(r.get("error", ""))[:160]}
        lang = asker["language"]
        message = Message(notify.text(lang, "responder_unreachable", **words),
                          notify.text(lang, "responder_unreachable_subject", **words))
        notices.append({**notify.tell(asker, message, order=notify.READING),
                        "notice": "responder_unreachable", "about": r["to"]})
    record_notices(inc.number, notices)


def _next_channel(inc: Incident, page: Planned, pending: list[Planned], bundle: Bundle) -> str | None:
    """The person's next way to be reached for this step: their rules' other channels for
    this severity, in order, then SMS, Slack, email (never a call they did not ask for);
    none already tried, being tried (`pending` holds this batch too) or planned."""
    person = bundle["people"].get(page["to"])
    if person is None:
        return None
    tried = {p["channel"] for p in inc.pages or [] if p["to"] == page["to"] and p["step"] == page["step"] + 1}
    tried |= {p["channel"] for p in pending if p["to"] == page["to"] and p["step"] == page["step"]}
    tried.add(page["channel"])
    mine = [r["channel"] for r in person["notify"] if inc.severity in r["severities"]]
    return next((name for name in dict.fromkeys([*mine, *notify.URGENT])
                 if name not in tried and _reaches(name, person)), None)


def urgent_channel(person: Person) -> str | None:
    """The first channel that reaches a person without a rule of theirs asking for it (SMS,
    Slack, email: never a call they did not ask for), as a fallback would; None: none does."""
    return next((name for name in notify.URGENT if _reaches(name, person)), None)


def _reaches(name: str, person: Person) -> bool:
    """The channel is set up here and the person has an address on it."""
    channel = REGISTRY.get(name)
    return channel is not None and bool(channel.address(person)) and not channel.configured()

"""The escalation engine: run whatever is due on an incident, send its pages, record them.

Called inline after a trigger, by the per-step timer (SQS), and by the one-minute sweeper;
the version guard makes concurrent callers safe.  Pages are sent at least once: the write
that decides to page also moves those pages' due time a lease ahead; if the Lambda dies
before recording the delivery, the sweeper finds them due again and sends them.
"""
from __future__ import annotations

from typing import Any

from .. import clock, log, notify
from ..model import Bundle
from ..notify.channels import REGISTRY
from ..rotas import directory
from ..store import Incident, TimelineEntry
from . import escalation, flood, followups, timers
from .records import Change, Gone, entry, mutate, set_due
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
    set_due(inc, escalation.next_due(state))


def process_due(number: int, first: Incident | None = None) -> int:
    """Run whatever is due on this incident (steps, delayed pages); returns pages sent.
    `first`: a copy already in hand (the sweeper's), saving a read."""
    decided: list[escalation.Decision] = []

    def change(inc: Incident) -> Change | None:
        decided.clear()
        now = clock.now()
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
            return None
        decision = escalation.tick(inc.escalation, policy, inc.severity, bundle, now)
        if not decision.pages and not decision.events and decision.state == inc.escalation:
            set_due(inc, escalation.next_due(inc.escalation))
            return Change()
        claim(inc, decision, now)
        decided.append(decision)
        return Change(entries=[entry(number, kind, now, actor="astreinte", detail=d)
                               for kind, d in decision.events])

    try:
        done = mutate(number, change, first)
    except Gone:
        return 0
    if done is None or not decided:
        return 0
    send_and_record(done[0], decided[0])
    return len(decided[0].pages)


def send_and_record(inc: Incident, decision: escalation.Decision) -> None:
    """Send the claimed pages, then record each delivery and release the lease.

    A page that failed is sent again later (RETRY_BACKOFF) while the incident is triggered,
    unless the provider said never; at its first failure the person's next channel is tried
    at once.  Both are pending pages on the incident, so they survive the Lambda."""
    if not decision.pages:
        timers.schedule(inc.number, inc.due_at)
        return
    bundle: Bundle = directory.bundle()
    about = view(inc, bundle)
    now = clock.now()
    first_step = decision.state["step"] == 0 and decision.state["loop"] == 0
    critique_first = inc.severity == "critique" and first_step  # never held
    deliveries = [_held(page) if not page["to"].startswith("slack:") and "attempt" not in page
                  and flood.held(page["to"], inc.number, critique_first, now)
                  else notify.deliver(dict(page), about, bundle["people"]) for page in decision.pages]
    claimed = {(p["to"], p["channel"], p["step"]) for p in decision.pages}
    fallbacks: list[escalation.PlannedPage] = []

    def change(fresh: Incident) -> Change:
        now = clock.now()
        state: escalation.State = fresh.escalation
        delivered = {(d.record["to"], d.record["channel"]) for d in deliveries if d.record["ok"]}
        # Released: the pages just sent; and a retry still waiting for a page that has now got
        # through (sent again by a repeat of the policy, or by another worker).
        kept = [p for p in state["pending"]
                if not (p.get("leased") and (p["to"], p["channel"], p["step"]) in claimed)
                and not ("attempt" in p and (p["to"], p["channel"]) in delivered)]
        fallbacks.clear()
        for d in deliveries:  # said again on each try: a re-read may decide otherwise
            for said in ("attempt", "retry_at", "fallback"):
                d.record.pop(said, None)
        if fresh.state == "triggered":
            reached = {to for to, _ in delivered}
            for page, d in zip(decision.pages, deliveries, strict=True):
                if not d.record["ok"]:
                    kept += _again(fresh, page, d.record, kept, decision.pages, reached, bundle, now,
                                   fallbacks)
        state = {**state, "pending": kept}
        fresh.escalation = state
        sent = [d.sent.as_dict() for d in deliveries if d.sent is not None]
        if sent:
            fresh.sent = [*(fresh.sent or []), *sent]
        if fresh.state == "triggered":
            set_due(fresh, escalation.next_due(state))
        # Reports read `pages`: what got through, and a page's first failure; every attempt
        # is on the timeline (a long outage must not grow the incident's item without end).
        fresh.pages = [*(fresh.pages or []),
                       *({"at": now, **{k: d.record[k] for k in ("to", "channel", "step", "ok")}}
                         for d in deliveries if d.record["ok"] or d.record.get("attempt", 1) == 1)]
        items: list[TimelineEntry] = [entry(fresh.number, "paged", now, actor="astreinte",
                                            channel=d.record["channel"], detail=d.record) for d in deliveries]
        return Change(entries=items)

    try:
        done = mutate(inc.number, change, first=inc)
    except Gone:
        return
    failed = [d.record for d in deliveries if not d.record["ok"]]
    for record in failed:
        log.error("page_failed", incident=inc.number, **record)
    followups.tell_managers_of_permanent_failures(inc, [r for r in failed if r.get("permanent")], bundle)
    if done is not None:  # a fallback is due now: the timer (or the runner) sends it at once
        timers.schedule(inc.number, done[0].due_at)


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
    if not record.get("permanent") and not waiting:
        at = now + RETRY_BACKOFF[min(attempt, len(RETRY_BACKOFF)) - 1]
        out.append({"to": page["to"], "channel": page["channel"], "at": at, "step": page["step"],
                    "attempt": attempt})
        record["retry_at"] = clock.iso(at)
    got_through = page["to"] in reached or any(  # (a page said undelivered later did not)
        p["to"] == page["to"] and p["step"] == page["step"] + 1 and p.get("ok")
        and not (undelivered and p["channel"] == page["channel"]) for p in inc.pages or [])
    if attempt == 1 and not got_through:
        channel = _next_channel(inc, page, [*pending, *batch], bundle)
        if channel is not None:
            fallback: Planned = {"to": page["to"], "channel": channel, "at": now, "step": page["step"],
                                 "fallback_for": page["channel"]}
            out.append(fallback)
            fallbacks.append(fallback)
            record["fallback"] = channel
    return out


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
    for name in dict.fromkeys([*mine, *notify.URGENT]):
        channel = REGISTRY.get(name)
        if name not in tried and channel is not None and channel.address(person) and not channel.configured():
            return name
    return None

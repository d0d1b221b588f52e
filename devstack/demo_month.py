"""A realistic month of incidents, run through the real code path, for demos and reports.

    python -m devstack.demo_month [--month 2026-10] [--incidents 120] [--seed 1]

loads a month into the data `make run` keeps (.localdata/, or ASTREINTE_DATA_DIR); stop
`make run` first (its timer runner would sweep the loaded incidents with the real clock
while they are being played), start it again afterwards to browse them.

Nothing is written to the store directly: sources trigger incidents with the event dicts
the PagerDuty intake builds (chalicelib.incidents.trigger), escalation runs by
incidents.sweep() when steps fall due, people acknowledge and resolve as the SMS, Slack,
voice-keypad handlers would (incidents.acknowledge / resolve with their channel), sources
resolve by dedup_key (incidents.source_event), and Twilio's call status callbacks record
how long each call lasted (Twilio's status callback, through the voice channel).  Customers
call the hotline outside office hours (chalicelib.hotline.calls, the handlers behind the signed
Twilio webhooks, given the parameters Twilio posts and following the TwiML they answer): calls
taken at night, on a weekend, one passed to the second person, one that goes to voicemail
(then pages as any incident) and one abandoned in the menu.  Every action happens at its
own instant, in global time order (a heap), with chalicelib.clock moved to that instant,
so escalations, acknowledgements and repeats interleave as they would in life.

The month is deterministic from the seed (who is paged depends on the rotas synced).
"""
from __future__ import annotations

import argparse
import heapq
import itertools
import json
import math
import os
import random
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib import clock, incidents
from chalicelib.hotline import calls as hotline
from chalicelib.hotline import logic as hotline_logic
from chalicelib.incidents import delivery, sweeper
from chalicelib.incidents.records import LATE_REPEATS_SECONDS
from chalicelib.notify.channels import REGISTRY, PageRef
from chalicelib.rotas import directory, shifts

PARIS = ZoneInfo("Europe/Paris")

# Severity mix: a few critical, mostly medium and high, some low.
SEVERITIES = (("critique", 0.07), ("eleve", 0.30), ("moyen", 0.40), ("faible", 0.23))
# How the people on call answer: share of incidents never acknowledged (the source resolves
# them) and share acknowledged only after escalation to the next step (the référent).
NEVER_SHARE, ESCALATED_SHARE = 0.07, 0.15
SOURCE_RESOLVES_SHARE = 0.25  # of those acknowledged: the monitoring tool sends the resolve

# (check, summary, hosts): what monitoring and ticketing tools report, as they word it.
CHECKS = (
    ("disk", "Disque plein sur {host} (/var à {pct} %)", ("db-1", "db-2", "worker-3", "mq-1")),
    ("latency", "API p99 latency above 2 s on {host}", ("api-1", "api-2", "lb-1")),
    ("http-5xx", "Taux d'erreurs 5xx à {pct} % sur {host}", ("api-1", "api-2", "web-1")),
    ("backup", "Sauvegarde nocturne en échec sur {host}", ("db-1", "db-2")),
    ("tls", "Certificat TLS expirant dans 3 jours sur {host}", ("web-1", "lb-1")),
    ("queue", "File de messages en retard sur {host} ({pct}00 messages)", ("mq-1", "worker-3")),
    ("replication", "Réplication PostgreSQL en retard de {pct} s sur {host}", ("db-2",)),
    ("oom", "OOM killer invoked on {host}", ("worker-3", "api-2")),
    ("cron", "Job de facturation silencieux depuis {pct} min", ("billing",)),
    ("ticket", "Ticket urgent : paiement impossible pour un client", ("freshdesk",)),
    ("down", "{host} ne répond plus au ping", ("web-1", "lb-1", "db-1")),
)


# The hotline calls of a full month (load_month's default from FULL_MONTH incidents up):
# (what happens, when, local time).  The small months tests play for the pager have none.
CALLS = (("answered", "night"), ("answered", "weekend"), ("passed", "evening"), ("voicemail", "night"),
         ("abandoned", "evening"))
FULL_MONTH = 100
_WHEN = {"night": lambda t: t.weekday() < 5 and (t.hour >= 22 or t.hour < 5),
         "weekend": lambda t: t.weekday() >= 5 and 10 <= t.hour < 20,
         "evening": lambda t: t.weekday() < 5 and 19 <= t.hour < 22}


def local_weight(at: float) -> float:
    """How likely an incident starts at this instant (office hours the most)."""
    t = datetime.fromtimestamp(at, PARIS)
    hour = t.hour + t.minute / 60
    working = not (shifts.day_kinds(t.date(), "FR") & {"sat", "sun", "holiday"})
    if working:
        if 9 <= hour < 18:
            return 1.0
        if 7 <= hour < 9 or 18 <= hour < 22:
            return 0.3
        return 0.08
    return 0.15 if 9 <= hour < 21 else 0.06


def month_bounds(month_start: float) -> tuple[float, float]:
    """From month_start to the first day of the next month, 00:00 Europe/Paris."""
    t = datetime.fromtimestamp(month_start, PARIS)
    y, m = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return month_start, datetime(y, m, 1, tzinfo=PARIS).timestamp()


def call_ended(number: int | None, person: str, sid: str, status: str, duration: str) -> None:
    """Twilio's status callback at the end of a call, read by the voice channel as in AWS."""
    params = {"CallSid": sid, "CallStatus": status, "CallDuration": duration}
    report = REGISTRY["voice"].delivery_report(params)
    delivery.record(PageRef(int(number or 0), person, "voice"), report)


@dataclass
class _Plan:
    """One incident as it will unfold; filled in as the real code answers."""

    service: dict[str, Any]
    event: dict[str, Any]
    at: float
    behaviour: str  # quick | escalated | never
    resolve_at: float
    source_resolves: bool
    repeats: list[float]
    number: int | None = None
    ack_at: float | None = None  # when the person who will take it does
    resolved: bool = False
    put_off: bool = False  # the resolution waits for the acknowledgement
    acked_by: str | None = None
    acked_how: str | None = None
    pages: list[tuple] = field(default_factory=list)  # (at, step, person, channel, ref) sent so far
    seen: int = 0  # how many of the incident's deliveries have been looked at
    due_pushed: set[float] = field(default_factory=set)
    call_seconds: dict[str, int] = field(default_factory=dict)  # call sid -> planned duration


@dataclass
class _Call:
    """One customer's call to a hotline, as it will unfold."""

    service: dict[str, Any]
    what: str  # answered | passed | voicemail | abandoned
    at: float
    sid: str
    caller: str
    number: int | None = None  # the incident it opened
    rung: int = 0  # people rung so far
    plan: _Plan | None = None  # a voicemail's incident, once it pages


class _Month:
    def __init__(self, month_start: float, count: int, seed: int, calls: int = 0):
        self.rng = random.Random(seed)
        self.start, self.end = month_bounds(month_start)
        self.month = datetime.fromtimestamp(month_start, PARIS).strftime("%Y-%m")
        self.bundle = directory.bundle()
        self.heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.plans = self._plan(count)
        # Its own generator: the same seed plays the same incidents, with calls or without.
        self.call_rng = random.Random(f"hotline-{seed}")
        self.calls = self._plan_calls(calls)

    # ------------------------------------------------------------ the plan (pure, seeded)

    def _plan(self, count: int) -> list[_Plan]:
        rng = self.rng
        services = [self.bundle["services"][k] for k in sorted(self.bundle["services"])]
        instants = []
        while len(instants) < count:  # rejection sampling: more in office hours
            at = rng.uniform(self.start, self.end - 1)
            if rng.random() < local_weight(at):
                instants.append(round(at, 3))
        instants.sort()
        never = max(1, round(count * NEVER_SHARE)) if count >= 5 else 0
        escalated = max(1, round(count * ESCALATED_SHARE)) if count >= 3 else 0
        behaviours = ["never"] * never + ["escalated"] * escalated
        behaviours += ["quick"] * (count - len(behaviours))
        rng.shuffle(behaviours)
        plans = []
        for i, (at, behaviour) in enumerate(zip(instants, behaviours, strict=True)):
            check, summary, hosts = rng.choice(CHECKS)
            host = rng.choice(hosts)
            severity = rng.choices([s for s, _ in SEVERITIES], [w for _, w in SEVERITIES])[0]
            pct = rng.randint(8, 99)
            event = {  # as chalicelib.intake.pagerduty.parse_event builds it
                "summary": summary.format(host=host, pct=pct), "source": host, "severity": severity,
                "details": {"custom_details": {"check": check, "value": pct}},
                "dedup_key": f"{host}/{check}/{self.month}-{i:04d}",
                "via": "events-api",
            }
            # Resolved 10 min to 3 h after it opened, the short ones the most common.
            resolve_at = at + math.exp(rng.uniform(math.log(600), math.log(3 * 3600)))
            repeats = []
            if rng.random() < 0.12:  # the tool keeps firing while it is open
                repeats = sorted(rng.uniform(at + 30, resolve_at - 30)
                                 for _ in range(rng.randint(1, 4)))
            plans.append(_Plan(rng.choice(services), event, at, behaviour, resolve_at,
                               behaviour == "never" or rng.random() < SOURCE_RESOLVES_SHARE,
                               repeats))
        return plans

    def _plan_calls(self, count: int) -> list[_Call]:
        rng = self.call_rng
        lines = [self.bundle["services"][k] for k in sorted(self.bundle["services"])
                 if self.bundle["services"][k].get("hotline")]
        planned: list[_Call] = []
        for i in range(count if lines else 0):
            what, when = CALLS[i % len(CALLS)]
            service = lines[i % len(lines)]
            for _ in range(20000):  # rejection sampling: that kind of hour, outside office hours
                at = round(rng.uniform(self.start, self.end - 4 * 3600), 3)
                if _WHEN[when](datetime.fromtimestamp(at, PARIS)) and \
                        not hotline_logic.in_office_hours(service, at):
                    planned.append(_Call(service, what, at, f"CAdemo{self.month.replace('-', '')}{i:04d}",
                                         f"+336112233{i % 100:02d}"))
                    break
        return sorted(planned, key=lambda c: c.at)

    # ------------------------------------------------------------ the run, in time order

    def push(self, at: float, action: Callable[[], None]) -> None:
        heapq.heappush(self.heap, (at, next(self._seq), action))

    def run(self) -> list[int]:
        for p in self.plans:
            self.push(p.at, lambda p=p: self.trigger(p))
        for c in self.calls:
            self.push(c.at, lambda c=c: self.call_in(c))
        clock.advance(self.start - clock.now())  # back (or on) to the month's start, once
        while self.heap:
            at, _, action = heapq.heappop(self.heap)
            move_to(at)
            action()
        opened = [(p.at, p.number) for p in self.plans if p.number is not None]
        opened += [(c.at, c.number) for c in self.calls if c.number is not None]
        return [number for _, number in sorted(opened)]

    def trigger(self, p: _Plan) -> None:
        inc, created = incidents.trigger(p.service, dict(p.event))
        if not created:  # an open incident already had this dedup_key: nothing planned for it
            return
        p.number = inc.number
        for at in p.repeats:
            self.push(at, lambda p=p: incidents.trigger(p.service, dict(p.event)))
        self.push(max(p.resolve_at, p.at + 600), lambda p=p: self.resolve(p))
        self.observe(p, inc)  # as trigger left it: its pages recorded (a stale copy only delays)

    def due(self, p: _Plan, due_at: float) -> None:
        if p.acked_by or p.resolved:
            return  # the timer would fire and find nothing to do: spare the two reads
        # The per-step timer's handler (an SQS message in AWS; the sweeper is its backstop).
        sweeper.on_timer(json.dumps({"incident": p.number, "due_at": due_at}))
        self.observe(p)

    def observe(self, p: _Plan, inc: Any = None) -> None:
        """Look at what the code did (pages sent, next step due) and plan the people's part."""
        assert p.number is not None
        inc = inc or incidents.get(p.number)
        if inc is None or inc.state == "resolved":
            return
        if inc.state == "triggered" and inc.due_at is not None and inc.due_at not in p.due_pushed:
            p.due_pushed.add(inc.due_at)
            self.push(inc.due_at, lambda p=p, at=inc.due_at: self.due(p, at))
        new = self.new_pages(p, inc)
        p.pages += new
        if inc.state == "triggered" and p.ack_at is None and p.behaviour != "never":
            self.plan_ack(p, inc)
        for at, step, person, channel, sid in new:
            if channel == "voice" and sid:
                self.plan_call(p, at, step, person, sid)

    def new_pages(self, p: _Plan, inc: Any) -> list[tuple[float, int, str, str, str | None]]:
        """Pages to people sent since last looked: (at, step, person, channel, provider ref).

        The incident's page log says what went out; the timeline (one more query) is read
        only when a call went out, for the SID that Twilio's status callback names.  Both
        list the same deliveries in the same order."""
        log = getattr(inc, "pages", None)
        if log is not None and not any(pg["channel"] == "voice" and pg["ok"] for pg in log[p.seen:]):
            sent = [(pg["at"], int(pg["step"]), pg["to"], pg["channel"], pg["ok"], None) for pg in log]
        else:
            sent = [(e.at, int(e.detail.get("step", 1)), e.detail["to"], e.channel, e.detail.get("ok"),
                     e.detail.get("ref")) for e in incidents.timeline(p.number) if e.kind == "paged"]
        new, p.seen = sent[p.seen:], len(sent)
        return [(at, step, to, channel, ref) for at, step, to, channel, ok, ref in new
                if ok and not to.startswith("slack:")]

    def plan_ack(self, p: _Plan, inc: Any) -> None:
        """Whoever was paged takes it a few minutes later (after the page, never before)."""
        paged = set(inc.paged or [])
        pages = [pg for pg in p.pages if pg[2] in paged]
        if p.behaviour == "escalated":
            pages = [pg for pg in pages if pg[1] >= 2]  # nobody answers the first step
        else:
            pages = [pg for pg in pages if pg[1] == min(s for _, s, *_ in pages)] if pages else []
        if not pages:
            return  # not yet: a later step or a delayed page will come
        at, step, person, channel, sid = sorted(pages, key=lambda pg: (pg[2], pg[3], pg[1]))[
            self.rng.randrange(len(pages))]
        if channel == "voice":  # pressed 4 during the call that paged them
            delay = self.rng.uniform(20, 90)
            p.call_seconds[sid] = max(30, int(delay + self.rng.uniform(5, 40)))
        else:
            policy = self.bundle["policies"][inc.policy]
            step_delay = policy["steps"][min(step, len(policy["steps"])) - 1]["delay"]
            high = max(60.0, 0.9 * step_delay)
            delay = self.rng.triangular(25, high, min(90, high))
        p.ack_at = at + delay
        self.push(p.ack_at, lambda: self.acknowledge(p, person, channel, sid))

    def plan_call(self, p: _Plan, at: float, step: int, person: str, sid: str) -> None:
        """Twilio's status callback when the call ends: answered and how long, or not."""
        ring = self.rng.uniform(5, 25)
        seconds = p.call_seconds.get(sid)
        if seconds is None and (p.behaviour == "never" or (p.behaviour == "escalated" and step == 1)):
            # nobody answered: the call rang out
            self.push(at + ring + 25, lambda: call_ended(p.number, person, sid, "no-answer", ""))
            return
        seconds = seconds or self.rng.randint(30, 600)
        self.push(at + ring + seconds, lambda: call_ended(p.number, person, sid, "completed", str(seconds)))

    def acknowledge(self, p: _Plan, person: str, channel: str, sid: str | None) -> None:
        assert p.number is not None
        idem = {"sms": f"twilio-sms:SMdemo{p.number}{person}",
                "voice": f"twilio-gather:{sid}:4",
                "slack": f"slack:{person}:{p.number}:ack"}.get(channel)
        outcome = incidents.acknowledge(p.number, person, channel, idem_key=idem)
        if outcome.result == "acknowledged":
            p.acked_by, p.acked_how = person, channel

    def resolve(self, p: _Plan) -> None:
        assert p.number is not None
        if p.ack_at is not None and clock.now() < p.ack_at + 120 and not p.put_off:
            # Whoever takes it first looks into it: resolved some minutes after that.
            p.put_off = True
            self.push(p.ack_at + self.rng.uniform(300, 1800), lambda: self.resolve(p))
            return
        if p.acked_by and not p.source_resolves:
            p.resolved = incidents.resolve(p.number, p.acked_by, p.acked_how or "api").changed
        if not p.resolved:  # the monitoring tool sees the problem gone: PagerDuty's "resolve" event
            incidents.source_event(p.service, {"dedup_key": p.event["dedup_key"], "via": "events-api"},
                                   "resolve")
            p.resolved = True
        # The timer that resolving set: a look for repeats stored after the resolution.
        due_at = clock.now() + LATE_REPEATS_SECONDS
        self.push(due_at, lambda: sweeper.on_timer(json.dumps({"incident": p.number, "due_at": due_at})))


    # ------------------------------------------------------------ hotline calls, as Twilio runs them

    def _params(self, c: _Call, **extra: str) -> dict[str, str]:
        """What Twilio posts about the caller's call."""
        to = c.service["hotline"]["number"]
        return {"CallSid": c.sid, "AccountSid": "ACdemo", "From": c.caller, "To": to, "Called": to,
                "Caller": c.caller, "CallStatus": "in-progress", "Direction": "inbound", **extra}

    def _leg(self, c: _Call, phone: str) -> dict[str, str]:
        """What Twilio posts about the agent's leg (the whisper and its key)."""
        return {"CallSid": f"{c.sid}L{c.rung}", "ParentCallSid": c.sid, "AccountSid": "ACdemo",
                "From": c.caller, "To": phone, "CallStatus": "in-progress", "Direction": "outbound-dial"}

    def call_in(self, c: _Call) -> None:
        """The number is called: the menu (or the office, whose calls are not ours)."""
        menu = ET.fromstring(hotline.incoming(self._params(c, CallStatus="ringing")))
        gather = menu.find("Gather")
        if gather is None:
            return
        if c.what == "abandoned":  # listens to the reasons, hangs up without choosing
            seconds = self.call_rng.randint(5, 15)
            self.push(clock.now() + seconds, lambda: hotline.ended(
                self._params(c, CallStatus="completed", CallDuration=str(seconds))))
            return
        items = c.service["hotline"]["menu"]
        item = next((m for m in items if m["voicemail"] == (c.what == "voicemail")), items[0])
        lang = (gather.get("action") or "").rsplit("/", 1)[-1]
        self.push(clock.now() + self.call_rng.uniform(4, 9),
                  lambda: self.follow(c, hotline.menu(lang, self._params(c, Digits=item["key"]))))

    def follow(self, c: _Call, answer: str) -> None:
        """What the TwiML says next: ring someone, or record a message."""
        root = ET.fromstring(answer)
        dial, record = root.find("Dial"), root.find("Record")
        number = dial.find("Number") if dial is not None else None
        if dial is not None and number is not None:
            ref, phone = (dial.get("action") or "").rsplit("/", 1)[-1], number.text or ""
            c.number = int(ref.split(".")[0])
            c.rung += 1
            if c.what == "passed" and c.rung == 1:  # the first person lets it ring out
                rang_out = self._params(c, DialCallStatus="no-answer", DialCallSid=f"{c.sid}L1")
                self.push(clock.now() + float(dial.get("timeout", "20")),
                          lambda: self.follow(c, hotline.dialed(ref, rang_out)))
            else:
                self.push(clock.now() + self.call_rng.uniform(6, 15), lambda: self.pick_up(c, ref, phone))
        elif record is not None:
            c.number = int((record.get("action") or "").rsplit("/", 1)[-1])
            self.push(clock.now() + self.call_rng.uniform(20, 60), lambda: self.leave_message(c))

    def pick_up(self, c: _Call, ref: str, phone: str) -> None:
        """The person rung hears the reason and presses 1; they talk 10 to 25 minutes."""
        leg = self._leg(c, phone)
        hotline.whisper(ref, leg)
        hotline.accept(ref, {**leg, "Digits": "1"})
        seconds = self.call_rng.randint(600, 1500)
        self.push(clock.now() + seconds, lambda: self.hang_up(c, ref, seconds))

    def hang_up(self, c: _Call, ref: str, seconds: int) -> None:
        """The call is over: the Dial action (resolved, its duration), then the status callback."""
        hotline.dialed(ref, self._params(c, DialCallStatus="completed", DialCallSid=f"{c.sid}L{c.rung}",
                                         DialCallDuration=str(seconds)))
        hotline.ended(self._params(c, CallStatus="completed", CallDuration=str(seconds + 60)))

    def leave_message(self, c: _Call) -> None:
        """A message, its transcription; the incident pages, and goes on as any."""
        assert c.number is not None
        seconds = self.call_rng.randint(10, 40)
        url = f"https://api.twilio.com/2010-04-01/Accounts/ACdemo/Recordings/RE{c.sid[2:]}"
        recorded = self._params(c, CallStatus="completed", RecordingUrl=url, RecordingSid=f"RE{c.sid[2:]}",
                                RecordingDuration=str(seconds))
        hotline.voicemail(str(c.number), recorded)
        hotline.transcription(str(c.number), {**recorded, "TranscriptionText": "Bonjour, pouvez-vous me "
                                              "rappeler ? Je n'arrive plus à me connecter.",
                                              "TranscriptionStatus": "completed"})
        hotline.ended(self._params(c, CallStatus="completed", CallDuration=str(seconds + 40)))
        now = clock.now()
        p = _Plan(c.service, {"dedup_key": c.sid, "via": "events-api"}, now, "quick",
                  now + self.call_rng.uniform(1800, 2 * 3600), False, [], number=c.number)
        c.plan = p
        self.push(p.resolve_at, lambda: self.resolve(p))
        self.observe(p)


def move_to(at: float) -> None:
    """Put the clock at `at`, never backwards (actions take real time too)."""
    ahead = at - clock.now()
    if ahead > 0:
        clock.advance(ahead)


def load_month(month_start: float, incidents: int = 120, seed: int = 1,
               calls: int | None = None) -> list[int]:
    """Play a month of `incidents` from month_start (the first day of a month, 00:00
    Europe/Paris) through the real code path, and `calls` customer calls to the hotlines
    (None: len(CALLS) from FULL_MONTH incidents up, else none); returns the incident numbers
    created (the calls' too), in the order they opened.  The clock is put back where it was."""
    offset = clock.now() - time.time()
    if calls is None:
        calls = len(CALLS) if incidents >= FULL_MONTH else 0
    try:
        return _Month(month_start, incidents, seed, calls).run()
    finally:
        clock.reset()
        if abs(offset) > 1e-3:
            clock.advance(offset)


# ---------------------------------------------------------------- python -m devstack.demo_month

def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _last_month() -> str:
    first = datetime.now(PARIS).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m devstack.demo_month",
                                     description="Load a realistic month of incidents into the "
                                                 "data `make run` keeps.")
    parser.add_argument("--month", default=_last_month(), help="YYYY-MM (default: last month)")
    parser.add_argument("--incidents", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calls", type=int, default=None,
                        help=f"customer calls to the hotlines (default: {len(CALLS)} "
                             f"from {FULL_MONTH} incidents up)")
    args = parser.parse_args(argv)
    try:
        y, m = (int(x) for x in args.month.split("-"))
        start = datetime(y, m, 1, tzinfo=PARIS).timestamp()
    except ValueError:
        parser.error(f"--month must be YYYY-MM, not {args.month!r}")

    from .dynamodb import ROOT
    from .stack import Stack

    ddb_port = int(os.environ.get("ASTREINTE_DYNAMODB_PORT", "8001"))
    if _listening(ddb_port):
        raise SystemExit(f"Something listens on 127.0.0.1:{ddb_port}: stop `make run` first (its "
                         "timer runner would sweep these incidents with today's clock while they "
                         "are played), then run this again and restart `make run`.")
    os.environ.pop("ASTREINTE_PROVIDERS", None)  # never real SMS and calls for a demo month
    data = os.environ.get("ASTREINTE_DATA_DIR", str(ROOT / ".localdata" / "dynamodb"))
    # The same data and table as `make run`, on free ports; pages go to a throwaway outbox.
    stack = Stack(rotas_dir=ROOT / "rotas", db_path=data, timer_interval=None, auto_status=False)
    stack.start()
    try:
        began = time.monotonic()
        numbers = load_month(start, args.incidents, args.seed, args.calls)
        took = time.monotonic() - began
    finally:
        stack.stop()
    span = f"#{numbers[0]}–#{numbers[-1]}" if numbers else "none"
    print(f"Loaded {len(numbers)} incidents ({span}) for {args.month} in {took:.1f} s into {data}.\n"
          f"Start `make run` to browse them.")


if __name__ == "__main__":
    main()

"""A month of incidents played through the real code path (devstack.demo_month), read back
as a manager reviewing the month would: who was paged, who took it, how long it lasted."""
from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib import clock, incidents
from devstack.demo_month import load_month

PARIS = ZoneInfo("Europe/Paris")
OCTOBER = datetime(2026, 10, 1, tzinfo=PARIS).timestamp()
NOVEMBER = datetime(2026, 11, 1, tzinfo=PARIS).timestamp()


def test_a_month_of_incidents_reads_like_life(fresh) -> None:
    numbers = load_month(OCTOBER, incidents=40, seed=1)
    assert abs(clock.now() - time.time()) < 1  # the clock is back where it was
    assert incidents.sweep() == 0  # nothing left due: a sweeper started now pages nobody

    assert len(numbers) == len(set(numbers)) == 40
    incs = [incidents.get(n) for n in numbers]
    assert all(inc is not None for inc in incs)
    assert all(OCTOBER <= inc.created_at < NOVEMBER for inc in incs)
    assert [inc.created_at for inc in incs] == sorted(inc.created_at for inc in incs)

    # More in office hours than outside them, but some evenings, nights or weekends too.
    local = [datetime.fromtimestamp(inc.created_at, PARIS) for inc in incs]
    office = sum(1 for t in local if t.weekday() < 5 and 9 <= t.hour < 18)
    assert office > len(incs) / 2 and office < len(incs)

    severities = Counter(inc.severity for inc in incs)
    assert len(severities) >= 3 and severities["critique"] < severities["moyen"] + severities["eleve"]

    # Everything was resolved, 10 minutes to a few hours after it opened.
    assert all(inc.state == "resolved" for inc in incs)
    assert all(600 <= inc.resolved_at - inc.created_at <= 4 * 3600 for inc in incs)

    timelines = {inc.number: incidents.timeline(inc.number) for inc in incs}
    for number, entries in timelines.items():
        stamps = [clock.iso(e.at) for e in entries]
        assert stamps == sorted(stamps), number
        assert entries[0].kind == "triggered"

    # Most were taken by someone who had been paged, after their page went out.
    acked = [inc for inc in incs if inc.acknowledged_by]
    assert len(acked) >= 0.75 * len(incs)
    for inc in acked:
        assert inc.acknowledged_by in inc.paged
        pages = [e for e in timelines[inc.number] if e.kind == "paged"
                 and e.detail["to"] == inc.acknowledged_by and e.detail["ok"]]
        assert pages and min(e.at for e in pages) <= inc.acknowledged_at, inc.number
        ack = next(e for e in timelines[inc.number] if e.kind == "acknowledged")
        assert ack.channel in {e.channel for e in pages}  # answered on a channel that paged them
        assert inc.acknowledged_at - inc.created_at < 30 * 60

    # Some only once the référent was paged (step 2), by the référent.
    def step2(number: int) -> set[str]:
        return {p for e in timelines[number] if e.kind == "escalated" and e.detail["step"] == 2
                for p in e.detail["to"]}
    assert any(inc.acknowledged_by in step2(inc.number) for inc in acked)

    # A few never acknowledged: the monitoring tool resolved them.
    by_source = [inc for inc in incs if inc.resolved_by == "source"]
    assert by_source and any(inc.acknowledged_by is None for inc in by_source)
    for inc in by_source:
        resolved = next(e for e in timelines[inc.number] if e.kind == "resolved")
        assert resolved.actor == "source" and resolved.channel == "events-api"

    # Every call placed got Twilio's status callback; answered ones say how long they lasted.
    calls = [(inc.number, e) for inc in incs for e in timelines[inc.number]
             if e.kind == "paged" and e.channel == "voice" and e.detail["ok"]]
    assert calls
    for number, page in calls:
        status = [e for e in timelines[number]
                  if e.kind == "delivery" and e.detail["ref"] == page.detail["ref"]]
        assert len(status) == 1 and status[0].at > page.at and status[0].actor == page.detail["to"]
    durations = [e.detail["duration_seconds"] for entries in timelines.values() for e in entries
                 if e.kind == "delivery" and e.detail["status"] == "completed"]
    assert durations and all(30 <= d <= 600 for d in durations)
    assert any(e.detail["status"] == "no-answer" for entries in timelines.values() for e in entries
               if e.kind == "delivery")  # the calls of the step nobody answered rang out


def test_the_same_seed_plays_the_same_month(fresh) -> None:
    def facts(number: int) -> tuple:
        inc = incidents.get(number)
        return (inc.service, inc.severity, inc.summary, inc.dedup_key, inc.acknowledged_by,
                inc.resolved_by, [e.kind for e in incidents.timeline(number)])

    first = load_month(OCTOBER, incidents=10, seed=7)
    again = load_month(OCTOBER, incidents=10, seed=7)
    assert len(first) == len(again) == 10 and set(first).isdisjoint(again)
    assert [facts(n) for n in first] == [facts(n) for n in again]
    for a, b in zip(first, again, strict=True):
        assert abs(incidents.get(a).created_at - incidents.get(b).created_at) < 2

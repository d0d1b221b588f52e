"""Astreinte accounting: on-call hours, interventions and rest, per person, for payroll.

Plain functions over plain data (shifts as intervals, incident facts as dicts, a
WorkCalendar); chalicelib.reports.review fetches the data and publishes the results.

The rules, as French labour law and most EU collective agreements put them:
- an on-call period (astreinte) is not work: its hours outside office hours are counted
  by category (weekday evening, night, weekend, public holiday) and paid as astreinte;
- an intervention is work: from the acknowledgement to the resolution (capped, as a
  forgotten incident is not three days of work; a holder who handed it over, from their
  acknowledgement to the handover) and every answered call, joined so that
  two incidents handled at once count once;
- after an intervention at night the person is owed `rest` (11 h) of consecutive rest
  before their next office hours or on-call shift; less than that is flagged.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import mean
from typing import Any
from zoneinfo import ZoneInfo

from .calendar import CATEGORIES, OFFICE, WorkCalendar, merge

Interval = tuple[float, float]


@dataclass
class Work:
    """One person's work on one incident: the intervals, joined."""

    person: str
    incident: int
    intervals: list[Interval] = field(default_factory=list)


def work_on_incidents(facts: Iterable[dict[str, Any]], now: float,
                      cap_of: Callable[[str], float]) -> list[Work]:
    """Who worked on which incident and when: acknowledgement to resolution (or now, never
    longer than the person's team's cap) for whoever acknowledged; for those who held it
    before (reassigned, or their snooze ran out: `earlier_holds`), their acknowledgement to
    that moment, as capped; and the calls each person answered."""
    found: dict[tuple[str, int], Work] = {}
    for f in facts:
        holds = [(h.get("by"), h.get("from"), h.get("to")) for h in f.get("earlier_holds") or []]
        holds.append((f.get("acknowledged_by"), f.get("acknowledged_at"), f.get("resolved_at") or now))
        for who, ack, end in holds:
            if who and ack is not None and end is not None and not str(who).startswith(("slack:", "source")):
                w = found.setdefault((who, f["number"]), Work(who, f["number"]))
                w.intervals.append((ack, min(end, ack + cap_of(who))))
        for call in f.get("calls") or []:
            if call.get("seconds"):
                w = found.setdefault((call["to"], f["number"]), Work(call["to"], f["number"]))
                w.intervals.append((call["at"] - call["seconds"], call["at"]))
    for w in found.values():
        w.intervals = merge(w.intervals)
    return sorted(found.values(), key=lambda w: (w.person, w.intervals[0][0] if w.intervals else 0))


def clip(intervals: Iterable[Interval], start: float, end: float) -> list[Interval]:
    return [(max(a, start), min(b, end)) for a, b in intervals if b > start and a < end]


def hours_by_category(cal: WorkCalendar, intervals: Iterable[Interval]) -> dict[str, float]:
    """Hours outside office hours in each category (the intervals are joined first)."""
    seconds = dict.fromkeys(CATEGORIES, 0.0)
    for a, b in merge(intervals):
        for cat, s in cal.split(a, b).items():
            if cat != OFFICE:
                seconds[cat] += s
    return {cat: round(s / 3600, 2) for cat, s in seconds.items()}


def night_overlap(cal: WorkCalendar, start: float, end: float) -> float:
    """Seconds of [start, end) inside the night window, whatever the day (rest rules care
    about nights, weekend or not)."""
    zone = ZoneInfo(cal.timezone)
    d = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end, zone).date()
    total = 0.0
    while d <= last:
        a = datetime(d.year, d.month, d.day, cal.night_from // 60, cal.night_from % 60, tzinfo=zone)
        next_day = d + timedelta(days=1) if cal.night_to <= cal.night_from else d
        b = datetime(next_day.year, next_day.month, next_day.day, cal.night_to // 60, cal.night_to % 60,
                     tzinfo=zone)
        total += max(0.0, min(end, b.timestamp()) - max(start, a.timestamp()))
        d += timedelta(days=1)
    return total


def rest_flags(person: str, work: list[Work], oncall: list[Interval], cal: WorkCalendar,
               rest: float, start: float, end: float) -> list[dict[str, Any]]:
    """Night interventions ending in [start, end) followed by less than `rest` seconds before
    the next office hours or on-call shift."""
    pieces = sorted((a, b, w.incident) for w in work for a, b in w.intervals)
    joined: list[list[Any]] = []  # [start, end, incidents]
    for a, b, number in pieces:
        if joined and a <= joined[-1][1]:
            joined[-1][1] = max(joined[-1][1], b)
            joined[-1][2].append(number)
        else:
            joined.append([a, b, [number]])
    shift_starts = sorted(a for a, _ in merge(oncall))
    flags = []
    for k, (a, b, numbers) in enumerate(joined):
        if not (start <= b < end) or night_overlap(cal, a, b) <= 0:
            continue
        office = cal.next_office_start(b)
        on_call = next((s for s in shift_starts if s > b), None)
        candidates = [(t, kind) for t, kind in ((office, "office"), (on_call, "on-call")) if t is not None]
        if not candidates:
            continue
        nxt, kind = min(candidates)
        if k + 1 < len(joined) and joined[k + 1][0] < nxt:
            continue  # another intervention cut this rest short: the rest after that one counts
        if nxt - b < rest:
            flags.append({"person": person, "incidents": sorted(set(numbers)), "intervention_start": a,
                          "intervention_end": b, "next_work": nxt, "next_work_kind": kind,
                          "rest_hours": round((nxt - b) / 3600, 2)})
    return flags


def person_month(person: str, oncall: list[Interval], work: list[Work], cal: WorkCalendar,
                 rest: float, start: float, end: float) -> dict[str, Any]:
    """One person's month: on-call hours, interventions and rest flags.

    `oncall` are all their shifts (any rota, any layer) around the month: those after it
    are needed to know when their next shift starts."""
    inside = [w for w in work if clip(w.intervals, start, end)]
    worked = [i for w in inside for i in clip(w.intervals, start, end)]
    counted = [w for w in inside if any(v > 0 for v in
                                        hours_by_category(cal, clip(w.intervals, start, end)).values())]
    oncall_hours = hours_by_category(cal, clip(oncall, start, end))
    work_hours = hours_by_category(cal, worked)
    return {
        "person": person,
        "oncall_hours": oncall_hours, "oncall_total": round(sum(oncall_hours.values()), 2),
        "interventions": {"count": len(counted), "incidents": sorted(w.incident for w in counted),
                          "hours": work_hours, "total": round(sum(work_hours.values()), 2)},
        "rest_flags": rest_flags(person, work, oncall, cal, rest, start, end),
    }


def fairness(members: dict[str, list[Interval]], cal: WorkCalendar, start: float,
             end: float) -> list[dict[str, Any]]:
    """On-call, night, weekend and holiday hours of each member of a team over a period,
    and each total against the team's average (1.0 = an even share)."""
    rows: list[dict[str, Any]] = []
    for person, intervals in sorted(members.items()):
        h = hours_by_category(cal, clip(intervals, start, end))
        rows.append({"person": person, "oncall_hours": round(sum(h.values()), 2), "night_hours": h["night"],
                     "weekend_hours": h["weekend"], "holiday_hours": h["holiday"],
                     "weekday_evening_hours": h["weekday_evening"]})
    average = mean(float(r["oncall_hours"] or 0) for r in rows) if rows else 0
    for r in rows:
        r["vs_team_average"] = round(r["oncall_hours"] / average, 2) if average else None
    return rows

"""Response KPIs and the coverage advisor: plain functions over incident facts.

A fact is a plain dict: number, service, team, severity, created_at, acknowledged_at,
acknowledged_by, first_acknowledged_at (kept once reassigned or unsnoozed), resolved_at,
resolved_by, unanswered, escalated (acknowledged only after step 1 or a repeat),
first_contacts (who step 1 paged), pages [{at, to, channel, step}] and sla ({acknowledge,
resolve} seconds, from the escalation policy).

Percentiles use the nearest-rank method (p90 of 10 values is the 9th), so every figure
is a time that really happened.
"""
from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from statistics import median
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from .calendar import OFFICE, WorkCalendar

TTA_BUCKETS = ((60, "< 1 min"), (300, "1–5 min"), (900, "5–15 min"), (1800, "15–30 min"),
               (3600, "30–60 min"), (math.inf, "> 1 h"))


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def first_acknowledged_at(f: dict[str, Any]) -> float | None:
    """When someone first answered: a reassignment or a snooze that ran out unacknowledges
    the incident, and whoever takes it next does not make its TTA longer
    (`first_acknowledged_at`, kept by chalicelib.incidents.engine.let_go)."""
    first = f.get("first_acknowledged_at")
    return first if first is not None else f.get("acknowledged_at")


def tta(f: dict[str, Any]) -> float | None:
    first = first_acknowledged_at(f)
    return first - f["created_at"] if first is not None else None


def ttr(f: dict[str, Any]) -> float | None:
    return f["resolved_at"] - f["created_at"] if f.get("resolved_at") is not None else None


def sla_breaches(f: dict[str, Any], now: float) -> dict[str, bool]:
    """Missed targets; an incident still waiting past its target has already missed it.
    Resolved without an acknowledgement: the resolution is when someone answered."""
    targets = f.get("sla") or {}
    answered = first_acknowledged_at(f)
    if answered is None:
        answered = f.get("resolved_at")
    out = {}
    for what, at in (("acknowledge", answered), ("resolve", f.get("resolved_at"))):
        target = targets.get(what)
        out[what] = target is not None and ((at if at is not None else now) - f["created_at"]) > target
    return out


class _Outcome(NamedTuple):
    """What one incident contributes to the KPIs, worked out once however it is grouped."""

    tta: float | None
    ttr: float | None
    unanswered: bool
    escalated: bool
    handled: bool  # resolved by (or after the acknowledgement of) a person
    first_contact: bool  # ... who was paged at step 1
    missed_ack: bool
    missed_resolve: bool


def _outcome(f: dict[str, Any], now: float) -> _Outcome:
    who = handler(f) if f.get("resolved_at") is not None else None
    missed = sla_breaches(f, now)
    return _Outcome(tta(f), ttr(f), bool(f.get("unanswered")),
                    f.get("acknowledged_at") is not None and bool(f.get("escalated")), who is not None,
                    who is not None and who in (f.get("first_contacts") or ()),
                    missed["acknowledge"], missed["resolve"])


def metrics(facts: list[dict[str, Any]], now: float) -> dict[str, Any]:
    """The KPIs of a set of incidents."""
    return _aggregate([_outcome(f, now) for f in facts])


def _aggregate(outcomes: list[_Outcome]) -> dict[str, Any]:
    ttas = [o.tta for o in outcomes if o.tta is not None]
    ttrs = [o.ttr for o in outcomes if o.ttr is not None]
    handled = [o for o in outcomes if o.handled]
    return {
        "count": len(outcomes), "acknowledged": len(ttas), "resolved": len(ttrs),
        "unanswered": sum(o.unanswered for o in outcomes),
        "tta_median": _round(median(ttas)) if ttas else None, "tta_p90": _round(percentile(ttas, 90)),
        "ttr_median": _round(median(ttrs)) if ttrs else None, "ttr_p90": _round(percentile(ttrs, 90)),
        "escalation_rate": _share(sum(o.escalated for o in outcomes), len(ttas)),
        "first_contact_resolution": _share(sum(o.first_contact for o in handled), len(handled)),
        "sla_breaches": {"acknowledge": sum(o.missed_ack for o in outcomes),
                         "resolve": sum(o.missed_resolve for o in outcomes)},
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def handler(f: dict[str, Any]) -> str | None:
    """Who handled a resolved incident: the person who resolved it, or, when the monitoring
    tool closed its own alert, the person who had acknowledged it."""
    paged = {p["to"] for p in f.get("pages") or []}
    if f.get("resolved_by") in paged or f.get("resolved_by") == f.get("acknowledged_by"):
        return f["resolved_by"]
    return f.get("acknowledged_by")


def grouped(facts: list[dict[str, Any]], now: float) -> dict[str, dict[str, Any]]:
    """The KPIs by service, severity, team and person (who acknowledged)."""
    keys: dict[str, Callable[[dict[str, Any]], str | None]] = {
        "service": lambda f: f.get("service"), "severity": lambda f: f.get("severity"),
        "team": lambda f: f.get("team"), "person": lambda f: f.get("acknowledged_by")}
    outcomes = [_outcome(f, now) for f in facts]
    out: dict[str, dict[str, Any]] = {}
    for dimension, key in keys.items():
        groups: dict[str, list[_Outcome]] = defaultdict(list)
        for f, o in zip(facts, outcomes, strict=True):
            k = key(f)
            if k:
                groups[k].append(o)
        out[dimension] = {k: _aggregate(v) for k, v in sorted(groups.items())}
    return out


def tta_histogram(facts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    counts = [0] * (len(TTA_BUCKETS) + 1)
    for f in facts:
        v = tta(f)
        if v is None:
            counts[-1] += 1
            continue
        counts[next(i for i, (limit, _) in enumerate(TTA_BUCKETS) if v < limit)] += 1
    labels = [label for _, label in TTA_BUCKETS] + ["non acquitté / not acknowledged"]
    return [{"label": label, "count": n} for label, n in zip(labels, counts, strict=True)]


def pages_per_person(facts: Iterable[dict[str, Any]],
                     calendar_of: Callable[[str], WorkCalendar]) -> dict[str, dict[str, int]]:
    """Pages each person received (every channel counts; an attempt that failed does not),
    and those at night."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"pages": 0, "night_pages": 0})
    for f in facts:
        for p in f.get("pages") or []:
            if p["to"].startswith("slack:") or p.get("ok") is False:
                continue
            row = out[p["to"]]
            row["pages"] += 1
            row["night_pages"] += calendar_of(p["to"]).is_night(p["at"])
    return dict(sorted(out.items()))


def coverage(facts: Iterable[dict[str, Any]], cal: WorkCalendar, threshold: float) -> dict[str, Any]:
    """Contacts (incidents, and the hotline's calls: each call that chose a reason opened
    one) by hour of week and the share outside office hours: above `threshold` (5 %)
    round-the-clock on-call pays for itself; below it a limited service (office hours,
    best effort outside) is enough."""
    grid = [[0] * 24 for _ in range(7)]
    total = outside = calls = calls_outside = 0
    zone = ZoneInfo(cal.timezone)
    for f in facts:
        local = datetime.fromtimestamp(f["created_at"], zone)
        grid[local.weekday()][local.hour] += 1
        total += 1
        out = cal.category_at(f["created_at"]) != OFFICE
        outside += out
        if f.get("source") == "hotline":
            calls += 1
            calls_outside += out
    share = outside / total if total else 0.0
    round_the_clock = share > threshold
    pct, limit = f"{share * 100:.1f}", f"{threshold * 100:g}"
    return {
        "incidents": total, "hotline_calls": calls, "hotline_calls_out_of_hours": calls_outside,
        "by_hour_of_week": grid, "out_of_hours": outside,
        "out_of_hours_share": round(share, 4), "threshold": threshold,
        "verdict": "24/7" if round_the_clock else "limited",
        "advice": {
            "fr": (f"{pct} % des contacts (incidents et appels hotline) arrivent hors heures ouvrées "
                   f"(seuil {limit} %) : "
                   + ("une astreinte 24/7 est justifiée." if round_the_clock else
                      "un service limité (heures ouvrées, au mieux en dehors) suffit.")),
            "en": (f"{pct} % of contacts (incidents and hotline calls) arrive outside office hours "
                   f"(threshold {limit} %): "
                   + ("24/7 on-call is justified." if round_the_clock else
                      "a limited service (office hours, best effort outside them) is enough.")),
        },
    }

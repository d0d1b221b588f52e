"""The hotline's quality figures, pure: typed call records in, plain dicts out.  No store, no
provider, no clock.

A call is built from its incident's timeline (`from_timeline`): hotline_call (it came in),
hotline_answered (wait), hotline_call_ended (handle time), voicemail, released "caller hung
up", csat (the caller's score), resolved / escalated / reopened.  A call abandoned in the
menu has no incident: its record is the per-service `hotline_abandoned` item (calls.py).

Definitions (the README says them too):
  received              every call that reached the menu (forwarded office-hour calls are not)
  answered              an agent pressed 1 and was bridged
  answered_within_20s   answered after a wait of at most SERVICE_LEVEL_SECONDS
  service_level         answered_within_20s / (received - abandoned_in_menu)
  abandoned_in_menu     hung up before choosing a reason; abandoned_waiting: after, before
                        anyone answered and without leaving a message
  average_wait_seconds  of answered calls (the speed of answer); average_handle_seconds:
                        their bridged duration
  first_contact         answered, its incident resolved at the call's end and neither
                        escalated nor reopened since
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

SERVICE_LEVEL_SECONDS = 20
OUTCOMES = ("answered", "voicemail", "abandoned_menu", "abandoned_waiting", "open")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_REOPENED = ("escalated", "reopened", "triggered")


@dataclass(frozen=True)
class Call:
    """One hotline call, as the reports see it."""

    service: str
    at: float  # when it came in
    outcome: str  # one of OUTCOMES; "open": still being routed (or its end never reported)
    team: str | None = None
    number: int | None = None  # its incident (None: abandoned in the menu)
    agent: str | None = None  # who answered
    wait_seconds: float | None = None  # before an answer, the hang-up or the voicemail
    handle_seconds: float | None = None  # answered: the bridged duration
    csat: int | None = None  # 1..5, the caller's score
    first_contact: bool = False


def hour_of_week(at: float, zone: ZoneInfo) -> tuple[str, int]:
    """(day, hour) in `zone`: ('mon', 0) .. ('sun', 23)."""
    local = datetime.fromtimestamp(at, zone)
    return DAYS[local.weekday()], local.hour


def from_timeline(service: str, team: str | None, number: int, created_at: float,
                  entries: Iterable[tuple[str, float, Mapping[str, Any] | None]]) -> Call:
    """A call from its incident's timeline entries (kind, at, detail), oldest first."""
    outcome, agent, wait, handle, score = "open", None, None, None, None
    ended_at: float | None = None
    resolved_after_end = broken = False
    for kind, at, detail in entries:
        d = detail or {}
        if kind == "hotline_answered" and outcome != "answered":
            outcome, agent = "answered", d.get("by")
            wait = float(d["wait_seconds"]) if d.get("wait_seconds") is not None else at - created_at
        elif kind == "hotline_call_ended" and outcome == "answered":
            handle, ended_at = float(d.get("duration_seconds") or 0), at
        elif kind == "voicemail" and outcome in ("open", "abandoned_waiting"):
            outcome = "voicemail"
        elif kind == "hotline_voicemail" and outcome == "open":
            wait = at - created_at  # offered the voicemail after this wait
        elif kind == "released" and d.get("why") == "caller hung up" and outcome == "open":
            outcome, wait = "abandoned_waiting", at - created_at
        elif kind == "csat" and d.get("score") is not None:
            score = int(d["score"])
        elif kind == "resolved" and ended_at is not None:
            resolved_after_end = True
        elif kind in _REOPENED and ended_at is not None:
            broken = True
    return Call(service=service, at=created_at, outcome=outcome, team=team, number=number, agent=agent,
                wait_seconds=None if wait is None else round(wait, 1), handle_seconds=handle, csat=score,
                first_contact=outcome == "answered" and resolved_after_end and not broken)


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 1) if values else None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def figures(calls: Iterable[Call]) -> dict[str, Any]:
    """The figures of a set of calls (see the module's definitions)."""
    calls = list(calls)
    count = {o: sum(c.outcome == o for c in calls) for o in OUTCOMES}
    answered = [c for c in calls if c.outcome == "answered"]
    within = sum(c.wait_seconds is not None and c.wait_seconds <= SERVICE_LEVEL_SECONDS for c in answered)
    scores = [c.csat for c in calls if c.csat is not None]
    fcr = sum(c.first_contact for c in answered)
    return {
        "received": len(calls), "answered": count["answered"], "answered_within_20s": within,
        "service_level": _rate(within, len(calls) - count["abandoned_menu"]),
        "abandoned": count["abandoned_menu"] + count["abandoned_waiting"],
        "abandoned_in_menu": count["abandoned_menu"], "abandoned_waiting": count["abandoned_waiting"],
        "voicemails": count["voicemail"], "open": count["open"],
        "average_wait_seconds": _mean([c.wait_seconds for c in answered if c.wait_seconds is not None]),
        "average_handle_seconds": _mean([c.handle_seconds for c in answered if c.handle_seconds is not None]),
        "csat": {"average": _mean([float(s) for s in scores]), "count": len(scores)},
        "first_contact_resolved": fcr, "first_contact_resolution": _rate(fcr, len(answered)),
    }


def _by(calls: list[Call], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[Call]] = {}
    for c in calls:
        value = getattr(c, key)
        if value is not None:
            groups.setdefault(value, []).append(c)
    return {k: figures(v) for k, v in sorted(groups.items())}


def by_hour_of_week(calls: Iterable[Call], zone: ZoneInfo) -> list[dict[str, Any]]:
    """The hours of the week that had calls, Monday 00h first: received, answered, abandoned."""
    cells: dict[tuple[int, int], list[Call]] = {}
    for c in calls:
        day, hour = hour_of_week(c.at, zone)
        cells.setdefault((DAYS.index(day), hour), []).append(c)
    out = []
    for (index, hour), group in sorted(cells.items()):
        f = figures(group)
        out.append({"day": DAYS[index], "hour": hour, "received": f["received"], "answered": f["answered"],
                    "abandoned": f["abandoned"], "voicemails": f["voicemails"]})
    return out


def grouped(calls: Iterable[Call]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per service, team and agent (an agent's figures: the calls they answered)."""
    calls = list(calls)
    return {"service": _by(calls, "service"), "team": _by(calls, "team"), "agent": _by(calls, "agent")}


def report(calls: Iterable[Call], zone: ZoneInfo) -> dict[str, Any]:
    calls = list(calls)
    return {"overall": figures(calls), "by": grouped(calls), "by_hour_of_week": by_hour_of_week(calls, zone),
            "service_level_seconds": SERVICE_LEVEL_SECONDS}

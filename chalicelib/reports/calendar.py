"""A team's working calendar: which hours are office hours, and how the others are paid.

French (and most EU) rules pay on-call (astreinte) hours and interventions by when they
fall.  Every instant outside office hours belongs to exactly one category, the first
that applies of:

  holiday          a public holiday of the team's country (whole local day)
  weekend          Saturday or Sunday (whole local day)
  night            the night window, 22:00-07:00 by default
  weekday_evening  any other weekday hour outside office hours (evenings, early mornings)

Office hours (Mon-Fri 09:00-18:00 by default, never on public holidays) are ordinary work
and are not counted.  Wall-clock times are in the team's time zone, so the night of the
last Sunday of October lasts one hour longer and that of March one hour shorter.
"""
from __future__ import annotations

import bisect
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..rotas.shifts import _day_marks, _on_duty, day_kinds, minutes

CATEGORIES = ("weekday_evening", "night", "weekend", "holiday")
OFFICE = "office"


@dataclass(frozen=True)
class WorkCalendar:
    timezone: str = "Europe/Paris"
    country: str | None = "FR"
    office: tuple[tuple[frozenset[str], int, int], ...] = (
        (frozenset(("mon", "tue", "wed", "thu", "fri")), 9 * 60, 18 * 60),)
    night_from: int = 22 * 60
    night_to: int = 7 * 60

    @classmethod
    def of_team(cls, team: Mapping[str, Any]) -> WorkCalendar:
        return cls(timezone=team["timezone"], country=team.get("holidays"),
                   office=tuple((frozenset(w["days"]), minutes(w["from"]), minutes(w["to"]))
                                for w in team["office_hours"]),
                   night_from=minutes(team["night"]["from"]), night_to=minutes(team["night"]["to"]))

    @functools.cached_property
    def marks(self) -> tuple[int, ...]:
        """Local times where the category may change: midnight, night and office edges."""
        edges = {0, self.night_from % 1440, self.night_to % 1440}
        edges |= {m % 1440 for _, a, b in self.office for m in (a, b)}
        return tuple(sorted(edges))

    def category(self, d: date, minute: float) -> str:
        """The category of local day `d` at `minute` past midnight."""
        return _category(self, d, minute)

    def category_at(self, t: float) -> str:
        local = datetime.fromtimestamp(t, ZoneInfo(self.timezone))
        return self.category(local.date(), local.hour * 60 + local.minute + local.second / 60)

    def is_night(self, t: float) -> bool:
        local = datetime.fromtimestamp(t, ZoneInfo(self.timezone))
        return _in_window(local.hour * 60 + local.minute, self.night_from, self.night_to)

    def split(self, start: float, end: float) -> dict[str, float]:
        """Seconds of [start, end) in each category, office hours included under 'office'."""
        out = dict.fromkeys((*CATEGORIES, OFFICE), 0.0)
        for a, b, cat in self.segments(start, end):
            out[cat] += b - a
        return out

    def segments(self, start: float, end: float) -> list[tuple[float, float, str]]:
        """[start, end) cut where the category changes, each piece with its category."""
        if end <= start:
            return []
        zone = ZoneInfo(self.timezone)
        first = datetime.fromtimestamp(start, zone).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end, zone).date() + timedelta(days=1)
        marks = _day_marks(self.timezone, first, last, self.marks)
        i = bisect.bisect_right(marks, (start, date.max, float("inf")))
        local = datetime.fromtimestamp(start, zone)
        cursor, cat = start, self.category(local.date(), local.hour * 60 + local.minute + local.second / 60)
        out: list[tuple[float, float, str]] = []
        for t, d, minute in marks[i:]:
            if t >= end:
                break
            nxt = self.category(d, minute)
            if nxt != cat and t > cursor:
                out.append((cursor, t, cat))
                cursor = t
            cat = nxt
        out.append((cursor, end, cat))
        return out

    def next_office_start(self, after: float, horizon_days: int = 15) -> float | None:
        """The start of the next office-hours period at or after `after` (`after` itself
        when it falls in office hours)."""
        if self.category_at(after) == OFFICE:
            return after
        zone = ZoneInfo(self.timezone)
        first = datetime.fromtimestamp(after, zone).date()
        marks = _day_marks(self.timezone, first, first + timedelta(days=horizon_days), self.marks)
        for t, d, minute in marks:
            if t > after and self.category(d, minute) == OFFICE:
                return t
        return None


def _in_window(minute: float, start: int, end: int) -> bool:
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end


@functools.lru_cache(maxsize=200_000)
def _category(cal: WorkCalendar, d: date, minute: float) -> str:
    if cal.office and _on_duty(cal.office, cal.country, d, minute):
        return OFFICE
    kinds = day_kinds(d, cal.country)
    if "holiday" in kinds:
        return "holiday"
    if kinds & {"sat", "sun"}:
        return "weekend"
    if _in_window(minute, cal.night_from, cal.night_to):
        return "night"
    return "weekday_evening"


def merge(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping or touching intervals joined: an hour on call in two layers is one hour."""
    out: list[tuple[float, float]] = []
    for a, b in sorted(i for i in intervals if i[1] > i[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out

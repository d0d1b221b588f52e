"""Rotation manager: who holds a rota layer at an instant, and the shifts over a period.

Pure functions over the validated bundle (chalicelib.rotas).  A layer rotates its
participants through shifts whose lengths follow a pattern of days ([7] weekly, [1]
daily, [4, 3] four days then three), handing over at a local time; restrictions say when
the layer is on duty at all (office hours, evenings and weekends...), with public
holidays counted as non-working days (the kind "holiday", and still a weekend day when
they fall on one); and
overrides put someone else on call for an interval.  Wall-clock times are in the rota's
time zone, so a 09:00 handoff stays at 09:00 across daylight-saving changes.
"""
from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@functools.lru_cache(maxsize=64)
def holidays_of(country: str, year: int) -> frozenset[date]:
    """Public holidays (the `holidays` package), e.g. FR, DE, GB."""
    import holidays

    return frozenset(holidays.country_holidays(country, years=year).keys())


def day_kinds(d: date, country: str | None) -> frozenset[str]:
    """What kind of day `d` is for restriction windows: its weekday ('mon'..'sun'), but a
    public holiday is a non-working day: 'holiday' instead of a working weekday, and
    both 'holiday' and 'sat'/'sun' when it falls on a weekend."""
    weekday = DAYS[d.weekday()]
    if country and d in holidays_of(country, d.year):
        return frozenset(("holiday", weekday)) if weekday in ("sat", "sun") else frozenset(("holiday",))
    return frozenset((weekday,))


def minutes(hhmm: str) -> int:
    """'18:30' -> 1110; '24:00' is the end of the day."""
    h, m = hhmm.split(":")[:2]
    return int(h) * 60 + int(m)


@dataclass(frozen=True)
class Shift:
    start: float
    end: float
    person: str
    rota: str
    layer: str

    def as_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "person": self.person, "rota": self.rota,
                "layer": self.layer}


class _Layer:
    """A layer with its fields parsed once (rotas are read far more often than written)."""

    def __init__(self, rota: Mapping[str, Any], name: str):
        layer = rota["layers"][name]
        self.rota_id, self.name = rota.get("id", ""), name
        self.tz = ZoneInfo(layer.get("timezone") or rota["timezone"])
        self.country = rota.get("holidays")
        self.people = layer["participants"]
        self.pattern = layer.get("pattern") or [layer.get("days", 7)]
        self.cycle = sum(self.pattern)
        self.handoff = minutes(layer["handoff"])
        self.start = date.fromisoformat(layer["start"])
        self.rules = tuple((frozenset(r["days"]), minutes(r["from"]), minutes(r["to"]))
                           for r in layer.get("restrictions") or [])
        self.overrides = sorted(layer.get("overrides") or [], key=lambda o: o["start"])
        # Local times where the holder may change each day: the handoff, window edges.
        self.marks = tuple(sorted({self.handoff} | {m % 1440 for _, a, b in self.rules for m in (a, b)}))

    # -- one instant

    def shift_index(self, d: date, minute: float) -> int:
        day = (d - self.start).days - (1 if minute < self.handoff else 0)
        cycle, rest = divmod(day, self.cycle)
        k = 0
        while rest >= self.pattern[k]:
            rest -= self.pattern[k]
            k += 1
        return cycle * len(self.pattern) + k

    def on_duty(self, d: date, minute: float) -> bool:
        return not self.rules or _on_duty(self.rules, self.country, d, minute)

    def at(self, at: float) -> str | None:
        # Evaluate at the last handoff or window edge at or before `at`, placed exactly as
        # shifts() places it: so on the nights clocks change, when 02:30 happens twice or
        # not at all, both views name the same person (one handoff, never back and forth).
        day = datetime.fromtimestamp(at, self.tz).date()
        marks = _day_marks(self.tz.key, day - timedelta(days=1), day + timedelta(days=1), self.marks)
        _, d, minute = marks[bisect.bisect_right(marks, (at, date.max, math.inf)) - 1]
        return self.holder(at, d, minute)

    def holder(self, at: float, d: date, minute: float) -> str | None:
        """Who holds the layer at `at`, which is local day `d`, `minute` past midnight."""
        if not self.people or not self.on_duty(d, minute):
            return None
        scheduled = self.people[self.shift_index(d, minute) % len(self.people)]
        for o in self.overrides:
            if o["start"] <= at < o["end"] and o.get("replaces") in (None, scheduled):
                return o["person"]
        return scheduled

    # -- a period

    def boundaries(self, start: float, end: float) -> list[tuple[float, date, float]]:
        """Every instant in [start, end) where the holder may change, with its local day
        and minute: handoffs, restriction edges, override edges."""
        first = datetime.fromtimestamp(start, self.tz).date() - timedelta(days=1)
        last = datetime.fromtimestamp(end, self.tz).date() + timedelta(days=1)
        days = _day_marks(self.tz.key, first, last, self.marks)
        out: list[tuple[float, date, float]] = [m for m in days[bisect.bisect_right(days, (start,)):]
                                                if m[0] < end]
        for t in {start, *(t for o in self.overrides for t in (o["start"], o["end"]) if start < t < end)}:
            local = datetime.fromtimestamp(t, self.tz)
            out.append((t, local.date(), local.hour * 60 + local.minute + local.second / 60))
        out.sort(key=lambda m: m[0])
        return out

    def shifts(self, start: float, end: float) -> list[Shift]:
        result: list[Shift] = []
        marks = self.boundaries(start, end)
        for i, (t, d, minute) in enumerate(marks):
            who = self.holder(t, d, minute)
            stop = marks[i + 1][0] if i + 1 < len(marks) else end
            if who is None or stop <= t:
                continue
            if result and result[-1].person == who and result[-1].end == t:
                result[-1] = Shift(result[-1].start, stop, who, self.rota_id, self.name)
            else:
                result.append(Shift(t, stop, who, self.rota_id, self.name))
        return result


@functools.lru_cache(maxsize=100_000)
def _on_duty(rules: tuple[tuple[frozenset[str], int, int], ...], country: str | None, d: date,
             minute: float) -> bool:
    """Whether restriction windows cover local day `d` at `minute` (memoised: rotas of a
    team share their windows)."""
    today = day_kinds(d, country)
    yesterday: frozenset[str] | None = None
    for days, start, end in rules:
        if start < end:
            if today & days and start <= minute < end:
                return True
        else:  # overnight (18:00-09:00), or the whole day when start == end
            if today & days and minute >= start:
                return True
            if minute < end:
                yesterday = yesterday or day_kinds(d - timedelta(days=1), country)
                if yesterday & days:
                    return True
    return False


@functools.lru_cache(maxsize=8192)
def _day_marks(tz: str, first: date, last: date,
               marks: tuple[int, ...]) -> list[tuple[float, date, int]]:
    """(instant, local day, minute) of each local time in `marks` on each day, in order."""
    zone, d = ZoneInfo(tz), first
    out: list[tuple[float, date, int]] = []
    while d <= last:
        for m in marks:
            out.append((datetime(d.year, d.month, d.day, m // 60, m % 60, tzinfo=zone).timestamp(), d, m))
        d += timedelta(days=1)
    out.sort(key=lambda x: x[0])
    return out


_compiled: dict[tuple[int, str], tuple[Mapping[str, Any], _Layer]] = {}


def _layer(rota: Mapping[str, Any], name: str) -> _Layer:
    """The parsed layer, cached while its rota dict lives (the tuple keeps it alive, so
    its id is not reused)."""
    hit = _compiled.get((id(rota), name))
    if hit is None or hit[0] is not rota:
        if len(_compiled) > 4096:
            _compiled.clear()
        hit = _compiled[(id(rota), name)] = (rota, _Layer(rota, name))
    return hit[1]


def on_call(rota: Mapping[str, Any], layer: str, at: float) -> str | None:
    """Who holds `layer` of `rota` at instant `at` (epoch seconds); None when off duty."""
    if layer not in rota["layers"]:
        return None
    return _layer(rota, layer).at(at)


def shifts(rota: Mapping[str, Any], layer: str, start: float, end: float) -> list[Shift]:
    """The layer's shifts overlapping [start, end), clipped to it, merged when the same
    person holds consecutive intervals."""
    return _layer(rota, layer).shifts(start, end)


def on_call_many(rota: Mapping[str, Any], layer: str, instants: list[float]) -> list[str | None]:
    """on_call at many instants at once, from the shifts of the span.

    Sorted instants (a timeline) are answered by slices between shift edges; unsorted ones
    by a binary search each, run by map in C.
    """
    if not instants:
        return []
    lo, hi = min(instants), max(instants) + 1
    # starts[k] begins interval k, held by holder[k] (None: off duty).
    starts: list[float] = [float("-inf")]
    holder: list[str | None] = [None]
    cursor = lo
    for s in shifts(rota, layer, lo, hi):
        if s.start > cursor:
            starts.append(cursor)
            holder.append(None)
        starts.append(s.start)
        holder.append(s.person)
        cursor = s.end
    starts.append(cursor)
    holder.append(None)
    if sorted(instants) != instants:
        index = map(functools.partial(bisect.bisect_right, starts), instants)
        return list(map([None, *holder].__getitem__, index))
    out: list[str | None] = []
    for k in range(len(starts)):
        upto = bisect.bisect_left(instants, starts[k + 1]) if k + 1 < len(starts) else len(instants)
        out.extend([holder[k]] * (upto - len(out)))
    return out


def gaps(rota: Mapping[str, Any], layer: str, start: float, end: float) -> list[tuple[float, float]]:
    """Intervals with nobody on call (for a layer meant to be covered all the time)."""
    holes, cursor = [], start
    for s in shifts(rota, layer, start, end):
        if s.start > cursor:
            holes.append((cursor, s.start))
        cursor = max(cursor, s.end)
    if cursor < end:
        holes.append((cursor, end))
    return holes

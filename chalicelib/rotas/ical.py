"""iCal feeds of the rotas, one per rota and one per person: bundle in, bytes out, no I/O.

What Google Calendar, Outlook and Apple Calendar need from a subscribed feed (RFC 5545):
- Times carry the rota's TZID with its VTIMEZONE, so a 09:00 handoff stays 09:00 across
  daylight-saving changes, whatever zone the reader's calendar is in.
- A UID that stays the same while the shift is the same shift: it is keyed on the feed,
  rota, layer and the shift's start, not on its end or holder, so an override that cuts a
  shift short or hands it to someone else updates the event instead of adding one.
- A SEQUENCE that rises whenever the event changes.  Nothing is stored per event, so it is
  the minute of the last change to the data (`sequence`, from feeds.version()), raised for
  the events the moving window clips (see `_sequence`).
- The window is 90 days back to 365 days ahead, counted from the start of the UTC day, so
  every fetch within a day gives the same events.
"""
from __future__ import annotations

import calendar
import functools
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard
from icalendar.prop import vDDDTypes, vInt, vText

from .shifts import Shift, on_call
from .shifts import shifts as layer_shifts

DAY = 86400
BACK, AHEAD = 90 * DAY, 365 * DAY
PRODID = "-//Astreinte//Rotas//FR"

_WORDS = {
    "fr": {"summary": "Astreinte {rota} — niveau {level} ({layer})", "holder": "{summary} : {name}",
           "contacts": "Contacts d'escalade au début du créneau :", "none": "Aucun autre niveau "
           "d'astreinte au début du créneau.", "line": "- niveau {level} ({layer}) : {who}",
           "on_call": "De garde : {who}", "rota_title": "Astreinte {rota}",
           "person_title": "Astreinte — {name}"},
    "en": {"summary": "On call {rota} — level {level} ({layer})", "holder": "{summary}: {name}",
           "contacts": "Escalation contacts at the start of this shift:", "none": "Nobody else on "
           "call at the start of this shift.", "line": "- level {level} ({layer}): {who}",
           "on_call": "On call: {who}", "rota_title": "On call {rota}",
           "person_title": "On call — {name}"},
}


def window(now: float) -> tuple[float, float]:
    """[start of today (UTC) - 90 days, start of today + 365 days)."""
    today = now - now % DAY
    return today - BACK, today + AHEAD


def levels(bundle: Mapping[str, Any], rota_id: str) -> dict[str, int]:
    """Each layer's escalation level: the first policy step that pages it (permanence and
    astreinte share level 1 in the example), else its position in the rota."""
    first: dict[str, int] = {}
    for policy in bundle["policies"].values():
        for step, targets in enumerate((s["targets"] for s in policy["steps"]), 1):
            for t in targets:
                if t.get("rota") == rota_id and step < first.get(t["layer"], step + 1):
                    first[t["layer"]] = step
    layers = bundle["rotas"][rota_id]["layers"]
    return {name: first.get(name, k) for k, name in enumerate(layers, 1)}


def rota_feed(bundle: Mapping[str, Any], rota_id: str, now: float, sequence: int, lang: str = "fr") -> bytes:
    """Every layer of one rota, each event naming who holds it."""
    rota = bundle["rotas"][rota_id]
    start, end = window(now)
    shifts = [s for name in rota["layers"] for s in layer_shifts(rota, name, start, end)]
    title = _words(lang)["rota_title"].format(rota=rota["name"])
    return render(bundle, shifts, title=title, lang=lang, now=now, sequence=sequence,
                  timezone=rota["timezone"], feed=f"rota/{rota_id}", show_holder=True)


def person_feed(bundle: Mapping[str, Any], person_id: str, now: float, sequence: int) -> bytes:
    """Every shift of one person, across all rotas and layers, in their language."""
    person = bundle["people"][person_id]
    start, end = window(now)
    shifts = [s for rota in bundle["rotas"].values() for name, layer in rota["layers"].items()
              if person_id in layer["participants"]
              or any(o["person"] == person_id for o in layer.get("overrides") or [])
              for s in layer_shifts(rota, name, start, end) if s.person == person_id]
    lang = person.get("language", "fr")
    title = _words(lang)["person_title"].format(name=person["name"])
    return render(bundle, shifts, title=title, lang=lang, now=now, sequence=sequence,
                  timezone=person.get("timezone", "Europe/Paris"), feed=f"person/{person_id}")


def render(bundle: Mapping[str, Any], shifts: Iterable[Shift], *, title: str, lang: str, now: float,
           sequence: int, timezone: str, feed: str, show_holder: bool = False) -> bytes:
    """The VCALENDAR of `shifts`; `feed` makes the UIDs of this feed its own.

    Property values are built once and shared by the events that repeat them, and
    properties keep their insertion order (sorting them costs a tenth of the render)."""
    words = _words(lang)
    start, end = window(now)
    cal = Calendar()
    cal.add("version", "2.0")
    cal.add("prodid", PRODID)
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", title)
    cal.add("x-wr-timezone", timezone)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    shifts = sorted(shifts, key=lambda s: (s.start, s.rota, s.layer))
    level = {rid: levels(bundle, rid) for rid in {s.rota for s in shifts}}
    for tzid in sorted({bundle["rotas"][rid]["timezone"] for rid in level}):
        cal.add_component(_vtimezone(tzid, *_years(start, end)))
    texts: dict[str, vText] = {}
    shared = {"DTSTAMP": vDDDTypes(datetime.fromtimestamp(now, UTC)), "TRANSP": vText("TRANSPARENT")}
    for s in shifts:
        ev = Event()
        ev["UID"] = vText(_uid(feed, s, clipped=s.start <= start))
        ev["SEQUENCE"] = vInt(_sequence(s, sequence, start, now))
        ev["DTSTAMP"] = shared["DTSTAMP"]
        tz = ZoneInfo(bundle["rotas"][s.rota]["timezone"])
        ev["DTSTART"] = vDDDTypes(datetime.fromtimestamp(s.start, tz))
        ev["DTEND"] = vDDDTypes(datetime.fromtimestamp(s.end, tz))
        summary, description = _texts(bundle, s, level[s.rota], words, show_holder)
        ev["SUMMARY"] = texts.get(summary) or texts.setdefault(summary, vText(summary))
        ev["DESCRIPTION"] = texts.get(description) or texts.setdefault(description, vText(description))
        ev["TRANSP"] = shared["TRANSP"]
        cal.add_component(ev)
    # icalendar builds and escapes every line; folding them ourselves halves the render
    # time (its folding walks each line a character at a time).
    return b"".join(_fold(line) + b"\r\n" for line in cal.content_lines(sorted=False) if line)


def _fold(line: str, limit: int = 75) -> bytes:
    """RFC 5545 folding: at most 75 octets a line, never inside a UTF-8 character nor
    between a backslash and the character it escapes."""
    data = line.encode("utf-8")
    if len(data) <= limit:
        return data
    parts, start = [], 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and data[end] & 0xC0 == 0x80:  # continuation byte
            end -= 1
        if end < len(data) and data[end - 1:end] == b"\\" and \
                (len(data[start:end]) - len(data[start:end].rstrip(b"\\"))) % 2:
            end -= 1  # keep an escape sequence whole
        parts.append(data[start:end])
        start, limit = end, 74  # a continuation line starts with a space
    return b"\r\n ".join(parts)


def _uid(feed: str, s: Shift, clipped: bool) -> str:
    """Stable while the shift is the same shift.  A shift that began before the window has
    no known start (the window cuts it), so it is keyed on its holder instead."""
    anchor = f"before/{s.person}" if clipped else str(int(s.start))
    return hashlib.sha256(f"{feed}/{s.rota}/{s.layer}/{anchor}".encode()).hexdigest()[:32] + "@astreinte"


def _sequence(s: Shift, sequence: int, start: float, now: float) -> int:
    """The data's version, raised for the events the window clips, which change daily
    without the data changing: one cut by the window's end ends where it does, so its
    DTEND - 365 days rises with it (and stops rising once the true end shows); one cut
    by the window's start moves every day, so it takes today's minute."""
    today = now - now % DAY
    return int(max(sequence, (s.end - AHEAD) // 60, today // 60 if s.start <= start else 0))


def _texts(bundle: Mapping[str, Any], s: Shift, level: dict[str, int], words: dict[str, str],
           show_holder: bool) -> tuple[str, str]:
    """SUMMARY and DESCRIPTION: the rota, level and layer (and holder, in a rota feed), then
    who holds the rota's other layers when the shift starts, by level."""
    rota = bundle["rotas"][s.rota]
    summary = words["summary"].format(rota=rota["name"], level=level[s.layer], layer=s.layer)
    lines = []
    if show_holder:
        summary = words["holder"].format(summary=summary, name=_name(bundle, s.person))
        lines.append(words["on_call"].format(who=_contact(bundle, s.person)))
    contacts = sorted((level[name], name, who) for name in rota["layers"] if name != s.layer
                      for who in [on_call(rota, name, s.start)] if who)
    lines.append(words["contacts"] if contacts else words["none"])
    lines += [words["line"].format(level=n, layer=name, who=_contact(bundle, who))
              for n, name, who in contacts]
    return summary, "\n".join(lines)


def _words(lang: str) -> dict[str, str]:
    return _WORDS.get(lang, _WORDS["fr"])


def _name(bundle: Mapping[str, Any], pid: str) -> str:
    return bundle["people"].get(pid, {}).get("name", pid)


def _contact(bundle: Mapping[str, Any], pid: str) -> str:
    phone = bundle["people"].get(pid, {}).get("phone")
    return f"{_name(bundle, pid)}, {phone}" if phone else _name(bundle, pid)


def _years(start: float, end: float) -> tuple[int, int]:
    return datetime.fromtimestamp(start, UTC).year - 1, datetime.fromtimestamp(end, UTC).year + 1


@functools.lru_cache(maxsize=32)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """The zone's VTIMEZONE, built once: one observance per kind of change with a yearly
    RRULE, as Google, Outlook and Apple write them (Outlook reads nothing else, and
    icalendar's own lists of RDATEs lose all but one date in other readers); a change that
    follows no yearly rule over these years gets an observance of its own."""
    zone = ZoneInfo(tzid)
    vtz = Timezone()
    vtz.add("tzid", tzid)
    first, last = datetime(first_year, 1, 1, tzinfo=UTC), datetime(last_year + 1, 1, 1, tzinfo=UTC)
    changes = _changes(zone, first, last)
    if not changes:
        at = datetime(first_year, 1, 1, tzinfo=zone)
        offset = at.utcoffset() or timedelta()
        changes = [(at.astimezone(UTC), offset, offset, at.tzname() or tzid, bool(at.dst()))]
    kinds: dict[tuple[timedelta, timedelta, str, bool], list[datetime]] = defaultdict(list)
    for at, before, after, name, dst in changes:
        kinds[(before, after, name, dst)].append((at + before).replace(tzinfo=None))  # local time before
    for (before, after, name, dst), starts in kinds.items():
        rule = _yearly(starts, before, last_year)
        for start in starts[:1] if rule else starts:
            sub = TimezoneDaylight() if dst else TimezoneStandard()
            sub.add("dtstart", start)
            sub.add("tzoffsetfrom", before)
            sub.add("tzoffsetto", after)
            sub.add("tzname", name)
            if rule:
                sub.add("rrule", rule)
            vtz.add_component(sub)
    return vtz


def _changes(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, timedelta, timedelta,
                                                                            str, bool]]:
    """(instant, offset before, offset after, name, is DST) of each change of UTC offset."""
    def offset(t: int) -> timedelta:
        return datetime.fromtimestamp(t, zone).utcoffset() or timedelta()

    out = []
    day, t, stop = DAY, int(start.timestamp()), int(end.timestamp())
    while t < stop:
        if offset(t + day) != offset(t):
            lo, hi = t, t + day  # the first second of the new offset
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == offset(t) else (lo, mid)
            local = datetime.fromtimestamp(hi, zone)
            out.append((datetime.fromtimestamp(hi, UTC), offset(t), offset(hi), local.tzname() or "",
                        bool(local.dst())))
        t += day
    return out


def _yearly(starts: list[datetime], before: timedelta, last_year: int) -> dict[str, Any] | None:
    """The RRULE of changes on the same nth (or last) weekday of the same month each year."""
    first = starts[0]
    pattern = {(s.year - i, s.month, s.weekday(), s.time()) for i, s in enumerate(starts)}
    if len(starts) < 2 or len(pattern) > 1:  # one a year, same month, weekday and time
        return None
    if all(s.day + 7 > calendar.monthrange(s.year, s.month)[1] for s in starts):
        nth = -1
    elif len({(s.day - 1) // 7 for s in starts}) == 1:
        nth = (first.day - 1) // 7 + 1
    else:
        return None
    rule: dict[str, Any] = {"freq": "YEARLY", "bymonth": first.month,
                            "byday": f"{nth}{('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')[first.weekday()]}"}
    if starts[-1].year < last_year:  # the rule stopped within these years
        rule["until"] = (starts[-1] - before).replace(tzinfo=UTC)  # UTC, as RFC 5545 says
    return rule

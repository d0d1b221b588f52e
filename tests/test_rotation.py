"""The rotation manager (chalicelib.rotas.shifts), without a server: who is on call when.

Every rota is written as YAML into tmp_path and read back with rotas.load_dir, so the
tests also go through validation.  Layers start on Monday 2026-01-05 unless said
otherwise, so "day N" below is N days after 2026-01-05 (09:00 handoffs: day N runs from
09:00 on that date to 09:00 the next day), and "week N" is N weeks after it.
Times are local to Europe/Paris (CET = UTC+1 in winter, CEST = UTC+2 in summer).

French public holidays in 2026 used below: Tue 14 July, Wed 11 November.
"""
from __future__ import annotations

import itertools
import random
import re
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib import clock
from chalicelib.rotas import load as rotas
from chalicelib.rotas import shifts as rotation

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600.0
DAY = 86400.0

PEOPLE = """\
people:
  - {id: ann, phone: "+33600000001"}
  - {id: ben, phone: "+33600000002"}
  - {id: cat, phone: "+33600000003"}
  - {id: dan, phone: "+33600000004"}
  - {id: eve, phone: "+33600000005"}
"""
_dirs = itertools.count()


def load(tmp_path: Path, text: str) -> dict:
    """Write people.yaml and rota.yaml (text) into a new folder and load the bundle."""
    folder = tmp_path / f"rotas{next(_dirs)}"
    folder.mkdir()
    (folder / "people.yaml").write_text(PEOPLE)
    (folder / "rota.yaml").write_text(text)
    return rotas.load_dir(folder)


def rota_yaml(layers: str, holidays: str = "FR", extra: str = "") -> str:
    """The text of rota.yaml: one rota `r` in Europe/Paris with the given layers."""
    return ("rotas:\n"
            "  - id: r\n"
            "    timezone: Europe/Paris\n"
            f"    holidays: {holidays}\n"
            f"{extra}"
            "    layers:\n" + textwrap.indent(textwrap.dedent(layers), "      "))


def make_rota(tmp_path: Path, layers: str, holidays: str = "FR") -> dict:
    return load(tmp_path, rota_yaml(layers, holidays))["rotas"]["r"]


def at(local: str) -> float:
    """'2026-01-06 09:00' in Paris -> epoch seconds."""
    return datetime.fromisoformat(local).replace(tzinfo=PARIS).timestamp()


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def local(ts: float) -> str:
    return datetime.fromtimestamp(ts, PARIS).strftime("%Y-%m-%d %H:%M")


def hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")


def who(rota: dict, layer: str, when: str) -> str | None:
    return rotation.on_call(rota, layer, at(when))


def table(shifts: list[rotation.Shift]) -> list[tuple[str, str, str]]:
    return [(local(s.start), local(s.end), s.person) for s in shifts]


def merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


DAILY = """\
day:
  participants: [ann, ben, cat]
  shift: daily
  handoff: "09:00"
  start: 2026-01-05
"""

OFFICE = """\
office:
  participants: [ann, ben, cat]
  shift: daily
  handoff: "09:00"
  start: 2026-01-05
  restrictions:
    - {days: [weekdays], from: "09:00", to: "18:00"}
"""

# Evenings, nights, weekends and holidays, as in rotas/support.yaml: a window from 09:00
# to 09:00 lasts 24 hours from 09:00 on the day it starts.
ASTREINTE = """\
astreinte:
  participants: [dan, eve]
  shift: weekly
  handoff: "09:00"
  start: 2026-01-05
  restrictions:
    - {days: [weekdays], from: "18:00", to: "09:00"}
    - {days: [weekend, holiday], from: "09:00", to: "09:00"}
"""


# -- plain rotations


def test_daily_rotation_hands_over_at_nine_and_wraps_around(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY)
    # Day 0 (Mon 5 Jan, 09:00) is ann's, day 1 ben's, day 2 cat's, day 3 ann's again.
    assert who(r, "day", "2026-01-05 09:00") == "ann"
    assert who(r, "day", "2026-01-06 08:59") == "ann"
    assert who(r, "day", "2026-01-06 09:00") == "ben"
    assert who(r, "day", "2026-01-07 08:59") == "ben"
    assert who(r, "day", "2026-01-07 09:00") == "cat"
    assert who(r, "day", "2026-01-08 08:59") == "cat"
    assert who(r, "day", "2026-01-08 09:00") == "ann"  # wrapped around
    # 08:59 on the start day still belongs to day -1: -1 % 3 = 2, cat.
    assert who(r, "day", "2026-01-05 08:59") == "cat"
    # Tue 14 July is day 190 = 3 * 63 + 1: ben (no restrictions, so a holiday changes nothing).
    assert who(r, "day", "2026-07-14 12:00") == "ben"


def test_weekly_rotation(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY.replace("daily", "weekly"))
    # Week 0 ann (Mon 5 Jan 09:00 - Mon 12 Jan 09:00), week 1 ben, week 2 cat, week 3 ann.
    assert who(r, "day", "2026-01-11 23:00") == "ann"
    assert who(r, "day", "2026-01-12 08:59") == "ann"
    assert who(r, "day", "2026-01-12 09:00") == "ben"
    assert who(r, "day", "2026-01-18 12:00") == "ben"
    assert who(r, "day", "2026-01-19 09:00") == "cat"
    assert who(r, "day", "2026-01-26 08:59") == "cat"
    assert who(r, "day", "2026-01-26 09:00") == "ann"
    # Mon 13 July is day 189 = week 27, 27 % 3 = 0: ann all that week.
    assert who(r, "day", "2026-07-14 12:00") == "ann"


def test_rotation_every_three_days(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY.replace("daily", "3d"))
    # ann days 0-2 (to Thu 8 Jan 09:00), ben days 3-5 (to Sun 11), cat 6-8 (to Wed 14), ann...
    assert who(r, "day", "2026-01-07 12:00") == "ann"
    assert who(r, "day", "2026-01-08 08:59") == "ann"
    assert who(r, "day", "2026-01-08 09:00") == "ben"
    assert who(r, "day", "2026-01-11 08:59") == "ben"
    assert who(r, "day", "2026-01-11 09:00") == "cat"
    assert who(r, "day", "2026-01-14 08:59") == "cat"
    assert who(r, "day", "2026-01-14 09:00") == "ann"


@pytest.mark.parametrize("shift", ['"4on3off"', "[4, 3]"])
def test_four_on_three_off_pattern(tmp_path: Path, shift: str) -> None:
    r = make_rota(tmp_path, DAILY.replace("[ann, ben, cat]", "[ann, ben]").replace("daily", shift))
    # Shifts of 4 then 3 days, taken in turn: shift 0 ann (days 0-3, Mon 5 - Fri 9 09:00),
    # shift 1 ben (days 4-6, Fri 9 - Mon 12), shift 2 (2 % 2 = 0) ann (days 7-10), shift 3 ben...
    assert who(r, "day", "2026-01-05 09:00") == "ann"
    assert who(r, "day", "2026-01-09 08:59") == "ann"
    assert who(r, "day", "2026-01-09 09:00") == "ben"
    assert who(r, "day", "2026-01-12 08:59") == "ben"
    assert who(r, "day", "2026-01-12 09:00") == "ann"
    assert who(r, "day", "2026-01-16 08:59") == "ann"
    assert who(r, "day", "2026-01-16 09:00") == "ben"
    # Mon 1 June is day 147 = 21 cycles of 7: Wed 3 June (rest 2) ann, Fri 5 June (rest 4) ben.
    assert who(r, "day", "2026-06-03 12:00") == "ann"
    assert who(r, "day", "2026-06-05 12:00") == "ben"


def test_pattern_with_three_people_moves_on_by_shift_not_by_cycle(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY.replace("daily", "[4, 3]"))
    # Shift k goes to participant k % 3: 0 ann (Mon 5, 4 days), 1 ben (Fri 9, 3 days),
    # 2 cat (Mon 12, 4 days), 3 ann (Fri 16, 3 days), 4 ben (Mon 19), 5 cat (Fri 23), 6 ann (Mon 26).
    expected = [("2026-01-05 09:00", "ann"), ("2026-01-09 09:00", "ben"), ("2026-01-12 09:00", "cat"),
                ("2026-01-16 09:00", "ann"), ("2026-01-19 09:00", "ben"), ("2026-01-23 09:00", "cat"),
                ("2026-01-26 09:00", "ann")]
    for when, person in expected:
        assert who(r, "day", when) == person, when
    got = table(rotation.shifts(r, "day", at("2026-01-05 09:00"), at("2026-01-26 09:00")))
    assert [(s, p) for s, _, p in got] == expected[:-1]


def test_five_two_pattern_splits_weekdays_and_weekends(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY.replace("[ann, ben, cat]", "[ann, ben]").replace("daily", "[5, 2]"))
    # ann Mon 09:00 - Sat 09:00, ben Sat 09:00 - Mon 09:00, every week.
    assert who(r, "day", "2026-01-09 17:00") == "ann"   # Friday
    assert who(r, "day", "2026-01-10 08:59") == "ann"   # Saturday before the handoff
    assert who(r, "day", "2026-01-10 09:00") == "ben"
    assert who(r, "day", "2026-01-12 08:59") == "ben"   # Monday before the handoff
    assert who(r, "day", "2026-01-12 09:00") == "ann"
    # 21 weeks later: Wed 3 June ann, Sat 6 June and Sun 7 June ben.
    assert who(r, "day", "2026-06-03 12:00") == "ann"
    assert who(r, "day", "2026-06-06 12:00") == "ben"
    assert who(r, "day", "2026-06-07 23:00") == "ben"


# -- restrictions and public holidays


def test_office_hours_layer_is_off_outside_weekdays_nine_to_six(tmp_path: Path) -> None:
    r = make_rota(tmp_path, OFFICE)
    # Tue 6 Jan is day 1: ben, from 09:00 (included) to 18:00 (excluded).
    assert who(r, "office", "2026-01-06 08:00") is None
    assert who(r, "office", "2026-01-06 08:59") is None
    assert who(r, "office", "2026-01-06 09:00") == "ben"
    assert who(r, "office", "2026-01-06 17:59") == "ben"
    assert who(r, "office", "2026-01-06 18:00") is None
    assert who(r, "office", "2026-01-06 23:00") is None
    assert who(r, "office", "2026-01-10 12:00") is None  # Saturday
    assert who(r, "office", "2026-01-11 12:00") is None  # Sunday
    assert who(r, "office", "2026-01-12 09:00") == "ben"  # Monday, day 7: 7 % 3 = 1


def test_astreinte_covers_evenings_nights_weekends(tmp_path: Path) -> None:
    r = make_rota(tmp_path, ASTREINTE)
    # Week 0 dan (Mon 5 - Mon 12 Jan 09:00), week 1 eve.
    assert who(r, "astreinte", "2026-01-09 17:59") is None   # Friday office hours
    assert who(r, "astreinte", "2026-01-09 20:00") == "dan"  # Friday evening
    assert who(r, "astreinte", "2026-01-10 03:00") == "dan"  # Friday night
    assert who(r, "astreinte", "2026-01-10 12:00") == "dan"  # Saturday noon
    assert who(r, "astreinte", "2026-01-11 23:00") == "dan"  # Sunday night
    # Monday 00:00-09:00 belongs to Sunday's 09:00-09:00 weekend window.
    assert who(r, "astreinte", "2026-01-12 08:59") == "dan"
    assert who(r, "astreinte", "2026-01-12 09:00") is None   # office hours on Monday
    assert who(r, "astreinte", "2026-01-12 18:00") == "eve"  # week 1 from Monday evening
    assert who(r, "astreinte", "2026-01-13 08:59") == "eve"


def test_overnight_window_belongs_to_the_day_it_starts_and_coverage_check_reports_the_hole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Written with the weekend as whole days: weekdays 18:00-09:00 are the nights that
    # start Monday..Friday, so nothing covers Monday 00:00-09:00 (Sunday night's window
    # ended at midnight), nor Wednesday 00:00-09:00 after the Tuesday 14 July holiday.
    layers = ASTREINTE.replace('[weekend, holiday], from: "09:00", to: "09:00"',
                               '[weekend, holiday], from: "00:00", to: "24:00"')
    r = make_rota(tmp_path, layers)
    assert who(r, "astreinte", "2026-01-09 20:00") == "dan"
    assert who(r, "astreinte", "2026-01-10 12:00") == "dan"
    assert who(r, "astreinte", "2026-01-11 23:59") == "dan"
    assert who(r, "astreinte", "2026-01-12 00:00") is None
    assert who(r, "astreinte", "2026-01-12 08:59") is None
    assert who(r, "astreinte", "2026-01-13 08:59") == "eve"  # Monday night is covered
    # Week of Mon 13 July (week 27, eve): the holes are office hours on Mon, Wed, Thu, Fri
    # and the mornings of Monday and of Wednesday (after the Tuesday holiday).
    holes = [(local(a), local(b)) for a, b in
             rotation.gaps(r, "astreinte", at("2026-07-13 00:00"), at("2026-07-20 00:00"))]
    assert holes == [("2026-07-13 00:00", "2026-07-13 18:00"),
                     ("2026-07-15 00:00", "2026-07-15 18:00"),
                     ("2026-07-16 09:00", "2026-07-16 18:00"),
                     ("2026-07-17 09:00", "2026-07-17 18:00")]
    assert who(r, "astreinte", "2026-07-14 12:00") == "eve"  # the holiday itself

    # The user is told when loading: around_the_clock finds the Monday-morning hole.
    monkeypatch.setattr(clock, "now", lambda: at("2026-01-07 12:00"))  # a Wednesday
    text = rota_yaml(OFFICE + layers, extra="    around_the_clock: [office, astreinte]\n")
    with pytest.raises(rotas.RotaError) as err:
        load(tmp_path, text)
    [problem] = err.value.problems
    assert "rota.yaml" in problem and "rotas[0].around_the_clock: gap" in problem
    found = re.findall(r"\d{4}-\d\d-\d\dT[\d:.]+Z", problem)
    assert [local(datetime.fromisoformat(t).timestamp()) for t in found] == [
        "2026-01-12 00:00", "2026-01-12 09:00"]
    # Written as in rotas/support.yaml (09:00-09:00), the same check passes.
    load(tmp_path, rota_yaml(OFFICE + ASTREINTE, extra="    around_the_clock: [office, astreinte]\n"))


@pytest.mark.parametrize("day", ["2026-07-14", "2026-11-11"])
def test_public_holiday_is_its_own_kind_of_day(tmp_path: Path, day: str) -> None:
    r = make_rota(tmp_path, OFFICE + ASTREINTE)
    # Tue 14 July (day 190, week 27) and Wed 11 November (day 310, week 44) are French
    # public holidays: no office hours, the astreinte (week 27 % 2 = 1 eve, 44 % 2 = 0 dan)
    # holds the whole day.
    on_duty = {"2026-07-14": "eve", "2026-11-11": "dan"}[day]
    assert who(r, "office", f"{day} 12:00") is None
    assert who(r, "astreinte", f"{day} 12:00") == on_duty
    assert who(r, "astreinte", f"{day} 09:00") == on_duty
    assert who(r, "astreinte", f"{day} 17:59") == on_duty
    # The day before is an ordinary weekday (Mon 13 July day 189 ann, Tue 10 Nov day 309 ann).
    before = (datetime.fromisoformat(day) - timedelta(days=1)).date().isoformat()
    assert who(r, "office", f"{before} 12:00") == "ann"
    assert who(r, "astreinte", f"{before} 12:00") is None

    # Without holidays, the weekday rules apply: office hours (day 190 and 310: ben).
    plain = make_rota(tmp_path, OFFICE + ASTREINTE, holidays="none")
    assert who(plain, "office", f"{day} 12:00") == "ben"
    assert who(plain, "astreinte", f"{day} 12:00") is None
    assert who(plain, "astreinte", f"{day} 20:00") == on_duty


# -- daylight saving time (Europe/Paris: 29 March 02:00 CET -> 03:00 CEST, 25 October
#    03:00 CEST -> 02:00 CET)


def test_weekly_monday_handoff_stays_at_nine_local_across_dst(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY.replace("daily", "weekly"))
    # Mon 30 March is week 12 (12 % 3 = 0, ann; week 11 cat): handoff at 09:00 CEST = 07:00 UTC.
    assert rotation.on_call(r, "day", utc("2026-03-30 06:59")) == "cat"
    assert rotation.on_call(r, "day", utc("2026-03-30 07:00")) == "ann"
    # Mon 6 April, week 13: ben from 09:00 CEST.
    assert who(r, "day", "2026-04-06 08:59") == "ann"
    assert who(r, "day", "2026-04-06 09:00") == "ben"
    # Mon 26 October is week 42 (42 % 3 = 0, ann; week 41 cat): 09:00 CET = 08:00 UTC.
    assert rotation.on_call(r, "day", utc("2026-10-26 07:00")) == "cat"
    assert rotation.on_call(r, "day", utc("2026-10-26 07:59")) == "cat"
    assert rotation.on_call(r, "day", utc("2026-10-26 08:00")) == "ann"
    # The weeks spanning the changes last 167 h (spring) and 169 h (autumn).
    spring = rotation.shifts(r, "day", at("2026-03-23 09:00"), at("2026-03-30 09:00"))
    autumn = rotation.shifts(r, "day", at("2026-10-19 09:00"), at("2026-10-26 09:00"))
    assert [(s.person, s.end - s.start) for s in spring] == [("cat", 167 * HOUR)]
    assert [(s.person, s.end - s.start) for s in autumn] == [("cat", 169 * HOUR)]


def test_daily_shift_spanning_dst_night_lasts_23_or_25_hours(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY)
    # Sat 28 March 09:00 CET -> Sun 29 09:00 CEST: 23 h; the days around it 24 h.
    spring = rotation.shifts(r, "day", at("2026-03-27 09:00"), at("2026-03-30 09:00"))
    assert [(local(s.start), (s.end - s.start) / HOUR) for s in spring] == [
        ("2026-03-27 09:00", 24), ("2026-03-28 09:00", 23), ("2026-03-29 09:00", 24)]
    # Sat 24 October 09:00 CEST -> Sun 25 09:00 CET: 25 h.
    autumn = rotation.shifts(r, "day", at("2026-10-23 09:00"), at("2026-10-26 09:00"))
    assert [(local(s.start), (s.end - s.start) / HOUR) for s in autumn] == [
        ("2026-10-23 09:00", 24), ("2026-10-24 09:00", 25), ("2026-10-25 09:00", 24)]
    # Day 82 (28 March) ben, day 83 cat; day 292 (24 October) ben, day 293 cat.
    assert [s.person for s in spring] == ["ann", "ben", "cat"]
    assert [s.person for s in autumn] == ["ann", "ben", "cat"]


def _night(rota: dict, first_utc: str, last_utc: str) -> tuple[list[float], list[str | None]]:
    start, end = utc(first_utc), utc(last_utc)
    instants = [start + k * 300 for k in range(int((end - start) // 300) + 1)]
    return instants, [rotation.on_call(rota, "day", t) for t in instants]


def _holder_from_shifts(rota: dict, instants: list[float]) -> list[str | None]:
    spans = rotation.shifts(rota, "day", instants[0], instants[-1] + 1)
    return [next((s.person for s in spans if s.start <= t < s.end), None) for t in instants]


def test_handoff_in_the_skipped_hour_of_spring_forward(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY.replace('"09:00"', '"02:30"'))
    # 02:30 does not exist on Sun 29 March (01:59 CET is followed by 03:00 CEST): ben (day
    # 82) hands over to cat (day 83) once, somewhere between 03:00 and 03:30 CEST, and every
    # view of the rota (on_call, shifts, on_call_many) agrees on when.
    instants, answers = _night(r, "2026-03-28 23:00", "2026-03-29 03:00")
    assert rotation.on_call(r, "day", utc("2026-03-29 00:59")) == "ben"  # 01:59 CET
    assert rotation.on_call(r, "day", utc("2026-03-29 01:30")) == "cat"  # 03:30 CEST
    assert rotation.on_call(r, "day", utc("2026-03-30 00:29")) == "cat"  # 02:29 CEST next day
    assert rotation.on_call(r, "day", utc("2026-03-30 00:30")) == "ann"  # 02:30 CEST next day
    handoffs = [t for t, a, b in zip(instants[1:], answers, answers[1:], strict=False) if a != b]
    assert len(handoffs) == 1 and utc("2026-03-29 01:00") <= handoffs[0] <= utc("2026-03-29 01:30")
    from_shifts = _holder_from_shifts(r, instants)
    first_cat = [hhmm(next(t for t, p in zip(instants, view, strict=True) if p == "cat"))
                 for view in (answers, from_shifts)]
    assert from_shifts == answers, "on_call hands over at {}, shifts at {}".format(*first_cat)
    assert rotation.on_call_many(r, "day", instants) == answers


def test_handoff_in_the_repeated_hour_of_fall_back(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY.replace('"09:00"', '"02:30"'))
    # 02:30 happens twice on Sun 25 October (CEST at 00:30 UTC, then CET at 01:30 UTC):
    # ben (day 292) hands over to cat (day 293) at one of them and never takes the layer
    # back when the clock goes back, and every view agrees.
    instants, answers = _night(r, "2026-10-24 23:00", "2026-10-25 03:00")
    assert answers[0] == "ben" and answers[-1] == "cat"
    changes = [(hhmm(t), b) for t, a, b in zip(instants[1:], answers, answers[1:], strict=False) if a != b]
    assert len(changes) == 1, f"the layer changes hands {changes}"
    assert _holder_from_shifts(r, instants) == answers
    assert rotation.on_call_many(r, "day", instants) == answers


# -- overrides


OVERRIDES = DAILY + """\
  overrides:
    - {person: dan, replaces: ben, start: "2026-01-06T12:00", end: "2026-01-07T12:00"}
    - {person: eve, start: "2026-01-08T12:00", end: "2026-01-08T14:00"}
"""


def test_override_replacing_a_named_person_only_replaces_them(tmp_path: Path) -> None:
    r = make_rota(tmp_path, OVERRIDES)
    # Tue 6 Jan (day 1) is ben's, Wed 7 Jan from 09:00 (day 2) cat's; dan replaces ben
    # from 6 Jan 12:00 to 7 Jan 12:00, so only until cat's shift starts at 09:00.
    assert who(r, "day", "2026-01-06 11:59") == "ben"
    assert who(r, "day", "2026-01-06 12:00") == "dan"
    assert who(r, "day", "2026-01-07 08:59") == "dan"
    assert who(r, "day", "2026-01-07 09:00") == "cat"
    assert who(r, "day", "2026-01-07 11:59") == "cat"
    assert who(r, "day", "2026-01-07 12:00") == "cat"


def test_override_without_replaces_takes_over_whoever_is_scheduled(tmp_path: Path) -> None:
    r = make_rota(tmp_path, OVERRIDES)
    # Thu 8 Jan (day 3) is ann's; eve has [12:00, 14:00), start included, end excluded.
    assert who(r, "day", "2026-01-08 11:59:59") == "ann"
    assert who(r, "day", "2026-01-08 12:00") == "eve"
    assert who(r, "day", "2026-01-08 13:59:59") == "eve"
    assert who(r, "day", "2026-01-08 14:00") == "ann"
    assert table(rotation.shifts(r, "day", at("2026-01-06 00:00"), at("2026-01-09 00:00"))) == [
        ("2026-01-06 00:00", "2026-01-06 09:00", "ann"),
        ("2026-01-06 09:00", "2026-01-06 12:00", "ben"),
        ("2026-01-06 12:00", "2026-01-07 09:00", "dan"),
        ("2026-01-07 09:00", "2026-01-08 09:00", "cat"),
        ("2026-01-08 09:00", "2026-01-08 12:00", "ann"),
        ("2026-01-08 12:00", "2026-01-08 14:00", "eve"),
        ("2026-01-08 14:00", "2026-01-09 00:00", "ann"),
    ]


def test_overlapping_overrides_for_different_people_both_apply(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY.replace("[ann, ben, cat]", "[ann, ben]") + """\
  overrides:
    - {person: dan, replaces: ann, start: "2026-01-05T00:00", end: "2026-01-09T00:00"}
    - {person: eve, replaces: ben, start: "2026-01-05T00:00", end: "2026-01-09T00:00"}
""")
    # Daily ann (Mon 5), ben (Tue 6), ann (Wed 7), ben (Thu 8): dan for ann, eve for ben.
    assert [who(r, "day", f"2026-01-0{d} 12:00") for d in (5, 6, 7, 8, 9)] == [
        "dan", "eve", "dan", "eve", "ann"]


# -- shifts over a period


def test_daily_shifts_over_a_week(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY)
    # Mon 12 Jan is day 7 (7 % 3 = 1): ben, cat, ann, ben, cat, ann, ben.
    week = rotation.shifts(r, "day", at("2026-01-12 09:00"), at("2026-01-19 09:00"))
    assert [p for _, _, p in table(week)] == ["ben", "cat", "ann", "ben", "cat", "ann", "ben"]
    assert all(s.end - s.start == DAY for s in week)
    assert all(a.end == b.start for a, b in zip(week, week[1:], strict=False))
    assert {(s.rota, s.layer) for s in week} == {("r", "day")}
    # From midnight to midnight: Sunday's ann until 09:00, then the same 7 shifts, the
    # last one (Sun 18 Jan, day 13: ben) clipped at midnight.
    clipped = rotation.shifts(r, "day", at("2026-01-12 00:00"), at("2026-01-19 00:00"))
    assert table(clipped)[0] == ("2026-01-12 00:00", "2026-01-12 09:00", "ann")
    assert table(clipped)[-1] == ("2026-01-18 09:00", "2026-01-19 00:00", "ben")
    assert [p for _, _, p in table(clipped)] == ["ann", "ben", "cat", "ann", "ben", "cat", "ann", "ben"]
    assert all(a.end == b.start for a, b in zip(clipped, clipped[1:], strict=False))


def test_shifts_merge_when_the_same_person_continues(tmp_path: Path) -> None:
    r = make_rota(tmp_path, DAILY.replace("[ann, ben, cat]", "[ann, ben]") + """\
  overrides:
    - {person: ann, replaces: ben, start: "2026-01-06T09:00", end: "2026-01-07T09:00"}
""")
    # ann day 0, ben day 1 (taken by ann), ann day 2: one 72-hour shift for ann.
    assert table(rotation.shifts(r, "day", at("2026-01-05 09:00"), at("2026-01-09 09:00"))) == [
        ("2026-01-05 09:00", "2026-01-08 09:00", "ann"),
        ("2026-01-08 09:00", "2026-01-09 09:00", "ben"),
    ]


def test_restricted_layer_has_no_shift_outside_its_windows(tmp_path: Path) -> None:
    r = make_rota(tmp_path, OFFICE)
    # Mon 12 - Sun 18 Jan: five 09:00-18:00 shifts, days 7..11: ben, cat, ann, ben, cat.
    assert table(rotation.shifts(r, "office", at("2026-01-12 00:00"), at("2026-01-19 00:00"))) == [
        ("2026-01-12 09:00", "2026-01-12 18:00", "ben"),
        ("2026-01-13 09:00", "2026-01-13 18:00", "cat"),
        ("2026-01-14 09:00", "2026-01-14 18:00", "ann"),
        ("2026-01-15 09:00", "2026-01-15 18:00", "ben"),
        ("2026-01-16 09:00", "2026-01-16 18:00", "cat"),
    ]
    # Clipped inside a window.
    assert table(rotation.shifts(r, "office", at("2026-01-13 12:00"), at("2026-01-13 13:00"))) == [
        ("2026-01-13 12:00", "2026-01-13 13:00", "cat")]


# -- many instants at once


def test_on_call_many_agrees_with_on_call_over_a_year(tmp_path: Path) -> None:
    r = make_rota(tmp_path, """\
        night:
          participants: [ann, ben, cat]
          shift: daily
          handoff: "09:00"
          start: 2026-01-05
          restrictions:
            - {days: [weekdays], from: "18:00", to: "09:00"}
            - {days: [weekdays], from: "12:00", to: "14:00"}
            - {days: [weekend, holiday], from: "09:00", to: "09:00"}
          overrides:
            - {person: dan, replaces: ben, start: "2026-05-01T10:00", end: "2026-05-20T10:30"}
            - {person: eve, start: "2026-08-10T00:00", end: "2026-08-20T00:00"}
        """)
    rng = random.Random(42)
    lo, hi = at("2026-01-01 00:00"), at("2027-01-01 00:00")
    instants = [rng.uniform(lo, hi) for _ in range(2000)]
    expected = [rotation.on_call(r, "night", t) for t in instants]
    # The answers are varied enough for the comparison to mean something.
    assert set(expected) == {None, "ann", "ben", "cat", "dan", "eve"}
    assert rotation.on_call_many(r, "night", instants) == expected            # unsorted
    timeline = sorted(instants)
    assert rotation.on_call_many(r, "night", timeline) == [rotation.on_call(r, "night", t)
                                                          for t in timeline]  # sorted
    # And right at every edge of every shift.
    edges = sorted({t for s in rotation.shifts(r, "night", lo, hi) for t in (s.start, s.end)})
    probes = sorted(t + d for t in edges for d in (-1, 0, 1))
    assert rotation.on_call_many(r, "night", probes) == [rotation.on_call(r, "night", t) for t in probes]
    assert rotation.on_call_many(r, "night", []) == []


# -- gaps


def test_office_hours_layer_has_gaps_at_night_and_weekend(tmp_path: Path) -> None:
    r = make_rota(tmp_path, OFFICE)
    holes = [(local(a), local(b)) for a, b in
             rotation.gaps(r, "office", at("2026-01-12 00:00"), at("2026-01-19 00:00"))]
    assert holes == [("2026-01-12 00:00", "2026-01-12 09:00"),
                     ("2026-01-12 18:00", "2026-01-13 09:00"),
                     ("2026-01-13 18:00", "2026-01-14 09:00"),
                     ("2026-01-14 18:00", "2026-01-15 09:00"),
                     ("2026-01-15 18:00", "2026-01-16 09:00"),
                     ("2026-01-16 18:00", "2026-01-19 00:00")]
    assert rotation.gaps(make_rota(tmp_path, DAILY), "day", at("2026-01-12 00:00"),
                         at("2026-01-19 00:00")) == []


def test_office_and_astreinte_gaps_are_complementary(tmp_path: Path) -> None:
    r = make_rota(tmp_path, OFFICE + ASTREINTE)
    # July 2026, with the Tuesday 14 holiday, across 30 days.
    start, end = at("2026-07-01 00:00"), at("2026-07-31 00:00")
    office = [(s.start, s.end) for s in rotation.shifts(r, "office", start, end)]
    astreinte = [(s.start, s.end) for s in rotation.shifts(r, "astreinte", start, end)]
    assert rotation.gaps(r, "office", start, end) == merged(astreinte)
    assert rotation.gaps(r, "astreinte", start, end) == merged(office)
    assert merged(office + astreinte) == [(start, end)]
    # The holiday is a hole for the office layer only.
    noon = at("2026-07-14 12:00")
    assert any(a <= noon < b for a, b in rotation.gaps(r, "office", start, end))
    assert not any(a <= noon < b for a, b in rotation.gaps(r, "astreinte", start, end))


# -- validation


LAYER = """\
day:
  participants: [ann, ben]
  shift: daily
  handoff: "09:00"
  start: 2026-01-05
  restrictions:
    - {days: [weekdays], from: "09:00", to: "18:00"}
  overrides:
    - {person: dan, start: "2026-01-06T09:00", end: "2026-01-07T09:00"}
    - {person: eve, start: "2026-01-08T09:00", end: "2026-01-09T09:00"}
"""


@pytest.mark.parametrize(("old", "new", "field", "message"), [
    ("shift: daily", "shift: fortnightly", "layers.day.shift", "'fortnightly' is not daily, weekly"),
    ("shift: daily", "shift: 4on0off", "layers.day.shift", "'4on0off' is not daily, weekly"),
    ("shift: daily", "shift: [4, 0]", "layers.day.shift", "'[4, 0]' is not daily, weekly"),
    ("days: [weekdays]", "days: [mon, funday]", "layers.day.restrictions[0].days",
     "'funday' is not a day"),
    ('to: "18:00"', 'to: "25:00"', "layers.day.restrictions[0].to", "'25:00' is not a time"),
    ('handoff: "09:00"', 'handoff: "25:00"', "layers.day.handoff", "'25:00' is not a time"),
    ("person: dan", "person: zoe", "layers.day.overrides[0].person", "unknown person 'zoe'"),
    ("person: dan,", "person: dan, replaces: zoe,", "layers.day.overrides[0].replaces",
     "unknown person 'zoe'"),
    ('end: "2026-01-07T09:00"', 'end: "2026-01-08T10:00"', "layers.day.overrides[1]",
     "overlaps overrides[0]"),
    ("holidays: FR", "holidays: XX", "holidays", "unknown country code 'XX'"),
])
def test_validation_names_file_line_and_field(tmp_path: Path, old: str, new: str, field: str,
                                              message: str) -> None:
    good = rota_yaml(LAYER)
    load(tmp_path, good)  # the unmodified rota is valid
    assert good.count(old) == 1
    bad = good.replace(old, new)
    with pytest.raises(rotas.RotaError) as err:
        load(tmp_path, bad)
    [problem] = err.value.problems
    # The line that was changed (for overrides[1], the second override's line).
    marker = "person: eve" if field.endswith("overrides[1]") else new
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if marker in text)
    assert problem.startswith(f"rota.yaml:{line}: rotas[0].{field}: "), problem
    assert message in problem


def test_a_public_holiday_on_a_saturday_is_still_a_weekend_day(tmp_path: Path) -> None:
    # 2026-08-15 (Assomption) is a Saturday: a weekend-only layer covers it, office hours do not.
    paris = ZoneInfo("Europe/Paris")
    (tmp_path / "r.yaml").write_text(
        "people: [{id: ann, phone: '+33600000001'}]\n"
        "rotas:\n"
        "  - id: r\n"
        "    timezone: Europe/Paris\n"
        "    layers:\n"
        "      weekend:\n"
        "        {participants: [ann], restrictions: [{days: [weekend], from: '00:00', to: '24:00'}]}\n"
        "      office:\n"
        "        {participants: [ann], restrictions: [{days: [weekdays], from: '09:00', to: '18:00'}]}\n")
    rota = rotas.load_dir(tmp_path)["rotas"]["r"]
    noon = datetime(2026, 8, 15, 12, 0, tzinfo=paris).timestamp()
    assert rotation.on_call(rota, "weekend", noon) == "ann"
    assert rotation.on_call(rota, "office", datetime(2026, 7, 14, 12, 0, tzinfo=paris).timestamp()) is None


def test_follow_the_sun_layers_keep_their_own_local_hours(tmp_path: Path) -> None:
    (tmp_path / "sun.yaml").write_text(textwrap.dedent("""\
        people:
          - {id: eve, phone: "+33600000001"}
          - {id: max, phone: "+15145550002"}
        rotas:
          - id: sun
            timezone: Europe/Paris
            layers:
              europe:
                participants: [eve]
                restrictions: [{days: [everyday], from: "08:00", to: "20:00"}]
              americas:
                participants: [max]
                timezone: America/Montreal
                restrictions: [{days: [everyday], from: "14:00", to: "02:00"}]
        """))
    rota = rotas.load_dir(tmp_path)["rotas"]["sun"]
    paris = ZoneInfo("Europe/Paris")
    # In January Montreal is 6 hours behind Paris: its 14:00-02:00 is Paris 20:00-08:00.
    assert rotation.on_call(rota, "europe", datetime(2027, 1, 12, 12, 0, tzinfo=paris).timestamp()) == "eve"
    night = datetime(2027, 1, 12, 3, 0, tzinfo=paris).timestamp()
    assert rotation.on_call(rota, "americas", night) == "max"
    assert rotation.on_call(rota, "europe", night) is None
    assert rotation.on_call(rota, "americas", datetime(2027, 1, 12, 19, 59, tzinfo=paris).timestamp()) is None


def test_teams_are_checked_with_file_and_line(tmp_path: Path) -> None:
    layers = "agent: {participants: [ann], shift: weekly}\nmanager: {participants: [ben], shift: weekly}\n"
    # Without a teams section, each rota is a team managed by its `manager` layer.
    bundle = load(tmp_path, rota_yaml(layers))
    assert bundle["teams"]["r"]["managers"] == ["ben"] and bundle["teams"]["r"]["rest"] == 11 * 3600
    teams = ("teams:\n"
             "  - id: t\n"
             "    rotas: [r, nowhere]\n"
             "    managers: [zoe]\n"
             "    night: {from: '25:00'}\n"
             "    out_of_hours_threshold: 150\n")
    with pytest.raises(rotas.RotaError) as err:
        load(tmp_path, rota_yaml(layers) + teams)
    text = "\n".join(err.value.problems)
    assert "rota.yaml:10: teams[0].rotas: unknown rota 'nowhere'" in text
    assert "rota.yaml:11: teams[0].managers: unknown person 'zoe'" in text
    assert "teams[0].night.from: '25:00' is not a time" in text
    assert "teams[0].out_of_hours_threshold: '150' is not a percentage" in text


def test_integration_options_in_rotas_are_checked_with_file_and_line(tmp_path: Path) -> None:
    layers = "agent: {participants: [ann], shift: weekly}\n"
    digest, sev = "0" * 64, "{severity_map: {P1: urgent}}"
    services = ("policies:\n"
                "  - id: p\n"
                "    steps: [{targets: [{rota: r, layer: agent}]}]\n"
                "services:\n"
                "  - id: s\n"
                "    policies: {default: p}\n"
                "    integrations:\n"
                f"      - {{type: alertmanager, key_sha256: '{digest}', options: {{group_by: everything}}}}\n"
                f"      - {{type: generic, key_sha256: '{digest}', options: {sev}}}\n"
                f"      - {{type: nagios, key_sha256: '{digest}'}}\n")
    with pytest.raises(rotas.RotaError) as err:
        load(tmp_path, rota_yaml(layers) + services)
    text = "\n".join(err.value.problems)
    assert ("rota.yaml:14: services[0].integrations[0].options.group_by must be 'alert' or 'group', "
            "not 'everything'") in text
    assert "rota.yaml:15: services[0].integrations[1].options.summary is required for generic" in text
    assert "integrations[1].options.severity_map must be severities as values (not for P1)" in text
    assert "rota.yaml:16: services[0].integrations[2].type: 'nagios' is not one of pagerduty" in text

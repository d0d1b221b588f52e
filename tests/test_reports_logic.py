"""Report arithmetic on hand-built months: the hours a payroll officer would count by hand.

Europe/Paris, French public holidays, office hours Mon-Fri 09:00-18:00, night 22:00-07:00.
Each expected figure is worked out in the comment above it.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from chalicelib.reports import astreinte, kpis
from chalicelib.reports.calendar import WorkCalendar

PARIS = ZoneInfo("Europe/Paris")
CAL = WorkCalendar()
H = 3600.0


def paris(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> float:
    return datetime(y, m, d, h, mi, tzinfo=PARIS).timestamp()


def hours(intervals: list[tuple[float, float]]) -> dict[str, float]:
    return astreinte.hours_by_category(CAL, intervals)


# ---------------------------------------------------------------- on-call hours

def test_astreinte_week_across_the_october_dst_change() -> None:
    # Weekly astreinte Mon 19 Oct 09:00 -> Mon 26 Oct 09:00; clocks go back on Sun 25 Oct.
    # Mon-Thu evenings: 18-22 (4 h) + 07-09 next morning (2 h) = 6 h x 4 = 24; Fri 18-22 = 4;
    #   Mon 26 07-09 = 2                                               -> weekday_evening 30
    # Mon-Thu nights 22-07 = 9 h x 4 = 36; Fri 22-24 = 2; Mon 26 00-07 = 7   -> night 45
    # Sat 24 h + Sun 25 h (the hour 02:00-03:00 happens twice)         -> weekend 49
    # 169 real hours - 45 office hours = 124.
    week = [(paris(2026, 10, 19, 9), paris(2026, 10, 26, 9))]
    assert hours(week) == {"weekday_evening": 30, "night": 45, "weekend": 49, "holiday": 0}


def test_weekend_across_the_march_dst_change() -> None:
    # Sat 28 Mar 09:00 -> Mon 30 Mar 09:00; clocks go forward on Sun 29 (a 23-hour day).
    # Sat 15 h + Sun 23 h = 38 weekend; Mon 00-07 = 7 night; Mon 07-09 = 2 evening. 47 h in all.
    weekend = [(paris(2026, 3, 28, 9), paris(2026, 3, 30, 9))]
    assert hours(weekend) == {"weekday_evening": 2, "night": 7, "weekend": 38, "holiday": 0}


def test_public_holidays_and_month_boundary() -> None:
    # A référent on call around the clock Sat 31 Oct 09:00 -> Sat 14 Nov 09:00, November's report:
    # from Sun 1 Nov 00:00 (All Saints' Day, a holiday on a Sunday: holiday)     -> holiday 24
    # Wed 11 Nov (Armistice) is a holiday, not office hours                       -> holiday 24
    # 9 working weekdays (2-6, 9, 10, 12, 13 Nov): night 00-07 + 22-24 = 9 h each   -> night 81
    #                                   and evening 07-09 + 18-22 = 6 h each       -> evening 54
    # Sat 7, Sun 8 = 48 h; Sat 14 00:00-09:00 = 9 h                               -> weekend 57
    # 321 real hours - 81 office hours = 240.
    shift = (paris(2026, 10, 31, 9), paris(2026, 11, 14, 9))
    november = astreinte.clip([shift], paris(2026, 11, 1), paris(2026, 12, 1))
    assert hours(november) == {"weekday_evening": 54, "night": 81, "weekend": 57, "holiday": 48}
    # October keeps its own piece: Sat 31 Oct 09:00 -> 24:00.
    october = astreinte.clip([shift], paris(2026, 10, 1), paris(2026, 11, 1))
    assert hours(october) == {"weekday_evening": 0, "night": 0, "weekend": 15, "holiday": 0}


def test_two_layers_at_once_count_once() -> None:
    # On call in two layers over the same Saturday: 24 hours, not 48.
    sat = (paris(2026, 11, 7), paris(2026, 11, 8))
    assert hours([sat, sat, (paris(2026, 11, 7, 12), paris(2026, 11, 7, 13))])["weekend"] == 24


def test_a_team_with_other_office_and_night_hours() -> None:
    team = {"timezone": "Europe/Paris", "holidays": "FR", "night": {"from": "21:00", "to": "06:00"},
            "office_hours": [{"days": ["mon", "tue", "wed", "thu"], "from": "08:00", "to": "17:00"}]}
    cal = WorkCalendar.of_team(team)
    # Fri 6 Nov is not an office day for this team: 00-06 night, 06-21 evening, 21-24 night.
    split = astreinte.hours_by_category(cal, [(paris(2026, 11, 6), paris(2026, 11, 7))])
    assert split == {"weekday_evening": 15, "night": 9, "weekend": 0, "holiday": 0}


# ---------------------------------------------------------------- interventions and rest

def _fact(number: int, ack: float | None, resolved: float | None, by: str = "alice",
          calls: list[dict] | None = None) -> dict:
    return {"number": number, "created_at": (ack or resolved or 0) - 120, "acknowledged_at": ack,
            "acknowledged_by": by if ack else None, "resolved_at": resolved,
            "resolved_by": by if resolved else None, "calls": calls or []}


def _month(facts: list[dict], oncall: list[tuple[float, float]], now: float | None = None) -> dict:
    work = [w for w in astreinte.work_on_incidents(facts, now or paris(2026, 12, 2), lambda p: 4 * H)
            if w.person == "alice"]
    return astreinte.person_month("alice", oncall, work, CAL, 11 * H, paris(2026, 11, 1), paris(2026, 12, 1))


def test_interventions_split_joined_and_flagged_for_rest() -> None:
    facts = [
        # Tue 3 Nov: a call 02:04-02:09 (300 s), acknowledged 02:10, resolved 03:40.
        # 02:04-02:09 and 02:10-03:40 = 95 min = 1.58 h of night work; then 5.33 h of rest
        # before office hours at 09:00.
        _fact(1, paris(2026, 11, 3, 2, 10), paris(2026, 11, 3, 3, 40),
              calls=[{"at": paris(2026, 11, 3, 2, 9), "to": "alice", "seconds": 300}]),
        # Fri 6 Nov 19:00-19:30: evening work, not at night, no rest owed.
        _fact(2, paris(2026, 11, 6, 19), paris(2026, 11, 6, 19, 30)),
        # Wed 4 Nov 08:30-10:00: half an hour before office hours counts, the rest is office work.
        _fact(3, paris(2026, 11, 4, 8, 30), paris(2026, 11, 4, 10)),
        # Bob's incident: not Alice's work.
        _fact(4, paris(2026, 11, 5, 23), paris(2026, 11, 5, 23, 30), by="bob"),
    ]
    month = _month(facts, oncall=[])
    assert month["interventions"]["count"] == 3
    assert month["interventions"]["incidents"] == [1, 2, 3]
    assert month["interventions"]["hours"] == {"weekday_evening": 1.0, "night": 1.58, "weekend": 0,
                                               "holiday": 0}
    [flag] = month["rest_flags"]
    assert flag["incidents"] == [1]
    assert flag["next_work"] == paris(2026, 11, 3, 9) and flag["next_work_kind"] == "office"
    assert flag["rest_hours"] == pytest.approx(5.33)


def test_rest_before_the_next_on_call_shift_on_a_weekend() -> None:
    # Sat 7 Nov 23:00-23:30 (weekend pay, but a night intervention), next on-call shift Sun 09:00:
    # 9.5 hours of rest < 11 -> flagged against the on-call shift, not Monday's office hours.
    facts = [_fact(5, paris(2026, 11, 7, 23), paris(2026, 11, 7, 23, 30))]
    oncall = [(paris(2026, 11, 7, 9), paris(2026, 11, 8, 0)), (paris(2026, 11, 8, 9), paris(2026, 11, 9, 9))]
    month = _month(facts, oncall)
    assert month["interventions"]["hours"]["weekend"] == 0.5
    [flag] = month["rest_flags"]
    assert flag["next_work_kind"] == "on-call" and flag["rest_hours"] == 9.5
    # The same night with the next shift on Monday's office hours: 33.5 hours of rest, no flag.
    assert _month(facts, oncall[:1])["rest_flags"] == []


def test_a_forgotten_acknowledgement_is_capped() -> None:
    # Acknowledged Sat 14 Nov 10:00 and never resolved: 4 hours of work, not 18 days.
    month = _month([_fact(6, paris(2026, 11, 14, 10), None)], oncall=[])
    assert month["interventions"]["total"] == 4


def test_month_report_counts_on_call_hours_from_shifts() -> None:
    shift = [(paris(2026, 10, 31, 9), paris(2026, 11, 14, 9))]
    month = _month([], shift)
    assert month["oncall_total"] == 240 and month["oncall_hours"]["holiday"] == 48


def test_fairness_against_the_team_average() -> None:
    week = [(paris(2026, 10, 19, 9), paris(2026, 10, 26, 9))]  # 124 h (first test)
    saturday = (paris(2026, 11, 7), paris(2026, 11, 8))
    rows = astreinte.fairness({"alice": week, "bob": [], "chloe": [*week, saturday]},
                              CAL, paris(2026, 10, 1), paris(2026, 12, 1))
    by = {r["person"]: r for r in rows}
    # chloe 148 h, alice 124, bob 0: average 90.67
    assert by["chloe"]["oncall_hours"] == 148 and by["chloe"]["weekend_hours"] == 73
    assert by["alice"]["night_hours"] == 45
    assert by["bob"]["vs_team_average"] == 0
    assert by["chloe"]["vs_team_average"] == pytest.approx(148 / (272 / 3), abs=0.01)


# ---------------------------------------------------------------- KPIs

def _incident(n: int, created: float, tta: float | None, ttr: float | None, *, sev: str = "eleve",
              by: str = "alice", first: tuple[str, ...] = ("alice",), escalated: bool = False,
              resolved_by: str | None = None, sla: dict | None = None) -> dict:
    return {"number": n, "service": "helpdesk", "team": "support", "severity": sev, "created_at": created,
            "acknowledged_at": created + tta if tta is not None else None,
            "acknowledged_by": by if tta is not None else None,
            "resolved_at": created + ttr if ttr is not None else None,
            "resolved_by": resolved_by or (by if ttr is not None else None),
            "escalated": escalated, "first_contacts": list(first), "unanswered": False,
            "pages": [{"at": created, "to": p, "channel": "sms", "step": 1} for p in first],
            "sla": sla or {}}


def test_kpis_median_p90_escalation_first_contact_and_sla() -> None:
    t = paris(2026, 11, 3, 10)
    crit = {"acknowledge": 300, "resolve": 3600}
    facts = [
        _incident(1, t, 30, 600),
        _incident(2, t, 90, 1200, sev="critique", sla=crit),
        _incident(3, t, 200, 1800, by="bob", escalated=True),  # Bob, step 2
        _incident(4, t, 400, 7200, sev="critique", sla=crit),  # acked late, resolved late
        _incident(5, t, 1000, None),  # still open
        _incident(6, t, None, 900, resolved_by="source"),  # the monitoring tool closed it
    ]
    m = kpis.metrics(facts, now=t + 86400)
    assert m["count"] == 6 and m["acknowledged"] == 5 and m["resolved"] == 5
    # TTA 30, 90, 200, 400, 1000: median 200, p90 = 5th of 5 (nearest rank) = 1000.
    assert (m["tta_median"], m["tta_p90"]) == (200, 1000)
    # TTR 600, 900, 1200, 1800, 7200: median 1200, p90 7200.
    assert (m["ttr_median"], m["ttr_p90"]) == (1200, 7200)
    assert m["escalation_rate"] == 0.2  # 1 of 5 acknowledged after step 1
    # Resolved by a person: 1, 2, 3, 4; Bob (not paged first) handled #3: 3 of 4.
    assert m["first_contact_resolution"] == 0.75
    assert m["sla_breaches"] == {"acknowledge": 1, "resolve": 1}  # #4 only


def test_kpis_grouped_and_histogram() -> None:
    t = paris(2026, 11, 3, 10)
    facts = [_incident(1, t, 30, 600), _incident(2, t, 400, 900, sev="critique"),
             _incident(3, t, None, None)]
    groups = kpis.grouped(facts, now=t + 3600)
    assert set(groups["severity"]) == {"eleve", "critique"} and groups["severity"]["eleve"]["count"] == 2
    assert groups["person"]["alice"]["count"] == 2
    hist = {b["label"]: b["count"] for b in kpis.tta_histogram(facts)}
    assert hist["< 1 min"] == 1 and hist["5–15 min"] == 1 and hist["non acquitté / not acknowledged"] == 1


def test_an_open_incident_past_its_target_has_breached() -> None:
    t = paris(2026, 11, 3, 10)
    f = _incident(1, t, None, None, sla={"acknowledge": 300})
    assert kpis.sla_breaches(f, now=t + 200)["acknowledge"] is False
    assert kpis.sla_breaches(f, now=t + 400)["acknowledge"] is True


def test_pages_and_night_pages_per_person() -> None:
    facts = [{"pages": [{"at": paris(2026, 11, 3, 2), "to": "alice", "channel": "sms", "step": 1},
                        {"at": paris(2026, 11, 3, 2), "to": "alice", "channel": "voice", "step": 1},
                        {"at": paris(2026, 11, 3, 14), "to": "bob", "channel": "sms", "step": 2},
                        {"at": paris(2026, 11, 3, 2), "to": "slack:C0SUPPORT", "channel": "slack",
                         "step": 1}]}]
    out = kpis.pages_per_person(facts, lambda p: CAL)
    assert out == {"alice": {"pages": 2, "night_pages": 2}, "bob": {"pages": 1, "night_pages": 0}}


def test_coverage_advisor_by_hour_of_week() -> None:
    office = [{"created_at": paris(2026, 11, 2 + d, 10)} for d in range(5) for _ in range(19)]  # 95
    evening = [{"created_at": paris(2026, 11, 4, 20)}] * 3  # Wednesday 20:00
    weekend = [{"created_at": paris(2026, 11, 8, 3)}] * 2  # Sunday 03:00
    low = kpis.coverage(office + evening[:1], CAL, threshold=0.05)
    assert low["verdict"] == "limited" and low["out_of_hours"] == 1
    high = kpis.coverage(office + evening + weekend, CAL, threshold=0.05)
    # 5 of 100 outside office hours = 5 %: not above the threshold; one more tips it.
    assert high["out_of_hours_share"] == 0.05 and high["verdict"] == "limited"
    more = kpis.coverage(office + evening + weekend + weekend[:1], CAL, threshold=0.05)
    assert more["verdict"] == "24/7" and "24/7" in more["advice"]["fr"]
    assert more["by_hour_of_week"][2][20] == 3 and more["by_hour_of_week"][6][3] == 3
    assert more["by_hour_of_week"][0][10] == 19


def test_the_coverage_advisor_counts_hotline_calls_as_contacts() -> None:
    office = [{"created_at": paris(2026, 11, 2 + d, 10)} for d in range(5) for _ in range(19)]  # 95
    night_calls = [{"created_at": paris(2026, 11, 4, 23), "source": "hotline"}] * 6  # Wednesday 23:00
    out = kpis.coverage(office + night_calls, CAL, threshold=0.05)
    # 6 calls of 101 contacts outside office hours: over 5 %, the calls alone justify 24/7.
    assert out["verdict"] == "24/7" and out["hotline_calls"] == 6 and out["hotline_calls_out_of_hours"] == 6
    assert "appels hotline" in out["advice"]["fr"] and "hotline calls" in out["advice"]["en"]
    assert kpis.coverage(office, CAL, threshold=0.05)["verdict"] == "limited"

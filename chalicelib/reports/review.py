"""Manager review: the incident list, KPIs, coverage, astreinte hours and fairness, as
JSON and CSV, and the notices that follow from them (rest warnings, monthly summary).

The arithmetic lives in chalicelib.reports (pure); this module reads incidents through
the `month` index (never their timelines) and shifts from the rotas, and shapes answers.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .. import clock, errors, escape, incidents
from ..rotas import directory, shifts
from ..severity import normalise
from ..store import OPEN_SHARD, Incident
from . import astreinte, kpis
from .calendar import CATEGORIES, WorkCalendar

MAX_DAYS = 400
# Work in a month can come from an incident opened before it (acknowledged late after a
# weekend, or after the policy's repeats), and a team west of the report's zone ends its
# month after the report's end: read a week before and a day after.
WORK_LOOKBACK = 8 * 86400
WORK_LOOKAHEAD = 86400
CSV_INCIDENT_FIELDS = ["number", "service", "team", "severity", "state", "unanswered", "summary", "source",
                       "created_at", "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by",
                       "tta_seconds", "ttr_seconds", "escalated", "pages"]
TIMELINE_MAX_INCIDENTS = 200  # the escalation log reads each incident's timeline
TIMELINE_MAX_ROWS = 10_000  # an alert storm's repeats: the answer must stay under Lambda's 6 MB
TIMELINE_DETAIL_CHARS = 300
CSV_TIMELINE_FIELDS = ["number", "at", "kind", "actor", "channel", "step", "to", "detail"]


class Forbidden(errors.Forbidden):
    """Another team's report (a 403; who reads reports at all: chalicelib.access)."""


# ---------------------------------------------------------------- reading

def default_zone() -> ZoneInfo:
    teams = list(directory.bundle()["teams"].values())
    return ZoneInfo(teams[0]["timezone"] if teams else "Europe/Paris")


def parse_period(start: str | None, end: str | None, now: float) -> tuple[float, float]:
    """from/to as dates (local midnights, `to` included) or ISO date-times; by default the
    current month up to now."""
    zone = default_zone()
    local = datetime.fromtimestamp(now, zone)
    first = datetime(local.year, local.month, 1, tzinfo=zone).timestamp()
    a = _instant(start, "from", zone) if start else first
    b = _instant(end, "to", zone, end_of_day=True) if end else now
    if b <= a or b - a > MAX_DAYS * 86400:
        raise errors.BadRequest(f"'to' must be after 'from', at most {MAX_DAYS} days later")
    return a, b


def _instant(value: str, name: str, zone: ZoneInfo, end_of_day: bool = False) -> float:
    try:
        if len(value) == 10:
            d = clock.check_year(date.fromisoformat(value)) + timedelta(days=1 if end_of_day else 0)
            return datetime(d.year, d.month, d.day, tzinfo=zone).timestamp()
        return clock.parse_iso(value, zone)
    except ValueError as exc:
        raise errors.BadRequest(f"'{name}' is not a date (2026-11-01) or an ISO 8601 date-time: "
                                f"{value!r}") from exc


def parse_month(value: str | None, now: float) -> tuple[str, date]:
    if not value:
        local = datetime.fromtimestamp(now, default_zone())
        return f"{local.year:04d}-{local.month:02d}", date(local.year, local.month, 1)
    try:
        first = clock.check_year(date.fromisoformat(value + "-01"))
    except ValueError as exc:
        raise errors.BadRequest(f"'month' is not a month like 2026-11 ({exc}): {value[:20]!r} / "
                                f"'month' n'est pas un mois comme 2026-11") from exc
    return value, first


def report_lines(start: float, end: float) -> list[str]:
    """The report line of each incident opened in [start, end), oldest first, from the
    `month` index.  Read through pynamodb's connection, not Model.query: building 5,000
    models only to read one attribute each was half of a month report's time."""
    when = Incident.created_at.between(start, end - 1e-6)
    out: list[str] = []
    month = datetime.fromtimestamp(start, UTC).date().replace(day=1)
    while month <= datetime.fromtimestamp(end, UTC).date():
        out += _index_lines("month", f"{month.year:04d}-{month.month:02d}", when)
        month = (month + timedelta(days=32)).replace(day=1)
    return out


def open_lines(start: float | None = None, end: float | None = None) -> list[str]:
    """The report line of each incident still open (triggered or acknowledged), oldest first,
    from the sparse `open` index: whatever the month it opened, or, given a period, opened in
    [start, end)."""
    when = None if start is None or end is None else Incident.created_at.between(start, end - 1e-6)
    return _index_lines("open", OPEN_SHARD, when)


def _index_lines(index: str, key: str, when: Any) -> list[str]:
    """The `line` of each item of one partition of an index (`when`: a condition on its sort
    key, created_at), in the index's order."""
    conn = Incident._get_connection()
    out: list[str] = []
    last = None
    while True:
        page = conn.query(key, range_key_condition=when, index_name=index, exclusive_start_key=last)
        for item in page.get("Items", []):
            line = item.get("line", {}).get("S")
            if line is None:  # written before report lines existed: read it whole once
                line = Incident.get(item["pk"]["S"], "META").serialize()["line"]["S"]
            out.append(line)
        last = page.get("LastEvaluatedKey")
        if not last:
            return out


def facts(line: str, bundle: Mapping[str, Any]) -> dict[str, Any]:
    """The plain dict chalicelib.reports works on, from an incident's report line."""
    r = json.loads(line)
    pages = r.get("pages") or []
    policy = bundle["policies"].get(r.get("policy") or "", {})
    return {
        **{k: r.get(k) for k in ("service", "severity", "state", "summary", "source", "created_at",
                                  "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by",
                                  "first_acknowledged_at", "earlier_holds")},
        "number": int(r["number"]), "team": bundle["services"].get(r.get("service"), {}).get("team"),
        "unanswered": bool(r.get("unanswered")),
        # acknowledged only once a later step (or a repeat of the policy) had run
        "escalated": r.get("acknowledged_at") is not None and (r.get("step", 0) > 0 or r.get("loop", 0) > 0),
        "first_contacts": sorted({p["to"] for p in pages
                                  if p.get("step") == 1 and not p["to"].startswith("slack:")}),
        "paged": r.get("paged") or [], "pages": pages, "calls": r.get("calls") or [],
        "sla": (policy.get("sla") or {}).get(r.get("severity"), {}),
    }


def facts_between(start: float, end: float) -> list[dict[str, Any]]:
    b = directory.bundle()
    return [facts(line, b) for line in report_lines(start, end)]


# ---------------------------------------------------------------- the incident list

STATES = ("open", "triggered", "acknowledged", "resolved", "unanswered")
RECENT_DAYS = 7  # the list's default: what is open, and what opened in the last week


OPEN_STATES = frozenset({"triggered", "acknowledged"})


def parse_states(value: str | None) -> set[str] | None:
    """`state`: one of STATES or several, comma-separated, any case (PagerDuty's
    `statuses[]`, joined by the route); open is triggered and acknowledged.  None: any."""
    if not value:
        return None
    wanted = {w.strip().lower() for w in value.split(",") if w.strip()}
    bad = sorted(wanted - set(STATES))
    if bad or not wanted:
        shown = ", ".join(repr(b[:20]) for b in bad[:3]) or repr(value[:20])
        names = ", ".join(STATES)
        raise errors.BadRequest(f"'state' takes {names} (several: comma-separated), not {shown} / "
                                f"'state' accepte {names} (plusieurs : séparés par une virgule), pas {shown}")
    return (wanted - {"open"}) | OPEN_STATES if "open" in wanted else wanted


def list_incidents(start: float, end: float, filters: dict[str, str | None],
                   limit: int = 1000, with_open: bool = False, period_given: bool = False) -> dict[str, Any]:
    """The incidents opened in [start, end), newest first, filtered; `with_open`: and every
    incident still open whenever it opened.  state=open reads only the open ones: whenever
    they opened, or in [start, end) when the caller gave a period (`period_given`)."""
    sev = filters.get("severity")
    if sev and normalise(sev) is None:
        raise errors.BadRequest(f"'severity' is not one of critique, eleve, moyen, faible: {sev!r} / "
                                f"'severity' n'est pas l'une de critique, eleve, moyen, faible")
    states = parse_states(filters.get("state"))
    only_open = states is not None and states <= OPEN_STATES
    if not 1 <= limit <= 5000:
        raise errors.BadRequest("'limit' must be between 1 and 5000 / 'limit' doit être entre 1 et 5000")
    rows: list[dict[str, Any]] = []
    b = directory.bundle()
    if only_open:
        lines = open_lines(start, end) if period_given else open_lines()
    else:
        lines = report_lines(start, end) + (open_lines() if with_open else [])
    by_number = {f["number"]: f for f in (facts(line, b) for line in lines)}  # (both indexes: once)
    found = sorted(by_number.values(), key=lambda f: (f["created_at"], f["number"]))
    answer = {"from": clock.iso(start), "to": clock.iso(end), "open": with_open or only_open}
    for f in reversed(found):
        if filters.get("service") and f["service"] != filters["service"]:
            continue
        if sev and f["severity"] != normalise(sev):
            continue
        if states is not None and f["state"] not in states and not (
                "unanswered" in states and f["unanswered"]):
            continue
        person = filters.get("person")
        if person and person not in {*f["paged"], f["acknowledged_by"], f["resolved_by"]}:
            continue
        if len(rows) == limit:
            return {**answer, "count": len(rows), "truncated": True, "incidents": rows}
        rows.append(_row(f, b))
    return {**answer, "count": len(rows), "truncated": False, "incidents": rows}


def _row(f: dict[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    def t(v: float | None) -> str | None:
        return clock.iso(v) if v is not None else None

    return {"number": f["number"], "service": f["service"],
            "service_name": b["services"].get(f["service"], {}).get("name", f["service"]),
            "team": f["team"], "severity": f["severity"], "state": f["state"], "unanswered": f["unanswered"],
            "summary": f["summary"], "source": f["source"], "created_at": t(f["created_at"]),
            "acknowledged_at": t(f["acknowledged_at"]), "acknowledged_by": f["acknowledged_by"],
            "resolved_at": t(f["resolved_at"]), "resolved_by": f["resolved_by"],
            "tta_seconds": _r(kpis.tta(f)), "ttr_seconds": _r(kpis.ttr(f)), "escalated": f["escalated"],
            "pages": len(f["pages"]), "paged": [p for p in f["paged"] if not p.startswith("slack:")]}


def escalation_log(start: float, end: float, filters: dict[str, str | None],
                   limit: int = TIMELINE_MAX_INCIDENTS) -> dict[str, Any]:
    """The incident list's answer with every timeline entry of the incidents instead."""
    if limit > TIMELINE_MAX_INCIDENTS:
        raise errors.BadRequest(f"'limit' is at most {TIMELINE_MAX_INCIDENTS} with rows=timeline "
                       "(one read per incident): narrow the period or the filters")
    found = list_incidents(start, end, filters, limit=limit)
    log = timeline_rows([i["number"] for i in found.pop("incidents")])
    found["truncated"] = found["truncated"] or len(log) > TIMELINE_MAX_ROWS
    found["timeline"] = log[:TIMELINE_MAX_ROWS]
    return found


def timeline_rows(numbers: list[int]) -> list[dict[str, Any]]:
    """The escalation log of these incidents: every timeline entry, oldest first within
    each incident (one query per incident, so callers bound how many)."""
    rows = []
    for number in numbers:
        for e in incidents.timeline(number):
            d = e.detail or {}
            to = d.get("to")
            text = json.dumps(d, ensure_ascii=False, sort_keys=True) if d else ""
            if len(text) > TIMELINE_DETAIL_CHARS:  # a stored event can be 360 KiB: whole in the incident
                text = text[:TIMELINE_DETAIL_CHARS] + f"… (GET /v1/incidents/{number})"
            rows.append({"number": number, "at": clock.iso(e.at), "kind": e.kind, "actor": e.actor,
                         "channel": e.channel, "step": d.get("step"),
                         "to": ", ".join(to) if isinstance(to, list) else to, "detail": text})
    return rows


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def to_csv(rows: list[dict[str, Any]], fields: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({k: escape.csv_cell(v) for k, v in row.items()} for row in rows)
    return out.getvalue()


# ---------------------------------------------------------------- KPIs and coverage

def _calendars() -> tuple[dict[str, WorkCalendar], dict[str, str]]:
    """Each team's calendar, and the team of each person (their first team)."""
    teams = directory.bundle()["teams"]
    cals = {tid: WorkCalendar.of_team(t) for tid, t in teams.items()}
    team_of: dict[str, str] = {}
    for tid, t in teams.items():
        for p in [*t["members"], *t["managers"]]:
            team_of.setdefault(p, tid)
    return cals, team_of


def _calendar_of(person: str, cals: dict[str, WorkCalendar], team_of: dict[str, str]) -> WorkCalendar:
    return cals.get(team_of.get(person, ""), WorkCalendar())


def _only(teams: set[str] | None, team_id: str | None) -> None:
    """A manager asking for another team's report: 403."""
    if teams is not None and team_id and team_id not in teams:
        raise Forbidden(f"the reports of team '{team_id[:40]}' are for its managers / "
                        f"les rapports de l'équipe '{team_id[:40]}' sont pour ses responsables")


def kpi_report(start: float, end: float, now: float, found: list[dict[str, Any]] | None = None,
               teams: set[str] | None = None) -> dict[str, Any]:
    """`teams`: only the incidents of these teams (None: every team)."""
    found = facts_between(start, end) if found is None else found
    found = [f for f in found if teams is None or f["team"] in teams]
    cals, team_of = _calendars()
    pages = kpis.pages_per_person(found, lambda p: _calendar_of(p, cals, team_of))
    return {"from": clock.iso(start), "to": clock.iso(end), "overall": kpis.metrics(found, now),
            "by": kpis.grouped(found, now), "tta_histogram": kpis.tta_histogram(found),
            "pages_per_person": {p: {"name": directory.name_of(p), **v}
                                 for p, v in pages.items()}}


def coverage_report(team_id: str | None, weeks: int, now: float,
                    scope: set[str] | None = None) -> dict[str, Any]:
    teams = directory.bundle()["teams"]
    if team_id and team_id not in teams:
        raise errors.NotFound(f"there is no team '{team_id[:40]}'")
    _only(scope, team_id)
    if not team_id and scope is not None:  # a manager's own team, not the first of all
        team_id = min(scope) if scope else "-"
    if not 1 <= weeks <= 53:
        raise errors.BadRequest("'weeks' must be between 1 and 53")
    team = teams.get(team_id) if team_id else next(iter(teams.values()), None)
    cal = WorkCalendar.of_team(team) if team else WorkCalendar()
    start = now - weeks * 7 * 86400
    found = [f for f in facts_between(start, now) if not team_id or f["team"] == team_id]
    threshold = team["out_of_hours_threshold"] if team else 0.05
    return {"from": clock.iso(start), "to": clock.iso(now), "team": team_id, "timezone": cal.timezone,
            **kpis.coverage(found, cal, threshold),
            "note": "hotline calls are counted as contacts, those abandoned in the menu aside / les appels "
                    "hotline comptent comme contacts, sauf ceux raccrochés dans le menu"}


# ---------------------------------------------------------------- astreinte and fairness

def _oncall_intervals(start: float, end: float) -> dict[str, list[tuple[float, float]]]:
    """Every person's shifts (all rotas, all layers, overrides applied) in [start, end)."""
    out: dict[str, list[tuple[float, float]]] = {}
    for rota in directory.bundle()["rotas"].values():
        for layer in rota["layers"]:
            for s in shifts.shifts(rota, layer, start, end):
                out.setdefault(s.person, []).append((s.start, s.end))
    return out


def month_bounds(first: date, zone: ZoneInfo) -> tuple[float, float]:
    nxt = (first + timedelta(days=32)).replace(day=1)
    return (datetime(first.year, first.month, 1, tzinfo=zone).timestamp(),
            datetime(nxt.year, nxt.month, 1, tzinfo=zone).timestamp())


def _work_and_oncall(start: float, end: float, now: float, found: list[dict[str, Any]] | None = None,
                     ) -> tuple[dict[str, list[astreinte.Work]], dict[str, list[tuple[float, float]]]]:
    """Everyone's work on incidents around [start, end) (an incident opened the week before
    may still be worked on), and their shifts until two weeks after (for rest rules)."""
    b = directory.bundle()
    _, team_of = _calendars()
    caps = {tid: t["intervention_cap"] for tid, t in b["teams"].items()}
    work: dict[str, list[astreinte.Work]] = {}
    if found is None:
        found = facts_between(start - WORK_LOOKBACK, end + WORK_LOOKAHEAD)
    for w in astreinte.work_on_incidents(found, min(now, end + WORK_LOOKAHEAD),
                                         lambda p: caps.get(team_of.get(p, ""), 4 * 3600)):
        work.setdefault(w.person, []).append(w)
    return work, _oncall_intervals(start - 2 * 86400, end + 16 * 86400)


def rest_flags_between(start: float, end: float, now: float) -> list[dict[str, Any]]:
    """Night interventions ended in [start, end) followed by too little rest."""
    b = directory.bundle()
    cals, team_of = _calendars()
    work, oncall = _work_and_oncall(start, end, now)
    flags = []
    for person, items in sorted(work.items()):
        team = b["teams"].get(team_of.get(person, ""))
        cal = _calendar_of(person, cals, team_of)
        flags += astreinte.rest_flags(person, items, oncall.get(person, []), cal,
                                      team["rest"] if team else 11 * 3600, start, end)
    return flags


def month_report(month: str, first: date, now: float) -> dict[str, Any]:
    """The month a manager closes: KPIs and the astreinte table, from one read of the month
    (what the monthly summary sends, and what bench/month_report.py times)."""
    start, end = month_bounds(first, default_zone())
    found = facts_between(start - WORK_LOOKBACK, end + WORK_LOOKAHEAD)
    return {"month": month, "astreinte": astreinte_report(month, first, now, found),
            "kpis": kpi_report(start, end, now, [f for f in found if start <= f["created_at"] < end])}


def astreinte_report(month: str, first: date, now: float, found: list[dict[str, Any]] | None = None,
                     teams: set[str] | None = None) -> dict[str, Any]:
    """Each person's month, in their team's calendar and time zone (`teams`: only the people
    of these teams; None: everyone)."""
    b = directory.bundle()
    cals, team_of = _calendars()
    start, end = month_bounds(first, default_zone())
    work_by_person, oncall = _work_and_oncall(start, end, now, found)
    rows = []
    for person in sorted(set(oncall) | set(work_by_person)):
        if teams is not None and team_of.get(person) not in teams:
            continue
        team = b["teams"].get(team_of.get(person, ""))
        cal = _calendar_of(person, cals, team_of)
        p_start, p_end = month_bounds(first, ZoneInfo(cal.timezone))
        row = astreinte.person_month(person, oncall.get(person, []), work_by_person.get(person, []), cal,
                                     team["rest"] if team else 11 * 3600, p_start, p_end)
        row["name"] = directory.name_of(person)
        row["team"] = team["id"] if team else None
        for flag in row["rest_flags"]:
            for k in ("intervention_start", "intervention_end", "next_work"):
                flag[k] = clock.iso(flag[k])
            flag["incident"] = flag["incidents"][0]
        rows.append(row)
    return {"month": month, "categories": list(CATEGORIES), "people": rows,
            "rules": {"office_hours": "not counted / non comptées",
                      "order": "holiday > weekend > night > weekday_evening",
                      "intervention": "acknowledged → resolved (capped) ∪ answered calls"}}


ASTREINTE_CSV_FIELDS = ["month", "person", "name", "team", "category", "oncall_hours", "intervention_hours",
                        "intervention_count", "rest_warnings"]


def astreinte_csv(report: dict[str, Any]) -> str:
    """One row per person and category, as payroll imports them."""
    rows = []
    for p in report["people"]:
        for i, cat in enumerate(report["categories"]):
            rows.append({"month": report["month"], "person": p["person"], "name": p["name"],
                         "team": p["team"], "category": cat, "oncall_hours": p["oncall_hours"][cat],
                         "intervention_hours": p["interventions"]["hours"][cat],
                         # counts are per person: on their first row only, so a sum stays right
                         "intervention_count": "" if i else p["interventions"]["count"],
                         "rest_warnings": "" if i else len(p["rest_flags"])})
    return to_csv(rows, ASTREINTE_CSV_FIELDS)


def fairness_report(team_id: str | None, days: int, now: float,
                    scope: set[str] | None = None) -> dict[str, Any]:
    b = directory.bundle()
    if team_id and team_id not in b["teams"]:
        raise errors.NotFound(f"there is no team '{team_id[:40]}'")
    _only(scope, team_id)
    if not 7 <= days <= 366:
        raise errors.BadRequest("'days' must be between 7 and 366")
    start = now - days * 86400
    oncall = _oncall_intervals(start, now)
    teams = []
    for tid, team in b["teams"].items():
        if (team_id and tid != team_id) or (scope is not None and tid not in scope):
            continue
        members = {p: oncall.get(p, []) for p in team["members"]}
        rows = astreinte.fairness(members, WorkCalendar.of_team(team), start, now)
        for r in rows:
            r["name"] = directory.name_of(r["person"])
        teams.append({"team": tid, "name": team["name"], "people": rows})
    return {"from": clock.iso(start), "to": clock.iso(now), "days": days, "teams": teams}


def rota_shifts(rota_id: str, start: float, end: float) -> dict[str, Any]:
    """A rota's shifts per layer (the dashboard's on-call calendar)."""
    b = directory.bundle()
    rota = b["rotas"].get(rota_id)
    if rota is None:
        raise errors.NotFound(f"there is no rota '{rota_id}'")
    return {"rota": rota_id, "name": rota["name"], "timezone": rota["timezone"], "from": clock.iso(start),
            "to": clock.iso(end), "layers": [
                {"layer": name, "shifts": [
                    {"person": s.person, "name": directory.name_of(s.person),
                     "start": clock.iso(s.start), "end": clock.iso(s.end)}
                    for s in shifts.shifts(rota, name, start, end)]}
                for name in rota["layers"]]}

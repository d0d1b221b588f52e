"""Manager review over HTTP: the incident list and CSV, KPIs, astreinte hours, fairness.

The clock is moved to a Tuesday 02:00 in Paris so the night intervention, the rest it
owes and the night pages do not depend on when the tests run.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from conftest import Api

from chalicelib import clock, incidents, tokens

PARIS = ZoneInfo("Europe/Paris")
ALICE = "+33600000001"


def next_tuesday_2am() -> datetime:
    now = datetime.fromtimestamp(clock.now(), PARIS)
    d = now.date() + timedelta(days=(1 - now.weekday()) % 7 or 7)
    return datetime(d.year, d.month, d.day, 2, 0, tzinfo=PARIS)


def move_to(when: datetime) -> None:
    clock.advance(when.timestamp() - clock.now())


def get(api: Api, path: str, token: str | None = None, **params: str) -> requests.Response:
    return api.http.get(f"{api.base}{path}", params=params, timeout=30,
                        headers={"Authorization": f"Bearer {token or api.token}"})


@pytest.fixture()
def night(api: Api, fresh) -> dict:
    """A critical incident at 02:00: Alice is paged (SMS, Slack, then a call she answers for
    2 minutes), acknowledges at 02:03 and resolves at 02:33."""
    fake = fresh.fake
    start = next_tuesday_2am()
    move_to(start)
    number = api.trigger(dedup="night-1", severity="critical", summary="Base de données injoignable")[
        "incident_number"]
    fake.wait_for(kind="sms", to=ALICE)
    # Instants are set, not added to: on a loaded machine the waits above take real seconds.
    move_to(start + timedelta(minutes=2, seconds=5))  # the call is due 2 min after the trigger
    incidents.sweep()
    call = fake.wait_for(kind="call", to=ALICE)
    assert fake.call_status(call["sid"], "completed", duration=120) in (200, 204)
    assert fake.call_status(call["sid"], "completed", duration=120) in (200, 204)  # Twilio retried
    alice = tokens.create("alice", "phone")
    move_to(start + timedelta(minutes=3))
    assert api.act(number, "acknowledge", token=alice).status_code == 200
    move_to(start + timedelta(minutes=33))
    assert api.act(number, "resolve", token=alice).status_code == 200
    return {"number": number, "start": start, "month": start.strftime("%Y-%m"), "alice": alice}


def test_incident_list_filters_and_csv(api: Api, night: dict) -> None:
    day = night["start"].date().isoformat()
    other = api.trigger(dedup="minor-1", severity="warning", summary="Certificat bientôt expiré")[
        "incident_number"]
    listed = get(api, "/v1/incidents", **{"from": day, "to": day}).json()
    assert [i["number"] for i in listed["incidents"]] == [other, night["number"]]  # newest first
    row = listed["incidents"][1]
    assert row["severity"] == "critique" and row["state"] == "resolved" and row["acknowledged_by"] == "alice"
    assert row["tta_seconds"] == pytest.approx(180, abs=2) and row["escalated"] is False
    assert row["pages"] == 4  # SMS, Slack DM, the team channel, the call
    assert row["team"] == "support" and row["service_name"] == "Helpdesk"

    only = get(api, "/v1/incidents", severity="critique", state="resolved", **{"from": day, "to": day}).json()
    assert [i["number"] for i in only["incidents"]] == [night["number"]]
    assert get(api, "/v1/incidents", person="dan", **{"from": day}).json()["incidents"] == []

    r = get(api, "/v1/incidents", format="csv", **{"from": day, "to": day})
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [int(x["number"]) for x in rows] == [other, night["number"]]
    assert rows[1]["summary"] == "Base de données injoignable" and rows[1]["acknowledged_by"] == "alice"


def test_escalation_log_as_csv(api: Api, night: dict) -> None:
    """The timeline of one incident, and of every incident of a period, for a spreadsheet."""
    r = get(api, f"/v1/incidents/{night['number']}", format="csv")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    kinds = [x["kind"] for x in rows]
    assert kinds[0] == "triggered" and {"acknowledged", "resolved"} <= set(kinds)
    assert [x["at"] for x in rows] == sorted(x["at"] for x in rows)
    ack = rows[kinds.index("acknowledged")]
    assert ack["actor"] == "alice" and ack["channel"] == "api"
    assert any(x["kind"] == "paged" and x["channel"] == "voice" and x["to"] == "alice" for x in rows)

    day = night["start"].date().isoformat()
    log = get(api, "/v1/incidents", rows="timeline", format="csv", **{"from": day, "to": day})
    log_rows = list(csv.DictReader(io.StringIO(log.text)))
    assert [x for x in log_rows if int(x["number"]) == night["number"]] == rows
    as_json = get(api, "/v1/incidents", rows="timeline", **{"from": day, "to": day}).json()
    assert len(as_json["timeline"]) == len(log_rows) and "incidents" not in as_json
    bad = get(api, "/v1/incidents", rows="everything")
    assert bad.status_code == 400 and "rows" in bad.json()["message"]
    too_many = get(api, "/v1/incidents", rows="timeline", limit="1000")
    assert too_many.status_code == 400 and "at most 200" in too_many.json()["message"]


def test_kpis_for_a_manager(api: Api, night: dict) -> None:
    day = night["start"].date().isoformat()
    k = get(api, "/v1/reports/kpis", **{"from": day, "to": day}).json()
    assert k["overall"]["count"] == 1 and k["overall"]["tta_median"] == pytest.approx(180, abs=2)
    assert k["overall"]["ttr_median"] == pytest.approx(33 * 60, abs=2)
    assert k["overall"]["first_contact_resolution"] == 1.0 and k["overall"]["escalation_rate"] == 0
    assert k["by"]["severity"]["critique"]["count"] == 1 and "alice" in k["by"]["person"]
    # SMS, Slack and the call, all at night.
    assert k["pages_per_person"]["alice"] == {"name": "Alice Martin", "pages": 3, "night_pages": 3}
    assert sum(b["count"] for b in k["tta_histogram"]) == 1


def test_astreinte_month_counts_the_night_intervention_and_flags_rest(api: Api, night: dict) -> None:
    report = get(api, "/v1/reports/astreinte", month=night["month"]).json()
    people = {p["person"]: p for p in report["people"]}
    alice = people["alice"]
    assert alice["name"] == "Alice Martin" and alice["team"] == "support"
    assert alice["oncall_total"] > 0  # the test rota keeps her on call all month
    # 02:03 -> 02:33, the answered call 02:00-02:02 just before it: 32 minutes of night work.
    assert alice["interventions"]["count"] == 1
    assert alice["interventions"]["hours"]["night"] == pytest.approx(32 / 60, abs=0.02)
    [flag] = alice["rest_flags"]
    assert flag["incident"] == night["number"] and flag["next_work_kind"] == "office"
    assert flag["rest_hours"] == pytest.approx(6.45, abs=0.02)  # 02:33 -> 09:00
    assert people["bob"]["interventions"]["count"] == 0

    r = get(api, "/v1/reports/astreinte", month=night["month"], format="csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    mine = [x for x in rows if x["person"] == "alice"]
    assert [x["category"] for x in mine] == ["weekday_evening", "night", "weekend", "holiday"]
    assert float(mine[1]["intervention_hours"]) == pytest.approx(32 / 60, abs=0.02)
    assert mine[0]["intervention_count"] == "1" and mine[0]["rest_warnings"] == "1"


def test_fairness_coverage_and_calendar(api: Api, night: dict) -> None:
    fair = get(api, "/v1/reports/fairness", days="90").json()
    [team] = fair["teams"]
    names = {p["person"] for p in team["people"]}
    assert team["team"] == "support" and {"alice", "bob", "carol", "dan"} <= names
    cov = get(api, "/v1/reports/coverage", weeks="2").json()
    assert cov["incidents"] == 1 and cov["out_of_hours"] == 1 and cov["verdict"] == "24/7"
    assert cov["by_hour_of_week"][1][2] == 1  # Tuesday, 02:00
    day = night["start"].date()
    cal = get(api, "/v1/rotas/support/shifts", **{"from": day.isoformat(),
                                                  "to": (day + timedelta(days=6)).isoformat()}).json()
    agent = next(layer for layer in cal["layers"] if layer["layer"] == "agent")
    assert agent["shifts"] and agent["shifts"][0]["name"] == "Alice Martin"


def test_reports_are_for_managers_and_bad_queries_are_named(api: Api, night: dict) -> None:
    alice = night["alice"]
    for path in ("/v1/reports/kpis", "/v1/reports/astreinte", "/v1/reports/fairness", "/v1/reports/coverage"):
        r = get(api, path, token=alice)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", path
        r = api.http.get(f"{api.base}{path}", timeout=10)
        assert r.status_code == 401 and r.json()["error"] == "unauthorised", path
    assert get(api, "/v1/incidents", token=alice).status_code == 200  # the list is for everyone
    for path, params, word in [("/v1/reports/astreinte", {"month": "novembre"}, "month"),
                               ("/v1/incidents", {"from": "yesterday"}, "from"),
                               ("/v1/incidents", {"severity": "urgent"}, "severity"),
                               ("/v1/incidents", {"format": "xml"}, "format"),
                               ("/v1/reports/fairness", {"days": "-3"}, "days"),
                               ("/v1/reports/coverage", {"team": "nobody"}, "nobody")]:
        r = get(api, path, **params)
        assert 400 <= r.status_code < 500 and word in r.json()["message"], (path, r.text)


def test_call_durations_are_kept_once(api: Api, night: dict) -> None:
    inc = incidents.get(night["number"])
    assert inc is not None and [c["seconds"] for c in inc.calls] == [120]
    body = api.incident(night["number"])
    deliveries = [e for e in body["timeline"] if e["kind"] == "delivery" and e["channel"] == "voice"]
    assert len(deliveries) == 1 and deliveries[0]["detail"]["duration_seconds"] == 120


def test_manager_told_next_morning_about_missing_rest(api: Api, night: dict, fresh) -> None:
    from chalicelib.notices import managers as manager_notices

    day = night["start"]
    move_to(day.replace(hour=7, minute=30))
    assert manager_notices.send_rest_notices() == 0  # not before the morning
    move_to(day.replace(hour=8, minute=30))
    assert manager_notices.send_rest_notices() == 1
    note = fresh.fake.wait_for(kind="slack", channel="U0CAROL")  # Carol manages the team, in French
    assert "Alice Martin" in note["text"] and "6.45 h de repos" in note["text"]
    assert "moins de 11 h" in note["text"]
    assert f"#{night['number']}" in note["text"]
    assert manager_notices.send_rest_notices() == 0  # the hourly job runs again: nothing twice


def test_monthly_summary_goes_to_managers_once(api: Api, night: dict, fresh) -> None:
    from chalicelib.notices import managers as manager_notices

    first = (night["start"].date().replace(day=28) + timedelta(days=5)).replace(day=1)
    move_to(datetime(first.year, first.month, first.day, 9, tzinfo=PARIS))
    assert manager_notices.send_monthly_summaries() == 1
    summary = fresh.fake.wait_for(kind="slack", channel="U0CAROL",
                                  predicate=lambda m: "Astreinte — support" in m["text"])
    assert night["month"] in summary["text"] and "Incidents : 1" in summary["text"]
    assert "Alice Martin" in summary["text"] and "/dashboard" in summary["text"]
    assert manager_notices.send_monthly_summaries() == 0

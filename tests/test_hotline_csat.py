"""The hotline's satisfaction survey and quality report, over the local stack: calls played
through the fake Twilio, the caller's SMS answers, then GET /v1/reports/hotline."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests
from conftest import Api, last_number

from chalicelib import clock, tokens
from chalicelib.hotline.csat import parse_score

HOTLINE, CALLER, OTHER = "+33900000100", "+33611223301", "+33611223302"
PARIS = ZoneInfo("Europe/Paris")


def report(api: Api, path: str = "/v1/reports/hotline", token: str | None = None,
           **params: str) -> requests.Response:
    today = datetime.fromtimestamp(clock.now(), PARIS).date()
    params = {"from": str(today - timedelta(days=1)), "to": str(today), **params}
    return api.http.get(f"{api.base}{path}", params=params, timeout=30,
                        headers={"Authorization": f"Bearer {token or api.token}"})


def csat_entries(api: Api) -> list[dict]:
    return [e for e in api.incident(last_number())["timeline"] if e["kind"] == "csat"]


def test_scores_are_read_from_what_callers_write() -> None:
    said = ("5", "5 merci", "note 4", "Note : 3/5", " 2 ", "score: 1")
    assert [parse_score(s) for s in said] == [5, 5, 4, 3, 2, 1]
    assert [parse_score(s) for s in ("0", "6", "10", "4.5", "merci", "")] == [None] * 6


def test_an_answered_call_is_rated_once_and_counted(api: Api, fresh) -> None:
    fake = fresh.fake
    call = fake.call_hotline(CALLER, HOTLINE, ["2"])
    clock.advance(8)
    call.answer("1", duration=95)

    [ask] = fake.messages(kind="sms", to=CALLER)
    assert ask["body"].startswith("Merci pour votre appel au support Helpdesk.")
    assert "de 1 (mauvaise) à 5 (excellente)" in ask["body"]
    assert call.again()[0] == 200  # the Dial callback retried: no second survey
    assert len(fake.messages(kind="sms", to=CALLER)) == 1

    status, said = fake.reply_sms(CALLER, "5 merci", message_sid="SMcsat1")
    assert status == 200 and "Merci pour votre note (5/5)" in said
    status, said = fake.reply_sms(CALLER, "5 merci", message_sid="SMcsat1")  # Twilio retries it
    assert status == 200 and "Merci pour votre note (5/5)" in said
    status, said = fake.reply_sms(CALLER, "1")  # a second reply changes nothing
    assert status == 200 and "déjà noté" in said
    assert [e["detail"]["score"] for e in csat_entries(api)] == [5]

    status, said = fake.reply_sms(OTHER, "5")  # nobody's call, nobody of the rotas
    assert "n'est pas dans l'annuaire" in said

    r = report(api)
    assert r.status_code == 200, r.text
    overall = r.json()["overall"]
    assert overall["received"] == 1 and overall["answered"] == 1 and overall["answered_within_20s"] == 1
    assert overall["csat"] == {"average": 5.0, "count": 1} and overall["service_level"] == 1.0
    assert overall["first_contact_resolved"] == 1 and overall["average_handle_seconds"] == 95.0
    assert r.json()["by"]["agent"]["alice"]["csat"]["average"] == 5.0
    kpis = report(api, "/v1/reports/kpis").json()
    assert kpis["hotline"]["by"]["service"]["helpdesk"]["csat"] == {"average": 5.0, "count": 1}
    assert "overall" in kpis and "by" in kpis and "tta_histogram" in kpis  # the KPIs as before


def test_an_english_call_is_asked_in_english_and_a_word_gets_the_rule(api: Api, fresh) -> None:
    call = fresh.fake.call_hotline(CALLER, HOTLINE, ["9", "2"])
    call.answer("1", duration=30)
    [ask] = fresh.fake.messages(kind="sms", to=CALLER)
    assert ask["body"].startswith("Thank you for calling Helpdesk support.")
    status, said = fresh.fake.reply_sms(CALLER, "great")
    assert "reply with a number from 1 (poor) to 5 (excellent)" in said
    assert csat_entries(api) == []


def test_abandoned_and_voicemail_calls_are_counted(api: Api, fresh) -> None:
    fake = fresh.fake
    menu = fake.call_hotline(CALLER, HOTLINE, [])
    assert menu.hang_up() == 204 and menu.again()[0] == 204  # retried: counted once
    voicemail = fake.call_hotline(OTHER, HOTLINE, ["3"])
    voicemail.record(seconds=5)

    overall = report(api).json()["overall"]

    assert overall["received"] == 2 and overall["answered"] == 0
    assert overall["abandoned_in_menu"] == 1 and overall["abandoned"] == 1 and overall["voicemails"] == 1
    assert fake.messages(kind="sms", to=CALLER) == []  # no survey without an answer


def test_the_hotline_report_is_for_managers_and_checks_its_team(api: Api, fresh) -> None:
    alice = tokens.create("alice", "phone")
    assert report(api, token=alice).status_code == 403
    r = report(api, team="nope")
    assert r.status_code == 404 and r.json()["error"]
    r = report(api, **{"from": "yesterday"})
    assert r.status_code == 400 and r.json()["error"]

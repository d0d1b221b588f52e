"""Hotline calls on the payroll: a customer's call taken at night or on a weekend is work
(intervention hours in GET /v1/reports/astreinte, in its category), and one that went to
voicemail is nobody's work until someone acknowledges its incident.

Every call goes through the fake Twilio, signed.  Twilio posts the <Dial> action when the
call ends, so the service clock moves by the call's length between the agent's "1" and that
callback (HotlineCall.answer posts both at once: take() below plays the leg the same way,
with the conversation in between).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import Api, last_number

from chalicelib import clock

HOTLINE = "+33900000100"
ALICE, BOB = "+33600000001", "+447700900002"
PARIS = ZoneInfo("Europe/Paris")
MONTH = "2027-01"


def at(*args: int) -> None:
    """Move the service clock to this Paris wall time (forward only)."""
    ahead = datetime(*args, tzinfo=PARIS).timestamp() - clock.now()
    assert ahead > 0
    clock.advance(ahead)


def take(call, minutes: float) -> None:  # noqa: ANN001 (tests/fakes is not a package the checker sees)
    """The person rung picks up, hears the reason, presses 1, talks `minutes`, hangs up."""
    fake, dialing = call.fake, call.dialing
    assert dialing is not None and dialing["url"]
    leg = {"kind": "hotline_leg", "sid": f"CAleg{call.sid[2:]}", "call_sid": call.sid, "to": dialing["to"],
           "said": [], "key": "1", "status": "bridged"}
    params = {"CallSid": leg["sid"], "ParentCallSid": call.sid, "To": dialing["to"], "From": call.from_,
              "AccountSid": fake.twilio_account_sid, "CallStatus": "in-progress",
              "Direction": "outbound-dial"}
    status, whisper, _ = fake._twilio_webhook(dialing["url"], params)
    assert status == 200, whisper
    gather = ET.fromstring(whisper).find("Gather")
    assert gather is not None
    status, bridged, _ = fake._twilio_webhook(gather.get("action"), {**params, "Digits": "1"})
    assert status == 200 and "Hangup" not in bridged, bridged
    clock.advance(minutes * 60)  # the conversation
    call._dial_action("completed", leg, int(minutes * 60))
    assert call.state == "ended"


def report(api: Api) -> dict[str, dict]:
    r = api.http.get(f"{api.base}/v1/reports/astreinte", params={"month": MONTH}, timeout=30,
                     headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 200, r.text
    return {p["person"]: p for p in r.json()["people"]}


def worked(people: dict[str, dict], number: int) -> dict[str, dict]:
    """Who has intervention hours on this incident: their interventions."""
    return {who: p["interventions"] for who, p in people.items() if number in p["interventions"]["incidents"]}


def test_answered_calls_are_intervention_hours_in_their_category(api: Api, fresh) -> None:
    # A Wednesday night: Alice (first for "carte bloquée") takes it and talks 20 minutes.
    at(2027, 1, 13, 23, 0)
    call = fresh.fake.call_hotline("+33611223301", HOTLINE, ["1"])
    assert call.dialing["to"] == ALICE
    clock.advance(15)
    take(call, 20)
    night = last_number()
    inc = api.incident(night)
    assert inc["state"] == "resolved" and inc["acknowledged_by"] == "alice"

    # A Saturday afternoon: "incident technique"; Alice lets it ring out, Bob takes it, 30 minutes.
    at(2027, 1, 16, 15, 0)
    call = fresh.fake.call_hotline("+33611223302", HOTLINE, ["2"])
    call.no_answer()
    assert call.dialing["to"] == BOB
    take(call, 30)
    weekend = last_number()
    assert api.incident(weekend)["resolved_by"] == "bob"

    at(2027, 2, 2, 12, 0)
    people = report(api)
    assert set(worked(people, night)) == {"alice"} and set(worked(people, weekend)) == {"bob"}
    alice, bob = people["alice"]["interventions"], people["bob"]["interventions"]
    assert alice["hours"]["night"] == pytest.approx(20 / 60, abs=0.01)
    assert alice["hours"]["weekend"] == 0 and alice["hours"]["weekday_evening"] == 0
    assert bob["hours"]["weekend"] == pytest.approx(30 / 60, abs=0.01)
    assert bob["hours"]["night"] == 0 and bob["hours"]["weekday_evening"] == 0
    assert alice["count"] == 1 and bob["count"] == 1
    # Being rung and letting it ring out is no work.
    assert weekend not in alice["incidents"]


def test_a_voicemail_is_nobodys_work_until_someone_acknowledges_it(api: Api, fresh) -> None:
    # A Thursday, 02:00: "autre demande" goes straight to voicemail; the incident pages.
    at(2027, 1, 21, 2, 0)
    call = fresh.fake.call_hotline("+33611223303", HOTLINE, ["3"])
    assert call.state == "recording"
    call.record(seconds=25, transcription="Rappelez-moi demain, merci.")
    number = last_number()
    fresh.fake.wait_for(kind="sms", to=ALICE)
    clock.advance(25 * 60)  # nobody reacts for a while

    people = report(api)
    assert worked(people, number) == {}
    assert all(p["interventions"]["hours"]["night"] == 0 for p in people.values())

    # Carol acknowledges at 02:25, calls the customer back, resolves at 03:05: 40 minutes of night.
    assert api.act(number, "acknowledge").status_code == 200
    clock.advance(40 * 60)
    assert api.act(number, "resolve").status_code == 200

    people = report(api)
    assert set(worked(people, number)) == {"carol"}
    assert people["carol"]["interventions"]["hours"]["night"] == pytest.approx(40 / 60, abs=0.01)
    assert people["alice"]["interventions"]["count"] == 0

"""The on-call hotline (astreinte téléphonique), as a customer and the people on call live it:
a customer calls the support number outside office hours, picks a reason, and is put through
to whoever is on call for it; nobody: voicemail, and the incident pages as any.

Every webhook goes through the fake Twilio (tests/fakes/providers.py), signed.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import ROOT, Api, kinds, last_number
from pynamodb.exceptions import DoesNotExist

from chalicelib import clock
from chalicelib.rotas import directory
from chalicelib.rotas import load as rotas

HOTLINE, CALLER = "+33900000100", "+33611223301"
ALICE, BOB, CAROL = "+33600000001", "+447700900002", "+33600000003"
MASKED = "+33 6•• •• •• 01"
PARIS = ZoneInfo("Europe/Paris")


def entries(inc: dict, kind: str) -> list[dict]:
    return [e for e in inc["timeline"] if e["kind"] == kind]


def test_the_first_person_takes_the_call_and_it_resolves_at_hang_up(api: Api, fresh) -> None:
    fake = fresh.fake
    call = fake.call_hotline(CALLER, HOTLINE, ["1"])  # 1: carte bloquée (the critical policy)

    assert call.said[0] == "Bonjour, vous êtes au support Helpdesk, en dehors des heures de bureau."
    assert "Pour : carte bloquée, tapez 1." in call.said and "For English, press 9." in call.said
    assert "L'attente est de 2 minute(s) au plus." in call.said[-1]  # 4 people × 20 s
    assert call.state == "dialing" and call.dialing["to"] == ALICE and call.dialing["timeout"] == 20
    assert call.dialing.get("caller_id") == HOTLINE  # Alice's phone shows the support number
    number = last_number()
    inc = api.incident(number)
    assert inc["summary"] == f"Appel client Helpdesk — carte bloquée — {MASKED}"
    assert inc["source"] == "hotline" and inc["state"] == "triggered"
    assert "held" in kinds(inc) and "paged" not in kinds(inc)

    clock.advance(12)  # the caller waits while Alice's phone rings
    leg = call.answer("1", duration=95)

    assert leg["said"] == ["Appel client Helpdesk, motif : carte bloquée. "
                           "Appuyez sur 1 pour prendre l'appel."]
    assert leg["status"] == "bridged" and call.state == "ended"
    inc = api.incident(number)
    assert inc["state"] == "resolved" and inc["resolved_by"] == "alice" and inc["acknowledged_by"] == "alice"
    [answered] = entries(inc, "hotline_answered")
    assert answered["detail"]["by"] == "alice" and answered["detail"]["wait_seconds"] >= 12
    [ended] = entries(inc, "hotline_call_ended")
    assert ended["detail"]["duration_seconds"] == 95
    assert kinds(inc)[:2] == ["triggered", "hotline_call"]
    for kind in ("hotline_ringing", "acknowledged", "resolved"):
        assert kind in kinds(inc)
    # Nobody was paged: the call was taken live (the caller's one SMS asks to rate the answer).
    assert [m for m in fake.messages(kind="sms") if m["to"] != CALLER] == []
    assert fake.messages(kind="slack") == []
    # The caller's number, whole, nowhere a person reads: not in the incident, its event or its
    # timeline (the callback reads it from an item of its own); Alice's phone showed the
    # support number, not the customer's.
    shown = json.dumps(api.incident(number), ensure_ascii=False)
    assert CALLER not in shown and MASKED in shown


def test_a_person_who_does_not_press_1_passes_the_call_to_the_next(api: Api, fresh) -> None:
    call = fresh.fake.call_hotline(CALLER, HOTLINE, ["2"])  # 2: incident technique (standard)
    assert call.dialing["to"] == ALICE

    leg = call.answer(None)  # Alice picks up, hears the reason, presses nothing

    assert leg["status"] == "hung-up"
    assert call.state == "dialing" and call.dialing["to"] == BOB
    assert call.said[-1] == "Merci de patienter encore un instant."
    leg = call.answer("1", duration=40)
    assert leg["said"] == ["Customer call for Helpdesk, reason: technical incident. "
                           "Press 1 to take the call."]
    inc = api.incident(last_number())
    assert inc["state"] == "resolved" and inc["resolved_by"] == "bob"
    [no_answer] = entries(inc, "hotline_no_answer")
    assert no_answer["detail"]["to"] == "alice"
    assert [e["detail"]["to"] for e in entries(inc, "hotline_ringing")] == ["alice", "bob"]


def test_nobody_answers_voicemail_then_the_incident_pages(api: Api, fresh) -> None:
    fake = fresh.fake
    call = fake.call_hotline(CALLER, HOTLINE, ["2"])
    for who in (ALICE, BOB, CAROL):
        assert call.dialing["to"] == who
        call.no_answer()
    assert call.state == "recording"
    assert call.said[-1].startswith("Personne n'est disponible pour le moment.")
    assert fake.messages(kind="sms") == []

    call.record(seconds=14, transcription="Bonjour, ma carte est bloquée depuis ce soir.")

    assert call.said[-1] == "Merci, votre message est transmis à l'astreinte. Au revoir."
    sms = fake.wait_for(kind="sms", to=ALICE)  # the policy's first step, as any incident
    assert MASKED in sms["body"] and CALLER not in sms["body"]
    inc = api.incident(last_number())
    [voicemail] = entries(inc, "voicemail")
    assert voicemail["detail"]["recording_url"].endswith(fake.messages(kind="hotline_recording")[0]["sid"])
    assert voicemail["detail"]["duration_seconds"] == 14
    [text] = entries(inc, "voicemail_transcription")
    assert text["detail"]["text"] == "Bonjour, ma carte est bloquée depuis ce soir."
    assert len(entries(inc, "hotline_no_answer")) == 3
    assert "released" in kinds(inc) and "paged" in kinds(inc) and inc["state"] == "triggered"


def test_the_voicemail_reason_goes_straight_to_voicemail(api: Api, fresh) -> None:
    call = fresh.fake.call_hotline(CALLER, HOTLINE, ["3"])
    assert call.state == "recording" and call.dialing is None
    call.record(seconds=5)
    fresh.fake.wait_for(kind="sms", to=ALICE)


def test_a_caller_who_hangs_up_in_the_menu_opens_nothing(api: Api, fresh) -> None:
    call = fresh.fake.call_hotline(CALLER, HOTLINE, [])
    assert call.state == "menu"

    assert call.hang_up() == 204

    with pytest.raises(DoesNotExist):
        last_number()  # no incident was ever opened
    clock.advance(3600)
    from chalicelib import incidents
    incidents.sweep()
    assert fresh.fake.messages(kind="sms") == [] and fresh.fake.messages(kind="call") == []


def test_a_caller_who_hangs_up_while_it_rings_gets_the_incident_paged(api: Api, fresh) -> None:
    call = fresh.fake.call_hotline(CALLER, HOTLINE, ["2"])
    assert call.hang_up() == 204
    fresh.fake.wait_for(kind="sms", to=ALICE)
    assert "released" in kinds(api.incident(last_number()))


def test_key_9_switches_to_english(api: Api, fresh) -> None:
    call = fresh.fake.call_hotline(CALLER, HOTLINE, ["9"])
    assert "Hello, you have reached Helpdesk support, outside office hours." in call.said
    assert "For: blocked card, press 1." in call.said and "Pour le français, tapez 9." in call.said
    call.press("1")
    assert call.said[-1].endswith("You will wait 2 minute(s) at most.")
    assert call.dialing["to"] == ALICE
    inc = api.incident(last_number())
    assert entries(inc, "hotline_call")[0]["detail"]["language"] == "en"


def test_a_retried_dial_callback_changes_nothing_twice(api: Api, fresh) -> None:
    call = fresh.fake.call_hotline(CALLER, HOTLINE, ["2"])
    assert call.again() == (200, call.twiml[-1])  # the menu's choice, delivered again
    assert len(entries(api.incident(last_number()), "hotline_call")) == 1
    call.no_answer()
    first = call.twiml[-1]

    status, again = call.again()

    assert status == 200 and again == first  # the same answer: ring Bob
    inc = api.incident(last_number())
    assert len(entries(inc, "hotline_no_answer")) == 1
    assert [e["detail"]["to"] for e in entries(inc, "hotline_ringing")] == ["alice", "bob"]


def test_a_badly_signed_call_is_refused(api: Api, fresh) -> None:
    call = fresh.fake.call_hotline(CALLER, HOTLINE, ["1"], bad_signature=True)
    assert call.status_code == 403
    assert json.loads(fresh.fake.messages(kind="hotline_webhook")[-1]["response"])["error"]
    with pytest.raises(DoesNotExist):
        last_number()


def test_an_unknown_number_is_a_404(api: Api, fresh) -> None:
    assert fresh.fake.call_hotline(CALLER, "+33900000999", ["1"]).status_code == 404


OFFICE = """
services:
  - id: extra
    name: Extra
    policies: {default: standard}
    integrations: [{type: pagerduty, key_sha256: KEYHASH}]
    support_hours:
      timezone: Europe/Paris
      hours: [{days: [weekdays], from: "09:00", to: "18:00"}]
      defer: []
    hotline:
      number: "+33900000200"
      office_forward: "+33100000000"
      menu:
        - {key: "1", label: {fr: panne, en: outage}, policy: standard}
"""


def _sync(tmp_path: Path, text: str) -> Path:
    shutil.copy(ROOT / "tests" / "rotas" / "team.yaml", tmp_path / "team.yaml")
    (tmp_path / "extra.yaml").write_text(text.replace("KEYHASH", hashlib.sha256(b"k").hexdigest()))
    return tmp_path


def test_in_office_hours_the_call_is_forwarded_to_the_office(api: Api, fresh, tmp_path: Path) -> None:
    directory.sync(rotas.load_dir(_sync(tmp_path, OFFICE)))
    clock.advance(datetime(2027, 2, 2, 10, 0, tzinfo=PARIS).timestamp() - clock.now())  # a Tuesday

    call = fresh.fake.call_hotline(CALLER, "+33900000200", ["1"])

    assert call.dialing is not None and call.dialing["to"] == "+33100000000"
    assert call.dialing["timeout"] == 20 and call.said == []
    # Nobody at the office picks up: the caller is not dropped, the on-call menu answers (and
    # the caller's 1 there rings the on-call person).
    call.no_answer()
    assert "Pour : panne, tapez 1." in call.said
    assert call.state == "dialing" and call.dialing is not None and call.dialing["to"] != "+33100000000"

    clock.advance(12 * 3600)  # 22:00: the menu
    call = fresh.fake.call_hotline(CALLER, "+33900000200", [])
    assert call.state == "menu" and "Pour : panne, tapez 1." in call.said


BAD = """
services:
  - id: extra
    policies: {default: standard}
    hotline:
      number: "0612"
      menu:
        - {key: "1", label: {fr: panne, en: outage}, policy: nope}
        - {key: "9", label: {fr: autre, en: other}, voicemail: true}
        - {key: "1", label: {fr: encore, en: again}, policy: standard}
"""


def test_rotas_check_refuses_a_bad_hotline_with_file_and_line(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "chalicelib.cli", "check", str(_sync(tmp_path, BAD))],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    out = done.stdout + done.stderr
    assert done.returncode != 0
    assert "extra.yaml:6: services[0].hotline.number: '0612' is not an E.164 number" in out
    assert "extra.yaml:8: services[0].hotline.menu[0].policy: unknown escalation policy 'nope'" in out
    assert "extra.yaml:9: services[0].hotline.menu[1].key: 9 is reserved for the language switch" in out
    assert "extra.yaml:10: services[0].hotline.menu[2].key: duplicate key 1" in out


def test_the_outbox_controls_play_a_hotline_call(api: Api, fresh) -> None:
    """What `make run` users do with curl (README): call, then say what the person rung does."""
    import requests

    control = f"{fresh.fake.url}/_control"
    started = requests.post(f"{control}/call_hotline", timeout=10,
                            json={"from": CALLER, "to": HOTLINE, "digits": "9,2"}).json()["result"]
    assert started["state"] == "dialing" and started["dialing"]["to"] == ALICE
    done = requests.post(f"{control}/hotline", timeout=10, json={
        "call_sid": started["call_sid"], "action": "answer", "key": "1", "duration": 30}).json()["result"]
    assert done["state"] == "ended" and done["legs"][0]["status"] == "bridged"
    assert api.incident(last_number())["state"] == "resolved"

"""WhatsApp, end to end over the local stack: pages, replies, delivery callbacks, fallbacks.

WhatsApp goes through Twilio's Messages API with `whatsapp:` addresses; the fake providers
record those messages as kind "whatsapp" and play replies and status callbacks as Twilio
posts them (signed, to the SMS webhook and the page's status URL).  Each test writes its own
copy of tests/rotas/team.yaml into tmp_path with Alice on WhatsApp, and syncs it after the
`fresh` fixture.  Time moves only on the service's clock; nothing sleeps.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, Api

from chalicelib import clock, config, incidents
from chalicelib.notify import Message, channels, tell
from chalicelib.rotas import directory
from chalicelib.rotas import load as rotas

TEAM = (ROOT / "tests" / "rotas" / "team.yaml").read_text()
_start = re.search(r"^rotas:$", TEAM, re.M)
assert _start is not None, "tests/rotas/team.yaml has no top-level rotas: section"
TEAM_BUT_PEOPLE = TEAM[_start.start():]  # rotas, policies, services (with their integration keys)

ALICE = "+33600000001"
ALICE_WA = "whatsapp:" + ALICE
SENDER = "whatsapp:+33900000009"  # devstack's TWILIO_WHATSAPP_FROM
OTHERS = (
    '  - {id: bob, name: Bob Smith, language: en, phone: "+447700900002", slack: U0BOB, '
    "notify: [{channel: voice}]}\n"
    '  - {id: carol, name: Carol Durand, language: fr, phone: "+33600000003", slack: U0CAROL, '
    "roles: [admin], notify: [{channel: sms}]}\n"
    '  - {id: dan, name: Dan Moreau, language: en, phone: "+33600000004", roles: [direction], '
    "notify: [{channel: sms}]}\n"
)
ACKED = {"fr": "#{n} : vous l'avez pris en charge. L'escalade est arrêtée.",
         "en": "#{n}: you have it. Escalation stopped."}
REPLY_WORDS = {"fr": "Répondez 4 {n} pour prendre en charge", "en": "Reply 4 {n} to acknowledge"}


def alice_on_whatsapp(tmp_path: Path, lang: str = "fr") -> None:
    """Sync team.yaml with Alice, the agent on call, paged on WhatsApp only (by her phone)."""
    alice = (f'  - {{id: alice, name: Alice Martin, language: {lang}, phone: "{ALICE}", '
             "notify: [{channel: whatsapp}]}\n")
    (tmp_path / "team.yaml").write_text("people:\n" + alice + OTHERS + TEAM_BUT_PEOPLE)
    directory.sync(rotas.load_dir(tmp_path))


def entries(inc: dict, kind: str) -> list[dict]:
    return [e for e in inc["timeline"] if e["kind"] == kind]


def answer_of(twiml: str) -> str:
    message = ET.fromstring(twiml).find("Message")
    assert message is not None, twiml
    return message.text or ""


def wait(seconds: float, step: float = 30) -> None:
    while seconds > 0:
        clock.advance(min(step, seconds))
        seconds -= step
        incidents.sweep()


# ---------------------------------------------------------------- no server

def test_whatsapp_is_a_channel_by_phone_that_knows_twilios_whatsapp_errors() -> None:
    wa = channels.get("whatsapp")
    assert wa.needs == "phone" and wa.tells and not wa.updates_in_place
    report = wa.delivery_report({"MessageSid": "SM1", "MessageStatus": "undelivered", "ErrorCode": "63016"})
    assert report.failed and report.permanent and report.error_code == "63016"
    busy = wa.delivery_report({"MessageSid": "SM2", "MessageStatus": "failed", "ErrorCode": "63018"})
    assert busy.failed and not busy.permanent  # a rate limit of our account: tried again
    read = wa.delivery_report({"MessageSid": "SM3", "MessageStatus": "read"})
    assert read.status == "read" and not read.failed


# ---------------------------------------------------------------- the page and the reply

@pytest.mark.parametrize("lang", ["fr", "en"])
def test_paged_on_whatsapp_she_replies_4_n_there_and_the_incident_is_acknowledged(
        api: Api, fresh, tmp_path: Path, lang: str) -> None:
    fake = fresh.fake
    alice_on_whatsapp(tmp_path, lang)

    n = api.trigger(dedup="disk-db-1")["incident_number"]

    page = fake.wait_for(kind="whatsapp", to=ALICE_WA)
    assert page["from"] == SENDER
    assert f"#{n}" in page["body"] and "Disk full on db-1" in page["body"]
    assert REPLY_WORDS[lang].format(n=n) in page["body"]
    assert f"{api.base}/l/" in page["body"]  # the one-click link
    assert page["status_callback"].endswith(f"/webhooks/twilio/status/{n}.alice.whatsapp")
    assert fake.messages(kind="sms", to=ALICE) == [] and fake.messages(kind="call", to=ALICE) == []
    [paged] = entries(api.incident(n), "paged")
    assert paged["channel"] == "whatsapp" and paged["detail"]["ok"] is True
    assert paged["detail"]["ref"] == page["sid"]

    # Twilio's status callbacks, as for SMS (WhatsApp adds "read").
    assert fake.whatsapp_status(page["sid"], "delivered") == 204
    assert fake.whatsapp_status(page["sid"], "read") == 204
    said = [(e["channel"], e["detail"]["status"]) for e in entries(api.incident(n), "delivery")]
    assert said == [("whatsapp", "delivered"), ("whatsapp", "read")]

    status, twiml = fake.reply_whatsapp(ALICE, f"4 {n}")
    assert status == 200 and answer_of(twiml) == ACKED[lang].format(n=n)
    inc = api.incident(n)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice"


def test_a_whatsapp_reply_from_an_unknown_number_changes_nothing(api: Api, fresh, tmp_path: Path) -> None:
    alice_on_whatsapp(tmp_path)
    n = api.trigger()["incident_number"]
    fresh.fake.wait_for(kind="whatsapp", to=ALICE_WA)
    status, twiml = fresh.fake.reply_whatsapp("+33699999999", f"4 {n}")
    assert status == 200 and "not in the on-call directory" in answer_of(twiml)
    assert api.incident(n)["state"] == "triggered"


def test_a_forged_whatsapp_reply_is_refused(api: Api, fresh, tmp_path: Path) -> None:
    alice_on_whatsapp(tmp_path)
    n = api.trigger()["incident_number"]
    fresh.fake.wait_for(kind="whatsapp", to=ALICE_WA)
    status, _ = fresh.fake.reply_whatsapp(ALICE, f"4 {n}", bad_signature=True)
    assert status == 403 and api.incident(n)["state"] == "triggered"


# ---------------------------------------------------------------- failures and fallbacks

@pytest.mark.parametrize("code", ["63003", "63016", "63024"])
def test_whatsapp_that_can_never_arrive_is_not_sent_again_and_her_sms_is_tried_at_once(
        api: Api, fresh, tmp_path: Path, code: str) -> None:
    fake = fresh.fake
    alice_on_whatsapp(tmp_path)
    n = api.trigger()["incident_number"]
    page = fake.wait_for(kind="whatsapp", to=ALICE_WA)

    assert fake.whatsapp_status(page["sid"], "undelivered", error_code=code) == 204
    [said] = entries(api.incident(n), "undelivered")
    assert said["channel"] == "whatsapp" and said["detail"]["permanent"] is True
    assert "retry_at" not in said["detail"] and said["detail"]["fallback"] == "sms"
    incidents.sweep()  # the timer's run: the fallback is due at once
    fake.wait_for(kind="sms", to=ALICE)
    wait(4 * 60)
    assert len(fake.messages(kind="whatsapp", to=ALICE_WA)) == 1


def test_twilio_refusing_the_whatsapp_address_falls_back_to_sms(api: Api, fresh, tmp_path: Path) -> None:
    fake = fresh.fake
    alice_on_whatsapp(tmp_path)
    fake.fail_numbers.add(ALICE_WA)  # Twilio: 400, error 21211 "Invalid 'To' Phone Number"

    n = api.trigger()["incident_number"]
    incidents.sweep()

    paged, fallback = entries(api.incident(n), "paged")
    assert paged["channel"] == "whatsapp" and paged["detail"]["ok"] is False
    assert paged["detail"]["permanent"] is True and "retry_at" not in paged["detail"]
    assert paged["detail"]["fallback"] == "sms"
    assert (fallback["channel"], fallback["detail"]["ok"]) == ("sms", True)
    assert fake.messages(kind="whatsapp") == [] and len(fake.messages(kind="sms", to=ALICE)) == 1


@pytest.fixture()
def no_whatsapp_sender(monkeypatch: pytest.MonkeyPatch, fresh) -> Iterator[None]:
    """The operator has not set TWILIO_WHATSAPP_FROM (no Twilio WhatsApp sender)."""
    monkeypatch.delenv("TWILIO_WHATSAPP_FROM")
    config.reload()
    yield
    monkeypatch.undo()
    config.reload()


def test_page_without_a_whatsapp_sender_says_so_and_falls_back_to_sms(
        api: Api, fresh, tmp_path: Path, no_whatsapp_sender: None) -> None:
    fake = fresh.fake
    alice_on_whatsapp(tmp_path)

    n = api.trigger()["incident_number"]
    incidents.sweep()

    paged, fallback = entries(api.incident(n), "paged")
    assert paged["channel"] == "whatsapp" and paged["detail"]["ok"] is False
    assert "TWILIO_WHATSAPP_FROM" in paged["detail"]["error"]
    assert "retry_at" in paged["detail"]  # a setting can be fixed meanwhile: tried again
    assert paged["detail"]["fallback"] == "sms"
    assert (fallback["channel"], fallback["detail"]["ok"]) == ("sms", True)
    assert fake.messages(kind="whatsapp") == []
    fake.wait_for(kind="sms", to=ALICE)


# ---------------------------------------------------------------- notices

def test_a_notice_goes_on_whatsapp_with_its_markup(fresh, tmp_path: Path) -> None:
    alice_on_whatsapp(tmp_path)
    alice: Any = directory.person("alice")
    said = tell(alice, Message("*Relève* : vous prenez l'astreinte."), first=["whatsapp"])
    assert said["channel"] == "whatsapp" and said["ok"] is True
    [sent] = fresh.fake.messages(kind="whatsapp", to=ALICE_WA)
    assert sent["from"] == SENDER and sent["body"] == "*Relève* : vous prenez l'astreinte."
    assert sent["status_callback"] is None and said["ref"] == sent["sid"]

"""Pages in context (issue 14's walkthrough, a responder coming from PagerDuty).

- An incident triggered again (its snooze ran out, or reassigned) updates the Slack pages
  already sent in place: the triggered buttons again, and a footer saying why.
- Someone reassigned or added is told why on their page (SMS, Slack, email, the call's
  words), with the latest note, escaped for each format and bounded.
- Times on a person's page and in their answers are in their time zone, the zone said;
  a team channel's page stays in UTC.

Driven over HTTP (the API with Carol's token, Twilio's signed SMS, Slack's signed clicks);
checked on the fake Twilio/Slack/SES as the people would see it.
"""
from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from conftest import ROOT, Api

from chalicelib import clock, escape, incidents
from chalicelib.notify import voice
from chalicelib.rotas import directory
from chalicelib.rotas import load as rotas

ALICE, BOB, DAN = "+33600000001", "+447700900002", "+33600000004"
DAN_MAIL = "dan@example.org"
PARIS = ZoneInfo("Europe/Paris")
TEAM = (ROOT / "tests" / "rotas" / "team.yaml").read_text()


# ---------------------------------------------------------------- helpers

def act(api: Api, number: int, action: str, body: dict[str, Any] | None = None) -> requests.Response:
    r = requests.post(f"{api.base}/v1/incidents/{number}/{action}", json=body or {}, timeout=15,
                      headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 200, r.text
    return r


def open_incident(api: Api, fake: Any, severity: str = "error") -> int:
    number = api.trigger(dedup=f"ctx-{time.monotonic()}", severity=severity)["incident_number"]
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])
    return number


def buttons(message: dict) -> list[str]:
    return [el["action_id"] for b in message["blocks"] if b["type"] == "actions" for el in b["elements"]]


def block_texts(message: dict) -> str:
    out = []
    for b in message["blocks"]:
        if isinstance(b.get("text"), dict):
            out.append(b["text"]["text"])
        out += [e["text"] for e in b.get("elements", []) if isinstance(e.get("text"), str)]
    return "\n".join(out)


def first_page(fake: Any, channel: str, number: int) -> dict:
    return fake.wait_for(kind="slack", channel=channel, predicate=lambda m: f"#{number}" in m["text"])


def updated(fake: Any, page: dict, words: str) -> dict:
    """The same Slack message, once an update in place says `words`."""
    return fake.wait_for(kind="slack", channel=page["channel"],
                         predicate=lambda m: m["ts"] == page["ts"] and words in block_texts(m))


def sms_answer(twiml: str) -> str:
    [message] = ET.fromstring(twiml).findall("Message")
    return message.text or ""


def paris(ts: float, seconds: bool = False) -> str:
    return datetime.fromtimestamp(ts, PARIS).strftime("%H:%M:%S" if seconds else "%H:%M")


def team_with(tmp_path: Path, **people: str) -> None:
    """team.yaml with some people's lines replaced (their notification rules)."""
    text = TEAM
    for pid, line in people.items():
        text = re.sub(rf"  - id: {pid}\n(    .*\n)+", line, text, count=1)
    (tmp_path / "team.yaml").write_text(text)
    directory.sync(rotas.load_dir(tmp_path))


BOB_ON_SLACK = ('  - {id: bob, name: Bob Smith, language: en, phone: "+447700900002", slack: U0BOB, '
                "notify: [{channel: slack}]}\n")
DAN_BY_EMAIL = ('  - {id: dan, name: Dan Moreau, language: en, phone: "+33600000004", '
                f"email: {DAN_MAIL}, roles: [direction], notify: [{{channel: email}}]}}\n")


# ---------------------------------------------------------------- 1. pages updated when open again

def test_reassigning_updates_the_pages_already_sent_with_the_triggered_buttons(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake, severity="critical")  # Alice's DM and the team channel
    dm, team = first_page(fake, "U0ALICE", number), first_page(fake, "C0SUPPORT", number)
    assert fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200
    dm = updated(fake, dm, "Pris en charge par Alice Martin")
    assert buttons(dm) == ["resolve", "snooze"]

    act(api, number, "reassign", {"to": "bob"})

    for page in (dm, team):
        now = updated(fake, page, "Réassigné à Bob Smith par Carol Durand")
        assert buttons(now) == ["ack", "resolve", "escalate"], now["blocks"]
        assert "Pris en charge par" not in block_texts(now)
    # The stale "Reporter" is gone; the triggered buttons act: Alice takes it back.
    assert fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200
    assert api.incident(number)["acknowledged_by"] == "alice"
    updates = [e["detail"] for e in api.incident(number)["timeline"]
               if e["kind"] == "notified" and e["detail"].get("notice") == "update"]
    assert {("U0ALICE", True), ("C0SUPPORT", True)} <= {(u["to"], u["ok"]) for u in updates}


def test_a_snooze_that_runs_out_updates_the_pages_saying_so(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    dm = first_page(fake, "U0ALICE", number)
    assert fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200
    dm = updated(fake, dm, "Pris en charge par Alice Martin")
    assert fake.click(dm["ts"], "snooze", "U0ALICE")[0] == 200
    assert api.incident(number)["snoozed_until"] is not None

    clock.advance(3601)
    incidents.sweep()

    now = updated(fake, dm, "De nouveau ouvert : la pause prise par Alice Martin est finie")
    assert buttons(now) == ["ack", "resolve", "escalate"]
    assert "snooze" not in buttons(now)
    # Reporter is no longer offered on a triggered incident; Prendre en charge works.
    assert fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice"
    [woke] = [e for e in inc["timeline"] if e["kind"] == "unsnoozed"]
    assert woke["detail"]["holder"] == "alice"


def test_the_english_footer_of_a_reassignment(api: Api, fresh, tmp_path: Path) -> None:
    team_with(tmp_path, bob=BOB_ON_SLACK)
    fake = fresh.fake
    number = open_incident(api, fake)
    act(api, number, "add_responders", {"people": ["bob"]})
    page = first_page(fake, "U0BOB", number)

    act(api, number, "reassign", {"to": "dan"})

    now = updated(fake, page, "Reassigned to Dan Moreau by Carol Durand")
    assert buttons(now) == ["ack", "resolve", "escalate"]


# ---------------------------------------------------------------- 2. why they are paged

def test_a_reassigned_persons_sms_says_by_whom_with_the_latest_note(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    act(api, number, "note", {"text": "Premier essai"})
    act(api, number, "note", {"text": "RAID reconstruit,\nà surveiller"})

    act(api, number, "reassign", {"to": "dan"})  # Dan: English, SMS

    sms = fake.wait_for(kind="sms", to=DAN, predicate=lambda m: f"#{number} " in m["body"])
    lines = sms["body"].split("\n")
    assert lines[0] == "[Astreinte] Reassigned to you by Carol Durand."
    assert lines[1].startswith(f"#{number} HIGH Helpdesk: Disk full on db-1")  # one [Astreinte]
    assert lines[2] == "Latest note (Carol Durand): RAID reconstruit, à surveiller"
    assert lines[3].startswith(f"Reply 4 {number} to acknowledge")
    paged = [e["detail"] for e in api.incident(number)["timeline"]
             if e["kind"] == "paged" and e["detail"]["to"] == "dan"]
    assert [p["why"] for p in paged] == ["reassigned"]


def test_a_long_note_is_cut_and_the_sms_keeps_its_codes_and_links(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    act(api, number, "note", {"text": "é" * 2000})  # UCS-2: 1,600 units would be 1,600 chars

    act(api, number, "add_responders", {"people": ["dan"]})

    body = fake.wait_for(kind="sms", to=DAN, predicate=lambda m: f"#{number} " in m["body"])["body"]
    assert body.startswith("[Astreinte] Carol Durand asks for your help.\n")
    assert escape.sms_units(body) <= escape.SMS_MAX
    assert "é" * 150 in body and "é" * 300 not in body and "…" in body  # bounded
    assert f"Reply 4 {number} to acknowledge" in body and "/l/" in body and "details: " in body


def test_added_responders_see_who_asks_on_slack_and_email_escaped(api: Api, fresh, tmp_path: Path) -> None:
    team_with(tmp_path, bob=BOB_ON_SLACK, dan=DAN_BY_EMAIL)
    fake = fresh.fake
    number = open_incident(api, fake)
    act(api, number, "note", {"text": "<!channel> *vite* <b>x</b> & co"})

    act(api, number, "add_responders", {"people": ["bob", "dan"]})

    dm = first_page(fake, "U0BOB", number)
    said = block_texts(dm)
    assert "*Carol Durand asks for your help*" in said
    assert ">Latest note (Carol Durand): &lt;!channel&gt; *vite* &lt;b&gt;x&lt;/b&gt; &amp; co" in said
    assert "<!channel>" not in str(dm["blocks"])
    mail = fake.wait_for(kind="email", to=DAN_MAIL)
    assert mail["text"].startswith("Carol Durand asks for your help\n"
                                   "Latest note (Carol Durand): <!channel> *vite* <b>x</b> & co\n\n")
    assert "Latest note (Carol Durand): &lt;!channel&gt; *vite* &lt;b&gt;x&lt;/b&gt; &amp; co" in mail["html"]
    assert "<b>x</b>" not in mail["html"]


def test_an_ordinary_page_says_nothing_more(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    sms = fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])
    assert sms["body"].startswith(f"[Astreinte] #{number} ")
    assert "Réassigné" not in sms["body"] and "demande votre aide" not in sms["body"]


def test_the_calls_words_say_why(fresh) -> None:
    view = {"number": 12, "service": "Helpdesk", "sev": "eleve", "summary": "Disk full", "name": "Bob Smith",
            "why": {"kind": "reassigned", "by": "Carol Durand", "note": "RAID <à> surveiller",
                    "note_by": "Alice Martin"}}
    said = voice.page_said("en", view)
    assert said.startswith("Hello Bob Smith. This is Astreinte. Reassigned to you by Carol Durand. "
                           "Incident 12, severity high")
    assert "Latest note (Alice Martin): RAID <à> surveiller. Press 4 to acknowledge" in said
    added = {**view, "why": {"kind": "added", "by": "Carol Durand"}}
    assert "Carol Durand demande votre aide" in voice.page_said("fr", added)
    plain = voice.page_said("fr", {**view, "why": None})
    assert plain.startswith("Bonjour Bob Smith. Ici Astreinte. Incident 12")
    twiml = voice.gather(said, "en", "https://example.org/g", "Goodbye.")
    assert "RAID &lt;à&gt; surveiller" in twiml  # escaped in the TwiML


def test_a_reassigned_persons_call_knows_why(api: Api, fresh) -> None:
    """The call's TwiML is fetched when answered: engine.why_called finds why from the
    timeline (the `paged` entry's why, the reassignment, the latest note), and
    notify.in_context + voice.page_said say it (chalicelib.replies.voice_answered's words)."""
    from chalicelib import notify
    from chalicelib.incidents import engine

    fake = fresh.fake
    number = open_incident(api, fake)
    act(api, number, "note", {"text": "Disque remplacé"})
    act(api, number, "reassign", {"to": "bob"})  # Bob: a call, in English
    fake.wait_for(kind="call", to=BOB)

    why = engine.why_called(number, "bob")
    assert why == {"kind": "reassigned", "by": "carol", "note": "Disque remplacé", "note_by": "carol"}
    assert engine.why_called(number, "alice") is None  # her page was an ordinary one
    people = directory.bundle()["people"]
    view = notify.in_context({"number": number, "service": "Helpdesk", "sev": "eleve", "summary": "Disk full",
                              "name": "Bob Smith"}, {"why": why}, people["bob"], people)
    assert voice.page_said("en", view).startswith(
        "Hello Bob Smith. This is Astreinte. Reassigned to you by Carol Durand. Incident")
    assert "Latest note (Carol Durand): Disque remplacé. Press 4" in voice.page_said("en", view)

    # And what Bob hears when he picks up: the TwiML the service answers Twilio with.
    call = fake.wait_for(kind="call", to=BOB)
    heard = fake.answer_call(call["sid"])
    assert "Reassigned to you by Carol Durand" in heard and "Disque remplacé" in heard


# ---------------------------------------------------------------- 3. times in the person's zone

def test_times_on_a_persons_page_and_answers_are_in_their_zone(api: Api, fresh, tmp_path: Path) -> None:
    team_with(tmp_path, dan=DAN_BY_EMAIL)
    fake = fresh.fake
    number = open_incident(api, fake, severity="critical")
    created = datetime.fromisoformat(api.incident(number)["created_at"].replace("Z", "+00:00")).timestamp()

    dm, team = first_page(fake, "U0ALICE", number), first_page(fake, "C0SUPPORT", number)
    assert f"déclenché à {paris(created, True)} (heure de Paris)" in block_texts(dm)
    utc = datetime.fromtimestamp(created, UTC).strftime("%H:%M:%S")
    assert f"déclenché à {utc} UTC" in block_texts(team)  # a team channel: no person, UTC

    act(api, number, "add_responders", {"people": ["dan"]})
    mail = fake.wait_for(kind="email", to=DAN_MAIL)
    assert f"triggered at {paris(created, True)} (Paris time)" in mail["text"]

    status, twiml = fake.reply_sms(ALICE, f"4 {number}")
    assert status == 200
    status, twiml = fake.reply_sms(ALICE, f"Z {number} 30")
    until = paris(clock.now() + 1800)
    assert sms_answer(twiml).startswith(f"#{number} : en pause jusqu'à {until} (heure de Paris) ;")
    assert "UTC" not in sms_answer(twiml)
    # An update in place keeps the person's time (the unsnooze's).
    clock.advance(1801)
    incidents.sweep()
    now = updated(fake, dm, "De nouveau ouvert")
    assert f"déclenché à {paris(created, True)} (heure de Paris)" in block_texts(now)


def test_local_time_helper() -> None:
    from chalicelib.notify.templates import local_time

    winter = datetime(2026, 1, 15, 5, 27, tzinfo=UTC).timestamp()
    summer = datetime(2026, 7, 15, 4, 27, 9, tzinfo=UTC).timestamp()
    assert clock.hm(winter, "Europe/Paris") == "06:27"
    assert clock.hm(summer, "Europe/Paris", seconds=True) == "06:27:09"
    assert clock.hm(winter, "Nowhere/Atlantis") == "05:27"  # unknown: UTC
    assert local_time("fr", winter, "Europe/Paris") == "06:27 (heure de Paris)"
    assert local_time("en", winter, "America/New_York") == "00:27 (New York time)"
    assert local_time("en", winter, None) == "05:27 UTC"
    assert local_time("fr", winter, "UTC") == "05:27 UTC"

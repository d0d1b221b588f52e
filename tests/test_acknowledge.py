"""Taking an incident: every way a person acknowledges or resolves, and how races and retries behave.

Each test drives the service over HTTP (API, signed links) or through the fake Twilio/Slack server
(SMS replies, button clicks), then checks what the people involved would see: the answer they get,
the incident's state through the API, its timeline, and the messages others receive.
"""
from __future__ import annotations

import base64
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import pytest
import requests
from conftest import Api, kinds

from chalicelib import clock, tokens

ALICE, BOB, CAROL = "+33600000001", "+447700900002", "+33600000003"
STRANGER = "+33699999999"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/l/[A-Za-z0-9_.-]+")


# ---------------------------------------------------------------- helpers

def open_incident(api: Api, fake: Any, dedup: str = "db-1-disk", severity: str = "error") -> int:
    """Trigger an incident and wait until Alice (the agent on call) has her SMS page."""
    number = api.trigger(dedup=dedup, severity=severity)["incident_number"]
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])
    return number


def sms_answer(twiml: str) -> str:
    """The text of the single <Message> in a TwiML answer to an inbound SMS."""
    root = ET.fromstring(twiml)
    messages = root.findall("Message")
    assert len(messages) == 1, twiml
    return messages[0].text or ""


def entries(inc: dict, kind: str) -> list[dict]:
    return [e for e in inc["timeline"] if e["kind"] == kind]


def alice_dm(fake: Any) -> dict:
    """Alice's Slack page as it stands now (the fake keeps the latest blocks on the record)."""
    return fake.wait_for(kind="slack", channel="U0ALICE")


def buttons(message: dict) -> list[str]:
    return [el["action_id"] for b in message["blocks"] or [] if b.get("type") == "actions"
            for el in b["elements"]]


def sms_link(fake: Any, number: int) -> str:
    sms = fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])
    found = LINK.search(sms["body"])
    assert found, f"no one-click link in the SMS page: {sms['body']!r}"
    return found.group(0)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token is not None else {}


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same instant, each in its own thread; return their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)
    errors: list[BaseException] = []

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=10)
            results[i] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]
    return results


# ---------------------------------------------------------------- SMS replies

def test_ack_by_sms_reply_answers_in_french_and_records_sms(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)

    status, twiml = fake.reply_sms(ALICE, f"4 {number}")

    assert status == 200
    answer = sms_answer(twiml)
    assert f"#{number}" in answer and "vous l'avez pris en charge" in answer
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice"
    [ack] = entries(inc, "acknowledged")
    assert ack["actor"] == "alice" and ack["channel"] == "sms"


@pytest.mark.parametrize("word, state, by_field, expected", [
    ("ACK", "acknowledged", "acknowledged_by", "vous l'avez pris en charge"),
    ("acq", "acknowledged", "acknowledged_by", "vous l'avez pris en charge"),
    ("Clos", "resolved", "resolved_by", "clos. Merci"),
])
def test_sms_reply_words(api: Api, fresh, word: str, state: str, by_field: str, expected: str) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)

    status, twiml = fake.reply_sms(ALICE, f"{word} {number}")

    assert status == 200
    assert expected in sms_answer(twiml)
    inc = api.incident(number)
    assert inc["state"] == state and inc[by_field] == "alice"
    assert [e["channel"] for e in entries(inc, state)] == ["sms"]


# ---------------------------------------------------------------- Slack buttons

def test_ack_then_resolve_by_slack_buttons(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    dm = alice_dm(fake)
    assert buttons(dm) == ["ack", "resolve", "escalate"]

    status, _ = fake.click(dm["ts"], "ack", "U0ALICE")

    assert status == 200
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice"
    assert [e["channel"] for e in entries(inc, "acknowledged")] == ["slack"]
    dm = alice_dm(fake)
    assert dm["updates"], "Alice's Slack page was not updated after she took the incident"
    assert "ack" not in buttons(dm) and "resolve" in buttons(dm)
    assert "Alice Martin" in str(dm["blocks"])

    status, _ = fake.click(dm["ts"], "resolve", "U0ALICE")

    assert status == 200
    inc = api.incident(number)
    assert inc["state"] == "resolved" and inc["resolved_by"] == "alice"
    assert [e["channel"] for e in entries(inc, "resolved")] == ["slack"]
    assert buttons(alice_dm(fake)) == []


# ---------------------------------------------------------------- API

def test_ack_by_api_then_conflict_then_auth_and_404(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    url = f"{api.base}/v1/incidents/{number}/acknowledge"

    r = api.act(number, "acknowledge")
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "acknowledged" and r.json()["by"] == "carol"
    assert api.incident(number)["acknowledged_by"] == "carol"

    bob = tokens.create("bob", "tests")
    r = api.act(number, "acknowledge", token=bob)
    assert r.status_code == 409, r.text
    assert r.json()["result"] == "already_acknowledged" and r.json()["by"] == "carol"

    for headers in ({}, bearer("ast_not-a-real-token")):
        r = requests.post(url, headers=headers, timeout=10)
        assert r.status_code == 401, r.text
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json()["error"] == "unauthorised" and "Bearer" in r.json()["message"]

    r = api.act(number + 1000, "acknowledge")
    assert r.status_code == 404, r.text
    assert r.json()["result"] == "no_incident"
    inc = api.incident(number)
    assert len(entries(inc, "acknowledged")) == 1 and inc["acknowledged_by"] == "carol"


# ---------------------------------------------------------------- signed links

def test_ack_by_signed_link_in_the_sms(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    link = sms_link(fake, number)
    assert link.startswith(f"{api.base}/l/")

    r = requests.post(link, timeout=10)  # the page's button (opening the link changes nothing)

    assert r.status_code == 200, r.text
    assert r.json()["result"] == "acknowledged" and r.json()["by"] == "alice"
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice"
    assert [e["channel"] for e in entries(inc, "acknowledged")] == ["link"]


def test_tampered_link_is_refused(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    link = sms_link(fake, number)
    prefix, token = link.rsplit("/", 1)
    body, sig = token.rsplit(".", 1)
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    as_carol = base64.urlsafe_b64encode(payload.replace(".alice.", ".carol.").encode()).decode().rstrip("=")
    bad_sig = sig[:-1] + ("A" if sig[-1] != "A" else "B")

    for forged in (f"{prefix}/{as_carol}.{sig}", f"{prefix}/{body}.{bad_sig}", f"{prefix}/garbage"):
        r = requests.get(forged, timeout=10)
        assert r.status_code == 403, (forged, r.text)
        assert r.headers["Content-Type"].startswith("application/json")
        assert r.json()["error"] == "bad_link"

    inc = api.incident(number)
    assert inc["state"] == "triggered" and "acknowledged" not in kinds(inc)


def test_link_expires_after_a_day(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake, dedup="first")
    first = sms_link(fake, number)
    assert requests.get(first, timeout=10).status_code == 200

    # A fresh, never-used link from a new incident, clicked 25 hours later.
    later = open_incident(api, fake, dedup="second")
    link = sms_link(fake, later)
    clock.advance(25 * 3600)

    r = requests.get(link, timeout=10)

    assert r.status_code == 403, r.text
    assert r.json()["error"] == "bad_link" and "expired" in r.json()["message"]
    inc = api.incident(later)
    assert inc["acknowledged_by"] is None and "acknowledged" not in kinds(inc)


# ---------------------------------------------------------------- races and retries

def test_two_api_acks_racing_have_one_winner(api: Api, fresh) -> None:
    fake = fresh.fake
    people = {"bob": tokens.create("bob", "race"), "carol": tokens.create("carol", "race")}
    for round_ in range(4):
        number = open_incident(api, fake, dedup=f"race-{round_}")

        answers = together(*(lambda n=number, t=t: api.act(n, "acknowledge", token=t)
                             for t in people.values()))

        codes = sorted(r.status_code for r in answers)
        assert codes == [200, 409], [r.text for r in answers]
        winner = next(r.json() for r in answers if r.status_code == 200)["by"]
        loser = next(r.json() for r in answers if r.status_code == 409)
        assert loser["result"] == "already_acknowledged" and loser["by"] == winner
        inc = api.incident(number)
        assert inc["acknowledged_by"] == winner
        assert len(entries(inc, "acknowledged")) == 1, kinds(inc)


def test_sms_and_api_acks_racing_name_the_same_winner(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)

    (status, twiml), r = together(lambda: fake.reply_sms(ALICE, f"4 {number}"),
                                  lambda: api.act(number, "acknowledge"))

    assert status == 200
    sms = sms_answer(twiml)
    inc = api.incident(number)
    assert len(entries(inc, "acknowledged")) == 1, kinds(inc)
    winner = inc["acknowledged_by"]
    assert winner in ("alice", "carol")
    if winner == "alice":
        assert "vous l'avez pris en charge" in sms
        assert r.status_code == 409 and r.json()["by"] == "alice", r.text
    else:
        assert r.status_code == 200 and r.json()["by"] == "carol", r.text
        assert "déjà pris en charge par Carol Durand" in sms


def test_same_twilio_sms_delivered_twice_acts_once(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    sid = "SMsame" + "0" * 28

    first = fake.reply_sms(ALICE, f"4 {number}", message_sid=sid)
    second = fake.reply_sms(ALICE, f"4 {number}", message_sid=sid)

    assert first[0] == second[0] == 200
    assert sms_answer(first[1]) == sms_answer(second[1])
    assert "vous l'avez pris en charge" in sms_answer(second[1])
    inc = api.incident(number)
    assert len(entries(inc, "acknowledged")) == 1, kinds(inc)


def test_same_slack_click_delivered_twice_acts_once(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    dm = alice_dm(fake)

    assert fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200
    raw = fake.messages(kind="slack_interaction")[-1]["raw_body"]
    assert fake.click(dm["ts"], "ack", "U0ALICE", raw_body=raw)[0] == 200

    inc = api.incident(number)
    assert inc["state"] == "acknowledged"
    assert len(entries(inc, "acknowledged")) == 1, kinds(inc)
    assert len(alice_dm(fake)["updates"]) == 1
    assert fake.messages(kind="slack_ephemeral") == []  # no "already taken" noise for a retry


# ---------------------------------------------------------------- who may answer

def test_reply_from_unknown_number_changes_nothing(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    before = kinds(api.incident(number))

    status, twiml = fake.reply_sms(STRANGER, f"4 {number}")

    assert status == 200
    answer = sms_answer(twiml)
    assert "rien n'a été changé" in answer and "nothing was changed" in answer
    inc = api.incident(number)
    assert inc["state"] == "triggered" and kinds(inc) == before


def test_reply_from_someone_not_paged_changes_nothing(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)

    status, twiml = fake.reply_sms(CAROL, f"4 {number}")

    assert status == 200
    assert f"Vous n'avez pas été appelé pour #{number}" in sms_answer(twiml)
    inc = api.incident(number)
    assert inc["state"] == "triggered" and inc["acknowledged_by"] is None
    assert "acknowledged" not in kinds(inc)


def test_resolved_incident_frees_its_dedup_key(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake, dedup="db-1-disk")

    _, twiml = fake.reply_sms(ALICE, f"6 {number}")
    assert "clos" in sms_answer(twiml)
    assert api.incident(number)["state"] == "resolved"

    again = api.trigger(dedup="db-1-disk")

    assert again["incident_number"] != number
    new = api.incident(again["incident_number"])
    assert new["state"] == "triggered" and new["event_count"] == 1
    assert api.incident(number)["state"] == "resolved"
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{again['incident_number']} " in m["body"])


def test_people_paged_are_told_who_took_it(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)

    assert api.act(number, "acknowledge").status_code == 200  # the api fixture's token is Carol's

    told = fake.wait_for(kind="sms", to=ALICE,
                         predicate=lambda m: "pris en charge par Carol Durand" in m["body"])
    assert f"#{number}" in told["body"]
    assert "Carol Durand" in str(alice_dm(fake)["blocks"])

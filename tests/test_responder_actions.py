"""The responders' other actions: note, reassign, snooze, add responders, merge.

Each is driven over HTTP (the API with a person's token, Twilio's signed inbound SMS, Slack's
signed button clicks) and checked as the people involved would see it: the answer and its
language, the incident and its timeline through the API, and the pages and notices that
reach the fake Twilio/Slack.  Carol's token is French, Bob's English.
"""
from __future__ import annotations

import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import HELPDESK_KEY, ROOT, Api, kinds

from chalicelib import clock, errors, incidents, tokens
from chalicelib.incidents import actions
from chalicelib.incidents.lifecycle import merged_note
from chalicelib.replies import parse_command
from chalicelib.reports import astreinte, review
from chalicelib.rotas import directory
from chalicelib.rotas import load as rotas
from chalicelib.store import DedupKey, TimelineEntry

ALICE, BOB, CAROL, DAN = "+33600000001", "+447700900002", "+33600000003", "+33600000004"
EVE = "+33600000005"
POLICY_NAME = "critical"  # tests/rotas names no policy: its id is its name


# ---------------------------------------------------------------- helpers

def open_incident(api: Api, fake: Any, dedup: str = "db-1-disk", severity: str = "error") -> int:
    """Trigger an incident and wait until Alice (the agent on call) has her SMS page."""
    number = api.trigger(dedup=dedup, severity=severity)["incident_number"]
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])
    return number


def act(api: Api, number: int, action: str, body: dict[str, Any] | None = None,
        token: str | None = None, key: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or api.token}"}
    if key:
        headers["Idempotency-Key"] = key
    return requests.post(f"{api.base}/v1/incidents/{number}/{action}", json=body or {}, timeout=15,
                         headers=headers)


def entries(inc: dict, kind: str) -> list[dict]:
    return [e for e in inc["timeline"] if e["kind"] == kind]


def sms_answer(twiml: str) -> str:
    messages = ET.fromstring(twiml).findall("Message")
    assert len(messages) == 1, twiml
    return messages[0].text or ""


def since(fake: Any, mark: int) -> list[dict]:
    """What reached the fake (pages, calls, notices) after the first `mark` records."""
    return [m for m in fake.messages()[mark:] if m["kind"] in ("sms", "call", "slack", "email")]


def wait(seconds: float) -> None:
    """Let time pass on the service's clock, then run what is due (the sweeper)."""
    clock.advance(seconds)
    incidents.sweep()


def bob_token() -> str:
    return tokens.create("bob", "tests")


def row(api: Api, number: int) -> dict:
    """The incident's line in the list (its report figures: tta_seconds…)."""
    r = requests.get(f"{api.base}/v1/incidents", timeout=10, headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 200, r.text
    [found] = [i for i in r.json()["incidents"] if i["number"] == number]
    return found


# ---------------------------------------------------------------- note

def test_note_is_on_the_timeline_and_told_to_the_others_paged(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)

    r = act(api, number, "note", {"text": "Disque remplacé,\u0007 on surveille"})

    assert r.status_code == 200, r.text
    assert r.json()["result"] == "noted" and r.json()["by"] == "carol"
    assert r.json()["message"] == f"#{number} : note ajoutée."
    inc = api.incident(number)
    [note] = entries(inc, "note")
    assert note["actor"] == "carol" and note["channel"] == "api"
    assert note["detail"] == {"text": "Disque remplacé, on surveille"}  # cleaned at the door
    # Alice, paged, reads it on Slack (a notice, not a page), in French.
    told = fake.wait_for(kind="slack", channel="U0ALICE", predicate=lambda m: "note de" in m["text"])
    assert told["text"] == f"[Astreinte] #{number} note de Carol Durand : Disque remplacé, on surveille"
    assert [e["detail"]["to"] for e in entries(api.incident(number), "notified")
            if e["detail"].get("notice") == "note_notice"] == ["alice"]

    # Bob, English, gets his answer in English; Alice is told again; Bob was not paged: not told.
    r = act(api, number, "note", {"text": "Looking at the RAID controller"}, token=bob_token())
    assert r.status_code == 200, r.text
    assert r.json()["message"] == f"#{number}: note added."
    fake.wait_for(kind="slack", channel="U0ALICE", predicate=lambda m: "note de Bob Smith" in m["text"])
    assert not [m for m in fake.messages() if m.get("to") == BOB or m.get("channel") == "U0BOB"]


def test_a_note_that_is_empty_or_too_long_is_refused_naming_the_field(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)
    for body in ({}, {"text": "   "}, {"text": "x" * 2001}, {"text": 12}):
        r = act(api, number, "note", body)
        assert r.status_code == 400, (body, r.text)
        assert "'text'" in r.json()["message"] and "caractères" in r.json()["message"]
    assert entries(api.incident(number), "note") == []
    assert act(api, number, "note", {"text": "x" * 2000}).status_code == 200


def test_a_post_mortem_note_on_a_resolved_incident_tells_nobody(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    assert act(api, number, "resolve").status_code == 200
    time.sleep(0.3)
    mark = len(fake.messages())

    r = act(api, number, "note", {"text": "Post-mortem : quota du disque relevé"})

    assert r.status_code == 200, r.text
    assert [e["detail"]["text"] for e in entries(api.incident(number), "note")] == [
        "Post-mortem : quota du disque relevé"]
    time.sleep(0.3)
    assert since(fake, mark) == []


# ---------------------------------------------------------------- reassign

def test_reassign_to_a_person_pages_them_and_tells_who_held_it(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    status, twiml = fake.reply_sms(ALICE, f"4 {number}")
    assert status == 200 and "pris en charge" in sms_answer(twiml)
    mark = len(fake.messages())

    r = act(api, number, "reassign", {"to": "bob"})

    assert r.status_code == 200, r.text
    assert r.json()["result"] == "reassigned"
    assert r.json()["message"] == f"#{number} : réassigné à Bob Smith, appelé maintenant."
    fake.wait_for(kind="call", to=BOB)  # Bob's rules: a call
    told = fake.wait_for(kind="slack", channel="U0ALICE", predicate=lambda m: "réassigné" in m["text"])
    assert told["text"] == f"[Astreinte] #{number} réassigné à Bob Smith par Carol Durand."
    inc = api.incident(number)
    assert inc["state"] == "triggered" and inc["acknowledged_by"] is None
    assert "bob" in inc["paged"]
    [moved] = entries(inc, "reassigned")
    assert moved["actor"] == "carol" and moved["detail"] == {"to": "bob", "from": ["alice"]}
    assert ("bob", "voice", True) in {(e["detail"]["to"], e["channel"], e["detail"]["ok"])
                                      for e in entries(inc, "paged")}
    assert {(m["kind"], m.get("to") or m.get("channel")) for m in since(fake, mark)} == {
        ("call", BOB), ("slack", "U0ALICE")}

    # Bob, paged now, takes it; in English.
    r = act(api, number, "acknowledge", token=bob_token())
    assert r.status_code == 200 and r.json()["message"] == f"#{number}: you have it. Escalation stopped."


def test_reassign_to_someone_unknown_is_refused_in_both_languages(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)
    for body, field in (({"to": "zoe"}, "'to'"), ({"policy": "nope"}, "'policy'"), ({}, "'to'"),
                        ({"to": "bob", "policy": "critical"}, "'policy'")):
        r = act(api, number, "reassign", body)
        assert r.status_code == 400, (body, r.text)
        said = r.json()
        assert field in said["message"] and said["message"] == said["messages"]["fr"], said  # Carol's
        assert field in said["messages"]["en"], said
    r = act(api, number, "reassign", {"to": "zoe"}, token=bob_token())
    assert r.json()["message"] == ("'to': 'zoe' is not a person of the directory: give a person's id, "
                                   "one of alice, bob, carol, dan")
    assert act(api, number, "reassign", {"to": "zoe"}).json()["error"] == "bad_target"
    assert entries(api.incident(number), "reassigned") == []


def test_reassign_to_a_policy_runs_its_step_1_now(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    mark = len(fake.messages())

    r = act(api, number, "reassign", {"policy": "critical"}, token=bob_token())

    assert r.status_code == 200, r.text
    assert r.json()["message"] == f"#{number}: reassigned to {POLICY_NAME}, paged now."
    fake.wait_for(kind="slack", channel="C0SUPPORT")  # the critical policy's team channel, at once
    inc = api.incident(number)
    assert inc["escalation"]["policy"] == "critical" and inc["escalation"]["step"] == 1
    [moved] = entries(inc, "reassigned")
    assert moved["detail"] == {"policy": "critical", "from": ["alice"]}
    # Alice is paged again by step 1 of the new policy, and told who moved it.
    got = since(fake, mark)
    assert ("sms", ALICE) in {(m["kind"], m.get("to")) for m in got}
    fake.wait_for(kind="slack", channel="U0ALICE", predicate=lambda m: "reassigned" in m["text"]
                  or "réassigné à" in m["text"])

    assert act(api, number, "resolve").status_code == 200
    r = act(api, number, "reassign", {"to": "bob"})
    assert r.status_code == 409 and r.json()["result"] == "already_resolved"


# ---------------------------------------------------------------- snooze

def test_snooze_brings_the_incident_back_and_pages_again(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)

    r = act(api, number, "snooze", {"minutes": 30}, token=bob_token())
    assert r.status_code == 409 and r.json()["result"] == "not_acknowledged"
    assert r.json()["message"] == (f"#{number} is not acknowledged: only an acknowledged incident "
                                   "can be snoozed.")
    for minutes in (0, 1441, "30", True):
        assert act(api, number, "snooze", {"minutes": minutes}).status_code == 400

    assert act(api, number, "acknowledge").status_code == 200
    r = act(api, number, "snooze", {"minutes": 30})
    assert r.status_code == 200, r.text
    until = clock.iso(clock.now() + 1800)
    assert r.json()["message"].startswith(f"#{number} : en pause jusqu'à ")
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["snoozed_until"][:16] == until[:16]
    [snoozed] = entries(inc, "snoozed")
    assert snoozed["detail"]["minutes"] == 30 and snoozed["actor"] == "carol"

    mark = len(fake.messages())
    wait(29 * 60)
    assert since(fake, mark) == [] and api.incident(number)["state"] == "acknowledged"
    wait(61)
    page = fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"]
                         and m in fake.messages()[mark:])
    assert "Répondez 4" in page["body"]
    inc = api.incident(number)
    assert inc["state"] == "triggered" and inc["snoozed_until"] is None and inc["acknowledged_by"] is None
    assert kinds(inc).count("unsnoozed") == 1
    assert [e["detail"]["step"] for e in entries(inc, "escalated")] == [1, 1]
    # The escalation runs again: 5 minutes later, Bob (step 2) is called.
    wait(5 * 60 + 1)
    fake.wait_for(kind="call", to=BOB)


def test_acknowledging_or_resolving_clears_the_snooze(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    assert act(api, number, "acknowledge").status_code == 200
    assert act(api, number, "snooze", {}).status_code == 200  # an hour by default
    assert api.incident(number)["snoozed_until"] is not None

    assert act(api, number, "resolve").status_code == 200
    assert api.incident(number)["snoozed_until"] is None
    mark = len(fake.messages())
    wait(3601)
    assert since(fake, mark) == [] and "unsnoozed" not in kinds(api.incident(number))


# ---------------------------------------------------------------- SMS keywords and Slack

def test_sms_note_and_snooze_keywords_from_alice(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    fake.reply_sms(ALICE, f"4 {number}")

    status, twiml = fake.reply_sms(ALICE, f"NOTE {number} disque remplacé")
    assert status == 200 and sms_answer(twiml) == f"#{number} : note ajoutée."
    status, twiml = fake.reply_sms(ALICE, f"n {number} RAID reconstruit\nà surveiller")
    assert status == 200 and sms_answer(twiml) == f"#{number} : note ajoutée."
    inc = api.incident(number)
    assert [(e["actor"], e["channel"], e["detail"]["text"]) for e in entries(inc, "note")] == [
        ("alice", "sms", "disque remplacé"), ("alice", "sms", "RAID reconstruit\nà surveiller")]

    status, twiml = fake.reply_sms(ALICE, f"Z {number} 30", message_sid="SMsnooze1")
    assert status == 200 and sms_answer(twiml).startswith(f"#{number} : en pause jusqu'à ")
    again = fake.reply_sms(ALICE, f"Z {number} 30", message_sid="SMsnooze1")  # Twilio retries
    assert sms_answer(again[1]) == sms_answer(twiml)
    inc = api.incident(number)
    assert [(e["actor"], e["channel"], e["detail"]["minutes"]) for e in entries(inc, "snoozed")] == [
        ("alice", "sms", 30)]
    assert inc["snoozed_until"][:16] == clock.iso(clock.now() + 1800)[:16]

    status, twiml = fake.reply_sms(ALICE, f"SNOOZE {number} 5000")  # more than a day
    assert "'minutes'" in sms_answer(twiml) and "NOTE" in sms_answer(twiml)
    status, twiml = fake.reply_sms(ALICE, "help")
    assert "NOTE <n°> <texte>" in sms_answer(twiml) and "Z <n°> [minutes]" in sms_answer(twiml)


def test_slack_snooze_click_is_an_hour(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    assert fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200
    dm = fake.wait_for(kind="slack", channel="U0ALICE", predicate=lambda m: m["ts"] == dm["ts"])

    assert "snooze" in [el["action_id"] for b in dm["blocks"] if b["type"] == "actions"
                        for el in b["elements"]]  # shown once acknowledged
    status, _ = fake.click(dm["ts"], "snooze", "U0ALICE")

    assert status == 200
    inc = api.incident(number)
    [snoozed] = entries(inc, "snoozed")
    assert (snoozed["actor"], snoozed["channel"], snoozed["detail"]["minutes"]) == ("alice", "slack", 60)
    said = fake.wait_for(kind="slack_ephemeral", channel="U0ALICE")
    assert said["text"].startswith(f"#{number} : en pause jusqu'à ") and said["user"] == "U0ALICE"
    mark = len(fake.messages())
    wait(3601)
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: m in fake.messages()[mark:])


# ---------------------------------------------------------------- add responders

def test_add_responders_pages_them_now_without_moving_the_escalation(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    before = api.incident(number)["escalation"]
    mark = len(fake.messages())

    r = act(api, number, "add_responders", {"people": ["bob", "dan"]}, token=bob_token())

    assert r.status_code == 200, r.text
    assert r.json()["message"] == f"#{number}: paging Bob Smith, Dan Moreau as well."
    fake.wait_for(kind="call", to=BOB)
    fake.wait_for(kind="sms", to=DAN, predicate=lambda m: f"#{number} " in m["body"])
    inc = api.incident(number)
    assert inc["escalation"] == before and inc["state"] == "triggered"
    assert {"alice", "bob", "dan"} <= set(inc["paged"])
    [added] = entries(inc, "responders_added")
    assert added["detail"] == {"people": ["bob", "dan"]} and added["actor"] == "bob"
    assert {(m["kind"], m.get("to")) for m in since(fake, mark)} == {("call", BOB), ("sms", DAN)}

    # Dan, paged now, takes it by SMS like anyone paged.
    status, twiml = fake.reply_sms(DAN, f"4 {number}")
    assert status == 200 and "you have it" in sms_answer(twiml)

    for people in ([], ["zoe"], "bob", ["bob"] * 11):
        assert act(api, number, "add_responders", {"people": people}).status_code == 400, people


# ---------------------------------------------------------------- merge

def test_merge_joins_the_duplicate_to_the_kept_incident(api: Api, fresh) -> None:
    fake = fresh.fake
    kept = open_incident(api, fake, dedup="db-1-disk")
    dup = open_incident(api, fake, dedup="db-1-disk-bis")
    api.trigger(dedup="db-1-disk-bis")  # a repeat on the duplicate
    assert api.incident(dup)["event_count"] == 2

    r = act(api, dup, "merge", {"into": kept})

    assert r.status_code == 200, r.text
    assert r.json()["message"] == f"#{dup} : fusionné dans #{kept} (clos ici, la suite sur #{kept})."
    gone = api.incident(dup)
    assert gone["state"] == "resolved" and gone["merged_into"] == kept and gone["resolved_by"] == "carol"
    assert entries(gone, "merged")[0]["detail"] == {"into": kept}
    inc = api.incident(kept)
    assert entries(inc, "merged")[0]["detail"] == {"from": dup}
    assert inc["event_count"] == 3  # its own, and the duplicate's two
    copied = [e for e in inc["timeline"] if (e.get("detail") or {}).get("merged_from") == dup]
    assert {"repeated", "escalated", "paged"} <= {e["kind"] for e in copied}
    assert kinds(inc).count("triggered") == 1

    # The duplicate's source keeps sending: its events count on the kept incident.
    again = api.trigger(dedup="db-1-disk-bis")
    assert again["incident_number"] == kept
    assert api.incident(kept)["event_count"] == 4

    # Asked again: the same answer, nothing twice.
    r = act(api, dup, "merge", {"into": kept})
    assert r.status_code == 200 and kinds(api.incident(kept)).count("merged") == 1

    # Once the kept one is resolved, the duplicate's dedup_key opens a new incident.
    assert act(api, kept, "resolve").status_code == 200
    fresh_one = api.trigger(dedup="db-1-disk-bis")["incident_number"]
    assert fresh_one not in (kept, dup)


def test_merge_refusals(api: Api, fresh) -> None:
    fake = fresh.fake
    first = open_incident(api, fake, dedup="a")
    second = open_incident(api, fake, dedup="b")

    r = act(api, second, "merge", {"into": second})
    assert r.status_code == 400 and r.json()["error"] == "bad_target"
    r = act(api, second, "merge", {"into": 999})
    assert r.status_code == 404 and r.json()["result"] == "no_incident"
    assert act(api, second, "merge", {"into": "x"}).status_code == 400
    assert act(api, first, "resolve").status_code == 200
    r = act(api, second, "merge", {"into": first}, token=bob_token())
    assert r.status_code == 409 and r.json()["result"] == "already_resolved"
    assert r.json()["message"] == f"#{first} is already resolved (by Carol Durand)."
    r = act(api, first, "merge", {"into": second})
    assert r.status_code == 409 and r.json()["result"] == "already_resolved"
    assert api.incident(second)["state"] == "triggered"


# ---------------------------------------------------------------- the route

def test_unknown_action_lists_every_action(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)
    r = act(api, number, "comment")  # ("notes", PagerDuty's spelling, is note: test_pagerduty_habits)
    assert r.status_code == 404 and r.json()["error"] == "unknown_action"
    assert r.json()["actions"] == ["acknowledge", "resolve", "escalate", "note", "reassign", "snooze",
                                   "add_responders", "merge", "customer_reply"]
    r = requests.post(f"{api.base}/v1/incidents/{number}/note", data="not json", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"})
    assert r.status_code == 400


def test_an_idempotency_key_makes_a_retried_request_act_once(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)
    headers = {"Authorization": f"Bearer {api.token}", "Idempotency-Key": "k-1"}
    url = f"{api.base}/v1/incidents/{number}/note"
    answers = [requests.post(url, json={"text": "une fois"}, headers=headers, timeout=10) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert len(entries(api.incident(number), "note")) == 1


# ---------------------------------------------------------------- review: merge


def test_the_duplicates_recovery_does_not_resolve_the_kept_incident(api: Api, fresh) -> None:
    """PagerDuty: an incident with several alerts is resolved when all of them are.  Here the
    duplicate's dedup pointer is redirected to the kept incident, so the duplicate's source
    sending `resolve` (its own host recovered) resolves the kept incident, whose own problem
    is still firing: nobody is paged for it any more, and its ticket/pages say resolved."""
    fake = fresh.fake
    kept = open_incident(api, fake, dedup="db-1-disk")
    dup = open_incident(api, fake, dedup="db-2-disk")
    assert act(api, dup, "merge", {"into": kept}).status_code == 200

    r = api.enqueue({"routing_key": HELPDESK_KEY, "event_action": "resolve", "dedup_key": "db-2-disk"})
    assert r.status_code == 202, r.text

    inc = api.incident(kept)
    assert inc["state"] == "triggered", (inc["state"], inc["resolved_by"])


def test_resolving_an_incident_with_many_merged_duplicates_still_works(api: Api, fresh) -> None:
    """An alert storm: 120 per-host alerts merged into one incident.  Resolving it deletes
    every merged pointer inside the resolution's one transaction (lifecycle.act: done.deletes
    += merged_pointers), past DynamoDB's 100 actions per TransactWriteItems: the resolution
    fails (503) every time, so the incident can never be resolved."""
    fake = fresh.fake
    kept = open_incident(api, fake)
    for i in range(120):  # what 120 merges leave behind (actions.join): a pointer and its note
        pointer = f"DEDUP#helpdesk#host-{i}"
        DedupKey(pointer, number=kept).save()
        merged_note(kept, pointer, 1000 + i).save()

    r = act(api, kept, "resolve")

    assert r.status_code == 200, r.text
    assert api.incident(kept)["state"] == "resolved"


# ---------------------------------------------------------------- review: add responders


def test_add_responders_on_an_acknowledged_incident_falls_back_when_the_page_fails(api: Api, fresh) -> None:
    """"I have it, get me the DBA": Alice acknowledged, Bob is added.  Bob's only rule is a
    call; Twilio refuses calls.  On a triggered incident the engine would try his next
    channel (SMS) at once and retry the call; on an acknowledged one engine._record does
    neither (`if fresh.state == "triggered"`), so Bob is never reached and nobody is told."""
    fake = fresh.fake
    number = open_incident(api, fake)
    assert act(api, number, "acknowledge").status_code == 200
    fake.fail_next(n=100_000, status=503, service="twilio", kind="call")

    r = act(api, number, "add_responders", {"people": ["bob"]})
    assert r.status_code == 200, r.text

    [voice] = [e for e in entries(api.incident(number), "paged") if e["detail"]["to"] == "bob"]
    assert voice["detail"]["ok"] is False
    incidents.sweep()  # the runner, as the timer does at once in AWS: the fallback is due now
    # His next channel, as the engine does for any failed page (SMS, else Slack).
    got = [m for m in fake.messages() if m.get("to") == BOB or m.get("channel") == "U0BOB"]
    assert got, "Bob, added as a responder, was reached on no channel: " + repr(voice["detail"])


# ---------------------------------------------------------------- review: reports


def test_reassign_keeps_the_first_acknowledgement_for_tta_and_payroll(api: Api, fresh) -> None:
    """Alice acknowledges within a minute and works an hour; then hands it to Bob, who takes
    it.  reassign clears acknowledged_at/by, so the incident's only acknowledgement is Bob's:
    TTA becomes an hour (an SLA breach that never happened) and Alice's hour of night work
    disappears from the payroll interventions (reports.astreinte.work_on_incidents)."""
    fake = fresh.fake
    number = open_incident(api, fake)
    clock.advance(60)
    status, twiml = fake.reply_sms(ALICE, f"4 {number}")
    assert "pris en charge" in sms_answer(twiml)
    clock.advance(3600)
    assert act(api, number, "reassign", {"to": "bob"}).status_code == 200
    clock.advance(60)
    assert act(api, number, "acknowledge", token=bob_token()).status_code == 200

    assert row(api, number)["tta_seconds"] <= 120, row(api, number)
    now = clock.now()
    facts = review.facts_between(now - 86400, now + 1)
    work = astreinte.work_on_incidents(facts, now, lambda _: 12 * 3600)
    assert "alice" in {w.person for w in work if w.incident == number}, work


def test_a_snooze_does_not_count_as_time_to_acknowledge(api: Api, fresh) -> None:
    """Acknowledged in a minute, snoozed 30 minutes, taken again when it came back: the
    incident's TTA is 31 minutes (unsnooze clears acknowledged_at), and the first
    acknowledger's intervention before the snooze is lost from payroll."""
    fake = fresh.fake
    number = open_incident(api, fake)
    clock.advance(60)
    fake.reply_sms(ALICE, f"4 {number}")
    assert act(api, number, "snooze", {"minutes": 30}).status_code == 200
    wait(30 * 60 + 1)
    assert api.incident(number)["state"] == "triggered"
    fake.reply_sms(ALICE, f"4 {number}")

    assert row(api, number)["tta_seconds"] <= 120, row(api, number)


# ---------------------------------------------------------------- review: reassign


def test_reassign_to_someone_with_no_rule_for_the_severity_pages_them_or_refuses(api: Api, fresh,
                                                                                  tmp_path: Path) -> None:
    """Eve's rules are for critical incidents only.  Reassigning an `error` incident to her
    answers 200 "reassigned to Eve, paged now" but plans no page at all (plan_pages filters
    her rules by severity): the incident, unacknowledged again, waits a whole step for
    nobody.  Page her on URGENT channels anyway, or refuse (bad_target)."""
    fake = fresh.fake
    shutil.copy(ROOT / "tests" / "rotas" / "team.yaml", tmp_path / "team.yaml")
    (tmp_path / "eve.yaml").write_text(
        "people:\n"
        "  - {id: eve, name: Eve Roux, language: en, phone: \"" + EVE + "\","
        " notify: [{channel: sms, severities: [critique]}]}\n")
    directory.sync(rotas.load_dir(tmp_path))
    directory.invalidate()
    number = open_incident(api, fake)

    r = act(api, number, "reassign", {"to": "eve"})

    time.sleep(0.5)
    paged_eve = [e for e in entries(api.incident(number), "paged") if e["detail"]["to"] == "eve"]
    assert r.status_code != 200 or paged_eve or fake.messages(kind="sms", to=EVE), (
        r.json(), "answered 'paged now' but Eve got nothing")


# ---------------------------------------------------------------- review: idempotency


def test_an_idempotency_key_reused_on_another_incident_does_not_silently_drop_the_action(
        api: Api, fresh) -> None:
    """The key is stored as api:<person>:<key>, for every incident and action: a script that
    reuses its Idempotency-Key (one per run, or a fixed one) gets 200 "noted" on incident B
    while nothing was written there (the answer of A's note is replayed).  Scope the key to
    the incident and action (and refuse a different body with 422), as Stripe does."""
    fake = fresh.fake
    first = open_incident(api, fake, dedup="a")
    second = open_incident(api, fake, dedup="b")
    assert act(api, first, "note", {"text": "on A"}, key="run-42").status_code == 200

    r = act(api, second, "note", {"text": "on B"}, key="run-42")

    notes = entries(api.incident(second), "note")
    assert r.status_code != 200 or notes, (r.json(), "200 'noted' on B, but B has no note")


def test_an_idempotency_key_reused_for_another_action_does_not_claim_it_was_done(api: Api, fresh) -> None:
    """Same key for acknowledge then resolve on one incident: the resolve answers 200 (the
    acknowledgement's replayed answer) and the incident stays acknowledged."""
    number = open_incident(api, fresh.fake)
    assert act(api, number, "acknowledge", key="k").status_code == 200

    r = act(api, number, "resolve", key="k")

    assert not (r.status_code == 200 and api.incident(number)["state"] != "resolved"), r.json()


# ---------------------------------------------------------------- review: SMS input (nice to have)


def test_an_sms_snooze_of_an_absurd_duration_is_refused_not_an_hour(api: Api, fresh) -> None:
    """'Z 12 99999999': whole_number(…, 0, 10**6) gives None, read as 'no duration' and
    snoozed for the default hour; 'Z 12 5000' is refused.  Both should be refused."""
    fake = fresh.fake
    number = open_incident(api, fake)
    fake.reply_sms(ALICE, f"4 {number}")

    _, twiml = fake.reply_sms(ALICE, f"Z {number} 99999999")

    assert "'minutes'" in sms_answer(twiml), sms_answer(twiml)
    assert api.incident(number)["snoozed_until"] is None


def test_the_merged_duplicates_slack_page_is_updated(api: Api, fresh) -> None:
    """Merge resolves the duplicate without followups.after_change: its Slack page keeps its
    Acknowledge/Resolve buttons, the others paged are not told, and a ticket that opened it
    is never updated (its requester never hears).  Nice to have, but PagerDuty does update."""
    fake = fresh.fake
    kept = open_incident(api, fake, dedup="a")
    dup = open_incident(api, fake, dedup="b")
    dm = fake.wait_for(kind="slack", channel="U0ALICE", predicate=lambda m: f"#{dup}" in m["text"])
    assert act(api, dup, "merge", {"into": kept}).status_code == 200

    def buttons(m: dict) -> list[str]:
        return [el["action_id"] for b in m.get("blocks") or [] if b["type"] == "actions"
                for el in b["elements"]]

    fake.wait_for(kind="slack", channel="U0ALICE", timeout=3,
                  predicate=lambda m: m["ts"] == dm["ts"] and "ack" not in buttons(m))


# ---------------------------------------------------------------- fixes of the review

def test_the_duplicates_recovery_is_on_the_kept_timeline_and_retires_its_key(api: Api, fresh) -> None:
    fake = fresh.fake
    kept = open_incident(api, fake, dedup="db-1-disk")
    dup = open_incident(api, fake, dedup="db-2-disk")
    assert act(api, dup, "merge", {"into": kept}).status_code == 200
    assert api.trigger(dedup="db-2-disk")["incident_number"] == kept  # still firing: counted there

    r = api.enqueue({"routing_key": HELPDESK_KEY, "event_action": "resolve", "dedup_key": "db-2-disk"})
    assert r.status_code == 202, r.text

    inc = api.incident(kept)
    assert inc["state"] == "triggered"
    [said] = entries(inc, "merged_alert")
    assert said["detail"]["action"] == "resolve" and said["detail"]["merged_from"] == dup
    assert said["detail"]["dedup_key"] == "db-2-disk"
    assert not list(DedupKey.query(f"INC#{kept}", DedupKey.sk.startswith("MERGED#")))  # its note gone
    again = api.trigger(dedup="db-2-disk")["incident_number"]  # it fires again: a new incident
    assert again not in (kept, dup)


def test_an_idempotency_key_sent_again_with_another_body_is_a_422(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)
    assert act(api, number, "note", {"text": "one"}, key="k-9").status_code == 200
    assert act(api, number, "note", {"text": "one"}, key="k-9").status_code == 200  # a retry

    r = act(api, number, "note", {"text": "two"}, key="k-9")

    assert r.status_code == 422 and r.json()["error"] == "idempotency_key_reused", r.text
    assert "'k-9'" in r.json()["messages"]["en"] and "'k-9'" in r.json()["messages"]["fr"]
    assert [e["detail"]["text"] for e in entries(api.incident(number), "note")] == ["one"]


def test_an_added_responder_never_reached_is_told_to_who_added_them(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    assert act(api, number, "acknowledge").status_code == 200
    fake.fail_next(n=100_000, status=503, service="twilio")
    fake.fail_next(n=100_000, status=503, service="slack")
    fake.fail_next(n=100_000, status=500, service="ses")

    assert act(api, number, "add_responders", {"people": ["dan"]}).status_code == 200
    for _ in range(12):  # the whole backoff, about 25 minutes, on every channel of his
        wait(5 * 60)

    inc = api.incident(number)
    assert inc["state"] == "acknowledged"
    tried = [e["detail"] for e in entries(inc, "paged") if e["detail"]["to"] == "dan"]
    assert tried and not any(t["ok"] for t in tried) and any(t.get("gave_up") for t in tried)
    told = [e["detail"] for e in entries(inc, "notified")
            if e["detail"].get("notice") == "responder_unreachable"]
    assert told and {t["about"] for t in told} == {"dan"}


# ---------------------------------------------------------------- pure decisions

@pytest.mark.parametrize("body, expected", [
    ("NOTE 12 disque remplacé", ("note", 12, "disque remplacé")),
    ("n 12: RAID\nreconstruit", ("note", 12, "RAID\nreconstruit")),
    ("Note #7 ok", ("note", 7, "ok")),
    ("Z 12 30", ("snooze", 12, 30)),
    ("snooze 12", ("snooze", 12, None)),
    ("z12 15 min", ("snooze", 12, 15)),
    ("NOTE 12", None), ("4 12", None), ("Z", None), ("NOTE x hello", None),
])
def test_parse_command(body: str, expected: tuple | None) -> None:
    assert parse_command(body) == expected


def test_note_text_and_snooze_minutes() -> None:
    assert actions.note_text("  a\u0000b ") == "ab"
    assert actions.snooze_minutes(None) == 60 and actions.snooze_minutes(1440) == 1440
    for bad in ("", " ", None, 3, "x" * 2001):
        with pytest.raises(errors.BadRequest):
            actions.note_text(bad)
    for bad in (0, 1441, 1.5, "30", True):
        with pytest.raises(errors.BadRequest):
            actions.snooze_minutes(bad)


def test_responder_ids() -> None:
    assert actions.responder_ids(["bob", "dan", "bob"], {"bob", "dan"}) == ["bob", "dan"]
    with pytest.raises(actions.BadTarget, match="'zoe'"):
        actions.responder_ids(["bob", "zoe"], {"bob"})
    for bad in ([], "bob", [1], ["bob"] * 11):
        with pytest.raises(errors.BadRequest):
            actions.responder_ids(bad, {"bob"})


def test_previous_holders_and_others_paged() -> None:
    pages = [{"to": "alice", "step": 1}, {"to": "slack:C0", "step": 1}, {"to": "alice", "step": 1},
             {"to": "bob", "step": 2}]
    assert actions.previous_holders("acknowledged", "carol", pages, 1) == ["carol"]
    assert actions.previous_holders("triggered", None, pages, 0) == ["alice"]
    assert actions.previous_holders("triggered", None, pages, 1) == ["bob"]
    assert actions.others_paged(["alice", "slack:C0", "bob", "alice"], "bob", None) == ["alice"]


def test_copy_of_keeps_time_and_order_and_says_where_from() -> None:
    item = TimelineEntry("INC#5", "T#2026-01-01T00:00:00.000Z#000001ab", at=1.0, kind="triggered",
                         actor="source", channel="events-api", detail={"event": {"dedup_key": "k"}})
    copy = actions.copy_of(item, 3, 5)
    assert (copy.pk, copy.sk, copy.at) == ("INC#3", f"{item.sk}#m5", 1.0)
    assert copy.kind == "repeated" and copy.detail == {"event": {"dedup_key": "k"}, "merged_from": 5,
                                                       "was": "triggered"}
    note = TimelineEntry("INC#5", "T#x", at=2.0, kind="note", detail={"text": "t"})
    assert actions.copy_of(note, 3, 5).kind == "note"

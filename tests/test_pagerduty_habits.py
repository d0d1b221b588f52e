"""A responder coming from PagerDuty, over HTTP: its spellings of the actions and their bodies
work, a near-miss action is named, an acknowledgement from the source is said as the tool (SMS,
API answer, incident JSON), a merge into a missing incident, an unknown person or policy, and
PagerDuty's token header are each answered with what to send instead.  Carol's token is
French, Bob's English (tests/rotas)."""
from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import requests
from conftest import HELPDESK_KEY, ROOT, Api
from fakes.ticketing import FakeTicketing

from chalicelib import tokens
from chalicelib.rotas import directory
from chalicelib.rotas import load as rotas

ALICE, CAROL = "+33600000001", "+33600000003"
POLICIES = ["critical", "quick", "standard"]  # sorted
PEOPLE = ["alice", "bob", "carol", "dan"]


def open_incident(api: Api, fake: Any, dedup: str = "pd-habits") -> int:
    number = api.trigger(dedup=dedup)["incident_number"]
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])
    return number


def act(api: Api, number: int, action: str, body: Any = None, token: str | None = None,
        headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(f"{api.base}/v1/incidents/{number}/{action}", json=body or {}, timeout=15,
                         headers={"Authorization": f"Bearer {token or api.token}", **(headers or {})})


def incident(api: Api, number: int, token: str | None = None) -> dict:
    r = requests.get(f"{api.base}/v1/incidents/{number}", timeout=10,
                     headers={"Authorization": f"Bearer {token or api.token}"})
    assert r.status_code == 200, r.text
    return r.json()


def entries(inc: dict, kind: str) -> list[dict]:
    return [e for e in inc["timeline"] if e["kind"] == kind]


def sms_answer(twiml: str) -> str:
    [message] = ET.fromstring(twiml).findall("Message")
    return message.text or ""


def bob() -> str:
    return tokens.create("bob", "tests")


# ---------------------------------------------------------------- 1. PagerDuty's spellings

def test_pagerduty_spellings_of_notes_snooze_and_responders(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)

    # The issue's own example: POST …/notes, with PagerDuty's body.
    r = act(api, number, "notes", {"note": {"content": "Disque remplacé, on surveille"}})
    assert r.status_code == 200, r.text
    assert r.json()["result"] == "noted" and r.json()["message"] == f"#{number} : note ajoutée."
    assert act(api, number, "notes", {"text": "notre corps aussi"}).status_code == 200
    assert [e["detail"]["text"] for e in entries(incident(api, number), "note")] == [
        "Disque remplacé, on surveille", "notre corps aussi"]
    r = act(api, number, "notes", {"note": {"content": ""}})
    assert r.status_code == 400 and "'text'" in r.json()["message"]

    # responder_requests is add_responders.
    r = act(api, number, "responder_requests", {"people": ["dan"]})
    assert r.status_code == 200 and r.json()["result"] == "responders_added", r.text

    # Snooze's duration in seconds (rounded up to the minute), beside our minutes.
    assert act(api, number, "acknowledge").status_code == 200
    r = act(api, number, "snooze", {"duration": 1800})
    assert r.status_code == 200 and r.json()["result"] == "snoozed", r.text
    r = act(api, number, "snooze", {"duration": 90})
    assert r.status_code == 200, r.text
    assert [e["detail"]["minutes"] for e in entries(incident(api, number), "snoozed")] == [30, 2]
    for body in ({"duration": "1h"}, {"duration": 0}, {"duration": 86401}, {"duration": True}):
        r = act(api, number, "snooze", body)
        assert r.status_code == 400 and "'duration'" in r.json()["message"], (body, r.text)
        assert "secondes" in r.json()["message"]  # Carol's language
    r = act(api, number, "snooze", {"duration": 600, "minutes": 10}, token=bob())
    assert r.status_code == 400 and r.json()["message"] == "give 'minutes' or 'duration' (seconds), not both"


def test_an_unknown_action_names_the_closest_one_in_the_callers_language(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)

    r = act(api, number, "acknowlege")
    assert r.status_code == 404 and r.json()["error"] == "unknown_action", r.text
    assert r.json()["did_you_mean"] == "acknowledge"
    assert "vouliez-vous dire acknowledge ?" in r.json()["message"]
    assert "snooze" in r.json()["message"]  # every action still listed
    r = act(api, number, "snoze", token=bob())
    assert r.json()["did_you_mean"] == "snooze" and "did you mean snooze?" in r.json()["message"]
    r = act(api, number, "note_s", token=bob())
    assert r.json()["did_you_mean"] == "note"  # an alias's closeness names the action

    r = act(api, number, "frobnicate", token=bob())
    assert r.status_code == 404 and "did_you_mean" not in r.json()
    assert "did you mean" not in r.json()["message"] and "acknowledge, resolve" in r.json()["message"]
    assert incident(api, number)["state"] == "triggered"


# ---------------------------------------------------------------- 2. the tool, not "source"

def test_an_acknowledgement_from_the_source_is_said_as_the_tool_everywhere(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake, "acked-at-source")
    r = api.enqueue({"routing_key": HELPDESK_KEY, "event_action": "acknowledge",
                     "dedup_key": "acked-at-source"})
    assert r.status_code == 202, r.text

    # SMS `4 n` from Carol: in French, the tool.
    status, twiml = fake.reply_sms(CAROL, f"4 {number}")
    assert status == 200
    assert sms_answer(twiml) == f"#{number} est déjà pris en charge par l'outil de supervision."

    # The API's 409, in each caller's language; `by` stays the actor a script can test.
    r = act(api, number, "acknowledge", token=bob())
    assert r.status_code == 409 and r.json()["error"] == "already_acknowledged", r.text
    assert r.json()["by"] == "source"
    assert r.json()["message"] == f"#{number} is already acknowledged by the monitoring tool."
    r = act(api, number, "acknowledge")
    assert r.json()["message"] == f"#{number} est déjà pris en charge par l'outil de supervision."

    # The incident: the raw actor, and the words in the caller's language.
    inc = incident(api, number)
    assert inc["acknowledged_by"] == "source"
    assert inc["acknowledged_by_name"] == "l'outil de supervision"
    assert inc["first_acknowledged_by"] == "source"
    assert inc["first_acknowledged_at"] == inc["acknowledged_at"]
    assert incident(api, number, bob())["acknowledged_by_name"] == "the monitoring tool"

    # Resolved by the source: the same.
    r = api.enqueue({"routing_key": HELPDESK_KEY, "event_action": "resolve", "dedup_key": "acked-at-source"})
    assert r.status_code == 202, r.text
    inc = incident(api, number, bob())
    assert inc["resolved_by"] == "source" and inc["resolved_by_name"] == "the monitoring tool"
    r = act(api, number, "resolve")
    assert r.status_code == 409
    assert r.json()["message"] == f"#{number} est déjà clos (par l'outil de supervision)."


def test_a_ticket_closed_in_its_tool_is_said_as_the_ticketing_tool(api: Api, fresh) -> None:
    tools = FakeTicketing().start()
    try:
        auth = {"Authorization": f"Bearer {api.token}"}
        r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", headers=auth, timeout=10,
                          json={"source": "zendesk", "label": "tests",
                                "options": {"api_user": "agent@example.com", "api_token": "zd-token",
                                            "api_base": tools.base("zendesk")}})
        assert r.status_code == 201, r.text
        url = r.json()["url"]
        doc = json.loads((ROOT / "tests" / "payloads" / "zendesk_ticket.json").read_text())
        r = api.http.post(url, json=doc, timeout=10)
        assert r.status_code == 202, r.text
        number = int(r.json()["events"][0]["incident_number"])
        doc["ticket"]["status"] = "Solved"
        assert api.http.post(url, json=doc, timeout=10).status_code == 202
    finally:
        tools.stop()
    inc = incident(api, number)
    assert inc["state"] == "resolved" and inc["resolved_by_name"] == "l'outil de tickets"
    assert incident(api, number, bob())["resolved_by_name"] == "the ticketing tool"
    r = act(api, number, "resolve", token=bob())
    assert r.status_code == 409
    assert r.json()["message"] == f"#{number} is already resolved (by the ticketing tool)."


def test_a_person_is_named_and_the_first_acknowledgement_is_kept(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    status, twiml = fake.reply_sms(ALICE, f"4 {number}")
    assert status == 200 and "pris en charge" in sms_answer(twiml)
    taken = incident(api, number)
    assert taken["acknowledged_by_name"] == "Alice Martin" and taken["resolved_by_name"] is None
    assert taken["first_acknowledged_by"] == "alice"
    assert taken["first_acknowledged_at"] == taken["acknowledged_at"]

    # Reassigned to Bob: nobody holds it now; the first acknowledgement is still Alice's.
    assert act(api, number, "reassign", {"to": "bob"}).status_code == 200
    inc = incident(api, number)
    assert inc["state"] == "triggered" and inc["acknowledged_by"] is None
    assert inc["acknowledged_by_name"] is None
    assert inc["first_acknowledged_by"] == "alice" and inc["first_acknowledged_by_name"] == "Alice Martin"
    assert inc["first_acknowledged_at"] == taken["acknowledged_at"]

    # Bob takes it: the current holder is Bob, the first still Alice.
    assert act(api, number, "acknowledge", token=bob()).status_code == 200
    inc = incident(api, number)
    assert inc["acknowledged_by_name"] == "Bob Smith"
    assert (inc["first_acknowledged_by"], inc["first_acknowledged_at"]) == ("alice", taken["acknowledged_at"])
    r = act(api, number, "acknowledge")
    assert r.json()["message"] == f"#{number} est déjà pris en charge par Bob Smith."


# ---------------------------------------------------------------- 3. merge into nothing

def test_merge_into_a_missing_incident_is_an_error_naming_it(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)
    r = act(api, number, "merge", {"into": 99})
    assert r.status_code == 404, r.text
    body = r.json()
    assert body["error"] == "no_incident" and body["into"] == 99 and body["number"] == number
    assert "#99" in body["message"] and "rien n'a été changé" in body["message"]
    r = act(api, number, "merge", {"into": 99}, token=bob())
    assert r.json()["message"] == f"there is no incident #99 to merge #{number} into: nothing was changed"
    assert incident(api, number)["state"] == "triggered"

    # The incident acted on itself missing: an error too, naming it.
    r = act(api, 4242, "merge", {"into": number})
    assert r.status_code == 404 and r.json()["error"] == "no_incident" and "#4242" in r.json()["message"]
    r = act(api, 4242, "acknowledge")
    assert r.status_code == 404 and r.json()["error"] == "no_incident"


# ---------------------------------------------------------------- 4. unknown people and policies

def test_an_unknown_policy_or_person_lists_the_ids_to_use(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)

    r = act(api, number, "reassign", {"policy": "support-critique"}, token=bob())
    assert r.status_code == 400 and r.json()["error"] == "bad_target", r.text
    assert r.json()["choices"] == POLICIES
    assert r.json()["message"] == ("'policy': 'support-critique' is not an escalation policy; the policy "
                                   "ids are critical, quick, standard")
    r = act(api, number, "reassign", {"policy": "crit"})
    assert "les identifiants des politiques sont critical, quick, standard" in r.json()["message"]

    # A person's name where an id goes: the id to use.
    r = act(api, number, "reassign", {"to": "Bob Smith"}, token=bob())
    assert r.status_code == 400 and r.json()["choices"] == PEOPLE
    assert r.json()["message"] == ("'to': 'Bob Smith' is not a person of the directory: give a person's id "
                                   "(bob?), one of alice, bob, carol, dan")
    r = act(api, number, "reassign", {"to": "zoe"})
    assert r.status_code == 400
    assert r.json()["message"] == ("'to' : 'zoe' n'est pas une personne de l'annuaire : indiquez "
                                   "l'identifiant d'une personne, parmi alice, bob, carol, dan")

    r = act(api, number, "add_responders", {"people": ["dan", "zoe", "Alice Martin"]}, token=bob())
    assert r.status_code == 400 and r.json()["error"] == "bad_target" and r.json()["choices"] == PEOPLE
    assert r.json()["message"].startswith("'people': 'zoe', 'Alice Martin' not in the directory: give a "
                                          "person's id (alice?), one of alice, bob")
    # The same through PagerDuty's spelling; and a body of the wrong shape keeps its own 400.
    assert act(api, number, "responder_requests", {"people": ["zoe"]}).json()["choices"] == PEOPLE
    r = act(api, number, "add_responders", {"people": "dan"})
    assert r.status_code == 400 and "choices" not in r.json()
    kinds = {e["kind"] for e in incident(api, number)["timeline"]}
    assert not kinds & {"reassigned", "responders_added"}


def test_at_most_twenty_ids_are_listed(api: Api, fresh, tmp_path: Path) -> None:
    extra = "\n".join(f'  - {{id: p{i:02d}, name: Person {i}, language: en, phone: "+336100000{i:02d}", '
                      f"notify: [{{channel: sms}}]}}" for i in range(25))
    shutil.copy(ROOT / "tests" / "rotas" / "team.yaml", tmp_path / "team.yaml")
    (tmp_path / "more.yaml").write_text(f"people:\n{extra}\n")
    directory.sync(rotas.load_dir(tmp_path))
    directory.invalidate()
    number = open_incident(api, fresh.fake)
    r = act(api, number, "reassign", {"to": "zoe"}, token=bob())
    assert r.status_code == 400 and len(r.json()["choices"]) == 20, r.text
    assert r.json()["message"].endswith("one of alice, bob, carol, dan, p00, p01, p02, p03, p04, p05, p06, "
                                        "p07, p08, p09, p10, p11, p12, p13, p14, p15 (+9)")  # 29 people


# ---------------------------------------------------------------- 5. PagerDuty's token header

def test_pagerdutys_token_header_is_told_to_send_bearer(api: Api, fresh) -> None:
    number = open_incident(api, fresh.fake)
    url = f"{api.base}/v1/incidents/{number}/acknowledge"
    r = requests.post(url, timeout=10, headers={"Authorization": f"Token token={api.token}"})
    assert r.status_code == 401 and r.json()["error"] == "unauthorised", r.text
    assert r.json()["messages"]["en"].startswith("'Authorization: Token token=…' is PagerDuty's way: "
                                                 "send 'Authorization: Bearer <token>'")
    assert "envoyez 'Authorization: Bearer <jeton>'" in r.json()["messages"]["fr"]
    r = requests.get(f"{api.base}/v1/incidents/{number}", timeout=10,
                     headers={"Authorization": f"token token={api.token}", "Accept-Language": "fr"})
    assert r.status_code == 401
    assert r.json()["message"].startswith("'Authorization: Token token=…' est la façon")
    assert incident(api, number)["state"] == "triggered"


# ---------------------------------------------------------------- 7. README

def test_the_readmes_actions_name_real_ids() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Replying to a page", 1)[1].split("\n## ", 1)[0]
    bundle = rotas.load_dir(ROOT / "rotas")
    policies = re.findall(r'\{"policy": "([^"]+)"\}', section)
    assert policies and all(p in bundle["policies"] for p in policies), policies

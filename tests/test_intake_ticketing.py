"""Zendesk, Jira Service Management and Freshdesk webhooks, and the note posted back on
the ticket when the incident is acknowledged (against a loopback fake of the three APIs)."""
from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Api
from fakes.ticketing import FakeTicketing

from chalicelib import ticketing
from chalicelib.intake import InvalidEvent, freshdesk, jira, zendesk

PAYLOADS = Path(__file__).parent / "payloads"
ALICE = "+33600000001"


def payload(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def raw(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


# ---------------------------------------------------------------- parsers

def test_a_high_zendesk_ticket_triggers_with_the_ticket_and_its_requester_in_the_details() -> None:
    [event] = zendesk.parse(raw(payload("zendesk_ticket.json")), {}, {"api_base": "https://ex.zendesk.com"})
    assert event["action"] == "trigger" and event["severity"] == "eleve"
    assert event["dedup_key"] == "zendesk:35436"
    assert "Le portail client ne répond plus" in event["summary"]
    ticket = event["details"]["ticket"]
    assert ticket["tool"] == "zendesk" and ticket["id"] == "35436"
    assert ticket["api_base"] == "https://ex.zendesk.com"
    assert ticket["url"] == "https://example.zendesk.com/agent/tickets/35436"
    assert ticket["requester"] == {"name": "Camille Dupont", "email": "camille@example.fr", "language": "fr"}


def test_priorities_that_map_to_no_severity_make_no_event() -> None:
    doc = payload("zendesk_ticket.json")
    for priority in ("Normal", "Low", "", None):
        doc["ticket"]["priority"] = priority
        assert zendesk.parse(raw(doc), {}, {}) == []
    doc["ticket"]["priority"] = "High"
    assert zendesk.parse(raw(doc), {}, {"priority_map": {"urgent": "critique"}}) == []
    assert zendesk.parse(raw(doc), {}, {"priority_map": {"high": "none"}}) == []
    [event] = zendesk.parse(raw(doc), {}, {"priority_map": {"High": "moyen"}})
    assert event["severity"] == "moyen"


def test_a_solved_or_closed_ticket_resolves_whatever_its_priority() -> None:
    doc = payload("zendesk_ticket.json")
    doc["ticket"].update(status="Solved", priority="Low")
    [event] = zendesk.parse(raw(doc), {}, {})
    assert event["action"] == "resolve" and event["dedup_key"] == "zendesk:35436"
    doc["ticket"]["status"] = "closed"
    assert zendesk.parse(raw(doc), {}, {})[0]["action"] == "resolve"


def test_an_english_or_unknown_locale_gives_english() -> None:
    doc = payload("zendesk_ticket.json")
    for locale, lang in (("en-US", "en"), ("fr-CA", "fr"), ("Deutsch", "en"), ("", "en")):
        doc["ticket"]["requester"]["locale"] = locale
        assert zendesk.parse(raw(doc), {}, {})[0]["details"]["ticket"]["requester"]["language"] == lang
    doc["ticket"]["requester"]["locale"] = ""
    assert zendesk.parse(raw(doc), {}, {"default_language": "fr"})[0]["details"]["ticket"]["requester"][
        "language"] == "fr"


def test_a_malformed_zendesk_body_names_the_fields() -> None:
    with pytest.raises(InvalidEvent) as exc:
        zendesk.parse(raw({"ticket": {"priority": "Urgent"}}), {}, {})
    assert exc.value.errors == ["'ticket.id' is missing or empty", "'ticket.subject' is missing or empty"]
    with pytest.raises(InvalidEvent, match="'ticket' is missing"):
        zendesk.parse(raw({"id": 1}), {}, {})
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        zendesk.parse(b"{nope", {}, {})


def test_a_jira_issue_created_with_highest_priority_pages_critique() -> None:
    [event] = jira.parse(raw(payload("jira_issue_created.json")), {}, {"default_language": "fr"})
    assert event["action"] == "trigger" and event["severity"] == "critique"
    assert event["dedup_key"] == "jira:HELP-42"
    ticket = event["details"]["ticket"]
    assert ticket["url"] == "https://example.atlassian.net/browse/HELP-42"
    assert ticket["api_base"] is None  # never taken from the body
    assert ticket["requester"] == {"name": "Jordan Lee", "email": "jordan@example.com", "language": "fr"}


def test_a_jira_issue_in_the_done_category_or_deleted_resolves() -> None:
    doc = payload("jira_issue_created.json")
    doc["webhookEvent"] = "jira:issue_updated"
    doc["issue"]["fields"]["priority"]["name"] = "Medium"
    assert jira.parse(raw(doc), {}, {}) == []
    doc["issue"]["fields"]["status"] = {"name": "Resolved", "statusCategory": {"key": "done"}}
    assert jira.parse(raw(doc), {}, {})[0]["action"] == "resolve"
    doc["issue"]["fields"]["status"] = {"name": "Canceled", "statusCategory": {"key": "indeterminate"}}
    assert jira.parse(raw(doc), {}, {"closed_statuses": ["Canceled"]})[0]["action"] == "resolve"
    doc["webhookEvent"] = "jira:issue_deleted"
    doc["issue"]["fields"]["status"] = {"name": "Open"}
    assert jira.parse(raw(doc), {}, {})[0]["action"] == "resolve"


def test_a_malformed_jira_body_names_the_fields() -> None:
    with pytest.raises(InvalidEvent) as exc:
        jira.parse(raw({"webhookEvent": "comment_created", "issue": {"fields": {}}}), {}, {})
    assert exc.value.errors == [
        "'webhookEvent' must be one of jira:issue_created, jira:issue_updated, jira:issue_deleted "
        "(got 'comment_created')",
        "'issue.key' is missing or empty", "'issue.fields.summary' is missing or empty"]


def test_freshdesk_takes_priority_and_status_as_names_or_as_the_api_numbers() -> None:
    [event] = freshdesk.parse(raw(payload("freshdesk_ticket.json")), {}, {})
    assert event["severity"] == "critique" and event["dedup_key"] == "freshdesk:1234"
    assert event["details"]["ticket"]["requester"]["language"] == "fr"
    doc = payload("freshdesk_ticket.json")
    doc["ticket"].update(priority=3, status=2)
    assert freshdesk.parse(raw(doc), {}, {})[0]["severity"] == "eleve"
    doc["ticket"]["priority"] = 2  # medium: does not page
    assert freshdesk.parse(raw(doc), {}, {}) == []
    for status in (4, 5, "Resolved", "Closed"):
        doc["ticket"]["status"] = status
        assert freshdesk.parse(raw(doc), {}, {})[0]["action"] == "resolve"


def test_a_malformed_freshdesk_body_names_the_fields() -> None:
    with pytest.raises(InvalidEvent) as exc:
        freshdesk.parse(raw({"ticket": {"id": "", "subject": ["x"]}}), {}, {})
    assert exc.value.errors == ["'ticket.id' is missing or empty", "'ticket.subject' is missing or empty"]


# ---------------------------------------------------------------- over HTTP, through an integration key

def _auth(api: Api) -> dict:
    return {"Authorization": f"Bearer {api.token}"}


def _key(api: Api, source: str, options: dict | None = None) -> dict:
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", headers=_auth(api), timeout=10,
                      json={"source": source, "label": "tests", "options": options or {}})
    assert r.status_code == 201, r.text
    return r.json()


TOOL_CASES = [
    ("zendesk", "zendesk_ticket.json", ("ticket", "priority"), "Low", ("ticket", "status"), "Solved"),
    ("jira", "jira_issue_created.json", ("issue", "fields", "priority", "name"), "Low",
     ("issue", "fields", "status"), {"name": "Done", "statusCategory": {"key": "done"}}),
    ("freshdesk", "freshdesk_ticket.json", ("ticket", "priority"), 1, ("ticket", "status"), 5),
]


def _set(doc: dict, path: tuple[str, ...], value: Any) -> dict:
    doc = copy.deepcopy(doc)
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return doc


@pytest.mark.parametrize("source,name,prio_path,low,status_path,closed", TOOL_CASES,
                         ids=[c[0] for c in TOOL_CASES])
def test_a_paging_ticket_pages_the_agent_and_closing_it_resolves(
        api: Api, fresh, source: str, name: str, prio_path: tuple, low: Any, status_path: tuple,
        closed: Any) -> None:
    key = _key(api, source, {"api_base": "http://127.0.0.1:9/unused"})
    doc = payload(name)
    r = api.http.post(key["url"], json=doc, timeout=10)
    assert r.status_code == 202, r.text
    [answer] = r.json()["events"]
    fresh.fake.wait_for(kind="sms", to=ALICE)
    inc = api.incident(answer["incident_number"])
    assert inc["details"]["ticket"]["tool"] == source
    assert inc["dedup_key"] == answer["dedup_key"] and inc["dedup_key"].startswith(f"{source}:")
    again = api.http.post(key["url"], json=doc, timeout=10).json()["events"][0]
    assert again["new"] is False and again["incident_number"] == answer["incident_number"]
    r = api.http.post(key["url"], json=_set(doc, status_path, closed), timeout=10)
    assert r.status_code == 202 and r.json()["events"][0]["action"] == "resolve"
    assert api.incident(answer["incident_number"])["state"] == "resolved"


@pytest.mark.parametrize("source,name,prio_path,low,status_path,closed", TOOL_CASES,
                         ids=[c[0] for c in TOOL_CASES])
def test_a_low_priority_ticket_stores_nothing_and_pages_nobody(
        api: Api, fresh, source: str, name: str, prio_path: tuple, low: Any, status_path: tuple,
        closed: Any) -> None:
    from chalicelib.store import Counter

    key = _key(api, source)
    r = api.http.post(key["url"], json=_set(payload(name), prio_path, low), timeout=10)
    assert r.status_code == 202, r.text
    assert r.json()["events"] == []
    assert fresh.fake.messages() == []
    assert Counter.count("COUNTER") == 0  # no incident number was ever taken


def test_a_malformed_ticket_is_refused_with_the_fields_named(api: Api, fresh) -> None:
    key = _key(api, "zendesk")
    r = api.http.post(key["url"], json={"ticket": {"subject": "no id"}}, timeout=10)
    assert r.status_code == 400 and "'ticket.id' is missing" in r.json()["message"]
    assert fresh.fake.messages() == []


# ---------------------------------------------------------------- the note on acknowledgement

@pytest.fixture()
def tools() -> Iterator[FakeTicketing]:
    fake = FakeTicketing().start()
    yield fake
    fake.stop()


OPTIONS = {
    "zendesk": {"api_user": "agent@example.com", "api_token": "zd-token"},
    "jira": {"api_user": "agent@example.com", "api_token": "jira-token"},
    "freshdesk": {"api_token": "fd-key"},
}
AT = "2026-03-02T21:14:05Z"


def _details(tool: str, tid: str, language: str = "fr") -> dict[str, Any]:
    return {"ticket": {"tool": tool, "id": tid, "url": None, "api_base": None,
                       "requester": {"name": "Camille Dupont", "email": "c@example.fr",
                                     "language": language}}}


@pytest.mark.parametrize("tool,tid", [("zendesk", "35436"), ("jira", "HELP-42"), ("freshdesk", "1234")])
def test_acknowledging_posts_an_internal_note_and_a_french_reply_to_a_french_requester(
        tools: FakeTicketing, tool: str, tid: str) -> None:
    options = {**OPTIONS[tool], "api_base": tools.base(tool)}
    record = ticketing.on_acknowledged(_details(tool, tid), "Alice Martin", AT, options)
    assert record["ticket"] == f"{tool}:{tid}"
    assert record["note"]["ok"] and record["reply"]["ok"] and record["reply"]["language"] == "fr"
    note, reply = tools.calls_to(tool)
    assert note["auth"] == tools.credentials[tool]
    texts = [_text(tool, note), _text(tool, reply)]
    assert "Alice Martin" in texts[0] and AT in texts[0]
    assert texts[1].startswith("Bonjour Camille Dupont, votre demande #")
    assert "prise en charge" in texts[1] and "Alice Martin" in texts[1] and tid in texts[1]
    if tool == "zendesk":
        assert note["method"] == "PUT" and note["path"] == f"/api/v2/tickets/{tid}.json"
        assert note["json"]["ticket"]["comment"]["public"] is False
        assert reply["json"]["ticket"]["comment"]["public"] is True
    elif tool == "jira":
        assert note["path"] == f"/rest/servicedeskapi/request/{tid}/comment"
        assert note["json"]["public"] is False and reply["json"]["public"] is True
    else:
        assert note["path"] == f"/api/v2/tickets/{tid}/notes" and note["json"]["private"] is True
        assert reply["path"] == f"/api/v2/tickets/{tid}/reply"


def _text(tool: str, call: dict[str, Any]) -> str:
    body = call["json"]
    return body["ticket"]["comment"]["body"] if tool == "zendesk" else body["body"]


def test_an_english_requester_gets_english_and_the_jira_platform_api_marks_the_note_internal(
        tools: FakeTicketing) -> None:
    options = {**OPTIONS["jira"], "api_base": tools.base("jira"), "jira_api": "platform"}
    record = ticketing.on_acknowledged(_details("jira", "HELP-7", "en"), "Bob Smith", AT, options)
    assert record["note"]["ok"] and record["reply"]["ok"]
    note, reply = tools.calls_to("jira")
    assert note["path"] == "/rest/api/3/issue/HELP-7/comment"
    assert note["json"]["properties"] == [{"key": "sd.public.comment", "value": {"internal": True}}]
    assert "properties" not in reply["json"]
    text = reply["json"]["body"]["content"][0]["content"][0]["text"]
    assert text.startswith("Hello Camille Dupont, your request #HELP-7") and "Bob Smith" in text


def test_a_failing_or_unreachable_tool_is_recorded_never_raised(tools: FakeTicketing) -> None:
    options = {**OPTIONS["freshdesk"], "api_base": tools.base("freshdesk")}
    tools.fail_next(1, 503)
    record = ticketing.on_acknowledged(_details("freshdesk", "1"), "Alice", AT, options)
    assert record["note"] == {"ok": False, "status": 503, "error": '{"error": "failing on demand"}'}
    assert record["reply"]["ok"] is True
    wrong = ticketing.on_acknowledged(_details("freshdesk", "1"), "Alice", AT,
                                      {**options, "api_token": "bad"})
    assert wrong["note"]["status"] == 401 and not wrong["note"]["ok"]
    down = ticketing.on_acknowledged(_details("zendesk", "1"), "Alice", AT,
                                     {**OPTIONS["zendesk"], "api_base": "http://127.0.0.1:9", "timeout": 2})
    assert not down["note"]["ok"] and "ConnectionError" in down["note"]["error"]
    assert ticketing.on_acknowledged({}, "Alice", AT, {})["note"]["ok"] is False
    assert ticketing.on_acknowledged(_details("zendesk", "1"), "Alice", AT, {})["note"] == {
        "ok": False, "error": "options.api_base is not set"}


def test_the_reply_can_be_turned_off_and_a_nameless_requester_reads_well(tools: FakeTicketing) -> None:
    options = {**OPTIONS["zendesk"], "api_base": tools.base("zendesk")}
    record = ticketing.on_acknowledged(_details("zendesk", "5"), "Alice", AT,
                                       {**options, "reply_to_requester": False})
    assert "reply" not in record and len(tools.calls_to("zendesk")) == 1
    details = _details("zendesk", "6")
    details["ticket"]["requester"]["name"] = None
    ticketing.on_acknowledged(details, "Alice", AT, options)
    assert _text("zendesk", tools.calls_to("zendesk")[-1]).startswith("Bonjour, votre demande #6")


def test_the_agent_acknowledging_by_sms_posts_the_note_on_the_zendesk_ticket(
        api: Api, fresh, tools: FakeTicketing) -> None:
    """The whole loop over HTTP: the ticket pages Alice, she answers the SMS, and the ticket
    gets the internal note and the requester the reply, recorded on the timeline; Twilio
    delivering her answer twice posts nothing twice."""
    key = _key(api, "zendesk", {**OPTIONS["zendesk"], "api_base": tools.base("zendesk")})
    r = api.http.post(key["url"], json=payload("zendesk_ticket.json"), timeout=10)
    assert r.status_code == 202, r.text
    number = r.json()["events"][0]["incident_number"]
    fresh.fake.wait_for(kind="sms", to=ALICE)
    assert tools.calls_to("zendesk") == []  # nothing is written on the ticket before someone takes it

    status, _ = fresh.fake.reply_sms(ALICE, f"4 {number}", message_sid="SMack1")
    assert status == 200
    assert api.incident(number)["acknowledged_by"] == "alice"
    note, reply = tools.calls_to("zendesk")
    tid = str(payload("zendesk_ticket.json")["ticket"]["id"])
    assert note["path"] == f"/api/v2/tickets/{tid}.json" and note["auth"] == tools.credentials["zendesk"]
    assert note["json"]["ticket"]["comment"]["public"] is False
    assert "Alice Martin" in note["json"]["ticket"]["comment"]["body"]
    assert reply["json"]["ticket"]["comment"]["public"] is True

    fresh.fake.reply_sms(ALICE, f"4 {number}", message_sid="SMack1")  # Twilio retried
    assert len(tools.calls_to("zendesk")) == 2
    told = [e for e in api.incident(number)["timeline"]
            if e["kind"] == "notified" and e["channel"] == "zendesk"]
    assert len(told) == 1 and told[0]["detail"]["note"]["ok"] and told[0]["detail"]["reply"]["ok"]

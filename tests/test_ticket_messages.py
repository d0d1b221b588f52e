"""Customer messages on tickets, both ways: resolving from our side (SMS, API) posts an internal
note and the closure message to the requester; the support team's templates per service
(rotas/ `customer_messages`, checked by the loader and `rotas-check`); the first technical
answer an agent sends (ticketing.customer_reply).  Against the loopback fake of the three
ticketing APIs (tests/fakes/ticketing.py)."""
from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from conftest import Api
from fakes.ticketing import FakeTicketing

from chalicelib import clock, errors, metrics, ticketing
from chalicelib.rotas import directory, load
from chalicelib.rotas.messages import template_problems

ROOT = Path(__file__).resolve().parent.parent
PAYLOADS = Path(__file__).parent / "payloads"
ALICE = "+33600000001"
ZENDESK = {"api_user": "agent@example.com", "api_token": "zd-token"}
CREDENTIALS = {"zendesk": ZENDESK, "jira": {"api_user": "agent@example.com", "api_token": "jira-token"},
               "freshdesk": {"api_token": "fd-key"}}
PAYLOAD_FILES = {"zendesk": "zendesk_ticket.json", "jira": "jira_issue_created.json",
                 "freshdesk": "freshdesk_ticket.json"}
REOPEN_FR = "réouvrez le ticket si le problème persiste"

SERVICE_MESSAGES = {
    "acknowledgement": {"fr": "Bonjour {name}, {agent} s'occupe du ticket {ticket}.",
                        "en": "Hi {name}, {agent} is on ticket {ticket}."},
    "first_answer": {"fr": "Ticket {ticket} : il nous faut {need}. {agent} vous rappelle sous {delay}.",
                     "en": "Ticket {ticket}: we need {need}. {agent} calls you back within {delay}."},
    "closure": {"fr": "Ticket {ticket} clos par {agent}. Réouvrez-le si le problème persiste.",
                "en": "Ticket {ticket} closed by {agent}. Reopen it if the problem persists."},
}


# ---------------------------------------------------------------- templates (pure)

def test_a_template_may_use_only_the_placeholders_of_its_kind() -> None:
    assert template_problems("first_answer", "{name}: {need}, {agent} sous {delay} (#{ticket}, {at})") == []
    assert template_problems("closure", "Réouvrez le ticket {{#{ticket}}} si besoin") == []
    [unknown] = template_problems("acknowledgement", "Bonjour {nom}")
    assert unknown.startswith("unknown placeholder {nom}; acknowledgement may use {ticket}, {name}")
    assert "unknown placeholder {need}" in template_problems("closure", "Il faut {need}")[0]
    assert "unknown placeholder {}" in template_problems("closure", "Bonjour {}")[0]
    assert "unknown placeholder {name.upper}" in template_problems("closure", "{name.upper}")[0]
    assert template_problems("closure", "{agent!r} {ticket:>10}") == [
        "{agent}: a placeholder takes no format (write {agent})",
        "{ticket}: a placeholder takes no format (write {ticket})"]
    assert "not a valid template" in template_problems("closure", "Bonjour {name")[0]
    assert "not a valid template" in template_problems("closure", "accolade } seule")[0]
    assert template_problems("closure", "  ") == ["needs a text"]
    assert template_problems("closure", "x" * 2001) == ["longer than 2000 characters"]


def test_render_leaves_out_what_is_not_known_and_reads_well() -> None:
    text = ticketing.render(ticketing.MESSAGES["closure"]["fr"],
                            {"ticket": "35436", "name": "", "agent": "Alice"})
    assert text.startswith("Bonjour, votre demande #35436 est résolue (Alice, équipe d'astreinte).")
    assert REOPEN_FR in text
    assert ticketing.template(None, "closure", "en") == ticketing.MESSAGES["closure"]["en"]
    assert ticketing.template(SERVICE_MESSAGES, "closure", "en") == SERVICE_MESSAGES["closure"]["en"]
    assert ticketing.template({"closure": SERVICE_MESSAGES["closure"]}, "first_answer", "fr") == \
        ticketing.MESSAGES["first_answer"]["fr"]


def test_render_does_not_rewrite_what_the_agent_typed() -> None:
    """Only the template's own text is tidied around a value left out, never the values: the
    customer was asked for "le fichier.env" when the agent typed "le fichier .env"."""
    need = "le fichier .env et la sortie de `ls  -la ( /etc )`"
    text = ticketing.render(ticketing.MESSAGES["first_answer"]["fr"],
                            {"ticket": "1", "name": "", "agent": "Alice", "need": need, "delay": "2 h"})
    assert need in text, text
    assert text.startswith("Bonjour, nous travaillons sur votre demande #1.")
    text = ticketing.render(ticketing.MESSAGES["acknowledgement"]["en"],
                            {"ticket": "7", "name": "Jo", "agent_name": "", "at": "10:02"})
    assert text == "Hello Jo, your request #7 has been taken in hand by our on-call team (10:02)."


def test_every_built_in_message_passes_the_loaders_check() -> None:
    for kind, texts in ticketing.MESSAGES.items():
        for text in texts.values():
            assert template_problems(kind, text) == [], (kind, text)


def _rotas_with(tmp_path: Path, block: str) -> Path:
    """tests/rotas with a customer_messages block added to the helpdesk service."""
    shutil.copytree(ROOT / "tests" / "rotas", tmp_path / "rotas")
    team = tmp_path / "rotas" / "team.yaml"
    text = team.read_text()
    anchor = "  - id: quickdesk\n"
    assert anchor in text
    team.write_text(text.replace(anchor, block + anchor))
    return tmp_path / "rotas"


def test_the_loader_names_each_bad_message_with_its_file_and_line(tmp_path: Path) -> None:
    block = ("    customer_messages:\n"
             "      acknowledgement: {fr: 'Bonjour {nom}', en: 'Hello {name}'}\n"
             "      closure: {fr: 'Résolu, réouvrez si besoin'}\n"
             "      survey: {fr: x, en: y}\n"
             "      first_answer: {fr: 'Il faut {need}', en: 'We need {need}', de: 'Wir brauchen {need}'}\n")
    with pytest.raises(load.RotaError) as exc:
        load.load_dir(_rotas_with(tmp_path, block))
    problems = [p for p in exc.value.problems if "customer_messages" in p]
    line = next(i for i, t in enumerate((tmp_path / "rotas" / "team.yaml").read_text().splitlines(), 1)
                if t.strip() == "customer_messages:")
    at = "services[0].customer_messages"
    assert problems == [
        f"team.yaml:{line + 1}: {at}.acknowledgement.fr: unknown placeholder {{nom}}; "
        "acknowledgement may use {ticket}, {name}, {agent}, {agent_name}, {at} / variable inconnue",
        f"team.yaml:{line + 2}: {at}.closure.en: missing; every message needs fr and en / texte manquant",
        f"team.yaml:{line + 3}: {at}.survey: unknown message; one of acknowledgement, first_answer, closure",
        f"team.yaml:{line + 4}: {at}.first_answer.de: unknown language; one of fr, en",
    ]


def test_good_messages_load_into_the_service_and_the_schema_agrees(tmp_path: Path) -> None:
    block = "    customer_messages:\n" + "".join(
        f"      {kind}: {json.dumps(texts, ensure_ascii=False)}\n"
        for kind, texts in SERVICE_MESSAGES.items())
    bundle = load.load_dir(_rotas_with(tmp_path, block))
    assert bundle["services"]["helpdesk"]["customer_messages"] == SERVICE_MESSAGES
    assert bundle["services"]["quickdesk"]["customer_messages"] is None
    schema = json.loads((ROOT / "rotas" / "schema.json").read_text())
    doc = yaml.safe_load((tmp_path / "rotas" / "team.yaml").read_text())
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(doc)) == []
    doc["services"][0]["customer_messages"]["closure"].pop("en")
    [error] = jsonschema.Draft202012Validator(schema).iter_errors(doc)
    assert "'en' is a required property" in error.message


def test_the_example_service_in_rotas_sets_its_messages() -> None:
    bundle = load.load_dir(ROOT / "rotas")
    messages = bundle["services"]["helpdesk"]["customer_messages"]
    assert set(messages or {}) == {"acknowledgement", "first_answer", "closure"}
    assert "réouvrez le ticket si le problème persiste" in (messages or {})["closure"]["fr"].lower()


# ---------------------------------------------------------------- over HTTP

@pytest.fixture()
def tools() -> Iterator[FakeTicketing]:
    fake = FakeTicketing().start()
    yield fake
    fake.stop()


def _auth(api: Api) -> dict:
    return {"Authorization": f"Bearer {api.token}"}


def _ticket(api: Api, tools: FakeTicketing, locale: str = "Français", ticket_id: str = "35436",
            urls: list[str] | None = None) -> int:
    """A Zendesk ticket that pages Alice; the incident's number (the key's URL added to urls)."""
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", headers=_auth(api), timeout=10,
                      json={"source": "zendesk", "label": "tests",
                            "options": {**ZENDESK, "api_base": tools.base("zendesk")}})
    assert r.status_code == 201, r.text
    doc = json.loads((PAYLOADS / "zendesk_ticket.json").read_text())
    doc["ticket"]["requester"]["locale"] = locale
    doc["ticket"]["id"] = ticket_id
    if urls is not None:
        urls.append(r.json()["url"])
    r = api.http.post(r.json()["url"], json=doc, timeout=10)
    assert r.status_code == 202, r.text
    return int(r.json()["events"][0]["incident_number"])


def _comment(call: dict[str, Any]) -> tuple[str, bool]:
    comment = call["json"]["ticket"]["comment"]
    return comment["body"], comment["public"]


def _told(api: Api, number: int) -> list[dict[str, Any]]:
    return [e for e in api.incident(number)["timeline"]
            if e["kind"] == "notified" and e["channel"] == "zendesk"]


def _with_service_messages() -> None:
    bundle = copy.deepcopy(directory.bundle())
    bundle["services"]["helpdesk"]["customer_messages"] = SERVICE_MESSAGES
    directory.sync(bundle)
    directory.invalidate()


def test_resolving_by_sms_posts_a_note_and_tells_the_requester_once(
        api: Api, fresh, tools: FakeTicketing) -> None:
    number = _ticket(api, tools)
    fresh.fake.wait_for(kind="sms", to=ALICE)
    status, _ = fresh.fake.reply_sms(ALICE, f"6 {number}", message_sid="SMres1")
    assert status == 200
    assert api.incident(number)["state"] == "resolved"
    reply, note = tools.calls_to("zendesk")  # the reply first: the note says it was sent
    body, public = _comment(note)
    assert not public and body.startswith("[Astreinte] Résolu par Alice Martin le ")
    assert body.endswith(" Le demandeur est prévenu.")
    body, public = _comment(reply)
    assert public and body.startswith("Bonjour Camille Dupont, votre demande #35436 est résolue (Alice,")
    assert REOPEN_FR in body

    fresh.fake.reply_sms(ALICE, f"6 {number}", message_sid="SMres1")  # Twilio retried
    assert len(tools.calls_to("zendesk")) == 2
    [told] = _told(api, number)
    assert told["detail"]["message"] == "closure" and told["detail"]["note"]["ok"]
    assert told["detail"]["reply"] == {"ok": True, "status": 200, "language": "fr"}


def test_the_services_own_messages_are_used_and_an_english_requester_reads_english(
        api: Api, fresh, tools: FakeTicketing) -> None:
    _with_service_messages()
    number = _ticket(api, tools, locale="en-GB")
    fresh.fake.wait_for(kind="sms", to=ALICE)
    fresh.fake.reply_sms(ALICE, f"4 {number}", message_sid="SMack1")
    r = api.http.post(f"{api.base}/v1/incidents/{number}/resolve", headers=_auth(api), json={}, timeout=10)
    assert r.status_code == 200, r.text
    texts = [_comment(c) for c in tools.calls_to("zendesk")]
    # acknowledgement: note, reply; closure: reply, then the note that says whether it went
    assert [public for _, public in texts] == [False, True, True, False]
    assert texts[1][0] == "Hi Camille Dupont, Alice is on ticket 35436."
    assert texts[3][0].startswith("[Astreinte] Résolu par ")  # the note: the team's language
    assert texts[2][0] == "Ticket 35436 closed by Carol. Reopen it if the problem persists."
    assert [t["detail"]["message"] for t in _told(api, number)] == ["acknowledgement", "closure"]


def test_a_ticket_closed_in_its_tool_is_not_told_again(api: Api, fresh, tools: FakeTicketing) -> None:
    urls: list[str] = []
    number = _ticket(api, tools, urls=urls)
    fresh.fake.wait_for(kind="sms", to=ALICE)
    doc = json.loads((PAYLOADS / "zendesk_ticket.json").read_text())
    doc["ticket"]["status"] = "Solved"
    r = api.http.post(urls[0], json=doc, timeout=10)
    assert r.status_code == 202 and r.json()["events"][0]["action"] == "resolve"
    assert api.incident(number)["state"] == "resolved"
    assert tools.calls_to("zendesk") == []
    assert _told(api, number) == []


def test_the_first_answer_says_what_we_need_and_when_we_call_back(
        api: Api, fresh, tools: FakeTicketing) -> None:
    from chalicelib.incidents.records import get

    number = _ticket(api, tools)
    inc = get(number)
    assert inc is not None
    record = ticketing.customer_reply(inc, "alice", "first_answer",
                                      {"need": "une capture d'écran\x07 de l'erreur", "delay": "2 h"})
    assert record["ok"] is True and record["language"] == "fr" and record["ticket"] == "zendesk:35436"
    [reply] = tools.calls_to("zendesk")
    body, public = _comment(reply)
    assert public and body == record["text"]
    assert body == ("Bonjour Camille Dupont, nous travaillons sur votre demande #35436. Pour avancer, "
                    "il nous faut : une capture d'écran de l'erreur. Alice vous recontacte sous 2 h.")
    [told] = _told(api, number)
    assert told["actor"] == "alice" and told["detail"]["message"] == "first_answer"

    _with_service_messages()
    record = ticketing.customer_reply(inc, "alice", "first_answer", {"need": "vos logs", "delay": "30 min"})
    assert record["text"] == "Ticket 35436 : il nous faut vos logs. Alice vous rappelle sous 30 min."


def test_a_first_answer_is_refused_without_its_fields_or_a_ticket(
        api: Api, fresh, tools: FakeTicketing) -> None:
    from chalicelib.incidents.records import get

    number = _ticket(api, tools)
    inc = get(number)
    assert inc is not None
    with pytest.raises(errors.BadRequest, match="'need'") as exc:
        ticketing.customer_reply(inc, "alice", "first_answer", {"delay": "2 h"})
    assert exc.value.code == "bad_need"
    with pytest.raises(errors.BadRequest, match="'delay'"):
        ticketing.customer_reply(inc, "alice", "first_answer", {"need": "x", "delay": "d" * 61})
    with pytest.raises(errors.BadRequest, match="'kind' must be one of acknowledgement, first_answer"):
        ticketing.customer_reply(inc, "alice", "survey", {})
    assert tools.calls_to("zendesk") == []

    other = get(api.trigger()["incident_number"])
    assert other is not None
    with pytest.raises(ticketing.NoTicket) as refused:
        ticketing.customer_reply(other, "alice", "first_answer", {"need": "x", "delay": "1 h"})
    assert refused.value.code == "no_ticket" and isinstance(refused.value, errors.Conflict)


def test_a_tool_that_refuses_the_reply_is_recorded_not_raised(api: Api, fresh, tools: FakeTicketing) -> None:
    from chalicelib.incidents.records import get

    number = _ticket(api, tools)
    inc = get(number)
    assert inc is not None
    tools.fail_next(1, 503)
    record = ticketing.customer_reply(inc, "alice", "closure", {})
    assert record["ok"] is False and record["reply"]["status"] == 503
    assert REOPEN_FR in record["text"]
    [told] = _told(api, number)
    assert told["detail"]["ok"] is False


# ---------------------------------------------------------------- review: the closure's note

def _key(api: Api, tools: FakeTicketing, source: str, **options: Any) -> str:
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", headers=_auth(api), timeout=10,
                      json={"source": source, "label": "review",
                            "options": {**CREDENTIALS[source], **options, "api_base": tools.base(source)}})
    assert r.status_code == 201, r.text
    return str(r.json()["url"])


def _open(api: Api, url: str, doc: dict[str, Any]) -> int:
    r = api.http.post(url, json=doc, timeout=10)
    assert r.status_code == 202, r.text
    return int(r.json()["events"][0]["incident_number"])


def _payload(tool: str) -> dict[str, Any]:
    return dict(json.loads((PAYLOADS / PAYLOAD_FILES[tool]).read_text()))


def _resolve(api: Api, number: int) -> None:
    r = api.http.post(f"{api.base}/v1/incidents/{number}/resolve", headers=_auth(api), json={}, timeout=10)
    assert r.status_code == 200, r.text


def test_the_closure_note_does_not_say_the_requester_was_told_when_nobody_told_them(
        api: Api, fresh, tools: FakeTicketing) -> None:
    """The integration says reply_to_requester: false: the note used to say "le demandeur est
    prévenu" (written before the reply was even tried) and nobody wrote to them."""
    number = _open(api, _key(api, tools, "zendesk", reply_to_requester=False), _payload("zendesk"))
    _resolve(api, number)
    [note] = tools.calls_to("zendesk")
    body, public = _comment(note)
    assert public is False
    assert "prévenu" not in body and "told" not in body, body


def test_the_closure_note_says_the_reply_failed(api: Api, fresh, tools: FakeTicketing) -> None:
    number = _open(api, _key(api, tools, "zendesk"), _payload("zendesk"))
    tools.fail_next(1, 503)  # the reply
    _resolve(api, number)
    reply, note = tools.calls_to("zendesk")
    assert _comment(reply)[1] is True
    body, public = _comment(note)
    assert not public and "prévenu" not in body
    assert body.endswith("Le message au demandeur n'a pas pu être envoyé (503) : il ne sait rien.")
    [told] = _told(api, number)
    assert told["detail"]["reply"]["ok"] is False and told["detail"]["note"]["ok"] is True


# ---------------------------------------------------------------- review: our own comments echoed

def _echo(tool: str, doc: dict[str, Any]) -> dict[str, Any]:
    """What the tool posts after our comment: Jira a jira:issue_updated (issue_commented) for
    the same issue, still open; a Zendesk or Freshdesk trigger firing on every update the
    same ticket, its status unchanged."""
    echo = copy.deepcopy(doc)
    if tool == "jira":
        echo.update(webhookEvent="jira:issue_updated", issue_event_type_name="issue_commented",
                    comment={"body": "Hello Jordan Lee, your request #HELP-42 is resolved ..."})
    return echo


@pytest.mark.parametrize("tool", ["jira", "zendesk", "freshdesk"])
def test_our_own_closure_comment_does_not_page_the_team_again(
        api: Api, fresh, tools: FakeTicketing, tool: str) -> None:
    """Resolving from our side comments on the ticket but leaves it open; the tool tells us
    about that comment, the incident's dedup pointer was deleted on resolve, and that webhook
    used to open a NEW incident paging Alice again (and acknowledging it told the requester
    once more): a loop our own write-back started."""
    url = _key(api, tools, tool)
    created = _payload(tool)
    number = _open(api, url, created)
    fresh.fake.wait_for(kind="sms", to=ALICE)
    _resolve(api, number)
    assert len(tools.calls_to(tool)) == 2  # the closure and the internal note, both comments
    pages_before = len(fresh.fake.messages())

    r = api.http.post(url, json=_echo(tool, created), timeout=10)
    assert r.status_code == 202, r.text
    events = r.json()["events"]
    assert not any(e.get("new") for e in events), events
    assert [e["incident_number"] for e in events] == [number]
    assert len(fresh.fake.messages()) == pages_before
    assert len(tools.calls_to(tool)) == 2


def test_a_customer_reply_echoed_is_no_incident_but_a_status_change_still_pages(
        api: Api, fresh, tools: FakeTicketing) -> None:
    """The echo is recognised for a while (ticketing.ECHO_SECONDS) and only while the ticket's
    status is the one we knew: someone moving the ticket is news."""
    from chalicelib import clock

    url = _key(api, tools, "jira")
    created = _payload("jira")
    number = _open(api, url, created)
    fresh.fake.wait_for(kind="sms", to=ALICE)
    r = api.http.post(f"{api.base}/v1/incidents/{number}/customer_reply", headers=_auth(api), timeout=10,
                      json={"kind": "first_answer", "need": "la sortie de ipconfig", "delay": "1 h"})
    assert r.status_code == 200, r.text
    _resolve(api, number)
    r = api.http.post(url, json=_echo("jira", created), timeout=10)
    assert not r.json()["events"][0]["new"]

    moved = _echo("jira", created)
    moved["issue"]["fields"]["status"] = {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}
    r = api.http.post(url, json=moved, timeout=10)
    assert r.json()["events"][0]["new"] is True
    _resolve(api, r.json()["events"][0]["incident_number"])

    clock.advance(ticketing.ECHO_SECONDS + 1)  # long after our write: an update of an open ticket pages
    r = api.http.post(url, json=_echo("jira", created), timeout=10)
    assert r.json()["events"][0]["new"] is True


def test_the_echo_is_told_by_the_status_the_tool_last_sent(api: Api, fresh, tools: FakeTicketing) -> None:
    """The support team moved the issue to In Progress while the incident was open (a repeat):
    our closure's echo carries that status, and is still ours."""
    url = _key(api, tools, "jira")
    created = _payload("jira")
    number = _open(api, url, created)
    moved = copy.deepcopy(created)
    moved.update(webhookEvent="jira:issue_updated", issue_event_type_name="issue_generic")
    moved["issue"]["fields"]["status"] = {"name": "In Progress", "statusCategory": {"key": "indeterminate"}}
    r = api.http.post(url, json=moved, timeout=10)
    assert r.json()["events"][0] == {"action": "trigger", "dedup_key": "jira:HELP-42",
                                     "incident_number": number, "new": False}
    _resolve(api, number)
    pages_before = len(fresh.fake.messages())
    r = api.http.post(url, json=_echo("jira", moved), timeout=10)
    assert r.json()["events"][0]["new"] is False
    assert len(fresh.fake.messages()) == pages_before


# ---------------------------------------------------------------- review: retries, failures, merges

def test_a_customer_reply_retried_with_its_idempotency_key_is_posted_once(
        api: Api, fresh, tools: FakeTicketing) -> None:
    """Every other action acts once per Idempotency-Key; customer_reply dropped the key, so a
    client's retry posted the public reply to the customer twice."""
    number = _open(api, _key(api, tools, "zendesk"), _payload("zendesk"))
    body = {"kind": "first_answer", "need": "une capture d'écran", "delay": "2 h"}
    answers = []
    for _ in range(2):
        r = api.http.post(f"{api.base}/v1/incidents/{number}/customer_reply", json=body, timeout=10,
                          headers={**_auth(api), "Idempotency-Key": "reply-1"})
        assert r.status_code == 200, r.text
        answers.append(r.json())
    assert len(tools.calls_to("zendesk")) == 1
    assert answers[0] == answers[1]
    assert len(_told(api, number)) == 1


def test_a_customer_reply_the_tool_refused_is_tried_again_with_the_same_key(
        api: Api, fresh, tools: FakeTicketing) -> None:
    number = _open(api, _key(api, tools, "zendesk"), _payload("zendesk"))
    body = {"kind": "first_answer", "need": "une capture d'écran", "delay": "2 h"}
    headers = {**_auth(api), "Idempotency-Key": "reply-2"}
    url = f"{api.base}/v1/incidents/{number}/customer_reply"
    tools.fail_next(1, 503)
    r = api.http.post(url, json=body, timeout=10, headers=headers)
    assert r.status_code == 502, r.text
    for _ in range(2):  # tried again, then answered from the first that went through
        r = api.http.post(url, json=body, timeout=10, headers=headers)
        assert r.status_code == 200, r.text
    assert len(tools.calls_to("zendesk")) == 2  # the refused one, and the one taken


def test_a_failing_ticket_write_back_never_fails_the_resolve(
        api: Api, fresh, tools: FakeTicketing, monkeypatch: pytest.MonkeyPatch) -> None:
    """The resolve is stored before the ticket is told: a failure there (the store not
    answering the integration's options) is logged and counted, never a 500."""
    number = _open(api, _key(api, tools, "zendesk"), _payload("zendesk"))

    def down(*_: Any) -> None:
        raise RuntimeError("the store did not answer")

    monkeypatch.setattr(ticketing, "integration_options", down)
    before = metrics.totals().get("HandlerErrors", 0)
    _resolve(api, number)
    assert metrics.totals().get("HandlerErrors", 0) == before + 1
    assert api.incident(number)["state"] == "resolved"
    assert tools.calls_to("zendesk") == []


def test_a_merged_duplicates_requester_gets_the_closure_with_the_kept_incident(
        api: Api, fresh, tools: FakeTicketing) -> None:
    """Two tickets about one outage, one merged into the other: resolving the kept incident
    closes both requesters' tickets with their message (the duplicate's was resolved by the
    merge, which tells nobody: the outage was not over)."""
    url = _key(api, tools, "zendesk")
    kept = _open(api, url, _payload("zendesk"))
    second = _payload("zendesk")
    second["ticket"]["id"] = "35437"
    duplicate = _open(api, url, second)
    r = api.http.post(f"{api.base}/v1/incidents/{duplicate}/merge", headers=_auth(api), json={"into": kept},
                      timeout=10)
    assert r.status_code == 200, r.text
    assert tools.calls_to("zendesk") == []
    _resolve(api, kept)
    paths = sorted(c["path"] for c in tools.calls_to("zendesk"))
    assert paths == ["/api/v2/tickets/35436.json"] * 2 + ["/api/v2/tickets/35437.json"] * 2
    assert [t["detail"]["message"] for t in _told(api, duplicate)] == ["closure"]


# ---------------------------------------------------------------- walkthrough: closure once, local times

def _local(iso: str, lang: str = "fr") -> str:
    """An ISO time as the team's notes write it (the support team: Europe/Paris)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    t = datetime.fromtimestamp(clock.parse_iso(iso), ZoneInfo("Europe/Paris"))
    if lang == "fr":
        return f"{t:%d/%m/%Y} à {t:%H:%M} (Europe/Paris)"
    return f"{t.day} {t:%b} {t.year} at {t:%H:%M} (Europe/Paris)"


def test_a_closure_already_sent_by_customer_reply_is_not_sent_again_at_resolve(
        api: Api, fresh, tools: FakeTicketing) -> None:
    """An agent sends the closure message (customer_reply kind closure) on an open incident,
    then resolves it: the requester gets the closure once; the internal note says when they
    were told, in the team's local time, not a raw ISO time."""
    number = _ticket(api, tools)
    fresh.fake.wait_for(kind="sms", to=ALICE)
    r = api.http.post(f"{api.base}/v1/incidents/{number}/customer_reply", headers=_auth(api), timeout=10,
                      json={"kind": "closure"})
    assert r.status_code == 200, r.text
    [closure] = tools.calls_to("zendesk")
    assert _comment(closure)[1] is True and REOPEN_FR in _comment(closure)[0]
    clock.advance(1800)

    _resolve(api, number)
    calls = tools.calls_to("zendesk")
    assert len(calls) == 2, [_comment(c) for c in calls]  # the note only: no second closure
    body, public = _comment(calls[1])
    told_first, told_now = _told(api, number)
    resolved_at = api.incident(number)["resolved_at"]
    assert not public
    assert body == (f"[Astreinte] Résolu par Carol Durand le {_local(resolved_at)}. "
                    f"Le demandeur a été prévenu le {_local(told_first['at'])}."), body
    assert "T" not in body.split(" le ")[1][:12]  # no ISO time left
    assert told_first["detail"]["message"] == told_now["detail"]["message"] == "closure"
    assert told_now["detail"]["reply"] == {"ok": True, "sent_before": told_first["at"]}


def test_a_closure_that_failed_is_sent_at_resolve_and_notes_speak_the_teams_time_in_english(
        api: Api, fresh, tools: FakeTicketing) -> None:
    number = _open(api, _key(api, tools, "zendesk", language="en"), _payload("zendesk"))
    tools.fail_next(1, 503)
    r = api.http.post(f"{api.base}/v1/incidents/{number}/customer_reply", headers=_auth(api), timeout=10,
                      json={"kind": "closure"})
    assert r.status_code in (200, 502), r.text  # the tool refused it: the requester knows nothing yet
    assert api.act(number, "acknowledge").status_code == 200
    _resolve(api, number)
    texts = [_comment(c) for c in tools.calls_to("zendesk")]
    # failed closure, acknowledgement note + reply, then the closure again and its note
    assert [public for _, public in texts] == [True, False, True, True, False], texts
    inc = api.incident(number)
    acknowledged = _local(inc["acknowledged_at"], "en")
    assert texts[1][0] == f"[Astreinte] Acknowledged by Carol Durand on {acknowledged}."
    assert texts[4][0] == (f"[Astreinte] Resolved by Carol Durand on {_local(inc['resolved_at'], 'en')}. "
                           "The requester has been told.")


def test_an_unknown_customer_reply_kind_is_named_with_the_kinds_in_both_languages(
        api: Api, fresh, tools: FakeTicketing) -> None:
    from chalicelib import tokens

    number = _ticket(api, tools)
    kinds = "acknowledgement, first_answer, closure"
    for token, said in ((api.token, f"'kind' doit être l'un de {kinds}, pas 'bogus'"),
                        (tokens.create("bob", "tests"), f"'kind' must be one of {kinds}, not 'bogus'")):
        r = api.http.post(f"{api.base}/v1/incidents/{number}/customer_reply", timeout=10,
                          headers={"Authorization": f"Bearer {token}"}, json={"kind": "bogus"})
        assert r.status_code == 400 and r.json()["error"] == "bad_kind", r.text
        assert said in r.json()["message"], r.json()
    assert tools.calls_to("zendesk") == []

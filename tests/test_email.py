"""Email, end to end over the local stack, as the people involved would try it.

The email channel sends through Amazon SES v2 (boto3); locally AWS_ENDPOINT_URL_SESV2 points it
at the fake providers, which record each email (subject, text and HTML parts) as the recipient's
mailbox would show it.  Each test writes its own copy of tests/rotas/team.yaml into tmp_path (the
rotas, policies and services of team.yaml with their integration keys; the people changed for the
test) and syncs it after the `fresh` fixture, so the shared team.yaml keeps its message counts.
Time moves only on the service's clock; nothing sleeps.
"""
from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from conftest import ROOT, Api

from chalicelib import clock, config, incidents, tokens
from chalicelib.rotas import directory
from chalicelib.rotas import load as rotas

PARIS = ZoneInfo("Europe/Paris")
TEAM = (ROOT / "tests" / "rotas" / "team.yaml").read_text()
_start = re.search(r"^rotas:$", TEAM, re.M)
assert _start is not None, "tests/rotas/team.yaml has no top-level rotas: section"
TEAM_BUT_PEOPLE = TEAM[_start.start():]  # rotas, policies, services (with their integration keys)

SENDER = "Astreinte <astreinte@example.org>"  # devstack's ASTREINTE_EMAIL_FROM
ALICE_MAIL, CAROL_MAIL = "alice@example.org", "carol@example.org"
ALICE, BOB, CAROL = "+33600000001", "+447700900002", "+33600000003"
LINK = re.compile(r"https?://\S+/l/[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+")
A_HREF = re.compile(r'<a href="([^"]*)">([^<]*)</a>')


# ---------------------------------------------------------------- helpers

def person(pid: str, name: str, lang: str, phone: str, notify: str, slack: str | None = None,
           email: str | None = None) -> str:
    """One person of the people section, as a YAML flow mapping."""
    extra = (f", slack: {slack}" if slack else "") + (f", email: {email}" if email else "")
    return (f'  - {{id: {pid}, name: {name}, language: {lang}, phone: "{phone}"{extra}, '
            f"notify: {notify}}}\n")


# team.yaml's people, as they are there.
PEOPLE = {
    "alice": person("alice", "Alice Martin", "fr", ALICE, "[{channel: slack}, {channel: sms}, "
                    "{channel: voice, after: 2m, severities: [critique]}]", slack="U0ALICE"),
    "bob": person("bob", "Bob Smith", "en", BOB, "[{channel: voice}]", slack="U0BOB"),
    "carol": person("carol", "Carol Durand", "fr", CAROL, "[{channel: sms}]", slack="U0CAROL"),
    "dan": person("dan", "Dan Moreau", "en", "+33600000004", "[{channel: sms}]"),
}


def alice_by_email(lang: str = "fr") -> str:
    """Alice, the agent on call, whose only rule is email (she keeps her phone and Slack)."""
    return person("alice", "Alice Martin", lang, ALICE, "[{channel: email}]", slack="U0ALICE",
                  email=ALICE_MAIL)


def sync_team(tmp_path: Path, **changed: str) -> None:
    """Load and sync team.yaml with some people replaced, as `make run` syncs rotas/."""
    people = "".join(changed.get(pid, line) for pid, line in PEOPLE.items())
    (tmp_path / "team.yaml").write_text("people:\n" + people + TEAM_BUT_PEOPLE)
    directory.sync(rotas.load_dir(tmp_path))


def entries(inc: dict, kind: str) -> list[dict]:
    return [e for e in inc["timeline"] if e["kind"] == kind]


def links_in_text(mail: dict) -> dict[str, str]:
    """The action links of an email's text part, by their label ("Clore : http://…")."""
    found = {}
    for line in mail["text"].splitlines():
        url = LINK.search(line)
        if url:
            found[line[:url.start()].rstrip(" :")] = url.group(0)
    return found


def links_in_html(mail: dict) -> dict[str, str]:
    """The <a href> of an email's HTML part, by their text, unescaped as a mail client does."""
    return {html.unescape(label): html.unescape(url) for url, label in A_HREF.findall(mail["html"])}


def nothing_else_to_alice(fake: Any) -> None:
    """Alice's rules say email only: no SMS, call or Slack message reached her."""
    assert fake.messages(kind="sms", to=ALICE) == []
    assert fake.messages(kind="call", to=ALICE) == []
    assert fake.messages(kind="slack", channel="U0ALICE") == []


def move_to(when: datetime) -> None:
    clock.advance(when.timestamp() - clock.now())


# ---------------------------------------------------------------- the page

PAGE_WORDS = {
    "fr": {"subject": "[Astreinte] #{n} ÉLEVÉ Helpdesk : Disk full on db-1",
           "head": "Incident #{n} — gravité élevée, service Helpdesk",
           "source": "Source : db-1 · déclenché à ",
           "ack": "Prendre en charge", "resolve": "Clore",
           "acked": "vous l'avez pris en charge", "resolved": "clos. Merci"},
    "en": {"subject": "[Astreinte] #{n} HIGH Helpdesk: Disk full on db-1",
           "head": "Incident #{n} — severity high, service Helpdesk",
           "source": "Source: db-1 · triggered at ",
           "ack": "Acknowledge", "resolve": "Resolve",
           "acked": "you have it", "resolved": "resolved. Thank you"},
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_page_by_email_in_the_persons_language_and_its_links_work(api: Api, fresh, tmp_path: Path,
                                                                  lang: str) -> None:
    fake = fresh.fake
    words = PAGE_WORDS[lang]
    sync_team(tmp_path, alice=alice_by_email(lang))

    n = api.trigger(dedup="disk-db-1")["incident_number"]

    mail = fake.wait_for(kind="email", to=ALICE_MAIL)
    assert mail["from"] == SENDER and mail["to_all"] == [ALICE_MAIL] and mail["cc"] == []
    assert mail["subject"] == words["subject"].format(n=n)
    body = mail["text"]
    assert body.startswith(words["head"].format(n=n)), body
    assert "\n\nDisk full on db-1\n\n" in body and words["source"] in body
    in_text = links_in_text(mail)
    assert list(in_text) == [words["ack"], words["resolve"]], body
    assert all(url.startswith(f"{api.base}/l/") for url in in_text.values())
    # The HTML part says the same, and its buttons are the same links.
    assert words["head"].format(n=n) in html.unescape(mail["html"]) and "Disk full on db-1" in mail["html"]
    assert links_in_html(mail) == in_text
    nothing_else_to_alice(fake)
    assert len(fake.messages(kind="email")) == 1

    r = requests.post(in_text[words["ack"]], headers={"Accept": "application/json"}, timeout=10)

    assert r.status_code == 200, r.text
    assert r.json()["result"] == "acknowledged" and r.json()["by"] == "alice"
    assert words["acked"] in r.json()["message"]
    inc = api.incident(n)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice"
    [paged] = entries(inc, "paged")
    assert paged["channel"] == "email"
    assert paged["detail"]["to"] == "alice" and paged["detail"]["ok"] is True
    assert paged["detail"]["ref"] == mail["message_id"]
    [ack] = entries(inc, "acknowledged")
    assert ack["actor"] == "alice" and ack["channel"] == "link"

    # The resolve button of the HTML part closes it.
    r = requests.post(links_in_html(mail)[words["resolve"]], headers={"Accept": "application/json"},
                      timeout=10)

    assert r.status_code == 200, r.text
    assert words["resolved"] in r.json()["message"]
    inc = api.incident(n)
    assert inc["state"] == "resolved" and inc["resolved_by"] == "alice"
    assert len(fake.messages(kind="email")) == 1  # she took and closed it herself: told nothing


def test_summary_is_escaped_in_html_verbatim_in_text_and_on_one_line_in_the_subject(
        api: Api, fresh, tmp_path: Path) -> None:
    fake = fresh.fake
    sync_team(tmp_path, alice=alice_by_email("en"))
    summary = 'Quota <b>&"db"</b> exceeded\nsecond line <script>x</script>'

    n = api.trigger(dedup="quota", summary=summary)["incident_number"]

    mail = fake.wait_for(kind="email", to=ALICE_MAIL)
    assert summary in mail["text"]  # the text part: what the monitoring tool said, as it said it
    assert "<b>" not in mail["html"] and "<script>" not in mail["html"]
    assert "Quota &lt;b&gt;&amp;&quot;db&quot;&lt;/b&gt; exceeded" in mail["html"]
    assert "&lt;script&gt;x&lt;/script&gt;" in mail["html"]
    assert len(A_HREF.findall(mail["html"])) == 2  # only the acknowledge and resolve buttons
    assert "\n" not in mail["subject"] and "\r" not in mail["subject"]
    assert mail["subject"] == (f'[Astreinte] #{n} HIGH Helpdesk: Quota <b>&"db"</b> exceeded '
                               "second line <script>x</script>")


@pytest.mark.parametrize("summary", ["Cleanup of /tmp/*.log and /var/*.tmp failed",
                                     "Job failed: ```exit 1``` on db-1"])
def test_asterisks_and_backticks_of_a_summary_stay_as_written_in_the_html(api: Api, fresh, tmp_path: Path,
                                                                          summary: str) -> None:
    """A summary is data: the HTML part shows it as the monitoring tool wrote it, not as Slack markup."""
    fake = fresh.fake
    sync_team(tmp_path, alice=alice_by_email("en"))

    api.trigger(dedup="cleanup", summary=summary)

    mail = fake.wait_for(kind="email", to=ALICE_MAIL)
    assert summary in mail["text"]
    assert html.escape(summary) in mail["html"], mail["html"]
    assert "<b>" not in mail["html"] and "<pre>" not in mail["html"], mail["html"]


# ---------------------------------------------------------------- someone else takes it

def taken_by_carol(api: Api, fake: Any, tmp_path: Path) -> int:
    """Alice (email only) is paged, then Bob (Slack only) five minutes later; Carol, whom the
    pages did not reach, takes the incident through the API."""
    bob_on_slack = person("bob", "Bob Smith", "en", BOB, "[{channel: slack}]", slack="U0BOB")
    sync_team(tmp_path, alice=alice_by_email("fr"), bob=bob_on_slack)
    n = api.trigger(dedup="disk-db-1")["incident_number"]
    fake.wait_for(kind="email", to=ALICE_MAIL)
    clock.advance(5 * 60 + 1)
    incidents.sweep()
    fake.wait_for(kind="slack", channel="U0BOB")
    r = api.act(n, "acknowledge")
    assert r.status_code == 200 and r.json()["by"] == "carol", r.text
    return n


def test_someone_else_acknowledges_email_is_told_by_email_slack_page_is_updated(
        api: Api, fresh, tmp_path: Path) -> None:
    fake = fresh.fake
    n = taken_by_carol(api, fake, tmp_path)

    # Alice, paged by email, gets a second email saying who took it, in French.
    taken = fake.wait_for(kind="email", to=ALICE_MAIL, predicate=lambda m: "pris en charge par" in m["text"])
    assert taken["text"].strip() == f"[Astreinte] #{n} pris en charge par Carol Durand (api)."
    assert "pris en charge par Carol Durand" in taken["html"]
    nothing_else_to_alice(fake)
    # Bob, paged on Slack, sees his message change in place and gets nothing else.
    dm = fake.wait_for(kind="slack", channel="U0BOB")
    assert dm["updates"], "Bob's Slack page was not updated when Carol took the incident"
    assert "Acknowledged by Carol Durand" in str(dm["blocks"])
    buttons = [el["action_id"] for b in dm["blocks"] or [] if b.get("type") == "actions"
               for el in b["elements"]]
    assert "ack" not in buttons and "resolve" in buttons, buttons
    assert fake.messages(kind="sms", to=BOB) == [] and len(fake.messages(kind="slack", channel="U0BOB")) == 1
    # Carol, who did it, is told nothing; no one else got an email.
    assert fake.messages(kind="sms", to=CAROL) == [] and fake.messages(kind="slack", channel="U0CAROL") == []
    assert [m["to"] for m in fake.messages(kind="email")] == [ALICE_MAIL, ALICE_MAIL]

    notified = [e["detail"] for e in entries(api.incident(n), "notified")]
    told = {(d.get("person") or d["to"], d["channel"], d.get("notice")) for d in notified if d["ok"]}
    assert told == {("alice", "email", "taken"), ("bob", "slack", "update"), ("bob", "slack", "taken")}
    assert [d.get("skipped") for d in notified if d["to"] == "bob" and d.get("notice") == "taken"] == \
        ["page updated in place"]

    # Carol closes it: Alice hears that by email too.
    assert api.act(n, "resolve").status_code == 200
    closed = fake.wait_for(kind="email", to=ALICE_MAIL, predicate=lambda m: "clos par" in m["text"])
    assert closed["text"].strip() == f"[Astreinte] #{n} clos par Carol Durand (api)."
    assert len(fake.messages(kind="email")) == 3 and fake.messages(kind="sms", to=BOB) == []


def test_taken_notice_email_says_which_incident_in_its_subject(api: Api, fresh, tmp_path: Path) -> None:
    """An inbox shows subjects: "Astreinte" alone does not tell Alice which incident was taken."""
    fake = fresh.fake
    n = taken_by_carol(api, fake, tmp_path)

    taken = fake.wait_for(kind="email", to=ALICE_MAIL, predicate=lambda m: "pris en charge par" in m["text"])

    assert f"#{n}" in taken["subject"] and "pris en charge" in taken["subject"], taken["subject"]


# ---------------------------------------------------------------- SES failing

@pytest.mark.parametrize("failures, status, calls, delivered, error", [
    (2, 500, 3, True, None),  # transient: retried twice, the third call gets through
    (3, 500, 3, False, "InternalServiceErrorException"),  # still failing after two retries
    (1, 400, 1, False, "BadRequestException"),  # SES refuses the request: no retry
    (1, 429, 2, True, None),  # throttled once: retried
])
def test_ses_failures_are_retried_when_transient_and_said_on_the_timeline(
        api: Api, fresh, tmp_path: Path, failures: int, status: int, calls: int, delivered: bool,
        error: str | None) -> None:
    fake = fresh.fake
    sync_team(tmp_path, alice=alice_by_email("fr"))
    fake.fail_next(failures, status, service="ses")

    n = api.trigger(dedup="disk-db-1")["incident_number"]
    incidents.sweep()  # the timer's run: a fallback is due at once

    ses = fake.api_calls("ses")
    assert [c["status"] for c in ses] == [status] * failures + [200] * (calls - failures)
    assert all(c["params"]["Destination"]["ToAddresses"] == [ALICE_MAIL] for c in ses)
    paged, *fallback = entries(api.incident(n), "paged")
    assert paged["channel"] == "email" and paged["detail"]["to"] == "alice"
    assert paged["detail"]["ok"] is delivered
    mails = fake.messages(kind="email")
    if delivered:
        assert [m["to"] for m in mails] == [ALICE_MAIL]
        assert paged["detail"]["ref"] == mails[0]["message_id"]
        assert fallback == []
        nothing_else_to_alice(fake)
    else:
        assert mails == []
        said = paged["detail"]["error"]
        assert error in said and f"Injected failure (HTTP {status})" in said, said
        assert "ref" not in paged["detail"]
        # Tried again later unless SES refused it for good; her next channel (her phone) at once.
        assert ("retry_at" in paged["detail"]) is (status >= 500)
        assert paged["detail"]["fallback"] == "sms"
        assert [(f["channel"], f["detail"]["ok"]) for f in fallback] == [("sms", True)]
        assert len(fake.messages(kind="sms", to=ALICE)) == 1


@pytest.fixture()
def no_email_sender(monkeypatch: pytest.MonkeyPatch, fresh) -> Iterator[None]:
    """The operator forgot ASTREINTE_EMAIL_FROM (no verified SES sender)."""
    monkeypatch.delenv("ASTREINTE_EMAIL_FROM")
    config.reload()
    yield
    monkeypatch.undo()
    config.reload()


def test_page_without_an_email_sender_says_so_on_the_timeline(api: Api, fresh, tmp_path: Path,
                                                              no_email_sender: None) -> None:
    fake = fresh.fake
    sync_team(tmp_path, alice=alice_by_email("fr"))

    n = api.trigger(dedup="disk-db-1")["incident_number"]
    incidents.sweep()  # the timer's run: a fallback is due at once

    paged, fallback = entries(api.incident(n), "paged")
    assert paged["channel"] == "email" and paged["detail"]["ok"] is False
    assert "ASTREINTE_EMAIL_FROM" in paged["detail"]["error"]
    assert "retry_at" in paged["detail"]  # a setting can be fixed meanwhile: tried again
    assert fake.api_calls("ses") == [] and fake.messages(kind="email") == []
    assert fallback["channel"] == "sms" and fallback["detail"]["ok"] is True  # her phone, at once


# ---------------------------------------------------------------- rotas-check

BAD_PEOPLE = """\
people:
  - id: erin
    name: Erin Blake
    language: en
    phone: "+33600000005"
    notify:
      - channel: email
  - id: fabien
    name: Fabien Roux
    language: fr
    email: {bad}
    notify: [{{channel: email}}]
"""


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


@pytest.mark.parametrize("bad", ["fabien(at)example.org", "fabien@example", "fabien @example.org",
                                 '"Fabien <fabien@example.org>"'])
def test_rotas_check_refuses_email_rules_without_a_valid_address(tmp_path: Path, bad: str) -> None:
    text = BAD_PEOPLE.format(bad=bad)
    (tmp_path / "people.yaml").write_text(text)

    with pytest.raises(rotas.RotaError) as refused:
        rotas.load_dir(tmp_path)

    problems = refused.value.problems
    assert f"people.yaml:{line_of(text, '- channel: email')}: people[0].notify[0]: channel email needs " \
           "an email address" in problems, problems
    shown = bad.strip('"')
    assert f"people.yaml:{line_of(text, 'email: ')}: people[1].email: '{shown}' is not an email address " \
           "like alice@example.org" in problems, problems
    assert len(problems) == 2, problems

    # The same people, with addresses, are accepted.
    fixed = text.replace("    phone:", "    email: erin@example.org\n    phone:")
    fixed = fixed.replace(bad, "fabien@example.org")
    (tmp_path / "people.yaml").write_text(fixed)
    people = rotas.load_dir(tmp_path)["people"]
    assert people["erin"]["email"] == "erin@example.org" and people["fabien"]["email"] == "fabien@example.org"
    assert [r["channel"] for r in people["erin"]["notify"]] == ["email"]


# ---------------------------------------------------------------- managers

def next_tuesday_2am() -> datetime:
    now = datetime.fromtimestamp(clock.now(), PARIS)
    d = now.date() + timedelta(days=(1 - now.weekday()) % 7 or 7)
    return datetime(d.year, d.month, d.day, 2, 0, tzinfo=PARIS)


@pytest.fixture()
def night_with_email_manager(api: Api, fresh, tmp_path: Path) -> dict:
    """Carol, the team's manager, reads English and has an email and no Slack.  Alice is paged at
    02:00 on a Tuesday, takes the incident at 02:03 and closes it at 02:33: 6.45 h of rest before
    09:00."""
    carol = person("carol", "Carol Durand", "en", CAROL, "[{channel: sms}]", email=CAROL_MAIL)
    sync_team(tmp_path, carol=carol)
    start = next_tuesday_2am()
    move_to(start)
    n = api.trigger(dedup="night-1", summary="Database unreachable")["incident_number"]
    fresh.fake.wait_for(kind="sms", to=ALICE)
    alice = tokens.create("alice", "phone")
    move_to(start + timedelta(minutes=3))
    assert api.act(n, "acknowledge", token=alice).status_code == 200
    move_to(start + timedelta(minutes=33))
    assert api.act(n, "resolve", token=alice).status_code == 200
    return {"number": n, "start": start, "month": start.strftime("%Y-%m")}


def nothing_else_to_carol(fake: Any) -> None:
    assert fake.messages(kind="sms", to=CAROL) == [] and fake.messages(kind="slack", channel="U0CAROL") == []


def test_manager_without_slack_gets_the_rest_warning_by_email_once(night_with_email_manager: dict,
                                                                   fresh) -> None:
    from chalicelib.notices import managers

    fake, night = fresh.fake, night_with_email_manager
    day = night["start"]

    assert managers.send_rest_notices(now=day.replace(hour=7, minute=30).timestamp()) == 0  # too early
    assert fake.messages(kind="email") == []
    assert managers.send_rest_notices(now=day.replace(hour=8, minute=30).timestamp()) == 1

    mail = fake.wait_for(kind="email", to=CAROL_MAIL)
    assert mail["from"] == SENDER and mail["subject"] == "[Astreinte] Short rest: Alice Martin"
    said = mail["text"]
    assert "Alice Martin worked at night until" in said and f"(incident #{night['number']})" in said
    assert "6.45 h of rest, less than 11 h" in said and "Please adjust their start time" in said
    assert "6.45 h of rest" in mail["html"]
    assert managers.send_rest_notices(now=day.replace(hour=9, minute=30).timestamp()) == 0  # the next run
    assert [m["subject"] for m in fake.messages(kind="email")] == [mail["subject"]]
    nothing_else_to_carol(fake)


def first_of_next_month_9am(night: dict) -> float:
    first = (night["start"].date().replace(day=28) + timedelta(days=5)).replace(day=1)
    return datetime(first.year, first.month, first.day, 9, tzinfo=PARIS).timestamp()


def test_manager_without_slack_gets_the_monthly_summary_by_email_once(night_with_email_manager: dict,
                                                                      fresh) -> None:
    from chalicelib.notices import managers

    fake, night = fresh.fake, night_with_email_manager
    at = first_of_next_month_9am(night)

    assert managers.send_monthly_summaries(now=at) == 1

    mail = fake.wait_for(kind="email", to=CAROL_MAIL)
    assert mail["subject"] == f"[Astreinte] support — {night['month']} in review"
    assert f"Astreinte — support, {night['month']}" in mail["text"] and "Incidents: 1" in mail["text"]
    assert "time to acknowledge median 3 min" in mail["text"]
    assert "On-call and intervention hours" in mail["text"] and "Alice Martin" in mail["text"]
    assert f"{config.settings().public_url}/dashboard" in mail["text"] and "Alice Martin" in mail["html"]
    assert managers.send_monthly_summaries(now=at + 3600) == 0  # the job runs again: nothing twice
    assert [m["subject"] for m in fake.messages(kind="email")] == [mail["subject"]]
    nothing_else_to_carol(fake)


def test_monthly_summary_email_carries_no_slack_markup(night_with_email_manager: dict, fresh) -> None:
    """Slack's *bold* and ``` fences are noise in an email; the table needs a fixed-width font."""
    from chalicelib.notices import managers

    fake = fresh.fake
    assert managers.send_monthly_summaries(now=first_of_next_month_9am(night_with_email_manager)) == 1

    mail = fake.wait_for(kind="email", to=CAROL_MAIL)

    assert "```" not in mail["text"] and "```" not in mail["html"], mail["text"]
    assert "*Astreinte" not in mail["text"], mail["text"]
    assert "<pre" in mail["html"] or "<table" in mail["html"], mail["html"]


# ---------------------------------------------------------------- handoff notices

HANDOFF = """
people:
  - {{id: ann, name: Ann Lee, language: en, phone: "+33611111111", slack: U0ANN, email: ann@example.org,
     notify: [{{channel: email}}]}}
  - {{id: zoe, name: Zoé Roy, language: fr, phone: "+33622222222", slack: U0ZOE, email: zoe@example.org,
     notify: [{{channel: email}}]}}
rotas:
  - id: desk
    name: Desk
    timezone: Europe/Paris
    handoff_notice: {{before: 30m}}
    layers:
      agent: {{participants: [ann, zoe], shift: daily, handoff: "09:00", start: {start}}}
"""


def test_handoff_notice_goes_by_email_to_people_whose_rules_say_email(fresh, tmp_path: Path) -> None:
    from chalicelib.notices import handoffs

    fake = fresh.fake
    day = datetime.fromtimestamp(clock.now(), PARIS).date() + timedelta(days=14)
    (tmp_path / "desk.yaml").write_text(HANDOFF.format(start=day.isoformat()))
    directory.sync(rotas.load_dir(tmp_path))

    def at(days: int, hour: int, minute: int = 0) -> datetime:
        d = day + timedelta(days=days)
        return datetime(d.year, d.month, d.day, hour, minute, tzinfo=PARIS)

    move_to(at(0, 8, 45))  # Ann (English) takes the first day at 09:00
    assert handoffs.send_due() == 1
    assert handoffs.send_due() == 0  # the next minute's run sends nothing again
    ann = fake.wait_for(kind="email", to="ann@example.org")
    assert ann["subject"] == "[Astreinte] Your on-call shift Desk — agent"
    start, end = (at(0, 9).strftime("%a %d %b %H:%M"), at(1, 9).strftime("%a %d %b %H:%M"))
    assert f"you are on call from {start} to {end} (Europe/Paris)" in ann["text"]

    move_to(at(1, 8, 35))  # Zoé (French) the next day
    assert handoffs.send_due() == 1
    zoe = fake.wait_for(kind="email", to="zoe@example.org")
    assert zoe["subject"] == "[Astreinte] Votre astreinte Desk — agent"
    start, end = (at(1, 9).strftime("%d/%m %H:%M"), at(2, 9).strftime("%d/%m %H:%M"))
    assert f"vous êtes d'astreinte du {start} au {end}" in zoe["text"]

    assert [m["to"] for m in fake.messages(kind="email")] == ["ann@example.org", "zoe@example.org"]
    assert fake.messages(kind="slack") == [] and fake.messages(kind="sms") == []

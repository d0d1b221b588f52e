"""Hostile input, from every door a stranger or a careless tool can reach: each test is one
finding measured against the running service, and asserts what a person would notice once it
is fixed (an answer instead of a closed connection, a 4xx naming the field instead of a 500, a
cell a spreadsheet does not run, a Slack page that pings nobody, a link preview that acknowledges
nothing)."""
from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
import urllib.parse
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import HELPDESK_KEY, ROOT, Api
from twilio.request_validator import RequestValidator

from chalicelib import clock, config, incidents, links

ALICE = "+33600000001"
SURROGATE_SUMMARY = (b'{"routing_key": "%s", "event_action": "trigger", "payload": '
                     b'{"summary": "a\\ud800b", "source": "db-1", "severity": "error"}}'
                     % HELPDESK_KEY.encode())
FORMULAS = ['=HYPERLINK("http://evil","x")', "+1", "-1+2", "@SUM(1)"]


# ---------------------------------------------------------------- helpers

def get(api: Api, path: str, **params: str) -> requests.Response:
    return api.http.get(f"{api.base}{path}", params=params, timeout=30,
                        headers={"Authorization": f"Bearer {api.token}"})


def page_sms(fake: Any, number: int) -> dict:
    return fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])


def assert_json_error(r: requests.Response, field: str, statuses: range = range(400, 500)) -> None:
    """A 4xx JSON answer {"error", "message"} whose message names `field`."""
    assert r.status_code in statuses, (r.status_code, r.text[:500])
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    body = r.json()
    assert body.get("error") and body.get("message"), body
    assert field in body["message"], (field, body)


def twilio_post(url: str, params: dict[str, str], auth_token: str) -> requests.Response:
    """POST a form signed as Twilio signs it."""
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, params)}
    return requests.post(url, data=urllib.parse.urlencode(params), headers=headers, timeout=10)


def csv_cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def assert_formulas_defused(text: str, hostile: list[str]) -> None:
    """Each hostile value is a cell of its own, prefixed by a single quote (OWASP CSV injection),
    and no cell starts with = + - @ tab or CR (but negative numbers)."""
    cells = csv_cells(text)
    for value in hostile:
        assert "'" + value in cells, f"{value!r} is not exported as {chr(39) + value!r}:\n{text[:3000]}"
    risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(c)]
    assert risky == [], f"a spreadsheet would run these cells: {risky}"


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


class _Forms(HTMLParser):
    """The forms of a page: (attributes, hidden inputs, has a submit control)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"attrs": a, "inputs": {}, "submit": False})
        elif self.forms and tag == "input":
            if a.get("type", "text").lower() == "submit":
                self.forms[-1]["submit"] = True
            if a.get("name"):
                self.forms[-1]["inputs"][a["name"]] = a.get("value", "")
        elif self.forms and tag == "button":
            self.forms[-1]["submit"] = True


def one_click_link(fake: Any, number: int) -> str:
    body = page_sms(fake, number)["body"]
    found = re.search(r"https?://\S+/l/[A-Za-z0-9_.\-=%]+", body)
    assert found, f"no one-click link in the SMS page: {body!r}"
    return found.group(0)


# ---------------------------------------------------------------- 1. lone surrogates

def test_lone_surrogate_in_summary_is_replaced_and_every_view_still_answers(api: Api, fresh) -> None:
    r = api.http.post(f"{api.base}/v2/enqueue", data=SURROGATE_SUMMARY, timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    number = r.json()["incident_number"]
    page_sms(fresh.fake, number)  # the agent was paged

    one = get(api, f"/v1/incidents/{number}")
    assert one.status_code == 200, one.text
    assert one.json()["summary"] == "a\ufffdb"
    listed = get(api, "/v1/incidents")
    assert listed.status_code == 200, listed.text
    [row] = [i for i in listed.json()["incidents"] if i["number"] == number]
    assert row["summary"] == "a\ufffdb"
    as_csv = get(api, "/v1/incidents", format="csv")
    assert as_csv.status_code == 200, as_csv.text
    assert "a\ufffdb" in as_csv.text
    log = get(api, "/v1/incidents", rows="timeline")
    assert log.status_code == 200, log.text
    assert any(e["number"] == number for e in log.json()["timeline"])


def test_lone_surrogate_in_dedup_key_is_answered(api: Api, fresh) -> None:
    data = (b'{"routing_key": "%s", "event_action": "trigger", "dedup_key": "k\\udfffey", "payload": '
            b'{"summary": "Disk full", "source": "db-1", "severity": "error"}}' % HELPDESK_KEY.encode())
    r = api.http.post(f"{api.base}/v2/enqueue", data=data, timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "success"


# ---------------------------------------------------------------- 2. never a 500

@pytest.mark.parametrize("path, name", [
    ("/v1/reports/fairness", "days"),
    ("/v1/incidents", "limit"),
    ("/v1/reports/coverage", "weeks"),
])
def test_superscript_digit_in_a_number_query_is_a_400(api: Api, path: str, name: str) -> None:
    assert_json_error(get(api, path, **{name: "²"}), name, range(400, 401))


def test_incident_number_of_5000_digits_is_a_404(api: Api) -> None:
    assert_json_error(get(api, f"/v1/incidents/{'9' * 5000}"), "incident", range(404, 405))


def test_routing_key_as_a_5000_digit_number_is_a_400(api: Api) -> None:
    data = b'{"routing_key": ' + b"7" * 5000 + b', "event_action": "trigger"}'
    r = api.http.post(f"{api.base}/v2/enqueue", data=data, timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text[:500]
    errors = r.json()["errors"]
    # The parser cannot tell which field held the number: naming the number is enough.
    assert any("routing_key" in e or "number" in e for e in errors), errors


@pytest.mark.parametrize("path, name, value", [
    ("/v1/incidents", "to", "9999-12-31"),
    ("/v1/incidents", "from", "0001-01-01"),
    ("/v1/reports/kpis", "to", "9999-12-31"),
    ("/v1/reports/astreinte", "month", "9999-12"),
    ("/v1/rotas", "at", "9999-12-31T23:00:00Z"),
])
def test_dates_at_the_ends_of_the_calendar_are_a_400(api: Api, path: str, name: str, value: str) -> None:
    assert_json_error(get(api, path, **{name: value}), name, range(400, 401))


@pytest.mark.parametrize("field", ["layer", "person", "replaces", "start", "end"])
@pytest.mark.parametrize("wrong", [["agent"], {"agent": 1}], ids=["list", "object"])
def test_override_with_a_list_or_object_for_a_string_is_a_400(api: Api, field: str, wrong: Any) -> None:
    now = clock.now()
    body = {"layer": "agent", "person": "carol", "replaces": "alice",
            "start": clock.iso(now - 60), "end": clock.iso(now + 3600), field: wrong}
    r = api.http.post(f"{api.base}/v1/rotas/support/overrides", json=body, timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"})
    assert_json_error(r, field, range(400, 401))
    on_call = get(api, "/v1/rotas/support/oncall").json()
    agent = next(x for x in on_call["layers"] if x["layer"] == "agent")
    assert agent["on_call"]["id"] == "alice"  # nothing was stored


def test_sms_reply_with_a_5000_digit_number_gets_the_reply_codes(api: Api, fresh) -> None:
    status, text = fresh.fake.reply_sms(ALICE, "4 " + "8" * 5000)
    assert status == 200, text[:500]
    reply = "".join(ET.fromstring(text).itertext())
    assert "répondez 4 <n°>" in reply, reply[:300]  # no incident has such a number: how to reply, in French


def test_slack_button_with_a_superscript_value_is_not_a_500(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(dedup="db-1-disk")["incident_number"]
    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    payload = fake._block_actions(dm, "ack", "U0ALICE", "alice")
    payload["actions"][0]["value"] = "²"
    raw = urllib.parse.urlencode({"payload": json.dumps(payload, separators=(",", ":"))})

    status, text = fake.click(dm["ts"], "ack", "U0ALICE", raw_body=raw)

    assert status < 500, text[:500]
    assert api.incident(number)["state"] == "triggered"


def test_call_status_with_a_duration_that_is_not_a_number_is_not_a_500(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(dedup="db-1-down", severity="critical")["incident_number"]
    page_sms(fake, number)
    clock.advance(121)
    incidents.sweep()
    call = fake.wait_for(kind="call", to=ALICE)
    params = {"CallSid": call["sid"], "AccountSid": fake.twilio_account_sid, "From": call["from"],
              "To": ALICE, "CallStatus": "completed", "Direction": "outbound-api", "CallDuration": "abc",
              "Duration": "1"}

    r = twilio_post(call["status_callback"], params, fake.twilio_auth_token)

    assert r.status_code < 500, r.text[:500]
    assert api.incident(number)["number"] == number


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_signed_link_for_incident_x_is_a_4xx(api: Api, method: str) -> None:
    url = links.make("x", "alice", "ack")  # type: ignore[arg-type]
    assert url.startswith(config.settings().public_url)

    r = api.http.request(method, url, timeout=10, headers={"Accept": "application/json"})

    assert r.status_code < 500, r.text[:500]
    if method == "POST":
        assert 400 <= r.status_code < 500, r.text[:500]
    if r.headers.get("Content-Type", "").startswith("application/json"):
        assert_json_error(r, "link")


# ---------------------------------------------------------------- 3. rotas: newline in a name

def test_rotas_check_refuses_a_name_with_a_newline(tmp_path: Path) -> None:
    rotas = tmp_path / "rotas"
    shutil.copytree(ROOT / "tests" / "rotas", rotas)
    team = rotas / "team.yaml"
    source = team.read_text()
    assert "    name: Alice Martin\n" in source
    team.write_text(source.replace("    name: Alice Martin\n", '    name: "Alice\\nMartin"\n'))
    line = source.splitlines().index("    name: Alice Martin") + 1

    done = subprocess.run([sys.executable, "-m", "chalicelib.cli", "check", str(rotas)], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)

    assert done.returncode != 0, done.stdout
    assert f"team.yaml:{line}:" in done.stderr and "name" in done.stderr, done.stderr


# ---------------------------------------------------------------- 4. escaping at the exits

def test_incident_csv_exports_defuse_formulas(api: Api, fresh) -> None:
    for i, formula in enumerate(FORMULAS):
        api.trigger(dedup=f"formula-{i}", summary=formula)

    listed = get(api, "/v1/incidents", format="csv")
    assert listed.status_code == 200, listed.text
    rows = list(csv.DictReader(io.StringIO(listed.text)))
    assert sorted(r["summary"] for r in rows) == sorted("'" + f for f in FORMULAS)
    assert_formulas_defused(listed.text, FORMULAS)


def test_escalation_log_csv_defuses_formulas(api: Api, fresh) -> None:
    """The actor of a timeline entry is whatever user name an Opsgenie client sends."""
    key = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                        headers={"Authorization": f"Bearer {api.token}"},
                        json={"source": "opsgenie", "label": "hostile", "options": {}})
    assert key.status_code == 201, key.text
    genie = {"Authorization": f"GenieKey {key.json()['key']}"}
    for i, formula in enumerate(FORMULAS):
        r = api.http.post(f"{api.base}/v2/alerts", json={"message": formula, "alias": f"formula-{i}"},
                          headers=genie, timeout=10)
        assert r.status_code == 202, r.text
        r = api.http.post(f"{api.base}/v2/alerts/formula-{i}/acknowledge", params={"identifierType": "alias"},
                          json={"user": formula}, headers=genie, timeout=10)
        assert r.status_code == 202, r.text

    log = get(api, "/v1/incidents", rows="timeline", format="csv")
    assert log.status_code == 200, log.text
    assert_formulas_defused(log.text, FORMULAS)
    listed = get(api, "/v1/incidents", format="csv")
    rows = list(csv.DictReader(io.StringIO(listed.text)))
    assert sorted(r["acknowledged_by"] for r in rows) == sorted("'" + f for f in FORMULAS)


def test_payroll_csv_defuses_formulas_in_names(api: Api, fresh, tmp_path: Path) -> None:
    from chalicelib.rotas import directory
    from chalicelib.rotas import load as rotas

    team = (ROOT / "tests" / "rotas" / "team.yaml").read_text()
    names = ["Alice Martin", "Bob Smith", "Carol Durand", "Dan Moreau"]
    for real, formula in zip(names, FORMULAS, strict=True):
        team = team.replace(f"name: {real}\n", f"name: '{formula}'\n")
    (tmp_path / "team.yaml").write_text(team)
    directory.sync(rotas.load_dir(tmp_path))
    directory.invalidate()

    r = get(api, "/v1/reports/astreinte", format="csv")
    assert r.status_code == 200, r.text
    assert_formulas_defused(r.text, FORMULAS)


SLACK_HOSTILE = "<!channel> <!here> <@U123> <https://evil|Click to acknowledge> & co"


def _slack_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _slack_strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _slack_strings(v)]
    return []


def test_slack_page_escapes_mentions_and_links(api: Api, fresh) -> None:
    fake = fresh.fake
    api.trigger(dedup="slack-hostile", summary=SLACK_HOSTILE)
    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    shown = "\n".join(_slack_strings({"text": dm["text"], "blocks": dm["blocks"]}))

    for escaped in ("&lt;!channel&gt;", "&lt;@U123&gt;", "&amp;"):
        assert escaped in shown, (escaped, shown)
    for raw in ("<!channel>", "<!here>", "<@U123>", "<https://evil|"):
        assert raw not in shown, (raw, shown)


def test_voice_twiml_is_xml_without_control_characters(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(dedup="voice-hostile", severity="critical",
                         summary="Panne \x00 bip \x07 esc \x1b fin")["incident_number"]
    page_sms(fake, number)
    clock.advance(121)
    incidents.sweep()
    call = fake.wait_for(kind="call", to=ALICE)

    r = twilio_post(call["url"], {"CallSid": call["sid"], "AccountSid": fake.twilio_account_sid,
                                  "From": call["from"], "To": ALICE, "CallStatus": "in-progress",
                                  "Direction": "outbound-api"}, fake.twilio_auth_token)

    assert r.status_code == 200, r.text[:500]
    for char in ("\x00", "\x07", "\x1b"):
        assert char not in r.text, repr(r.text)
    said = "".join(ET.fromstring(r.text).itertext())
    assert "Panne" in said and "fin" in said, said


@pytest.mark.parametrize("summary", ["🔥" * 1024, "x\n" + "🔥" * 1000])
def test_sms_page_of_1024_emoji_fits_twilios_1600_characters(api: Api, fresh, summary: str) -> None:
    number = api.trigger(dedup="emoji", summary=summary)["incident_number"]
    body = page_sms(fresh.fake, number)["body"]

    utf16_units = len(body.encode("utf-16-le")) // 2
    assert utf16_units <= 1600, utf16_units
    assert f"#{number}" in body and f"4 {number}" in body and "/l/" in body, body[-300:]


# ---------------------------------------------------------------- 5. links need a click

PREVIEWERS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "WhatsApp/2.23.20.0",
    "facebookexternalhit/1.1",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0)",
    None,  # python-requests' own User-Agent
]


@pytest.mark.parametrize("agent", PREVIEWERS, ids=["slack", "twitter", "whatsapp", "facebook", "outlook",
                                                   "python-requests"])
def test_fetching_a_link_shows_a_form_and_acknowledges_nothing(api: Api, fresh, agent: str | None) -> None:
    number = api.trigger(dedup="link-preview")["incident_number"]
    url = one_click_link(fresh.fake, number)

    r = requests.get(url, timeout=10, headers={"User-Agent": agent} if agent else {})

    assert api.incident(number)["state"] == "triggered"  # the preview acknowledged nothing
    assert r.status_code == 200, r.text[:500]
    assert r.headers.get("Content-Type", "").startswith("text/html"), r.headers
    assert re.search(r"<form[^>]*method=[\"']?post", r.text, re.I), r.text[:1000]
    assert re.search(r"<button|type=[\"']?submit", r.text, re.I), r.text[:1000]


def test_submitting_the_link_form_acknowledges(api: Api, fresh) -> None:
    number = api.trigger(dedup="link-click")["incident_number"]
    url = one_click_link(fresh.fake, number)
    page = requests.get(url, timeout=10, headers={"Accept": "text/html"})
    parser = _Forms()
    parser.feed(page.text)
    posting = [f for f in parser.forms if f["attrs"].get("method", "").lower() == "post"]
    assert posting and posting[0]["submit"], page.text[:1000]
    form = posting[0]
    target = urllib.parse.urljoin(url, form["attrs"].get("action") or url)
    assert urllib.parse.urlsplit(target).path == urllib.parse.urlsplit(url).path

    r = requests.post(target, data=form["inputs"], timeout=10, headers={"Accept": "text/html"})

    assert r.status_code in (200, 303), r.text[:500]
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice", inc


# ---------------------------------------------------------------- found by a second look

def test_a_link_whose_signature_is_not_ascii_is_refused_not_a_500(api: Api, fresh) -> None:
    """A raw request line (what API Gateway may hand on decoded): `é` in the signature."""
    import socket

    host, port = urllib.parse.urlsplit(api.base).hostname, urllib.parse.urlsplit(api.base).port
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(b"GET /l/MS5hbGljZS5hY2suOTk5OTk5OTk5OTk.\xc3\xa9 HTTP/1.1\r\nHost: x\r\n"
                     b"Accept: application/json\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    assert status == 403 and b"bad_link" in answer, answer[:300]


def test_a_link_of_someone_removed_from_the_rotas_no_longer_acts(api: Api, fresh, tmp_path: Path) -> None:
    number = api.trigger(dedup="left")["incident_number"]
    link = one_click_link(fresh.fake, number)
    rotas = tmp_path / "rotas"
    shutil.copytree(ROOT / "tests" / "rotas", rotas)
    team = (rotas / "team.yaml").read_text()
    start, end = team.index("  - id: alice\n"), team.index("  - id: bob\n")
    without_alice = (team[:start] + team[end:]).replace("participants: [alice", "participants: [bob")
    (rotas / "team.yaml").write_text(without_alice)
    from chalicelib.rotas import directory
    from chalicelib.rotas import load as rotas_load

    directory.sync(rotas_load.load_dir(rotas))
    r = api.http.post(link, headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "bad_link", r.text
    assert api.incident(number)["state"] == "triggered"


def test_identifiers_too_long_for_the_store_are_4xx_not_500(api: Api, fresh) -> None:
    r = api.http.delete(f"{api.base}/v1/rotas/support/overrides/{'a' * 2000}", timeout=10,
                        headers={"Authorization": f"Bearer {api.token}"})
    assert 400 <= r.status_code < 500, r.text[:300]
    r = get(api, "/v1/tokens", person="a" * 2100)
    assert 400 <= r.status_code < 500, r.text[:300]


def test_an_opsgenie_alias_of_512_emoji_opens_and_is_acknowledged(api: Api, fresh) -> None:
    key = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                        headers={"Authorization": f"Bearer {api.token}"},
                        json={"source": "opsgenie", "label": "long", "options": {}}).json()["key"]
    genie = {"Authorization": f"GenieKey {key}"}
    alias = "🔥" * 512  # Opsgenie's limit is 512 characters: 2,048 bytes, past DynamoDB's key limit
    r = api.http.post(f"{api.base}/v2/alerts", json={"message": "hot", "alias": alias}, headers=genie,
                      timeout=10)
    assert r.status_code == 202, r.text[:300]
    r = api.http.post(f"{api.base}/v2/alerts/{urllib.parse.quote(alias)}/acknowledge",
                      params={"identifierType": "alias"}, json={}, headers=genie, timeout=10)
    assert r.status_code == 202, r.text[:300]
    assert api.incident(incidents_count())["state"] == "acknowledged"


def incidents_count() -> int:
    from conftest import last_number

    return last_number()


def test_a_slack_page_of_a_summary_of_angle_brackets_fits_a_block(api: Api, fresh) -> None:
    number = api.trigger(dedup="brackets", summary="<" * 1024, severity="critical")["incident_number"]
    page = fresh.fake.wait_for(kind="slack", predicate=lambda m: f"#{number}" in (m["text"] or ""))
    texts = [b["text"] for b in page["blocks"] if b.get("text")]
    assert all(len(t["text"]) <= 3000 and t.get("verbatim") is True for t in texts), texts
    assert "<" not in json.dumps([t["text"] for t in texts])

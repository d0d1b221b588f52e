"""The event's details in the page, over HTTP: what a person paged sees in Slack, by SMS, on a
call, and on the details page the SMS's short signed link opens (GET /d/<token>).

Each test posts an event as a monitoring tool would, then reads what the fake providers got
(SMS bodies, Slack blocks, calls) and follows the links as a phone's browser would.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import HELPDESK_KEY, Api

from chalicelib import clock, incidents, links

ALICE = "+33600000001"
DETAILS_LINK = re.compile(r"(?:détails|details) ?: (http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_.-]+)$")
ACK_LINK = re.compile(r"(http://127\.0\.0\.1:\d+/l/[A-Za-z0-9_.=-]+)")
PAYLOADS = Path(__file__).parent / "payloads"

EVENT = {
    "routing_key": HELPDESK_KEY, "event_action": "trigger", "client": "Nagios",
    "client_url": "https://nagios.example/host/db-1",
    "links": [{"href": "https://grafana.example/d/db?var-host=db-1&from=now-1h", "text": "Grafana dashboard"},
              {"href": "https://wiki.example/runbooks/disk-full", "text": "Runbook disque plein"}],
    "images": [{"src": "https://grafana.example/render/disk.png", "alt": "Disk usage"}],
    "payload": {"summary": "Disque plein sur db-1", "source": "db-1", "severity": "error",
                "custom_details": {"mount": "/var", "free": "1.2 GB", "owner": {"team": "dba"}}},
}


class Page(HTMLParser):
    """The details page as a browser sees it: its links, forms and text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []
        self.forms: list[dict[str, str | None]] = []
        self.scripts = 0
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))
        elif tag == "form":
            self.forms.append(dict(attrs))
        elif tag in ("script", "iframe", "img", "object"):
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def hrefs(self) -> list[str | None]:
        return [a.get("href") for a in self.links]


def trigger(api: Api, event: dict[str, Any]) -> int:
    r = api.enqueue(event)
    assert r.status_code == 202, r.text
    return int(r.json()["incident_number"])


def sms_page(fake: Any, number: int) -> dict:
    return fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])


def details_link(body: str) -> str:
    found = DETAILS_LINK.search(body)
    assert found, f"the SMS does not end with the details link: {body!r}"
    return found.group(1)


def slack_links(blocks: list[dict]) -> list[tuple[str, str]]:
    """Every <url|label> in the blocks' mrkdwn texts."""
    texts = [b["text"]["text"] for b in blocks if b.get("type") == "section" and b.get("text")]
    return re.findall(r"<(https?://[^|>]+)\|([^>]*)>", "\n".join(texts))


# ---------------------------------------------------------------- PagerDuty: Slack, SMS, the page

def test_pagerduty_details_reach_slack_sms_and_the_details_page(api: Api, fresh) -> None:
    fake = fresh.fake
    number = trigger(api, EVENT)

    # Slack: the runbook and the dashboard as clickable links, first; the image as a link; fields.
    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    found = slack_links(dm["blocks"])
    assert found[0] == ("https://wiki.example/runbooks/disk-full", "Runbook disque plein")
    assert found[1] == ("https://grafana.example/d/db?var-host=db-1&from=now-1h", "Grafana dashboard")
    assert ("https://grafana.example/render/disk.png", "Disk usage") in found
    assert ("https://nagios.example/host/db-1", "Nagios") in found
    assert "/var" in json.dumps(dm["blocks"]) and "owner.team" in json.dumps(dm["blocks"])

    # SMS: the codes, the one-click link, and last the short details link.
    body = sms_page(fake, number)["body"]
    assert f"Répondez 4 {number}" in body and "/l/" in body
    url = details_link(body)
    assert len(url.rsplit("/", 1)[1]) <= 40, url

    # Opening it (GET, as a link preview would) shows everything and changes nothing.
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html"), r.text[:300]
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Referrer-Policy"] == "no-referrer"
    page = Page(r.text)
    text = " ".join(page.text)
    assert "Disque plein sur db-1" in text and "Helpdesk" in text and "déclenché" in text
    assert '<html lang=fr>' in r.text
    hrefs = page.hrefs()
    assert hrefs[:2] == ["https://wiki.example/runbooks/disk-full",
                         "https://grafana.example/d/db?var-host=db-1&from=now-1h"]
    assert "https://grafana.example/render/disk.png" in hrefs
    assert all(a.get("rel") == "noopener noreferrer" for a in page.links)
    assert "mount" in text and "/var" in text and "1.2 GB" in text
    # The timeline's last entries, said in French: no raw kinds, no delivery receipts.
    assert "Alice Martin appelé(e) par SMS" in text and "déclenché" in text
    assert "triggered" not in text and "delivery" not in text and "(sms)" not in text
    assert [f.get("method") for f in page.forms] == ["post", "post"]
    assert all("/l/" in (f.get("action") or "") for f in page.forms)
    assert "Prendre en charge" in text and "Clore" in text
    assert api.incident(number)["state"] == "triggered"

    # JSON for a script.
    j = requests.get(url, headers={"Accept": "application/json"}, timeout=10)
    assert j.status_code == 200 and j.json()["state"] == "triggered"
    assert j.json()["highlights"]["links"][0]["url"] == "https://wiki.example/runbooks/disk-full"
    assert set(j.json()["actions"]) == {"ack", "resolve"}

    # Its Acknowledge button acts, for Alice, through the one-click link.
    ack = page.forms[0]["action"]  # Prendre en charge, then Clore
    assert ack
    pressed = requests.post(ack, data={}, headers={"Accept": "text/html"}, timeout=10)
    assert pressed.status_code == 200, pressed.text[:300]
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice"
    assert inc["highlights"]["images"] == [{"label": "Disk usage", "url": "https://grafana.example/render/disk.png"}]

    # Now the page offers Resolve only, and Slack's page has a Snooze button.
    again = Page(requests.get(url, timeout=10).text)
    assert len(again.forms) == 1 and "pris en charge" in " ".join(again.text)
    dm = fake.wait_for(kind="slack", channel="U0ALICE", predicate=lambda m: m["updates"])
    buttons = [(e["action_id"], e["value"]) for b in dm["blocks"] if b["type"] == "actions"
               for e in b["elements"]]
    assert buttons == [("resolve", str(number)), ("snooze", str(number))]
    assert slack_links(dm["blocks"])[0][0] == "https://wiki.example/runbooks/disk-full"  # kept on update


def test_alertmanager_runbook_and_dashboard_annotations_are_links_in_slack(api: Api, fresh) -> None:
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"},
                      json={"source": "alertmanager", "label": "prometheus", "options": {}})
    assert r.status_code == 201, r.text
    doc = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    doc["alerts"] = doc["alerts"][:1]
    doc["alerts"][0]["annotations"] |= {"runbook_url": "https://runbooks.example/DiskFull",
                                        "dashboard": "https://grafana.example/d/node-exporter"}
    posted = api.http.post(r.json()["url"], json=doc, timeout=10)
    assert posted.status_code == 202, posted.text

    dm = fresh.fake.wait_for(kind="slack", channel="U0ALICE")
    found = slack_links(dm["blocks"])
    assert found[:2] == [("https://runbooks.example/DiskFull", "Runbook"),
                         ("https://grafana.example/d/node-exporter", "Dashboard")]
    assert ("http://prometheus.example:9090/graph?g0.expr=disk", "Source") in found
    sms = fresh.fake.wait_for(kind="sms", to=ALICE)
    details_link(sms["body"])


# ---------------------------------------------------------------- hostile events

def test_hostile_summary_and_links_are_neutralised_everywhere(api: Api, fresh) -> None:
    fake = fresh.fake
    event = json.loads(json.dumps(EVENT))
    event["payload"]["summary"] = "<script>alert(1)</script> <!channel> <https://evil.example|click>"
    event["links"] = [{"href": "javascript:alert(document.cookie)", "text": "Runbook"},
                      {"href": "data:text/html,<script>alert(1)</script>", "text": "dashboard"},
                      {"href": "https://ok.example/a|b>c", "text": "<!here> <img src=x onerror=alert(1)>"}]
    event["client_url"] = "JAVASCRIPT:alert(1)"
    event["payload"]["custom_details"] = {"<b>key</b>": "<script>x</script> <@U0BOB>"}
    number = trigger(api, event)

    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    shown = json.dumps(dm["blocks"])
    assert "<!channel>" not in shown and "<!here>" not in shown and "<@U0BOB>" not in shown
    assert "<script>" not in shown and "javascript:" not in shown.lower() and "data:text" not in shown
    assert slack_links(dm["blocks"]) == [("https://ok.example/a%7Cb%3Ec",
                                          "&lt;!here&gt; &lt;img src=x onerror=alert(1)&gt;"),
                                         ("https://grafana.example/render/disk.png", "Disk usage")]

    url = details_link(sms_page(fake, number)["body"])
    r = requests.get(url, timeout=10)
    page = Page(r.text)
    assert page.scripts == 0 and "<script>" not in r.text and "<b>key</b>" not in r.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
    assert all((h or "").startswith("https://") for h in page.hrefs()), page.hrefs()
    assert "onerror" not in " ".join(str(a) for a in page.links)
    assert "default-src 'none'" in r.headers["Content-Security-Policy"]


def test_the_details_link_survives_an_sms_summary_cut_to_twilios_limit(api: Api, fresh) -> None:
    event = json.loads(json.dumps(EVENT))
    event["payload"]["summary"] = "🔥" * 1024
    number = trigger(api, event)
    body = sms_page(fresh.fake, number)["body"]

    assert len(body.encode("utf-16-le")) // 2 <= 1600
    assert requests.get(details_link(body), timeout=10).status_code == 200


# ---------------------------------------------------------------- the call: 2 sends the link

def test_pressing_2_on_the_call_sends_the_details_link_by_sms(api: Api, fresh) -> None:
    fake = fresh.fake
    event = json.loads(json.dumps(EVENT))
    event["payload"]["severity"] = "critical"
    number = trigger(api, event)
    sms_page(fake, number)
    clock.advance(121)  # Alice's voice rule: after 2 minutes, for critical incidents
    incidents.sweep()
    call = fake.wait_for(kind="call", to=ALICE)

    said = fake.answer_call(call["sid"])
    assert "2 pour recevoir les détails par SMS" in said
    after = fake.press_keys(call["sid"], "2")

    assert "<Gather" in after and "envoyé par SMS" in after  # the call goes on
    sms = fake.wait_for(kind="sms", to=ALICE,
                        predicate=lambda m: "/d/" in m["body"] and "Répondez" not in m["body"])
    assert sms["body"].startswith(f"[Astreinte] #{number} détails : ")
    assert requests.get(details_link(sms["body"]), timeout=10).status_code == 200
    assert api.incident(number)["state"] == "triggered"  # 2 changes nothing

    # Pressed again (or Twilio's retry of the same request): the same answer, no second SMS.
    again = fake.press_keys(call["sid"], "2")
    assert "<Gather" in again and "envoyé par SMS" in again
    sent = [m for m in fake.messages(kind="sms", to=ALICE)
            if m["body"].startswith(f"[Astreinte] #{number} détails")]
    assert len(sent) == 1, sent
    [told] = [e for e in api.incident(number)["timeline"] if (e.get("detail") or {}).get("details_link")]
    assert told["kind"] == "notified" and told["channel"] == "sms"
    assert told["detail"]["ok"] is True and told["detail"]["ref"] and told["detail"]["to"] == "alice"

    done = fake.press_keys(call["sid"], "4")
    assert "pris en charge" in "".join(ET.fromstring(done).itertext())
    assert api.incident(number)["state"] == "acknowledged"


# ---------------------------------------------------------------- a week to read, a day to act

def test_a_details_link_older_than_the_one_click_ttl_no_longer_lets_anyone_act(api: Api, fresh) -> None:
    """The SMS's one-click link dies after links.TTL_SECONDS (24 h); the details link sent
    with it shows the incident for a week, but its buttons act no longer than that link:
    whoever holds a forwarded or logged details URL cannot resolve the incident for a week."""
    number = trigger(api, EVENT)
    body = sms_page(fresh.fake, number)["body"]
    url = details_link(body)
    ack_from_sms = ACK_LINK.search(body)
    assert ack_from_sms

    clock.advance(links.TTL_SECONDS + 3600)  # a day and an hour later: the SMS's own link is dead
    dead = requests.post(ack_from_sms.group(1), data={}, headers={"Accept": "text/html"}, timeout=10)
    assert dead.status_code == 403, dead.text[:200]

    shown = requests.get(url, headers={"Accept": "application/json"}, timeout=10)
    assert shown.status_code == 200, shown.text[:200]  # reading the details: fine
    for action, action_url in shown.json()["actions"].items():
        pressed = requests.post(action_url, data={}, headers={"Accept": "text/html"}, timeout=10)
        assert pressed.status_code == 403, (action, pressed.status_code, pressed.text[:200])
    assert api.incident(number)["state"] == "triggered"
    assert shown.json()["actions"] == {}

    # The page still shows the details, no button, and how to act now.
    page = Page(requests.get(url, timeout=10).text)
    text = " ".join(page.text)
    assert page.forms == [] and "Disque plein sur db-1" in text and "mount" in text
    assert f"répondez au SMS de l'alerte avec ses codes (4 {number}, 6 {number})" in text
    assert any((h or "").endswith("/me") for h in page.hrefs()), page.hrefs()


def test_the_details_pages_buttons_die_with_the_sms_one_click_link(api: Api, fresh) -> None:
    """Opened an hour before the SMS's link dies, the page's buttons act for that hour only."""
    number = trigger(api, EVENT)
    url = details_link(sms_page(fresh.fake, number)["body"])
    clock.advance(links.TTL_SECONDS - 3600)
    actions = requests.get(url, headers={"Accept": "application/json"}, timeout=10).json()["actions"]
    assert set(actions) == {"ack", "resolve"}

    clock.advance(3600 + 60)
    pressed = requests.post(actions["ack"], data={}, headers={"Accept": "text/html"}, timeout=10)
    assert pressed.status_code == 403 and api.incident(number)["state"] == "triggered"


# ---------------------------------------------------------------- refused links

def test_a_forged_or_expired_details_link_is_refused_as_json_to_scripts_and_a_page_to_people(
        api: Api, fresh) -> None:
    number = trigger(api, EVENT)
    url = details_link(sms_page(fresh.fake, number)["body"])
    base, token = url.rsplit("/", 1)
    n, person, expires, sig = token.split(".")

    for forged in (f"{n}.bob.{expires}.{sig}", f"{n}.{person}.{expires}.{'A' * len(sig)}", "x",
                   f"{int(n) + 1}.{person}.{expires}.{sig}"):
        r = requests.get(f"{base}/{forged}", timeout=10, headers={"Accept": "application/json"})
        assert r.status_code == 403, (forged, r.status_code, r.text[:200])
        assert r.headers["Content-Type"].startswith("application/json") and r.json()["error"] == "bad_link"
        shown = requests.get(f"{base}/{forged}", timeout=10, headers={"Accept": "text/html"})
        assert shown.status_code == 403 and shown.headers["Content-Type"].startswith("text/html"), shown.text
        assert "Disque plein" not in shown.text

    clock.advance(links.DETAILS_TTL_SECONDS + 1)
    r = requests.get(url, timeout=10)
    assert r.status_code == 403 and "expired" in r.json()["message"]

    # A phone's browser: a small page in French and English, pointing to /me.
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = requests.get(url, timeout=10, headers={"Accept": browser})
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Cache-Control"] == "no-store"
    page = Page(r.text)
    text = " ".join(page.text)
    assert "Ce lien n'est plus valable (expiré ou invalide)." in text
    assert "This link is no longer valid (expired or invalid)." in text
    assert page.hrefs() == [f"{base.rsplit('/d', 1)[0]}/me"] * 2 and page.scripts == 0
    assert "Disque plein" not in text


def test_a_person_gone_from_rotas_cannot_read_the_details(api: Api, fresh) -> None:
    number = trigger(api, EVENT)
    r = requests.get(links.details(number, "ghost"), headers={"Accept": "application/json"}, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "bad_link", r.text[:200]
    assert "Disque plein" not in r.text
    r = requests.get(links.details(number, "ghost"), headers={"Accept": "text/html"}, timeout=10)
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/html"), r.text[:200]
    assert "This link is no longer valid" in r.text and "Disque plein" not in r.text


def test_a_details_token_is_no_one_click_link_and_the_other_way_round(api: Api, fresh) -> None:
    number = trigger(api, EVENT)
    body = sms_page(fresh.fake, number)["body"]
    details = details_link(body)
    ack = ACK_LINK.search(body)
    assert ack
    base = details.split("/d/")[0]
    as_ack = f"{base}/l/{details.rsplit('/', 1)[1]}"
    assert requests.get(as_ack, timeout=10).status_code == 403
    assert requests.post(as_ack, data={}, headers={"Accept": "text/html"}, timeout=10).status_code == 403
    assert requests.get(f"{base}/d/{ack.group(1).rsplit('/', 1)[1]}", timeout=10).status_code == 403
    assert api.incident(number)["state"] == "triggered"


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_a_details_link_of_a_missing_incident_is_404(api: Api, fresh, accept: str) -> None:
    url = links.details(999, "alice")
    r = requests.get(url, timeout=10, headers={"Accept": accept})
    assert r.status_code == 404 and r.json()["error"] == "no_incident"

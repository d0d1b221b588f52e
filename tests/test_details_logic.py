"""The event's details in a page, without a server: what each source's stored details become
(chalicelib.incidents.details), the short signed details link, and how each format shows them."""
from __future__ import annotations

import json
import re
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib import clock, links, log
from chalicelib.incidents import views
from chalicelib.incidents.details import MAX_FIELDS, MAX_LINKS, highlights, safe_url
from chalicelib.intake import alertmanager, generic, grafana, pagerduty
from chalicelib.notify import email, slack
from chalicelib.notify.channels import Page

PAYLOADS = Path(__file__).parent / "payloads"

PD_EVENT = {
    "routing_key": "k", "event_action": "trigger", "client": "Nagios", "client_url": "https://nagios.example/x",
    "links": [{"href": "https://grafana.example/d/db", "text": "Grafana dashboard"},
              {"href": "javascript:alert(1)", "text": "click me"},
              {"href": "https://wiki.example/runbooks/disk", "text": "Runbook: disk full"}],
    "images": [{"src": "https://grafana.example/render/cpu.png", "alt": "CPU"},
               {"src": "data:image/png;base64,AAAA", "alt": "inline"}],
    "payload": {"summary": "Disk full", "source": "db-1", "severity": "error", "component": "postgres",
                "custom_details": {"disk": "/var", "free": "2%", "owner": {"team": "dba", "oncall": True},
                                   "runbook_url": "https://wiki.example/runbooks/db"}},
}


def details_of(module, raw: dict, options: dict | None = None) -> dict:
    [event] = [e for e in module.parse(json.dumps(raw).encode(), {}, options or {}) if e.get("details")][:1]
    return event["details"]


# ---------------------------------------------------------------- what each source gives

def test_pagerduty_links_images_client_url_and_custom_details_runbook_first() -> None:
    h = highlights(details_of(pagerduty, PD_EVENT))

    urls = [link["url"] for link in h["links"]]
    assert urls[:2] == ["https://wiki.example/runbooks/disk", "https://wiki.example/runbooks/db"]
    assert urls[2] == "https://grafana.example/d/db"  # the dashboard right after the runbooks
    assert {"label": "Nagios", "url": "https://nagios.example/x"} in h["links"]
    assert not any("javascript" in u for u in urls)
    assert h["images"] == [{"label": "CPU", "url": "https://grafana.example/render/cpu.png"}]
    fields = {f["label"]: f["value"] for f in h["fields"]}
    assert fields["disk"] == "/var" and fields["free"] == "2%" and fields["owner.team"] == "dba"
    assert fields["owner.oncall"] == "true" and fields["component"] == "postgres"


def test_alertmanager_annotations_give_runbook_dashboard_and_source_links() -> None:
    doc = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    doc["alerts"][0]["annotations"] |= {"runbook_url": "https://runbooks.example/DiskFull",
                                        "dashboard": "https://grafana.example/d/node"}
    h = highlights(details_of(alertmanager, doc))

    assert h["links"][0] == {"label": "Runbook", "url": "https://runbooks.example/DiskFull"}
    assert h["links"][1] == {"label": "Dashboard", "url": "https://grafana.example/d/node"}
    assert {"label": "Source", "url": "http://prometheus.example:9090/graph?g0.expr=disk"} in h["links"]
    fields = {f["label"]: f["value"] for f in h["fields"]}
    assert fields["description"] == "/var is 97% full" and fields["instance"] == "db-1:9100"
    assert "summary" not in fields  # already the page's summary


def test_alertmanager_group_mode_takes_the_first_alerts_links_and_the_common_labels() -> None:
    doc = json.loads((PAYLOADS / "alertmanager_firing.json").read_text())
    doc["alerts"][1]["annotations"]["runbook_url"] = "https://runbooks.example/db2"
    h = highlights(details_of(alertmanager, doc, {"group_by": "group"}))

    assert h["links"][0]["url"] == "https://runbooks.example/db2"
    fields = {f["label"]: f["value"] for f in h["fields"]}
    assert fields["alerts"] == "2" and fields["alertname"] == "DiskFull"


def test_grafana_dashboard_panel_and_image_urls_are_actually_mapped() -> None:
    doc = json.loads((PAYLOADS / "grafana_firing.json").read_text())
    doc["alerts"] = doc["alerts"][:1]
    doc["alerts"][0] |= {"dashboardURL": "https://g.example/d/abc", "panelURL": "https://g.example/d/abc?viewPanel=2",
                         "imageURL": "https://g.example/render/x.png", "valueString": "[ var='B' value=44 ]"}
    [event] = grafana.parse(json.dumps(doc).encode(), {}, {})
    h = highlights(event["details"])
    urls = [link["url"] for link in h["links"]]
    assert urls[0] == "https://myrunbook.com/runbook/1234"
    assert urls[1:3] == ["https://g.example/d/abc", "https://g.example/d/abc?viewPanel=2"]
    assert h["images"] == [{"label": "image", "url": "https://g.example/render/x.png"}]
    assert {"label": "values", "value": "[ var='B' value=44 ]"} in h["fields"]


def test_cloudwatch_alarm_links_to_the_console_and_keeps_its_metric() -> None:
    details = {"AlarmArn": "arn:aws:cloudwatch:eu-west-3:123456789012:alarm:api 5xx",
               "AlarmDescription": "5xx rate. Runbook: https://wiki.example/5xx.", "Region": "EU (Paris)",
               "AWSAccountId": "123456789012", "NewStateValue": "ALARM",
               "Trigger": {"MetricName": "5XXError", "Threshold": 5.0}}
    h = highlights(details)
    urls = [link["url"] for link in h["links"]]
    assert "https://wiki.example/5xx" in urls
    assert any(u.startswith("https://eu-west-3.console.aws.amazon.com/cloudwatch/home?region=eu-west-3#alarmsV2:"
                            "alarm/api%205xx") for u in urls)
    assert {"label": "MetricName", "value": "5XXError"} in h["fields"]


def test_generic_webhook_body_and_ticket_url() -> None:
    body = {"alert": {"title": "Down", "dashboard_url": "https://dash.example/1", "host": "web-3"}}
    h = highlights(details_of(generic, body, {"summary": "alert.title"}))
    assert h["links"] == [{"label": "alert.dashboard", "url": "https://dash.example/1"}]
    assert {"label": "alert.host", "value": "web-3"} in h["fields"]

    ticket = highlights({"ticket": {"tool": "zendesk", "id": "42", "url": "https://acme.zendesk.com/agent/42",
                                    "priority": "urgent", "requester": {"name": "Zoé", "email": "z@x"}}})
    assert ticket["links"] == [{"label": "Zendesk #42", "url": "https://acme.zendesk.com/agent/42"}]
    assert {"label": "requester", "value": "Zoé"} in ticket["fields"]


@pytest.mark.parametrize("url", ["acme.zendesk.com/agent/tickets/12", "  acme.zendesk.com/agent/tickets/12 "])
def test_a_ticket_link_without_its_scheme_gets_https(url: str) -> None:
    h = highlights({"ticket": {"tool": "zendesk", "id": "12", "url": url}})
    assert h["links"] == [{"label": "Zendesk #12", "url": "https://acme.zendesk.com/agent/tickets/12"}]


@pytest.mark.parametrize("url", ["evil.example/agent/tickets/12", "zendesk.com.evil.example/x",
                                 "javascript:alert(1)//acme.zendesk.com", "user:pw@acme.zendesk.com/x"])
def test_only_a_known_ticketing_hosts_bare_link_gets_a_scheme(url: str) -> None:
    assert highlights({"ticket": {"tool": "zendesk", "id": "12", "url": url}})["links"] == []


def test_credentials_in_a_url_are_never_shown() -> None:
    assert safe_url("https://user:pw@acme.zendesk.com/agent/tickets/12") == \
        "https://acme.zendesk.com/agent/tickets/12"
    assert safe_url("https://evil.example@good.example:8443/x?a=1") == "https://good.example:8443/x?a=1"
    h = highlights({"ticket": {"tool": "jira", "id": "OPS-1", "url": "https://bot:tok@acme.atlassian.net/browse/OPS-1"}})
    assert h["links"] == [{"label": "Jira #OPS-1", "url": "https://acme.atlassian.net/browse/OPS-1"}]


def test_nothing_to_show_for_no_details() -> None:
    for nothing in (None, {}, "text", []):
        assert highlights(nothing) == {"links": [], "fields": [], "images": []}


# ---------------------------------------------------------------- hostile details

@pytest.mark.parametrize("url", ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:text/html,<script>",
                                 "file:///etc/passwd", "//evil.example/x", "https://", "http:/x",
                                 "java\nscript:alert(1)", "https://a.example/\u202eevil", "vbscript:x",
                                 "https://a\\b.example/", "x" * 3000])
def test_only_http_urls_become_links(url: str) -> None:
    assert safe_url(url) is None
    h = highlights({"links": [{"href": url, "text": "x"}], "images": [{"src": url}], "client_url": url})
    assert h["links"] == [] and h["images"] == []


def test_characters_that_end_a_link_are_percent_encoded() -> None:
    url = safe_url("https://x.example/a|b>c<d\"e'f`g é")
    assert url is None  # a space: not one URL
    url = safe_url("https://x.example/a|b>c<d\"e'f`gé")
    assert url == "https://x.example/a%7Cb%3Ec%3Cd%22e%27f%60g%C3%A9"


def test_labels_and_values_are_bounded_one_line_and_lose_bidi_controls() -> None:
    h = highlights({"custom_details": {"k\u202e" + "x" * 500: "line1\nline2\x00" + "y" * 5000}})
    [field] = h["fields"]
    assert len(field["label"]) <= 60 and "\u202e" not in field["label"]
    assert len(field["value"]) <= 200 and "\n" not in field["value"] and "\x00" not in field["value"]


def test_lists_are_bounded() -> None:
    many = {"custom_details": {f"k{i}": f"https://x.example/{i}" for i in range(30)}
            | {f"f{i}": i for i in range(30)}}
    h = highlights(many)
    assert len(h["links"]) == MAX_LINKS and len(h["fields"]) == MAX_FIELDS


def test_a_huge_event_is_read_no_further_than_its_fields_need() -> None:
    def nested(depth: int) -> dict[str, Any]:  # 50 keys a level: 125,000 leaves at depth 3
        return {f"k{i}": nested(depth - 1) if depth else i for i in range(50)}

    started = time.perf_counter()
    h = highlights({"custom_details": nested(2), "client_url": "https://nagios.example/x"})
    assert time.perf_counter() - started < 0.1
    assert len(h["fields"]) == MAX_FIELDS and h["fields"][0] == {"label": "k0.k0.k0", "value": "0"}
    assert h["links"] == [{"label": "Source", "url": "https://nagios.example/x"}]


def test_a_page_goes_out_whatever_its_details_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(log, "error", lambda event, **fields: said.append((event, fields)))
    monkeypatch.setattr(views, "highlights", lambda details: 1 / 0)
    inc = SimpleNamespace(number=7, service="helpdesk", severity="eleve", summary="s", source=None,
                          created_at=0.0, details={"custom_details": {"a": 1}})
    shown = views.view(inc, {"services": {}})  # type: ignore[arg-type]
    assert shown["highlights"] == {"links": [], "fields": [], "images": []} and shown["summary"] == "s"
    assert said == [("highlights_failed", {"incident": 7, "error": "ZeroDivisionError: division by zero"})]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30)
    | st.sampled_from(["https://x.example/a", "http://y.example:8080/d?p=1",
                       "acme.zendesk.com/agent/tickets/1", "https://u:pw@h.example/x", "javascript:alert(1)",
                       "arn:aws:cloudwatch:eu-west-3:1:alarm:a"]),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
        st.sampled_from(["runbook_url", "dashboard", "description", "href", "src", "alt", "text", "x"])
        | st.text(max_size=10), kids, max_size=4),
    max_leaves=20)
# One shape for each source `highlights` tells apart, each field of it filled by `doc`.
SHAPES = {
    "pagerduty": lambda doc: {"custom_details": doc, "links": doc, "images": doc, "client_url": doc},
    "alert": lambda doc: {"alert": {"annotations": doc, "labels": doc, "dashboardURL": doc, "panelURL": doc,
                                    "imageURL": doc, "valueString": doc}},
    "alerts": lambda doc: {"alerts": [doc, {"annotations": doc}, doc], "commonLabels": doc,
                           "alerts_total": doc, "externalURL": doc},
    "ticket": lambda doc: {"ticket": {"tool": doc, "id": doc, "url": doc, "priority": doc, "requester": doc}},
    "cloudwatch": lambda doc: {"AlarmArn": doc, "AlarmDescription": doc, "Region": doc, "Trigger": doc},
    "opsgenie": lambda doc: {"opsgenie": {"description": doc, "entity": doc, "tags": doc, "details": doc}},
    "body": lambda doc: {"body": doc},
}


@given(st.sampled_from(sorted(SHAPES)), JSON)
def test_any_details_give_well_formed_highlights(shape: str, doc: object) -> None:
    h = highlights(SHAPES[shape](doc))
    for item in h["links"] + h["images"]:
        assert re.match(r"^https?://", item["url"]) and item["label"]
        assert "@" not in urlsplit(item["url"]).netloc  # no credentials
    for item in h["fields"]:
        assert isinstance(item["value"], str) and len(item["value"]) <= 200
    assert len(h["links"]) <= MAX_LINKS and len(h["fields"]) <= MAX_FIELDS


# ---------------------------------------------------------------- the short signed link

@pytest.fixture()
def secret(monkeypatch: pytest.MonkeyPatch):
    from chalicelib import config

    monkeypatch.setenv("ASTREINTE_SIGNING_SECRET", "unit-secret")
    monkeypatch.setenv("ASTREINTE_PUBLIC_URL", "https://pager.example")
    config.reload()
    yield
    monkeypatch.undo()
    config.reload()
    clock.reset()


def test_details_link_is_short_and_verifies(secret) -> None:
    url = links.details(1234, "alice")
    token = url.rsplit("/d/", 1)[1]
    assert url.startswith("https://pager.example/d/") and len(token) <= 40, url
    assert links.verify_details(token) == (1234, "alice")


def test_details_link_forged_tampered_or_expired_is_refused(secret) -> None:
    token = links.details(12, "alice").rsplit("/", 1)[1]
    number, person, expires, sig = token.split(".")
    for bad in (f"13.{person}.{expires}.{sig}", f"{number}.bob.{expires}.{sig}",
                f"{number}.{person}.zzzzzzzz.{sig}", f"0{number}.{person}.{expires}.{sig}",
                f"{number}.{person}.{expires}.{sig[:-1]}A", "nonsense", "1.a.b.c.d",
                links.make(12, "alice", "ack").rsplit("/", 1)[1]):
        with pytest.raises(links.BadLink):
            links.verify_details(bad)
    clock.advance(7 * 24 * 3600 + 1)
    with pytest.raises(links.BadLink, match="expired"):
        links.verify_details(token)


def test_details_tokens_are_masked_in_access_logs() -> None:
    """Its signature (after the last '.') is the secret: cut whole; a token without '.' too."""
    line = "GET /d/12.alice.t3abcd.AbCdEfGhIjKlMnOp HTTP/1.1"
    masked = log.mask_secrets(line)
    assert "AbCdEfGhIjKlMnOp" not in masked, masked
    assert masked == "GET /d/12.alice.t3abcd.… HTTP/1.1"
    assert log.mask_secrets("GET /d/AbCdEfGhIjKlMnOp?x=1 HTTP/1.1") == "GET /d/…?x=1 HTTP/1.1"


# ---------------------------------------------------------------- each format

HOSTILE = {"links": [{"label": "<!channel> *x* | & <https://evil|ok>", "url": "https://a.example/x%7Cy"}],
           "fields": [{"label": "<@U123>", "value": "<!here> & <script>"}],
           "images": [{"label": "CPU", "url": "https://img.example/cpu.png"}]}


def test_slack_shows_links_as_mrkdwn_links_with_escaped_labels() -> None:
    view = {"number": 7, "service": "Helpdesk", "sev": "eleve", "summary": "s", "source": "x",
            "at": "10:00:00", "highlights": HOSTILE}
    _, blocks = slack.page_blocks("en", view)
    shown = json.dumps(blocks)
    assert "<https://a.example/x%7Cy|&lt;!channel&gt; *x* | &amp; &lt;https://evil|ok&gt;>" in \
        blocks[2]["text"]["text"]
    assert "<https://img.example/cpu.png|CPU>" in blocks[2]["text"]["text"]
    assert "<!channel>" not in shown and "<!here>" not in shown and "<@U123>" not in shown
    assert "&lt;!here&gt; &amp; &lt;script&gt;" in shown


def test_one_long_link_does_not_hide_the_links_and_images_after_it_in_slack() -> None:
    """A link too long for what is left of the section (a Kibana link, its quotes
    percent-encoded) is left out; the links and images after it are still shown."""
    kibana = safe_url("https://kibana.example/app/discover#/?_a=" + "('\"')" * 380)
    assert kibana is not None and len(kibana) > 2900
    h = {"links": [{"label": "Runbook", "url": "https://wiki.example/rb"},
                   {"label": "Kibana", "url": kibana},
                   {"label": "Dashboard", "url": "https://grafana.example/d/x"}],
         "images": [{"label": "CPU", "url": "https://grafana.example/render/cpu.png"}], "fields": []}
    shown = json.dumps(slack.detail_blocks("en", h))
    assert "https://wiki.example/rb" in shown
    assert "https://grafana.example/d/x" in shown and "https://grafana.example/render/cpu.png" in shown, shown
    assert "kibana.example" not in shown


def test_slack_snooze_button_only_when_acknowledged() -> None:
    view = {"number": 7, "service": "H", "sev": "eleve", "summary": "s", "source": "x", "at": "10:00:00"}

    def buttons(state: str) -> list[tuple[str, str]]:
        _, blocks = slack.page_blocks("fr", view, state)
        return [(e["action_id"], e["value"]) for b in blocks if b["type"] == "actions" for e in b["elements"]]

    assert [a for a, _ in buttons("triggered")] == ["ack", "resolve", "escalate"]
    assert buttons("acknowledged") == [("resolve", "7"), ("snooze", "7")]
    assert buttons("resolved") == []


def test_email_lists_links_in_text_and_clickable_escaped_html() -> None:
    view = {"number": 7, "service": "H", "sev": "eleve", "summary": "<b>s</b>", "source": "x",
            "at": "10:00:00", "highlights": HOSTILE}
    _, plain, rich = email.page_text("en", Page(number=7, to="alice", view=view, step=1))
    assert "https://a.example/x%7Cy" in plain and "<@U123>: <!here> & <script>" in plain
    assert '<a href="https://a.example/x%7Cy" rel="noopener noreferrer">' in rich
    assert "<script>" not in rich and "&lt;script&gt;" in rich and "<b>s</b>" not in rich

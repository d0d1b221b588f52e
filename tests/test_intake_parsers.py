"""Every intake parser called directly: bytes, headers and options in, normalised events out.

No API, no DynamoDB: each source's `parse(raw, headers, options)` is fed the payloads saved
in tests/payloads/ (and small inline ones where no capture exists: PagerDuty Events v2, the
generic webhook, CloudWatch through SNS, Opsgenie's actions), and must either return the
events a person would see as incidents (action, dedup key, summary, source, severity) or
raise InvalidEvent naming each bad field. The HTTP-level tests (tests/test_intake*.py) cover
the same behaviours through a running stack; these say which parser is wrong, in milliseconds.

CloudWatch deliveries are verified as SNS signs them, so those tests sign with the fake SNS of
tests/fakes/sns.py and let chalicelib fetch its certificate from its loopback host (a thread
in this process: the one network call of this module).
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import pd_event, without
from fakes.sns import FakeSNS

from chalicelib.intake import (
    InvalidEvent,
    alertmanager,
    cloudwatch,
    freshdesk,
    generic,
    grafana,
    jira,
    opsgenie,
    pagerduty,
    zendesk,
)
from chalicelib.intake import options as intake_options

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads"
DEEP = b"[" * 100_000 + b"]" * 100_000  # deeply nested, yet a small body
NOT_JSON = {"text": b"this is not json", "truncated": b'{"alerts": [', "not-utf8": b"\xff\xfe not utf-8",
            "deeply-nested": DEEP}


def load(name: str) -> dict[str, Any]:
    return json.loads((PAYLOADS / name).read_text())


def raw(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def by_key(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    keys = [e["dedup_key"] for e in events]
    assert len(keys) == len(set(keys)), keys
    return {e["dedup_key"]: e for e in events}


def refused(call: Callable[..., Any], *args: Any) -> InvalidEvent:
    with pytest.raises(InvalidEvent) as exc:
        call(*args)
    assert exc.value.errors and all(isinstance(e, str) for e in exc.value.errors)
    return exc.value


def names(errors: list[str], field: str) -> bool:
    return any(field in e for e in errors)


# ================================================================ PagerDuty Events API v2



def test_pagerduty_trigger_keeps_summary_source_severity_key_and_details() -> None:
    body = pd_event(dedup="db-1-disk", summary="  Disk full on db-1  ", custom_details={"disk": "/var"},
                    component="postgres")
    body |= {"client": "Nagios", "client_url": "https://nagios.example/db-1"}
    [event] = pagerduty.parse(raw(body), {}, {})
    assert event["action"] == "trigger" and event["dedup_key"] == "db-1-disk"
    assert event["summary"] == "Disk full on db-1" and event["source"] == "db-1"
    assert event["severity"] == "eleve"
    assert event["details"] == {"custom_details": {"disk": "/var"}, "component": "postgres",
                                "client": "Nagios", "client_url": "https://nagios.example/db-1"}
    assert "routing_key" not in event  # the key never travels with the event


@pytest.mark.parametrize("pd_severity, ours", [("critical", "critique"), ("error", "eleve"),
                                               ("warning", "moyen"), ("info", "faible")])
def test_pagerduty_severities_map_to_ours(pd_severity: str, ours: str) -> None:
    assert pagerduty.parse(raw(pd_event(severity=pd_severity)), {}, {})[0]["severity"] == ours


def test_pagerduty_trigger_without_dedup_key_gets_a_new_key_each_time() -> None:
    first, second = (pagerduty.parse(raw(pd_event()), {}, {})[0] for _ in range(2))
    assert re.fullmatch(r"[0-9a-f]{32}", first["dedup_key"])
    assert first["dedup_key"] != second["dedup_key"]
    assert first["details"] is None  # nothing beyond the required fields was sent


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_pagerduty_acknowledge_and_resolve_need_only_the_dedup_key(action: str) -> None:
    [event] = pagerduty.parse(raw(pd_event(action, dedup="db-1-disk")), {}, {})
    assert event["action"] == action and event["dedup_key"] == "db-1-disk"
    assert "summary" not in event and "severity" not in event  # the incident keeps its own


def test_pagerduty_dedup_key_of_255_characters_is_kept_whole() -> None:
    assert pagerduty.parse(raw(pd_event(dedup="k" * 255)), {}, {})[0]["dedup_key"] == "k" * 255


def test_pagerduty_parse_event_needs_the_routing_key_that_parse_does_not() -> None:
    with_key = {**pd_event(dedup="x"), "routing_key": "R0UTING"}
    assert pagerduty.parse_event(raw(with_key))["routing_key"] == "R0UTING"
    assert names(refused(pagerduty.parse_event, raw(pd_event())).errors, "routing_key")
    assert names(refused(pagerduty.parse_event, raw({**with_key, "routing_key": 42})).errors, "routing_key")
    assert pagerduty.parse(raw(pd_event(dedup="x")), {}, {})[0]["dedup_key"] == "x"


PD_BAD: list[tuple[str, Any, str]] = [
    ("missing event_action", without(pd_event(), "event_action"), "event_action"),
    ("bad event_action", {**pd_event(), "event_action": "explode"}, "event_action"),
    ("event_action as a list", {**pd_event(), "event_action": ["trigger"]}, "event_action"),
    ("missing payload", without(pd_event(), "payload"), "payload"),
    ("payload as a string", {**pd_event(), "payload": "Disk full"}, "payload"),
    ("missing summary", without(pd_event(), "payload", "summary"), "payload.summary"),
    ("blank summary", pd_event(summary="   "), "payload.summary"),
    ("summary as an object", pd_event(summary={"text": "Disk full"}), "payload.summary"),
    ("summary too long", pd_event(summary="x" * 1025), "payload.summary"),
    ("missing source", without(pd_event(), "payload", "source"), "payload.source"),
    ("bad severity", pd_event(severity="apocalyptic"), "payload.severity"),
    ("severity as a list", pd_event(severity=["critical"]), "payload.severity"),
    ("missing severity", without(pd_event(), "payload", "severity"), "payload.severity"),
    ("custom_details as a list", pd_event(custom_details=[1, 2]), "payload.custom_details"),
    ("acknowledge without dedup_key", pd_event("acknowledge"), "dedup_key"),
    ("resolve without dedup_key", pd_event("resolve"), "dedup_key"),
    ("dedup_key too long", pd_event(dedup="k" * 256), "dedup_key"),
    ("dedup_key as a number", {**pd_event(), "dedup_key": 12}, "dedup_key"),
    ("dedup_key empty", {**pd_event(), "dedup_key": ""}, "dedup_key"),
]


@pytest.mark.parametrize("body, field", [(b, f) for _, b, f in PD_BAD], ids=[n for n, _, _ in PD_BAD])
def test_pagerduty_bad_event_is_refused_naming_the_field(body: Any, field: str) -> None:
    error = refused(pagerduty.parse, raw(body), {}, {})
    assert error.status == 400
    assert names(error.errors, f"'{field}'"), error.errors


def test_pagerduty_names_every_problem_at_once() -> None:
    body = without(pd_event(severity="fatal"), "payload", "summary")
    errors = refused(pagerduty.parse, raw(body), {}, {}).errors
    assert len(errors) == 2
    assert names(errors, "'payload.summary'") and names(errors, "'payload.severity'")


# ================================================================ generic JSON webhook

GENERIC = {"summary": "alert.title", "dedup_key": "alert.id", "severity": "alert.level", "source": "host",
           "severity_map": {"P1": "critique", "P5": "faible"},
           "resolve_when": {"path": "state", "equals": "ok"},
           "acknowledge_when": {"path": "state", "equals": "ack"}}


def generic_body(**alert: Any) -> dict[str, Any]:
    return {"alert": {"title": "  Checkout latency above 2 s  ", "id": 4242, "level": "P1", **alert},
            "host": "web-3", "state": "alerting"}


def test_generic_maps_each_field_by_its_path() -> None:
    body = generic_body()
    [event] = generic.parse(raw(body), {}, GENERIC)
    assert event == {"action": "trigger", "summary": "Checkout latency above 2 s", "dedup_key": "4242",
                     "severity": "critique", "source": "web-3", "details": {"body": body}}


@pytest.mark.parametrize("dedup", [{"a": 1}, [1, 2], True, 1.5, "x" * 256])
def test_generic_refuses_a_dedup_key_that_is_not_a_short_string_or_number(dedup: Any) -> None:
    with pytest.raises(InvalidEvent) as refused:
        generic.parse(raw(generic_body(id=dedup)), {}, GENERIC)
    assert "alert.id" in str(refused.value) and "dedup key" in str(refused.value)


@pytest.mark.parametrize("level, options, severity", [
    ("P5", GENERIC, "faible"),                                    # through severity_map
    ("high", GENERIC, "eleve"),                                   # not in the map: other tools' words
    ("Critical", GENERIC, "critique"),
    ("élevé", GENERIC, "eleve"),
    ("disaster", GENERIC, "moyen"),                               # unknown: the default default
    ("disaster", {**GENERIC, "default_severity": "low"}, "faible"),
    (None, {**GENERIC, "default_severity": "P2"}, "eleve"),       # field absent
    ("P1", {"summary": "alert.title"}, "moyen"),                  # no severity path at all
])
def test_generic_severity_goes_through_the_map_then_our_words_then_the_default(
        level: Any, options: dict[str, Any], severity: str) -> None:
    body = generic_body(level=level) if level is not None else without(generic_body(), "alert", "level")
    assert generic.parse(raw(body), {}, options)[0]["severity"] == severity


@pytest.mark.parametrize("state, action", [("ok", "resolve"), ("ack", "acknowledge"), ("alerting", "trigger"),
                                           ("OK", "trigger")])
def test_generic_resolve_when_and_acknowledge_when_pick_the_action(state: str, action: str) -> None:
    [event] = generic.parse(raw({**generic_body(), "state": state}), {}, GENERIC)
    assert event["action"] == action and event["dedup_key"] == "4242"


def test_generic_rule_compares_numbers_as_text() -> None:
    options = {"summary": "t", "dedup_key": "id", "resolve_when": {"path": "code", "equals": 0}}
    assert generic.parse(raw({"t": "x", "id": "a", "code": 0}), {}, options)[0]["action"] == "resolve"
    assert generic.parse(raw({"t": "x", "id": "a", "code": 2}), {}, options)[0]["action"] == "trigger"


def test_generic_resolving_needs_a_dedup_key_mapping() -> None:
    options = {k: v for k, v in GENERIC.items() if k != "dedup_key"}
    errors = refused(generic.parse, raw({**generic_body(), "state": "ok"}), {}, options).errors
    assert errors == ["to resolve, the integration needs a dedup_key mapping"]


def test_generic_paths_reach_into_lists_and_defaults_fill_the_rest() -> None:
    body = {"alerts": [{"name": "CPU hot", "fp": "abc"}, {"name": "ignored"}]}
    [event] = generic.parse(raw(body), {}, {"summary": "alerts.0.name", "dedup_key": "alerts.0.fp"})
    assert event["summary"] == "CPU hot" and event["dedup_key"] == "abc"
    assert event["source"] == "webhook" and event["severity"] == "moyen"


def test_generic_without_a_dedup_mapping_every_event_gets_a_new_key() -> None:
    first, second = (generic.parse(raw(generic_body()), {}, {"summary": "alert.title"})[0] for _ in range(2))
    assert first["dedup_key"] != second["dedup_key"] and len(first["dedup_key"]) >= 16


def test_generic_summary_may_be_a_number_and_is_cut_at_1024() -> None:
    assert generic.parse(raw({"n": 503}), {}, {"summary": "n"})[0]["summary"] == "503"
    assert generic.parse(raw({"t": "y" * 5000}), {}, {"summary": "t"})[0]["summary"] == "y" * 1024


def test_generic_missing_summary_and_dedup_fields_are_named_by_their_paths() -> None:
    body = {"alert": {"level": "P1"}, "host": "web-3"}
    errors = refused(generic.parse, raw(body), {}, GENERIC).errors
    assert errors == ["'alert.title' (the summary) is missing or empty",
                      "'alert.id' (the dedup key) is missing"]


@pytest.mark.parametrize("title", [{"text": "x"}, ["x"], None, "   ", ""])
def test_generic_summary_of_the_wrong_type_is_named(title: Any) -> None:
    errors = refused(generic.parse, raw(generic_body(title=title)), {}, GENERIC).errors
    assert errors == ["'alert.title' (the summary) is missing or empty"]


@pytest.mark.parametrize("body", [[generic_body()], "Checkout latency", 42, None])
def test_generic_body_that_is_not_an_object_names_the_summary_path(body: Any) -> None:
    assert names(refused(generic.parse, raw(body), {}, GENERIC).errors, "'alert.title'")


def test_generic_integration_without_a_summary_mapping_is_a_conflict_not_a_bad_event() -> None:
    error = refused(generic.parse, raw(generic_body()), {}, {"dedup_key": "alert.id"})
    assert error.status == 409 and names(error.errors, "options.summary")


# ================================================================ Prometheus Alertmanager

DB1, DB2 = "8c77d5865e910658", "55b97254facb078e"
AM_GROUP = '{}:{alertname="DiskFull"}'


def am(name: str) -> dict[str, Any]:
    return load(f"alertmanager_{name}.json")


def test_alertmanager_firing_opens_one_event_per_alert() -> None:
    events = by_key(alertmanager.parse(raw(am("firing")), {}, {}))
    assert set(events) == {DB1, DB2}
    db1, db2 = events[DB1], events[DB2]
    assert db1["action"] == "trigger" and db2["action"] == "trigger"
    assert db1["summary"] == "Disk almost full on db-1" and db1["source"] == "db-1:9100"
    assert db1["severity"] == "critique" and db2["severity"] == "moyen"  # critical, warning
    assert db1["details"]["alert"]["labels"]["instance"] == "db-1:9100"
    assert db1["details"]["externalURL"] == "http://127.0.0.1:9093"
    assert "generatorURL" not in db2["details"]["alert"]  # empty fields are dropped


def test_alertmanager_each_alert_resolves_on_its_own() -> None:
    events = by_key(alertmanager.parse(raw(am("one_resolved")), {}, {}))
    assert events[DB1]["action"] == "resolve" and events[DB2]["action"] == "trigger"
    [last] = alertmanager.parse(raw(am("resolved")), {}, {})
    assert last["dedup_key"] == DB2 and last["action"] == "resolve"


def test_alertmanager_group_mode_makes_one_event_until_the_group_resolves() -> None:
    options = {"group_by": "group"}
    [firing] = alertmanager.parse(raw(am("firing")), {}, options)
    assert firing["action"] == "trigger" and firing["dedup_key"] == AM_GROUP
    assert firing["summary"] == "[2 alerts] DiskFull: job=node" and firing["source"] == "node"
    assert firing["severity"] == "critique"  # the most severe firing alert decides
    assert firing["details"]["alerts_total"] == 2 and len(firing["details"]["alerts"]) == 2

    [still] = alertmanager.parse(raw(am("one_resolved")), {}, options)
    assert still["action"] == "trigger" and still["dedup_key"] == AM_GROUP
    assert still["severity"] == "moyen"  # only db-2 (warning) still fires
    assert still["summary"] == "DiskFull: job=node"

    [done] = alertmanager.parse(raw(am("resolved")), {}, options)
    assert done["action"] == "resolve" and done["dedup_key"] == AM_GROUP
    assert done["summary"] == "Disk almost full on db-2"  # the common annotation


def test_alertmanager_severity_label_and_map_are_options() -> None:
    options = {"severity_label": "job", "severity_map": {"http_checks": "low"}}
    [event] = alertmanager.parse(raw(am("docs_rs_sample_v4")), {}, options)
    assert event["severity"] == "faible" and event["dedup_key"] == "1a30ba71cca2921f"
    assert event["summary"] == "BlackBox Probe Failure: https://server.example.org"
    assert event["source"] == "https://server.example.org"
    mapped = alertmanager.parse(raw(am("firing")), {}, {"severity_map": {"warning": "P2"}})
    assert by_key(mapped)[DB2]["severity"] == "eleve"


def test_alertmanager_unknown_severity_falls_back_instead_of_being_refused() -> None:
    body = am("docs_rs_sample_v4")
    body["alerts"][0]["labels"]["severity"] = "page"
    assert alertmanager.parse(raw(body), {}, {})[0]["severity"] == "moyen"
    assert alertmanager.parse(raw(body), {}, {"default_severity": "high"})[0]["severity"] == "eleve"
    del body["alerts"][0]["labels"]["severity"]
    assert alertmanager.parse(raw(body), {}, {"default_severity": "critical"})[0]["severity"] == "critique"


def test_alertmanager_without_annotations_or_fingerprint_uses_labels_and_its_own_fingerprint() -> None:
    body = am("firing")
    for alert in body["alerts"]:
        alert.pop("fingerprint")
        alert["annotations"] = {}
    events = by_key(alertmanager.parse(raw(body), {}, {}))
    assert set(events) == {DB1, DB2}  # as Alertmanager itself computes them
    assert events[DB1]["summary"] == "DiskFull: instance=db-1:9100, job=node, severity=critical"


def test_alertmanager_description_stands_in_for_a_missing_summary() -> None:
    body = am("firing")
    del body["alerts"][0]["annotations"]["summary"]
    assert by_key(alertmanager.parse(raw(body), {}, {}))[DB1]["summary"] == "/var is 97% full"


def test_alertmanager_a_long_group_key_is_hashed_to_a_stable_dedup_key() -> None:
    body = {**am("firing"), "groupKey": "{}:{" + "x" * 400 + "}"}
    first = alertmanager.parse(raw(body), {}, {"group_by": "group"})[0]["dedup_key"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", first)
    assert alertmanager.parse(raw(body), {}, {"group_by": "group"})[0]["dedup_key"] == first
    other = {**body, "groupKey": body["groupKey"] + "y"}
    assert alertmanager.parse(raw(other), {}, {"group_by": "group"})[0]["dedup_key"] != first


def test_alertmanager_details_stay_small_enough_to_store() -> None:
    huge = am("firing")
    huge["alerts"][0]["labels"] |= {f"label{i}": "v" * 5000 for i in range(90)}
    event = by_key(alertmanager.parse(raw(huge), {}, {}))[DB1]
    assert len(json.dumps(event["details"], ensure_ascii=False).encode()) <= 64_000
    assert event["summary"] == "Disk almost full on db-1" and event["severity"] == "critique"

    many = am("firing")
    many["alerts"] = [{"status": "firing", "labels": {"alertname": "DiskFull", "instance": f"db-{i}"}}
                      for i in range(30)]
    [group] = alertmanager.parse(raw(many), {}, {"group_by": "group"})
    assert group["details"]["alerts_total"] == 30 and len(group["details"]["alerts"]) <= 20
    assert group["summary"].startswith("[30 alerts] ")


AM_BAD: list[tuple[str, Any, list[str]]] = [
    ("no alerts", {"status": "firing"}, ["'alerts' is missing"]),
    ("alerts an object", {**am("firing"), "alerts": {"a": 1}}, ["'alerts' must be a list"]),
    ("alerts empty", {**am("firing"), "alerts": []}, ["'alerts' is empty"]),
    ("alert not an object", {**am("firing"), "alerts": ["DiskFull"]}, ["'alerts[0]' must be an object"]),
    ("labels missing, status wrong", {**am("firing"), "alerts": [
        {"status": "firing", "annotations": {"summary": "x"}},
        {"status": "burning", "labels": {"alertname": "A"}}, am("firing")["alerts"][0]]},
     ["'alerts[0].labels' is missing", "'alerts[1].status' must be firing or resolved (got 'burning')"]),
    ("label not a string", {**am("firing"), "alerts": [{"status": "firing", "labels": {"severity": 1}}]},
     ["'alerts[0].labels' must be a non-empty object of strings"]),
    ("annotations a list", {**am("firing"), "alerts": [{"status": "resolved", "labels": {"a": "b"},
                                                        "annotations": ["x"]}]},
     ["'alerts[0].annotations' must be an object of strings"]),
    ("fingerprint empty", {**am("firing"), "alerts": [{"status": "firing", "labels": {"a": "b"},
                                                       "fingerprint": ""}]},
     ["'alerts[0].fingerprint' must be a non-empty string"]),
    ("groupLabels a list", {**am("firing"), "groupLabels": ["alertname"]},
     ["'groupLabels' must be an object of strings"]),
]


@pytest.mark.parametrize("body, errors", [(b, e) for _, b, e in AM_BAD], ids=[n for n, _, _ in AM_BAD])
def test_alertmanager_malformed_payload_names_each_field(body: Any, errors: list[str]) -> None:
    error = refused(alertmanager.parse, raw(body), {}, {})
    assert error.errors == errors and error.status == 400


def test_alertmanager_group_mode_needs_status_and_group_key() -> None:
    body = {k: v for k, v in am("firing").items() if k not in ("status", "groupKey")}
    assert refused(alertmanager.parse, raw(body), {}, {"group_by": "group"}).errors == [
        "'status' must be firing or resolved (got None)",
        "'groupKey' is missing or not a string (needed to group alerts)"]
    assert len(alertmanager.parse(raw(body), {}, {"group_by": "alert"})) == 2  # not needed per alert


@pytest.mark.parametrize("options, field", [({"group_by": "everything"}, "options.group_by"),
                                            ({"severity_map": ["page"]}, "options.severity_map")])
def test_alertmanager_unusable_options_are_a_conflict(options: dict[str, Any], field: str) -> None:
    error = refused(alertmanager.parse, raw(am("firing")), {}, options)
    assert error.status == 409 and names(error.errors, field)


# ================================================================ Grafana

MEMORY, CPU, GRAFANA_GROUP = "org1/c6eadffa33fcdf37", "org1/bc97ff14869b13e3", "org1/{}:{}"


def gf(name: str) -> dict[str, Any]:
    return load(f"grafana_{name}.json")


def test_grafana_firing_opens_one_event_per_alert_keyed_by_organisation() -> None:
    events = by_key(grafana.parse(raw(gf("firing")), {}, {}))
    assert set(events) == {MEMORY, CPU}
    memory = events[MEMORY]
    assert memory["action"] == "trigger" and memory["summary"] == "This alert was triggered for zone us-1"
    assert memory["severity"] == "moyen" and memory["source"] == "grafana"  # no severity label: default
    assert memory["details"]["alert"]["values"] == {"B": 44.23943737541908, "C": 1}
    assert memory["details"]["alert"]["silenceURL"].startswith("https://play.grafana.org/alerting/silence/")
    assert memory["details"]["orgId"] == 1 and memory["details"]["title"] == "[FIRING:2]  (blue)"


def test_grafana_resolved_resolves_each_alert() -> None:
    events = by_key(grafana.parse(raw(gf("resolved")), {}, {}))
    assert set(events) == {MEMORY, CPU} and {e["action"] for e in events.values()} == {"resolve"}


def test_grafana_group_mode_uses_the_title_and_resolves_with_the_group() -> None:
    [firing] = grafana.parse(raw(gf("firing")), {}, {"group_by": "group"})
    assert firing["dedup_key"] == GRAFANA_GROUP and firing["action"] == "trigger"
    assert firing["summary"] == "[FIRING:2]  (blue)" and firing["details"]["alerts_total"] == 2
    [resolved] = grafana.parse(raw(gf("resolved")), {}, {"group_by": "group"})
    assert resolved["dedup_key"] == GRAFANA_GROUP and resolved["action"] == "resolve"
    assert resolved["summary"] == "[RESOLVED]  (blue)"


def test_grafana_severity_from_a_chosen_label_and_map() -> None:
    options = {"severity_label": "zone", "severity_map": {"us-1": "critical", "eu-1": "P2"}}
    events = by_key(grafana.parse(raw(gf("firing")), {}, options))
    assert events[MEMORY]["severity"] == "critique" and events[CPU]["severity"] == "eleve"
    [group] = grafana.parse(raw(gf("firing")), {}, {**options, "group_by": "group"})
    assert group["severity"] == "critique"


def test_grafana_organisations_do_not_share_incidents() -> None:
    other = by_key(grafana.parse(raw({**gf("firing"), "orgId": 2}), {}, {}))
    assert set(other) == {"org2/c6eadffa33fcdf37", "org2/bc97ff14869b13e3"}
    bare = {k: v for k, v in gf("firing").items() if k != "orgId"}
    assert set(by_key(grafana.parse(raw(bare), {}, {}))) == {"c6eadffa33fcdf37", "bc97ff14869b13e3"}


GF_BAD: list[tuple[str, Any, list[str]]] = [
    ("no alerts", {"receiver": "x", "status": "firing", "orgId": 1}, ["'alerts' is missing"]),
    ("alerts a string", {**gf("firing"), "alerts": "High memory usage"}, ["'alerts' must be a list"]),
    ("empty labels, no status", {**gf("firing"), "alerts": [{**gf("firing")["alerts"][0], "labels": {}},
                                                            {**gf("firing")["alerts"][1], "status": None}]},
     ["'alerts[0].labels' must be a non-empty object of strings",
      "'alerts[1].status' must be firing or resolved (got None)"]),
    ("commonLabels with a number", {**gf("firing"), "commonLabels": {"team": 7}},
     ["'commonLabels' must be an object of strings"]),
]


@pytest.mark.parametrize("body, errors", [(b, e) for _, b, e in GF_BAD], ids=[n for n, _, _ in GF_BAD])
def test_grafana_malformed_payload_names_each_field(body: Any, errors: list[str]) -> None:
    assert refused(grafana.parse, raw(body), {}, {}).errors == errors


# ================================================================ CloudWatch alarms through SNS



def deliver(message: dict[str, Any], options: dict[str, Any] | None = None,
            headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """As SNS posts to an HTTPS subscriber: the JSON message, its type in a header."""
    sent = {"x-amz-sns-message-type": str(message.get("Type")), **(headers or {})}
    return cloudwatch.parse(json.dumps(message, indent=2).encode(), sent, options or {})


def test_cloudwatch_alarm_triggers_on_the_alarm_arn(sns: FakeSNS) -> None:
    [event] = deliver(sns.notification(sns.alarm(), subject='ALARM: "api-5xx" in EU (Paris)'))
    assert event["action"] == "trigger"
    assert event["dedup_key"] == f"arn:aws:cloudwatch:eu-west-3:{sns.account}:alarm:api-5xx"
    assert event["summary"] == ("api-5xx: Threshold Crossed: 1 datapoint [12.0] was greater than the "
                                "threshold (5.0).")
    assert event["severity"] == "eleve" and event["source"] == f"EU (Paris)/{sns.account}"
    assert event["details"]["TopicArn"] == sns.topic_arn
    assert event["details"]["Trigger"]["MetricName"] == "5XXError"


def test_cloudwatch_ok_resolves_the_same_alarm_and_insufficient_data_changes_nothing(sns: FakeSNS) -> None:
    [alarm] = deliver(sns.notification(sns.alarm()))
    [ok] = deliver(sns.notification(sns.alarm(state="OK", reason="Threshold Crossed: back to 0.")))
    assert ok["action"] == "resolve" and ok["dedup_key"] == alarm["dedup_key"]
    assert deliver(sns.notification(sns.alarm(state="INSUFFICIENT_DATA"))) == []


@pytest.mark.parametrize("version", ["1", "2"])
def test_cloudwatch_both_signature_versions_are_accepted(sns: FakeSNS, version: str) -> None:
    [event] = deliver(sns.notification(sns.alarm(name=f"v{version}"), version=version))
    assert event["dedup_key"].endswith(f":alarm:v{version}")


def test_cloudwatch_severity_and_topics_are_options(sns: FakeSNS) -> None:
    assert deliver(sns.notification(sns.alarm()), {"severity": "critical"})[0]["severity"] == "critique"
    assert deliver(sns.notification(sns.alarm()), {"topic_arns": [sns.topic_arn]})[0]["action"] == "trigger"
    other = "arn:aws:sns:eu-west-3:123456789012:autre"
    with pytest.raises(Exception, match=re.escape(sns.topic_arn)) as exc:
        deliver(sns.notification(sns.alarm()), {"topic_arns": [other]})
    assert not isinstance(exc.value, InvalidEvent)  # a 403, not a 400: not ours to take


def test_cloudwatch_without_arn_or_reason_uses_the_alarm_name(sns: FakeSNS) -> None:
    alarm = sns.alarm(name="queue-depth")
    del alarm["AlarmArn"], alarm["NewStateReason"], alarm["Region"], alarm["AWSAccountId"]
    [event] = deliver(sns.notification(alarm))
    assert event["summary"] == "queue-depth" and event["source"] == "cloudwatch"
    assert event["dedup_key"] == "queue-depth"


def test_cloudwatch_subscription_is_confirmed_and_unsubscribe_is_not_visited(sns: FakeSNS) -> None:
    message = sns.subscription_confirmation()
    assert deliver(message) == []
    assert [c["Token"] for c in sns.confirmations] == [message["Token"]]
    assert deliver(sns.unsubscribe_confirmation()) == []
    assert len(sns.confirmations) == 1  # visiting it would subscribe again


def _tampered(sns: FakeSNS) -> dict[str, Any]:
    message = sns.notification(sns.alarm())
    return {**message, "Message": message["Message"].replace("api-5xx", "db-down")}


def _unsigned(sns: FakeSNS) -> dict[str, Any]:
    return without(sns.notification(sns.alarm()), "Signature")


def _cert_elsewhere(sns: FakeSNS) -> dict[str, Any]:
    return {**sns.notification(sns.alarm()),
            "SigningCertURL": "https://sns.eu-west-3.amazonaws.com.evil.example/SimpleNotificationService.pem"}


def _unknown_version(sns: FakeSNS) -> dict[str, Any]:
    return {**sns.notification(sns.alarm()), "SignatureVersion": "3"}


@pytest.mark.parametrize("forge", [_tampered, _unsigned, _cert_elsewhere, _unknown_version])
def test_cloudwatch_a_message_not_signed_by_sns_is_refused_as_forged(sns: FakeSNS, forge) -> None:
    with pytest.raises(Exception, match="(?i)sign|certificate") as exc:
        deliver(forge(sns))
    assert not isinstance(exc.value, InvalidEvent)


def test_cloudwatch_raw_message_delivery_is_refused_as_unsigned(sns: FakeSNS) -> None:
    with pytest.raises(Exception, match="raw message delivery") as exc:
        deliver(sns.notification(sns.alarm()), headers={"x-amz-sns-rawdelivery": "true"})
    assert not isinstance(exc.value, InvalidEvent)


def test_cloudwatch_malformed_sns_envelope_names_the_field(sns: FakeSNS) -> None:
    assert names(refused(cloudwatch.parse, raw({"Type": "Bogus"}), {}, {}).errors, "'Type'")
    assert names(refused(cloudwatch.parse, raw(["Notification"]), {}, {}).errors, "JSON object")
    missing = without(sns.notification(sns.alarm()), "MessageId")
    assert names(refused(deliver, missing).errors, "'MessageId'")
    mismatch = refused(deliver, sns.notification(sns.alarm()), None,
                       {"x-amz-sns-message-type": "SubscriptionConfirmation"})
    assert names(mismatch.errors, "x-amz-sns-message-type")


@pytest.mark.parametrize("alarm, field", [
    ("the disk is full", "not a CloudWatch alarm"),
    (["ALARM"], "not a CloudWatch alarm"),
    ({"NewStateValue": "ALARM"}, "'AlarmName'"),
    ({"AlarmName": "   ", "NewStateValue": "ALARM"}, "'AlarmName'"),
    ({"AlarmName": 5, "NewStateValue": "ALARM"}, "'AlarmName'"),
    ({"AlarmName": "api-5xx"}, "'NewStateValue'"),
    ({"AlarmName": "api-5xx", "NewStateValue": "BROKEN"}, "'NewStateValue'"),
], ids=["text", "array", "no-name", "blank-name", "number-name", "no-state", "unknown-state"])
def test_cloudwatch_a_signed_message_that_is_not_an_alarm_is_named(sns: FakeSNS, alarm: Any,
                                                                   field: str) -> None:
    message = alarm if isinstance(alarm, str) else json.dumps(alarm)
    error = refused(deliver, sns.notification(message))
    assert error.status == 400 and names(error.errors, field), error.errors


# ================================================================ Opsgenie Alert API

CREATE = load("opsgenie_create_alert.json")


def test_opsgenie_created_alert_triggers_with_its_alias_and_priority() -> None:
    [event] = opsgenie.parse(raw(CREATE), {}, {})
    assert event["action"] == "trigger" and event["summary"] == "An example alert message"
    assert event["dedup_key"] == "Life is too short for no alias"
    assert event["severity"] == "critique" and event["source"] == "monitoring-1"
    kept = event["details"]["opsgenie"]
    assert kept["description"] == "Every alert needs a description" and kept["entity"] == "An example entity"
    assert kept["tags"] == ["OverwriteQuietHours", "Critical"] and kept["priority"] == "P1"


@pytest.mark.parametrize("priority, severity", [("P1", "critique"), ("P2", "eleve"), ("P3", "moyen"),
                                                ("P4", "faible"), ("P5", "faible")])
def test_opsgenie_priorities_map_to_our_severities(priority: str, severity: str) -> None:
    assert opsgenie.parse(raw({**CREATE, "priority": priority}), {}, {})[0]["severity"] == severity


def test_opsgenie_defaults_are_p3_a_new_alias_and_opsgenie_as_source() -> None:
    first, second = (opsgenie.parse(raw({"message": "  disk full  "}), {}, {})[0] for _ in range(2))
    assert first["summary"] == "disk full" and first["severity"] == "moyen" and first["source"] == "opsgenie"
    assert first["dedup_key"] != second["dedup_key"]
    assert first["details"] == {"opsgenie": {"priority": "P3"}}


def test_opsgenie_limits_are_opsgenies() -> None:
    assert opsgenie.parse(raw({"message": "m" * 130}), {}, {})[0]["summary"] == "m" * 130
    too_long = refused(opsgenie.parse, raw({"message": "m" * 131, "alias": "a" * 513}), {}, {})
    assert too_long.errors == ["'message' is longer than 130 characters",
                               "'alias' is longer than 512 characters"]


def test_opsgenie_bad_alert_names_each_field_with_422() -> None:
    body = {"message": "x", "priority": "P9", "tags": "a,b", "details": [1], "alias": 5, "source": ["s"]}
    error = refused(opsgenie.parse, raw(body), {}, {})
    assert error.status == 422
    assert error.errors == ["'alias' must be a non-empty string", "'source' must be a non-empty string",
                            "'priority' must be one of P1, P2, P3, P4, P5 (got 'P9')",
                            "'tags' must be a list of strings",
                            "'details' must be an object of string values"]


@pytest.mark.parametrize("body, error", [({"alias": "a"}, "'message' is missing"),
                                         ({"message": "   "}, "'message' must be a non-empty string"),
                                         ({"message": 42}, "'message' must be a non-empty string")])
def test_opsgenie_an_alert_needs_a_message(body: dict[str, Any], error: str) -> None:
    assert refused(opsgenie.parse, raw(body), {}, {}).errors == [error]


def test_opsgenie_acknowledge_and_close_by_alias() -> None:
    [ack] = opsgenie.parse_action("acknowledge", "db-1-disk", raw({"user": "Monitoring Script",
                                                                    "note": "on it", "source": "cron"}))
    assert ack == {"action": "acknowledge", "dedup_key": "db-1-disk", "source": "cron",
                   "actor": "Monitoring Script", "details": {"opsgenie": {"note": "on it"}}}
    [close] = opsgenie.parse_action("close", "db-1-disk", b"  ", "alias")
    assert close == {"action": "resolve", "dedup_key": "db-1-disk", "source": "opsgenie"}


@pytest.mark.parametrize("args, fragment", [
    (("snooze", "db-1", b"", "alias"), "acknowledge or close"),
    (("close", "8743a1b2", b"", "id"), "identifierType=alias"),
    (("close", "8743a1b2", b"", None), "identifierType=alias"),  # Opsgenie's default is id
    (("close", "", b"", "alias"), "the alias"),
    (("close", "a" * 513, b"", "alias"), "the alias"),
    (("acknowledge", "db-1", raw({"user": 7}), "alias"), "'user'"),
    (("acknowledge", "db-1", raw({"source": "s" * 101}), "alias"), "'source'"),
], ids=["action", "by-id", "no-identifier-type", "empty-alias", "long-alias", "user-number", "long-source"])
def test_opsgenie_bad_action_is_refused_by_name(args: tuple[Any, ...], fragment: str) -> None:
    error = refused(opsgenie.parse_action, *args)
    assert error.status == 422 and names(error.errors, fragment), error.errors


def test_opsgenie_action_body_must_be_a_json_object() -> None:
    assert names(refused(opsgenie.parse_action, "close", "db-1", b"{nope", "alias").errors, "JSON")
    assert names(refused(opsgenie.parse_action, "close", "db-1", raw(["x"]), "alias").errors, "JSON object")


# ================================================================ Zendesk

def zd(**ticket: Any) -> dict[str, Any]:
    doc = load("zendesk_ticket.json")
    doc["ticket"].update(ticket)
    return doc


def test_zendesk_high_ticket_triggers_with_ticket_and_requester_details() -> None:
    [event] = zendesk.parse(raw(zd()), {}, {"api_base": "https://ex.zendesk.com"})
    assert event["action"] == "trigger" and event["severity"] == "eleve"
    assert event["dedup_key"] == "zendesk:35436" and event["source"] == "zendesk"
    assert event["summary"] == "Zendesk #35436: Le portail client ne répond plus"
    ticket = event["details"]["ticket"]
    assert ticket["url"] == "https://example.zendesk.com/agent/tickets/35436"
    assert ticket["api_base"] == "https://ex.zendesk.com"
    assert ticket["requester"] == {"name": "Camille Dupont", "email": "camille@example.fr", "language": "fr"}


def test_zendesk_api_base_never_comes_from_the_body() -> None:
    [event] = zendesk.parse(raw(zd(api_base="https://evil.example")), {}, {})
    assert event["details"]["ticket"]["api_base"] is None


def test_zendesk_urgent_is_critique_and_a_numeric_id_is_the_same_ticket() -> None:
    [event] = zendesk.parse(raw(zd(priority="Urgent", id=35436)), {}, {})
    assert event["severity"] == "critique" and event["dedup_key"] == "zendesk:35436"


@pytest.mark.parametrize("priority", ["Normal", "Low", "", None, "-"])
def test_zendesk_priorities_that_do_not_page_make_no_event(priority: Any) -> None:
    assert zendesk.parse(raw(zd(priority=priority)), {}, {}) == []


def test_zendesk_priority_map_replaces_the_default() -> None:
    assert zendesk.parse(raw(zd()), {}, {"priority_map": {"urgent": "critique"}}) == []
    assert zendesk.parse(raw(zd()), {}, {"priority_map": {"High": "moyen"}})[0]["severity"] == "moyen"
    [normal] = zendesk.parse(raw(zd(priority="Normal")), {}, {"priority_map": {"normal": "P4"}})
    assert normal["severity"] == "faible"


@pytest.mark.parametrize("status", ["Solved", "closed", "Résolu"])
def test_zendesk_solved_or_closed_ticket_resolves_whatever_its_priority(status: str) -> None:
    [event] = zendesk.parse(raw(zd(status=status, priority="Low")), {}, {})
    assert event["action"] == "resolve" and event["dedup_key"] == "zendesk:35436"
    assert "severity" not in event


def test_zendesk_closed_statuses_option() -> None:
    options = {"closed_statuses": ["Annulé"]}
    assert zendesk.parse(raw(zd(status="annulé")), {}, options)[0]["action"] == "resolve"
    assert zendesk.parse(raw(zd(status="annulé")), {}, {})[0]["action"] == "trigger"


def test_zendesk_title_stands_in_for_subject_and_language_defaults() -> None:
    doc = zd()
    doc["ticket"]["title"] = doc["ticket"].pop("subject")
    doc["ticket"]["requester"]["locale"] = ""
    [event] = zendesk.parse(raw(doc), {}, {"default_language": "fr"})
    assert event["summary"] == "Zendesk #35436: Le portail client ne répond plus"
    assert event["details"]["ticket"]["requester"]["language"] == "fr"
    doc["ticket"]["requester"]["locale"] = "en-US"
    assert zendesk.parse(raw(doc), {}, {"default_language": "fr"})[0]["details"]["ticket"]["requester"][
        "language"] == "en"


@pytest.mark.parametrize("body, errors", [
    ({"ticket": {"priority": "Urgent"}},
     ["'ticket.id' is missing or empty", "'ticket.subject' is missing or empty"]),
    ({"ticket": {"id": {"n": 1}, "subject": ["x"]}},
     ["'ticket.id' is missing or empty", "'ticket.subject' is missing or empty"]),
    ({"ticket": {"id": True, "subject": "ok"}}, ["'ticket.id' is missing or empty"]),
    ({"ticket": {"id": "1", "subject": "   "}}, ["'ticket.subject' is missing or empty"]),
], ids=["missing", "wrong-types", "bool-id", "blank-subject"])
def test_zendesk_malformed_ticket_names_the_fields(body: Any, errors: list[str]) -> None:
    assert refused(zendesk.parse, raw(body), {}, {}).errors == errors


@pytest.mark.parametrize("body", [{"id": 1}, {"ticket": "35436"}, {"ticket": [zd()["ticket"]]}])
def test_zendesk_without_a_ticket_object_names_ticket(body: Any) -> None:
    assert names(refused(zendesk.parse, raw(body), {}, {}).errors, "'ticket'")


# ================================================================ Jira Service Management

def jr(event: str = "jira:issue_created", **fields: Any) -> dict[str, Any]:
    doc = load("jira_issue_created.json")
    doc["webhookEvent"] = event
    doc["issue"]["fields"].update(fields)
    return doc


def test_jira_issue_created_with_highest_priority_pages_critique() -> None:
    [event] = jira.parse(raw(jr()), {}, {"default_language": "fr"})
    assert event["action"] == "trigger" and event["severity"] == "critique"
    assert event["dedup_key"] == "jira:HELP-42" and event["source"] == "jira"
    assert event["summary"] == "Jira #HELP-42: VPN down for the Lyon office"
    ticket = event["details"]["ticket"]
    assert ticket["url"] == "https://example.atlassian.net/browse/HELP-42"
    assert ticket["api_base"] is None  # never taken from the body's issue.self
    assert ticket["status"] == "Waiting for support" and ticket["priority"] == "Highest"
    assert ticket["requester"] == {"name": "Jordan Lee", "email": "jordan@example.com", "language": "fr"}
    assert jira.parse(raw(jr()), {}, {})[0]["details"]["ticket"]["requester"]["language"] == "en"


@pytest.mark.parametrize("priority, severity", [("High", "eleve"), ("Blocker", "critique"),
                                                ("Major", "eleve")])
def test_jira_default_priority_map(priority: str, severity: str) -> None:
    assert jira.parse(raw(jr(priority={"name": priority})), {}, {})[0]["severity"] == severity


def test_jira_lower_priorities_page_only_through_priority_map() -> None:
    assert jira.parse(raw(jr(priority={"name": "Medium"})), {}, {}) == []
    assert jira.parse(raw(jr(priority=None)), {}, {}) == []
    [event] = jira.parse(raw(jr(priority={"name": "Medium"})), {}, {"priority_map": {"medium": "moyen"}})
    assert event["severity"] == "moyen"


@pytest.mark.parametrize("event, status, options", [
    ("jira:issue_updated", {"name": "Resolved", "statusCategory": {"key": "done"}}, {}),
    ("jira:issue_updated", {"name": "Canceled", "statusCategory": {"key": "indeterminate"}},
     {"closed_statuses": ["canceled"]}),
    ("jira:issue_deleted", {"name": "Open"}, {}),
], ids=["done-category", "closed-statuses", "deleted"])
def test_jira_done_closed_or_deleted_issue_resolves(event: str, status: dict[str, Any],
                                                    options: dict[str, Any]) -> None:
    [resolved] = jira.parse(raw(jr(event, status=status, priority={"name": "Low"})), {}, options)
    assert resolved["action"] == "resolve" and resolved["dedup_key"] == "jira:HELP-42"


def test_jira_a_custom_end_status_does_not_resolve_unless_listed_in_closed_statuses() -> None:
    status = {"name": "Canceled", "statusCategory": {"key": "indeterminate"}}
    assert jira.parse(raw(jr("jira:issue_updated", status=status)), {}, {})[0]["action"] == "trigger"


def test_jira_without_issue_self_there_is_no_link() -> None:
    doc = jr()
    del doc["issue"]["self"]
    assert jira.parse(raw(doc), {}, {})[0]["details"]["ticket"]["url"] is None


@pytest.mark.parametrize("body, errors", [
    ({"webhookEvent": "comment_created", "issue": {"fields": {}}},
     ["'webhookEvent' must be one of jira:issue_created, jira:issue_updated, jira:issue_deleted "
      "(got 'comment_created')", "'issue.key' is missing or empty",
      "'issue.fields.summary' is missing or empty"]),
    ({"webhookEvent": "jira:issue_created", "issue": "HELP-42"},
     ["'issue.key' is missing or empty", "'issue.fields.summary' is missing or empty"]),
    ({**jr(), "webhookEvent": None}, ["'webhookEvent' must be one of jira:issue_created, jira:issue_updated, "
                                      "jira:issue_deleted (got None)"]),
], ids=["all-wrong", "issue-a-string", "no-event"])
def test_jira_malformed_body_names_the_fields(body: Any, errors: list[str]) -> None:
    assert refused(jira.parse, raw(body), {}, {}).errors == errors


def test_jira_summary_of_the_wrong_type_is_named() -> None:
    assert refused(jira.parse, raw(jr(summary=["VPN"])), {}, {}).errors == [
        "'issue.fields.summary' is missing or empty"]


# ================================================================ Freshdesk

def fd(**ticket: Any) -> dict[str, Any]:
    doc = load("freshdesk_ticket.json")
    doc["ticket"].update(ticket)
    return doc


def test_freshdesk_urgent_ticket_triggers_critique() -> None:
    [event] = freshdesk.parse(raw(fd()), {}, {})
    assert event["action"] == "trigger" and event["severity"] == "critique"
    assert event["dedup_key"] == "freshdesk:1234" and event["source"] == "freshdesk"
    assert event["summary"] == "Freshdesk #1234: Paiement impossible sur le site"
    ticket = event["details"]["ticket"]
    assert ticket["url"] == "https://example.freshdesk.com/helpdesk/tickets/1234"
    assert ticket["requester"] == {"name": "Lucie Bernard", "email": "lucie@example.fr", "language": "fr"}


@pytest.mark.parametrize("priority, severity", [(4, "critique"), ("4", "critique"), (3, "eleve"),
                                                ("High", "eleve"), (2, None), (1, None), ("Low", None)])
def test_freshdesk_priority_as_a_name_or_the_api_number(priority: Any, severity: str | None) -> None:
    events = freshdesk.parse(raw(fd(priority=priority, status=2)), {}, {})
    assert [e["severity"] for e in events] == ([severity] if severity else [])


def test_freshdesk_priority_map_uses_names_even_for_numbers() -> None:
    [event] = freshdesk.parse(raw(fd(priority=2)), {}, {"priority_map": {"Medium": "moyen"}})
    assert event["severity"] == "moyen" and event["details"]["ticket"]["priority"] == "medium"


@pytest.mark.parametrize("status", [4, 5, "Resolved", "Closed", "Fermé"])
def test_freshdesk_resolved_or_closed_ticket_resolves(status: Any) -> None:
    [event] = freshdesk.parse(raw(fd(status=status, priority=1)), {}, {})
    assert event["action"] == "resolve" and event["dedup_key"] == "freshdesk:1234"


def test_freshdesk_closed_statuses_option_applies_to_numbers_too() -> None:
    assert freshdesk.parse(raw(fd(status=3)), {}, {})[0]["action"] == "trigger"
    assert freshdesk.parse(raw(fd(status=3)), {}, {"closed_statuses": ["Pending"]})[0]["action"] == "resolve"


@pytest.mark.parametrize("body, errors", [
    ({"ticket": {"id": "", "subject": ["x"]}}, ["'ticket.id' is missing or empty",
                                                "'ticket.subject' is missing or empty"]),
    ({"ticket": {"subject": "Paiement"}}, ["'ticket.id' is missing or empty"]),
    ({"ticket": {"id": 1234, "subject": None}}, ["'ticket.subject' is missing or empty"]),
], ids=["wrong-types", "no-id", "null-subject"])
def test_freshdesk_malformed_ticket_names_the_fields(body: Any, errors: list[str]) -> None:
    assert refused(freshdesk.parse, raw(body), {}, {}).errors == errors


def test_freshdesk_without_a_ticket_object_names_ticket() -> None:
    assert names(refused(freshdesk.parse, raw({"ticket": 1234}), {}, {}).errors, "'ticket'")


# ================================================================ every parser: bodies not JSON objects

PARSERS = {"pagerduty": (pagerduty.parse, {}), "generic": (generic.parse, {"summary": "title"}),
           "alertmanager": (alertmanager.parse, {}), "grafana": (grafana.parse, {}),
           "cloudwatch": (cloudwatch.parse, {}), "opsgenie": (opsgenie.parse, {}),
           "zendesk": (zendesk.parse, {}), "jira": (jira.parse, {}), "freshdesk": (freshdesk.parse, {})}


@pytest.mark.parametrize("data", list(NOT_JSON.values()), ids=list(NOT_JSON))
@pytest.mark.parametrize("source", list(PARSERS))
def test_every_parser_refuses_a_body_that_is_not_json(source: str, data: bytes) -> None:
    parse, options = PARSERS[source]
    error = refused(parse, data, {}, options)
    assert error.status == 400 and names(error.errors, "body"), error.errors


@pytest.mark.parametrize("data", [b"[]", b'"text"', b"42", b"null"],
                         ids=["array", "string", "number", "null"])
@pytest.mark.parametrize("source", [s for s in PARSERS if s != "generic"])
def test_every_parser_refuses_json_that_is_not_an_object(source: str, data: bytes) -> None:
    parse, options = PARSERS[source]
    error = refused(parse, data, {}, options)
    assert names(error.errors, "JSON object"), error.errors


# ================================================================ options, checked when a key is made

USED = [("alertmanager", {"group_by": "group", "severity_label": "job",
                          "severity_map": {"http_checks": "low"}, "default_severity": "high"}),
        ("grafana", {"severity_label": "zone", "severity_map": {"us-1": "critical", "eu-1": "P2"}}),
        ("generic", GENERIC), ("generic", {**GENERIC, "default_severity": "P2"}),
        ("cloudwatch", {"severity": "critical", "topic_arns": ["arn:aws:sns:eu-west-3:1:t"]}),
        ("zendesk", {"priority_map": {"High": "moyen"}, "closed_statuses": ["Annulé"],
                     "default_language": "fr", "api_base": "https://ex.zendesk.com"}),
        ("jira", {"priority_map": {"medium": "moyen"}, "closed_statuses": ["canceled"],
                  "jira_api": "platform"}),
        ("freshdesk", {"priority_map": {"Medium": "moyen"}, "closed_statuses": ["Pending"]})]


@pytest.mark.parametrize("source, options", USED, ids=[f"{s}-{i}" for i, (s, _) in enumerate(USED)])
def test_the_options_these_tests_use_are_accepted_when_a_key_is_made(source: str, options: dict) -> None:
    assert intake_options.problems(source, options) == []


@pytest.mark.parametrize("source, options, problem", [
    ("alertmanager", {"group_by": "everything"},
     "options.group_by must be 'alert' or 'group', not 'everything'"),
    ("alertmanager", {"severty_map": {}},
     "options.severty_map is not an option of alertmanager integrations"),
    ("grafana", {"severity_map": {"page": "urgent"}}, "options.severity_map must be severities as values "
                                                      "(not for page)"),
    ("generic", {"dedup_key": "id"}, "options.summary is required for generic integrations"),
    ("generic", {"summary": "t", "resolve_when": {"path": "state"}},
     "options.resolve_when must be an object"),
    ("cloudwatch", {"severity": "huge"}, "options.severity must be a severity"),
    ("zendesk", {"closed_statuses": "solved"}, "options.closed_statuses must be a list of strings"),
    ("jira", {"jira_api": "cloud"}, "options.jira_api must be 'servicedesk' or 'platform'"),
    ("freshdesk", {"priority_map": ["urgent"]}, "options.priority_map must be an object"),
    ("opsgenie", "P1", "'options' must be an object"),
])
def test_a_wrong_option_is_named_when_the_key_is_made(source: str, options: Any, problem: str) -> None:
    found = intake_options.problems(source, options)
    assert len(found) == 1 and found[0].startswith(problem), found


@pytest.mark.parametrize("priority", [["P1"], {"p": 1}])
def test_opsgenie_priority_of_the_wrong_type_is_refused_not_a_crash(priority: Any) -> None:
    """A list or object where P1..P5 belongs: 422 naming the field, never a 500."""
    error = refused(opsgenie.parse, raw({"message": "m", "priority": priority}), {}, {})
    assert error.status == 422 and any("'priority'" in e for e in error.errors)


@pytest.mark.parametrize("state", [["ALARM"], {"s": 1}])
def test_cloudwatch_state_of_the_wrong_type_is_refused_not_a_crash(sns: FakeSNS, state: Any) -> None:
    """A signed alarm whose state is a list or object: 400 naming the field, never a 500."""
    error = refused(deliver, sns.notification(json.dumps({"AlarmName": "api-5xx", "NewStateValue": state})))
    assert error.status == 400 and names(error.errors, "'NewStateValue'"), error.errors

"""PagerDuty change events (POST /v2/change/enqueue): answered as PagerDuty answers, stored
per service, a retried delivery stored once, and shown on the incidents of that service
that open within the hour after (GET /v1/incidents/{n}, "changes"), bounded."""
from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from conftest import HELPDESK_KEY, QUICK_KEY, Api

from chalicelib import changes, clock, hashing
from chalicelib.intake import InvalidEvent, pagerduty
from chalicelib.rotas import directory


def change(summary: str = "Deploy api v1.4.2", key: str = HELPDESK_KEY, **payload: Any) -> dict[str, Any]:
    return {"routing_key": key,
            "payload": {"summary": summary, "source": "ci-pipeline",
                        "custom_details": {"build": "42", "commit": "9f1c2e"}, **payload},
            "links": [{"href": "https://ci.example.com/builds/42", "text": "Build 42"}]}


def post(api: Api, body: Any) -> Any:
    return api.http.post(f"{api.base}/v2/change/enqueue", json=body, timeout=10)


# ---------------------------------------------------------------- the parser (pure)

def test_the_parser_takes_pagerdutys_example_and_keeps_only_web_links() -> None:
    doc = {"routing_key": "k", "payload": {
        "summary": "Build Success: Increase snapshot create timeout to 30 seconds",
        "timestamp": "2026-07-17T08:42:58.315+0000", "source": "acme-build-pipeline",
        "custom_details": {"build_state": "passed"}},
        "links": [{"href": "https://acme.example/build/2", "text": "View more details"},
                  {"href": "https://acme.example/build/3"}]}
    parsed = pagerduty.parse_change(json.dumps(doc).encode())
    assert parsed["routing_key"] == "k" and parsed["source"] == "acme-build-pipeline"
    assert parsed["timestamp"] == clock.parse_iso("2026-07-17T08:42:58.315Z")
    assert parsed["links"] == [{"href": "https://acme.example/build/2", "text": "View more details"},
                               {"href": "https://acme.example/build/3", "text": "https://acme.example/build/3"}]
    assert parsed["custom_details"] == {"build_state": "passed"}


def test_the_parser_names_every_bad_field() -> None:
    doc = {"payload": {"summary": "x" * 1025, "timestamp": "yesterday", "custom_details": [1]},
           "links": [{"href": "javascript:alert(1)"}, {"href": "ftp://example.com/x"}, "nope"]}
    with pytest.raises(InvalidEvent) as exc:
        pagerduty.parse_change(json.dumps(doc).encode())
    assert exc.value.errors == [
        "'routing_key' is missing or not a string",
        "'payload.summary' is longer than 1024 characters",
        "'payload.timestamp' must be an ISO 8601 date-time with its zone (2026-07-17T08:42:58.315+0000)",
        "'payload.custom_details' must be an object",
        "'links[0].href' must be an http(s) URL",
        "'links[1].href' must be an http(s) URL",
        "'links[2].href' must be an http(s) URL",
    ]
    with pytest.raises(InvalidEvent, match="'payload' is missing"):
        pagerduty.parse_change(b'{"routing_key": "k"}')
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        pagerduty.parse_change(b"{nope")


def test_text_is_cleaned_at_the_door() -> None:
    doc = change("Deploy\x00 v2\x07 caf\u0065\u0301", custom_details={"note\x1b": "a\ud800b"})
    parsed = pagerduty.parse_change(json.dumps(doc).encode())
    assert parsed["summary"] == "Deploy v2 caf\u00e9"
    assert parsed["custom_details"] == {"note": "a\ufffdb"}


# ---------------------------------------------------------------- over HTTP

def test_a_change_is_answered_as_pagerduty_answers_and_pages_nobody(api: Api, fresh) -> None:
    r = post(api, change())
    assert r.status_code == 202, r.text
    assert r.json() == {"status": "success", "message": "Change event processed"}
    assert fresh.fake.messages() == []


def test_a_bad_change_or_an_unknown_key_is_refused_naming_the_field(api: Api, fresh) -> None:
    r = post(api, {"routing_key": HELPDESK_KEY, "payload": {"source": "ci"}})
    assert r.status_code == 400
    assert r.json() == {"status": "invalid event", "message": "Event object is invalid",
                        "errors": ["'payload.summary' is missing or empty"]}
    r = post(api, change(key="not-a-key"))
    assert r.status_code == 400
    assert r.json()["errors"] == ["'routing_key' is not the integration key of any service"]
    r = api.http.post(f"{api.base}/v2/change/enqueue", data=b"[1]", timeout=10,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["status"] == "invalid event"


def test_the_incident_shows_the_services_changes_of_the_hour_before_newest_first(api: Api, fresh) -> None:
    assert post(api, change("Old deploy, two hours ago")).status_code == 202
    clock.advance(3600 + 60)
    assert post(api, change("Feature flag checkout-v2 on", links=None)).status_code == 202
    clock.advance(600)
    assert post(api, change("Deploy api v1.4.2")).status_code == 202
    assert post(api, change("Other service's deploy", key=QUICK_KEY)).status_code == 202
    clock.advance(60)
    number = api.trigger(summary="5xx on api")["incident_number"]
    clock.advance(60)
    assert post(api, change("After the incident opened")).status_code == 202

    shown = api.incident(number)["changes"]
    assert [c["summary"] for c in shown] == ["Deploy api v1.4.2", "Feature flag checkout-v2 on"]
    first = shown[0]
    assert first["source"] == "ci-pipeline"
    assert first["links"] == [{"href": "https://ci.example.com/builds/42", "text": "Build 42"}]
    assert first["custom_details"] == {"build": "42", "commit": "9f1c2e"}
    assert first["at"] < api.incident(number)["created_at"]


def test_the_senders_timestamp_places_the_change_never_later_than_received(api: Api, fresh) -> None:
    opened_in = clock.iso(clock.now() - 1800)
    assert post(api, change("Backdated deploy", timestamp=opened_in)).status_code == 202
    assert post(api, change("Clock ahead", timestamp=clock.iso(clock.now() + 86400))).status_code == 202
    number = api.trigger()["incident_number"]
    shown = {c["summary"]: c["at"] for c in api.incident(number)["changes"]}
    assert shown["Backdated deploy"] == opened_in
    assert shown["Clock ahead"] <= api.incident(number)["created_at"]


def test_a_retried_delivery_is_stored_once_and_answered_the_same(api: Api, fresh) -> None:
    body = change("Deploy api v1.4.3")
    for _ in range(3):
        r = post(api, body)
        assert r.status_code == 202 and r.json()["status"] == "success"
    assert post(api, change("Deploy web v7")).status_code == 202
    number = api.trigger()["incident_number"]
    assert [c["summary"] for c in api.incident(number)["changes"]] == ["Deploy web v7", "Deploy api v1.4.3"]


def test_the_same_change_minutes_later_is_a_new_change(api: Api, fresh) -> None:
    """Change events carry no dedup key: the same body is a retry only within a sender's
    retries (changes.RETRY_SECONDS).  (This test used to wait an hour, which locked in an
    hour-long window that dropped a redeploy made within the hour.)"""
    body = change("Restart workers")
    assert post(api, body).status_code == 202
    clock.advance(changes.RETRY_SECONDS - 60)
    assert post(api, body).status_code == 202  # a retry: stored once
    clock.advance(120)
    again = clock.now()
    assert post(api, body).status_code == 202  # the workers restarted again
    number = api.trigger()["incident_number"]
    shown = api.incident(number)["changes"]
    assert [c["summary"] for c in shown] == ["Restart workers", "Restart workers"]
    assert abs(clock.parse_iso(shown[0]["at"]) - again) < 5


def test_a_redeploy_after_a_rollback_within_the_hour_is_not_dropped(api: Api, fresh) -> None:
    """The same body 45 minutes later is a new deploy, not a retry: the incident page must say
    the last change was the redeploy, not the rollback."""
    assert post(api, change("Deploy api v1.4.2")).status_code == 202
    clock.advance(20 * 60)
    assert post(api, change("Deploy api v1.4.1 (rollback)")).status_code == 202
    clock.advance(25 * 60)
    assert post(api, change("Deploy api v1.4.2")).status_code == 202
    clock.advance(60)
    number = api.trigger()["incident_number"]
    shown = [c["summary"] for c in api.incident(number)["changes"]]
    assert shown == ["Deploy api v1.4.2", "Deploy api v1.4.1 (rollback)", "Deploy api v1.4.2"]


def test_a_change_with_its_timestamp_is_the_same_change_whenever_it_is_retried(api: Api, fresh) -> None:
    """With payload.timestamp, the same body is the same change at any time (a sender
    replaying its queue after an outage); another timestamp is another change."""
    stamp = clock.iso(clock.now() - 60)
    assert post(api, change("Deploy api v1.5.0", timestamp=stamp)).status_code == 202
    clock.advance(30 * 60)
    assert post(api, change("Deploy api v1.5.0", timestamp=stamp)).status_code == 202  # replayed
    assert post(api, change("Deploy api v1.5.0", timestamp=clock.iso(clock.now() - 5))).status_code == 202
    number = api.trigger()["incident_number"]
    assert [c["summary"] for c in api.incident(number)["changes"]] == ["Deploy api v1.5.0"] * 2


# ---------------------------------------------------------------- bounds

def test_huge_custom_details_are_refused_naming_the_field(api: Api, fresh) -> None:
    """300 KB of details, up to 20 such changes in GET /v1/incidents/{n}, is over Lambda's
    6 MB answer: the incident page of that service would break for an hour."""
    r = post(api, change("Deploy with its whole log", custom_details={"log": "x" * 300_000}))
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert any("payload.custom_details" in e for e in r.json()["errors"])


def test_non_ascii_custom_details_under_the_body_limit_are_a_400_naming_the_field(api: Api, fresh) -> None:
    """140,000 'é' is a 280 KB body (under the 360 KB limit) but a 840 KB item (pynamodb's
    JSONAttribute escapes to \\u00e9): it used to be DynamoDB's refusal, a 413 naming no
    field in no PagerDuty shape."""
    raw = json.dumps(change("Deploy", custom_details={"notes": "é" * 140_000}), ensure_ascii=False).encode()
    assert len(raw) < 360 * 1024
    r = api.http.post(f"{api.base}/v2/change/enqueue", data=raw, timeout=30,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400, (r.status_code, r.text[:300])
    assert r.json()["status"] == "invalid event"
    assert any("payload.custom_details" in e for e in r.json()["errors"])


def test_the_details_limit_counts_them_as_stored() -> None:
    fits = {"notes": "é" * ((pagerduty.MAX_CHANGE_DETAILS - 20) // 6)}
    assert pagerduty.parse_change(json.dumps(change(custom_details=fits)).encode())["custom_details"] == fits
    over = {"notes": "é" * (pagerduty.MAX_CHANGE_DETAILS // 6 + 1)}  # 2 bytes each in UTF-8, 6 stored
    with pytest.raises(InvalidEvent, match=r"'payload.custom_details' is \d+ characters as JSON"):
        pagerduty.parse_change(json.dumps(change(custom_details=over)).encode())


def test_the_incident_shows_twenty_changes_at_most_each_bounded(api: Api, fresh) -> None:
    """What GET /v1/incidents/{n} shows stays small whatever is stored (a change stored before
    the intake's limit): 20 changes, each one's details cut."""
    for i in range(24):
        assert post(api, change(f"Deploy {i}")).status_code == 202
    now = clock.now()
    changes.ChangeEvent("CHANGES#helpdesk", f"T#{clock.iso(now)}#big", at=now, received_at=now,
                        summary="Stored before the limit", custom_details={"log": "é" * 50_000},
                        expires=int(now + 86400)).save()
    clock.advance(60)
    shown = api.incident(api.trigger()["incident_number"])["changes"]
    assert len(shown) == changes.SHOWN == 20
    assert shown[0]["summary"] == "Stored before the limit"
    assert len(shown[0]["custom_details"]["_truncated"]) <= changes.SHOWN_CUT + 1
    assert shown[1]["custom_details"] == {"build": "42", "commit": "9f1c2e"}


# ---------------------------------------------------------------- keys

def _with_key(source: str, key: str) -> None:
    bundle = copy.deepcopy(directory.bundle())
    bundle["services"]["helpdesk"]["integrations"].append(
        {"type": source, "key_sha256": hashing.sha256_hex(key), "options": {}})
    directory.sync(bundle)
    directory.invalidate()


def test_a_heartbeat_key_is_not_a_change_events_key(api: Api, fresh) -> None:
    """A heartbeat key (in every cron line) or a ticketing tool's key is no routing_key, for
    change events as for events; a generic key is."""
    _with_key("heartbeat", "hb-cron-key")
    _with_key("zendesk", "zd-webhook-key")
    _with_key("generic", "generic-key")
    r = post(api, change("Deploy", key="hb-cron-key"))
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == ["'routing_key' is the key of a heartbeat integration; this path takes "
                                  "the key of a pagerduty or generic integration"]
    assert post(api, change("Deploy", key="zd-webhook-key")).status_code == 400
    r = api.enqueue({"routing_key": "hb-cron-key", "event_action": "trigger",
                     "payload": {"summary": "Disk full", "source": "db-1", "severity": "error"}})
    assert r.status_code == 400 and "heartbeat integration" in r.json()["errors"][0]
    assert fresh.fake.messages() == []
    assert post(api, change("Deploy from the generic key", key="generic-key")).status_code == 202
    number = api.trigger()["incident_number"]
    assert [c["summary"] for c in api.incident(number)["changes"]] == ["Deploy from the generic key"]


def test_an_incident_with_no_change_before_it_shows_an_empty_list(api: Api, fresh) -> None:
    number = api.trigger()["incident_number"]
    assert api.incident(number)["changes"] == []

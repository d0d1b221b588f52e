"""PagerDuty change events (POST /v2/change/enqueue): answered as PagerDuty answers, stored
per service, a retried delivery stored once, and shown on the incidents of that service
that open within the hour after (GET /v1/incidents/{n}, "changes")."""
from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import HELPDESK_KEY, QUICK_KEY, Api

from chalicelib import clock
from chalicelib.intake import InvalidEvent, pagerduty


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


def test_the_same_change_an_hour_later_is_a_new_change(api: Api, fresh) -> None:
    body = change("Restart workers")
    assert post(api, body).status_code == 202
    clock.advance(1800)
    first = api.trigger(dedup="a")["incident_number"]
    assert [c["summary"] for c in api.incident(first)["changes"]] == ["Restart workers"]
    clock.advance(1800 + 30)
    again = clock.now()
    assert post(api, body).status_code == 202
    second = api.trigger(dedup="b")["incident_number"]
    [shown] = api.incident(second)["changes"]
    assert shown["summary"] == "Restart workers" and abs(clock.parse_iso(shown["at"]) - again) < 5


def test_an_incident_with_no_change_before_it_shows_an_empty_list(api: Api, fresh) -> None:
    number = api.trigger()["incident_number"]
    assert api.incident(number)["changes"] == []

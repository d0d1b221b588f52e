"""Opsgenie's Alert API (create, acknowledge and close by alias), for teams leaving Opsgenie."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Api

from chalicelib.intake import InvalidEvent, opsgenie

PAYLOADS = Path(__file__).parent / "payloads"
ROOT = Path(__file__).resolve().parent.parent
ALICE = "+33600000001"
CREATE = json.loads((PAYLOADS / "opsgenie_create_alert.json").read_text())


def raw(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def test_a_created_alert_triggers_with_its_alias_as_dedup_key() -> None:
    [event] = opsgenie.parse(raw(CREATE), {}, {})
    assert event == {
        "action": "trigger", "summary": "An example alert message",
        "dedup_key": "Life is too short for no alias", "severity": "critique", "source": "monitoring-1",
        "details": {"opsgenie": {
            "description": "Every alert needs a description", "entity": "An example entity",
            "tags": ["OverwriteQuietHours", "Critical"], "details": {"key1": "value1", "key2": "value2"},
            "priority": "P1", "responders": CREATE["responders"]}}}


@pytest.mark.parametrize("priority,severity", [("P1", "critique"), ("P2", "eleve"), ("P3", "moyen"),
                                               ("P4", "faible"), ("P5", "faible")])
def test_priorities_map_to_our_severities(priority: str, severity: str) -> None:
    assert opsgenie.parse(raw({"message": "m", "priority": priority}))[0]["severity"] == severity


def test_without_alias_or_priority_the_alert_gets_a_new_key_and_p3() -> None:
    first, second = (opsgenie.parse(raw({"message": "disk"}))[0] for _ in range(2))
    assert first["severity"] == "moyen" and first["source"] == "opsgenie"
    assert first["details"] == {"opsgenie": {"priority": "P3"}}
    assert first["dedup_key"] and first["dedup_key"] != second["dedup_key"]


def test_a_bad_alert_names_each_field_with_422() -> None:
    with pytest.raises(InvalidEvent) as exc:
        opsgenie.parse(raw({"message": "x" * 131, "priority": "P9", "tags": "a,b", "details": [1],
                            "alias": 5}))
    assert exc.value.status == 422
    assert exc.value.errors == [
        "'message' is longer than 130 characters", "'alias' must be a non-empty string",
        "'priority' must be one of P1, P2, P3, P4, P5 (got 'P9')", "'tags' must be a list of strings",
        "'details' must be an object of string values"]
    with pytest.raises(InvalidEvent, match="'message' is missing"):
        opsgenie.parse(raw({"alias": "a"}))
    with pytest.raises(InvalidEvent, match="not valid JSON"):
        opsgenie.parse(b"[")


def test_acknowledge_and_close_by_alias() -> None:
    [ack] = opsgenie.parse_action("acknowledge", "db-1-disk", raw({"user": "Monitoring Script",
                                                                    "note": "on it"}), "alias")
    assert ack == {"action": "acknowledge", "dedup_key": "db-1-disk", "source": "opsgenie",
                   "actor": "Monitoring Script", "details": {"opsgenie": {"note": "on it"}}}
    [close] = opsgenie.parse_action("close", "db-1-disk", b"", "alias")
    assert close == {"action": "resolve", "dedup_key": "db-1-disk", "source": "opsgenie"}


def test_actions_other_than_by_alias_are_refused_by_name() -> None:
    with pytest.raises(InvalidEvent) as exc:
        opsgenie.parse_action("snooze", "", b"", None)
    assert exc.value.status == 422 and len(exc.value.errors) == 3
    assert "only identifierType=alias is supported" in exc.value.errors[1]
    with pytest.raises(InvalidEvent, match="identifierType=alias"):
        opsgenie.parse_action("close", "8743a1b2", b"", "id")


def test_the_answers_are_opsgenies() -> None:
    body = opsgenie.accepted()
    assert body["result"] == "Request will be processed" and isinstance(body["took"], float)
    assert len(body["requestId"]) == 36 and opsgenie.accepted()["requestId"] != body["requestId"]
    assert opsgenie.error(["'message' is missing"])["message"] == "'message' is missing"
    assert opsgenie.genie_key({"Authorization": "GenieKey eb243592"}) == "eb243592"
    assert opsgenie.genie_key({"authorization": "geniekey  k "}) == "k"
    assert opsgenie.genie_key({"Authorization": "Bearer x"}) is None and opsgenie.genie_key({}) is None


# ---------------------------------------------------------------- over HTTP

def _key(api: Api) -> dict:
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"},
                      json={"source": "opsgenie", "label": "from opsgenie", "options": {}})
    assert r.status_code == 201, r.text
    return r.json()


def test_an_opsgenie_create_on_an_integration_url_pages(api: Api, fresh) -> None:
    key = _key(api)
    r = api.http.post(key["url"], json={**CREATE, "priority": "P2"}, timeout=10)
    assert r.status_code == 202, r.text
    fresh.fake.wait_for(kind="sms", to=ALICE)
    inc = api.incident(r.json()["events"][0]["incident_number"])
    assert inc["dedup_key"] == CREATE["alias"] and inc["severity"] == "eleve"


def test_the_opsgenie_alert_api_creates_acknowledges_and_closes_by_alias(api: Api, fresh) -> None:
    key = _key(api)["key"]
    genie = {"Authorization": f"GenieKey {key}"}
    r = api.http.post(f"{api.base}/v2/alerts", json={**CREATE, "priority": "P2"}, headers=genie, timeout=10)
    assert r.status_code == 202, r.text
    assert r.json()["result"] == "Request will be processed" and r.json()["requestId"]
    fresh.fake.wait_for(kind="sms", to=ALICE)
    from conftest import last_number

    number = last_number()
    alias = CREATE["alias"]
    r = api.http.post(f"{api.base}/v2/alerts/{alias}/acknowledge", params={"identifierType": "alias"},
                      json={"user": "Monitoring Script"}, headers=genie, timeout=10)
    assert r.status_code == 202, r.text
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "Monitoring Script"
    r = api.http.post(f"{api.base}/v2/alerts/{alias}/close", params={"identifierType": "alias"},
                      headers=genie, timeout=10)
    assert r.status_code == 202, r.text
    assert api.incident(number)["state"] == "resolved"


def test_the_opsgenie_alert_api_refuses_bad_keys_and_bad_alerts(api: Api, fresh) -> None:
    r = api.http.post(f"{api.base}/v2/alerts", json=CREATE, timeout=10,
                      headers={"Authorization": "GenieKey not-a-key"})
    assert r.status_code in (401, 403)
    key = _key(api)["key"]
    r = api.http.post(f"{api.base}/v2/alerts", json={"priority": "P1"}, timeout=10,
                      headers={"Authorization": f"GenieKey {key}"})
    assert r.status_code == 422 and "'message' is missing" in r.json()["message"]
    r = api.http.post(f"{api.base}/v2/alerts/abc/close", timeout=10,
                      headers={"Authorization": f"GenieKey {key}"})
    assert r.status_code == 422 and "identifierType=alias" in r.json()["message"]
    assert fresh.fake.messages() == []

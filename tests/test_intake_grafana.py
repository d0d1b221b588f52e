"""Grafana Alerting's webhook contact point, over HTTP through an integration key.

tests/payloads/grafana_firing.json is the example payload of Grafana's documentation
(https://grafana.com/docs/grafana/latest/alerting/configure-notifications/manage-contact-points/
integrations/webhook-notifier/); grafana_resolved.json is the same group once resolved
(statuses, endsAt, state, title and message changed as Grafana changes them).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import Api

ALICE = "+33600000001"
PAYLOADS = Path(__file__).parent / "payloads"
MEMORY, CPU, GROUP = "org1/c6eadffa33fcdf37", "org1/bc97ff14869b13e3", "org1/{}:{}"


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"grafana_{name}.json").read_text())


def _key(api: Api, options: dict | None = None) -> str:
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"},
                      json={"source": "grafana", "label": "grafana", "options": options or {}})
    assert r.status_code == 201, r.text
    return r.json()["url"]


def _post(api: Api, url: str, body: object) -> dict:
    r = api.http.post(url, json=body, timeout=10)
    assert r.status_code == 202, r.text
    return {e["dedup_key"]: e for e in r.json()["events"]}


def test_alert_mode_opens_one_incident_per_alert_dedups_and_resolves(api: Api, fresh) -> None:
    url = _key(api)
    events = _post(api, url, payload("firing"))
    assert set(events) == {MEMORY, CPU} and all(e["new"] for e in events.values())
    fresh.fake.wait_for(kind="sms", to=ALICE)
    inc = api.incident(events[MEMORY]["incident_number"])
    assert inc["summary"] == "This alert was triggered for zone us-1"
    assert inc["severity"] == "moyen" and inc["source"] == "grafana"  # no severity label: the default
    assert inc["details"]["alert"]["values"] == {"B": 44.23943737541908, "C": 1}
    assert inc["details"]["orgId"] == 1

    again = _post(api, url, payload("firing"))
    assert not again[MEMORY]["new"] and again[MEMORY]["incident_number"] == events[MEMORY]["incident_number"]

    _post(api, url, payload("resolved"))
    for dedup in (MEMORY, CPU):
        assert api.incident(events[dedup]["incident_number"])["state"] == "resolved"


def test_group_mode_opens_one_incident_for_the_group(api: Api, fresh) -> None:
    url = _key(api, {"group_by": "group"})
    events = _post(api, url, payload("firing"))
    assert list(events) == [GROUP]
    number = events[GROUP]["incident_number"]
    fresh.fake.wait_for(kind="sms", to=ALICE)
    inc = api.incident(number)
    assert inc["summary"] == "[FIRING:2]  (blue)" and inc["details"]["alerts_total"] == 2
    assert not _post(api, url, payload("firing"))[GROUP]["new"]
    _post(api, url, payload("resolved"))
    assert api.incident(number)["state"] == "resolved"


def test_severity_from_a_chosen_label_and_map(api: Api, fresh) -> None:
    url = _key(api, {"severity_label": "zone", "severity_map": {"us-1": "critical", "eu-1": "P2"}})
    events = _post(api, url, payload("firing"))
    assert api.incident(events[MEMORY]["incident_number"])["severity"] == "critique"
    assert api.incident(events[CPU]["incident_number"])["severity"] == "eleve"
    fresh.fake.wait_for(kind="sms", to=ALICE)


def test_another_organisation_has_its_own_incidents(api: Api, fresh) -> None:
    url = _key(api)
    first = _post(api, url, payload("firing"))
    other = _post(api, url, {**payload("firing"), "orgId": 2})
    assert other["org2/c6eadffa33fcdf37"]["new"]
    assert other["org2/c6eadffa33fcdf37"]["incident_number"] != first[MEMORY]["incident_number"]


@pytest.mark.parametrize(("body", "errors"), [
    ({"receiver": "x", "status": "firing", "orgId": 1}, ["'alerts' is missing"]),
    ({**payload("firing"), "alerts": "High memory usage"}, ["'alerts' must be a list"]),
    ({**payload("firing"), "alerts": [{**payload("firing")["alerts"][0], "labels": {}},
                                      {**payload("firing")["alerts"][1], "status": None}]},
     ["'alerts[0].labels' must be a non-empty object of strings",
      "'alerts[1].status' must be firing or resolved (got None)"]),
])
def test_a_malformed_payload_is_refused_naming_each_field_and_nothing_is_stored(
        api: Api, fresh, body: dict, errors: list[str]) -> None:
    r = api.http.post(_key(api), json=body, timeout=10)
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == errors
    assert fresh.fake.messages() == []
    r = api.http.get(f"{api.base}/v1/incidents/1", headers={"Authorization": f"Bearer {api.token}"},
                     timeout=10)
    assert r.status_code == 404


def test_an_unknown_key_is_refused(api: Api, fresh) -> None:
    r = api.http.post(f"{api.base}/v1/integrations/ik_unknown", json=payload("firing"), timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "unknown_key"
    assert fresh.fake.messages() == []

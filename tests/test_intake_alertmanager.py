"""Prometheus Alertmanager's webhook, over HTTP through an integration key, and the real
Alertmanager program delivering to us.

Payloads in tests/payloads/: alertmanager_firing, _one_resolved and _resolved.json were
captured from Alertmanager 0.25 (Debian's prometheus-alertmanager) posting one group of
two alerts, then resolving them one by one (externalURL set to loopback);
alertmanager_docs_rs_sample_v4.json is the sample of the alertmanager-webhook-types
crate.  The format is the one documented at
https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
"""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import Api, last_number

ALICE = "+33600000001"
PAYLOADS = Path(__file__).parent / "payloads"
BINARY = "prometheus-alertmanager"


def payload(name: str) -> dict:
    return json.loads((PAYLOADS / f"alertmanager_{name}.json").read_text())


def _key(api: Api, options: dict | None = None, source: str = "alertmanager") -> str:
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"},
                      json={"source": source, "label": "prometheus", "options": options or {}})
    assert r.status_code == 201, r.text
    return r.json()["url"]


def _post(api: Api, url: str, body: object) -> dict:
    r = api.http.post(url, json=body, timeout=10)
    assert r.status_code == 202, r.text
    return {e["dedup_key"]: e for e in r.json()["events"]}


def _nothing_stored(api: Api, fresh) -> None:
    assert fresh.fake.messages() == []
    r = api.http.get(f"{api.base}/v1/incidents/1", headers={"Authorization": f"Bearer {api.token}"},
                     timeout=10)
    assert r.status_code == 404


def test_alert_mode_opens_one_incident_per_alert_and_resolves_each_on_its_own(api: Api, fresh) -> None:
    url = _key(api)
    events = _post(api, url, payload("firing"))
    db1, db2 = events["8c77d5865e910658"], events["55b97254facb078e"]
    assert db1["new"] and db2["new"] and db1["incident_number"] != db2["incident_number"]
    fresh.fake.wait_for(kind="sms", to=ALICE)
    one = api.incident(db1["incident_number"])
    assert one["summary"] == "Disk almost full on db-1" and one["source"] == "db-1:9100"
    assert one["severity"] == "critique" and api.incident(db2["incident_number"])["severity"] == "moyen"
    assert one["details"]["alert"]["labels"]["instance"] == "db-1:9100"

    again = _post(api, url, payload("firing"))  # Alertmanager repeats the group
    assert not again["8c77d5865e910658"]["new"] and not again["55b97254facb078e"]["new"]
    assert api.incident(db1["incident_number"])["event_count"] == 2

    _post(api, url, payload("one_resolved"))
    assert api.incident(db1["incident_number"])["state"] == "resolved"
    assert api.incident(db2["incident_number"])["state"] == "triggered"
    _post(api, url, payload("resolved"))
    assert api.incident(db2["incident_number"])["state"] == "resolved"


def test_group_mode_opens_one_incident_per_group_until_the_group_resolves(api: Api, fresh) -> None:
    url = _key(api, {"group_by": "group"})
    events = _post(api, url, payload("firing"))
    assert list(events) == ['{}:{alertname="DiskFull"}']
    number = events['{}:{alertname="DiskFull"}']["incident_number"]
    fresh.fake.wait_for(kind="sms", to=ALICE)
    inc = api.incident(number)
    assert inc["severity"] == "critique"  # the most severe alert of the group decides
    assert inc["summary"] == "[2 alerts] DiskFull: job=node" and inc["source"] == "node"
    assert inc["details"]["alerts_total"] == 2

    still = _post(api, url, payload("one_resolved"))  # one alert resolved: the group still fires
    assert still['{}:{alertname="DiskFull"}'] == {**events['{}:{alertname="DiskFull"}'], "new": False}
    assert api.incident(number)["state"] == "triggered"
    _post(api, url, payload("resolved"))
    assert api.incident(number)["state"] == "resolved"


def test_severity_comes_from_the_chosen_label_through_the_map(api: Api, fresh) -> None:
    url = _key(api, {"severity_label": "job", "severity_map": {"http_checks": "low"}})
    events = _post(api, url, payload("docs_rs_sample_v4"))
    inc = api.incident(events["1a30ba71cca2921f"]["incident_number"])
    assert inc["severity"] == "faible"
    assert inc["summary"] == "BlackBox Probe Failure: https://server.example.org"
    unknown = payload("docs_rs_sample_v4")
    unknown["alerts"][0]["labels"] |= {"severity": "page"}
    unknown["alerts"][0]["fingerprint"] = "other"
    events = _post(api, _key(api, {"default_severity": "high"}), unknown)
    assert api.incident(events["other"]["incident_number"])["severity"] == "eleve"  # refusing would lose it


def test_without_annotations_or_fingerprint_labels_give_the_summary_and_alertmanagers_fingerprint(
        api: Api, fresh) -> None:
    body = payload("firing")
    for alert in body["alerts"]:
        alert.pop("fingerprint")
        alert["annotations"] = {}
    events = _post(api, _key(api), body)
    assert set(events) == {"8c77d5865e910658", "55b97254facb078e"}  # as Alertmanager computes them
    inc = api.incident(events["8c77d5865e910658"]["incident_number"])
    assert inc["summary"] == "DiskFull: instance=db-1:9100, job=node, severity=critical"


@pytest.mark.parametrize(("body", "errors"), [
    ({"status": "firing"}, ["'alerts' is missing"]),
    ({**payload("firing"), "alerts": {"a": 1}}, ["'alerts' must be a list"]),
    ({**payload("firing"), "alerts": [{"status": "firing", "annotations": {"summary": "x"}},
                                      {"status": "burning", "labels": {"alertname": "A"}},
                                      payload("firing")["alerts"][0]]},
     ["'alerts[0].labels' is missing", "'alerts[1].status' must be firing or resolved (got 'burning')"]),
    ([payload("firing")], ["body must be a JSON object"]),
])
def test_a_malformed_payload_is_refused_naming_each_field_and_nothing_is_stored(
        api: Api, fresh, body: object, errors: list[str]) -> None:
    r = api.http.post(_key(api), json=body, timeout=10)
    assert r.status_code == 400, r.text
    assert r.json()["errors"] == errors
    _nothing_stored(api, fresh)


def test_group_mode_needs_the_group_fields_and_bad_json_is_refused(api: Api, fresh) -> None:
    url = _key(api, {"group_by": "group"})
    body = {k: v for k, v in payload("firing").items() if k not in ("status", "groupKey")}
    r = api.http.post(url, json=body, timeout=10)
    assert r.status_code == 400
    assert r.json()["errors"] == ["'status' must be firing or resolved (got None)",
                                  "'groupKey' is missing or not a string (needed to group alerts)"]
    r = api.http.post(url, data=b'{"alerts": [', timeout=10)
    assert r.status_code == 400 and "body is not valid JSON" in r.json()["message"]
    bad_option = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                               headers={"Authorization": f"Bearer {api.token}"},
                               json={"source": "alertmanager", "options": {"group_by": "everything"}})
    assert bad_option.status_code == 400  # refused when the key is made, not at the first alert
    assert bad_option.json()["message"] == "options.group_by must be 'alert' or 'group', not 'everything'"
    _nothing_stored(api, fresh)


def test_an_unknown_key_is_refused(api: Api, fresh) -> None:
    r = api.http.post(f"{api.base}/v1/integrations/ik_not-a-key", json=payload("firing"), timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "unknown_key"
    _nothing_stored(api, fresh)


# ---------------------------------------------------------------- the real Alertmanager

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _until(check, timeout: float, what: str):
    """Poll `check` until it returns something truthy; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"after {timeout:.0f} s: {what}")


@pytest.fixture()
def alertmanager(api: Api, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Our own Alertmanager process (cluster off, loopback), its webhook at a new key."""
    binary = shutil.which(BINARY)
    if binary is None:  # never skip: CI must run this
        pytest.fail(f"{BINARY} is not installed: run `make test` (it runs scripts/install-alertmanager.sh)")
    url = _key(api, {"group_by": "alert"})
    port = _free_port()
    (tmp_path / "am.yml").write_text(
        "route:\n  receiver: astreinte\n  group_by: [alertname]\n"
        "  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n"
        "receivers:\n  - name: astreinte\n    webhook_configs:\n"
        f"      - url: {json.dumps(url)}\n        send_resolved: true\n")
    log = (tmp_path / "alertmanager.log").open("wb")
    proc = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=",
         f"--web.external-url=http://127.0.0.1:{port}"],
        stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        def ready() -> bool:
            if proc.poll() is not None:
                pytest.fail(f"{BINARY} exited: {(tmp_path / 'alertmanager.log').read_text()[-2000:]}")
            try:
                return api.http.get(f"{base}/-/ready", timeout=1).status_code == 200
            except OSError:
                return False
        _until(ready, 20, f"{BINARY} never became ready on {base}")
        yield base, url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()


def test_the_real_alertmanager_pages_then_resolves(api: Api, fresh, alertmanager: tuple[str, str]) -> None:
    base, _ = alertmanager
    now = datetime.now(UTC)
    alert = {"labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-9:9100"},
             "annotations": {"summary": "Disque plein sur db-9"},
             "startsAt": now.isoformat(), "endsAt": (now + timedelta(hours=1)).isoformat()}
    r = api.http.post(f"{base}/api/v2/alerts", json=[alert], timeout=10)
    assert r.status_code == 200, r.text

    sms = fresh.fake.wait_for(kind="sms", to=ALICE, timeout=30)
    assert "Disque plein sur db-9" in json.dumps(sms, ensure_ascii=False)
    number = last_number()
    inc = api.incident(number)
    assert inc["severity"] == "critique" and inc["source"] == "db-9:9100" and inc["state"] == "triggered"

    alert["endsAt"] = datetime.now(UTC).isoformat()
    r = api.http.post(f"{base}/api/v2/alerts", json=[alert], timeout=10)
    assert r.status_code == 200, r.text
    _until(lambda: api.incident(number)["state"] == "resolved", 30,
           f"Alertmanager's resolved notification never resolved incident #{number}")
    assert last_number() == number  # the repeats Alertmanager may send counted on the same one


def test_the_rate_limit_counts_alerts_not_posts(api: Api, fresh) -> None:
    """One Alertmanager post carries a whole group: a key allowed 3 events a minute takes the
    first post of two alerts, and refuses the second whole (Alertmanager sends it again)."""
    from chalicelib import clock

    url = _key(api, {"rate_limit_per_minute": 3})
    clock.advance(61 - clock.now() % 60)  # early in a minute: both posts fall in the same one
    first = _post(api, url, payload("firing"))
    assert len(first) == 2
    again = api.http.post(url, json=payload("firing"), timeout=10)
    assert again.status_code == 429 and int(again.headers["Retry-After"]) >= 1
    assert "more than 3 events a minute" in again.json()["message"]
    for event in first.values():  # the refused post counted nothing on the open incidents
        assert api.incident(event["incident_number"])["event_count"] == 1

    # A group bigger than a whole minute's allowance still gets in on a fresh minute.
    small = _key(api, {"rate_limit_per_minute": 1})
    assert len(_post(api, small, payload("firing"))) == 2
    assert api.http.post(small, json=payload("firing"), timeout=10).status_code == 429

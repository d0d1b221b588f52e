"""Heartbeats: a missed beat opens an incident, the next beat resolves it."""
from __future__ import annotations

from conftest import Api

from chalicelib import clock, heartbeats

ALICE = "+33600000001"


def _heartbeat(api: Api, **options: str) -> str:
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"},
                      json={"source": "heartbeat", "options": {"name": "nightly backup", **options}})
    assert r.status_code == 201, r.text
    return r.json()["key"]


def test_a_missed_beat_pages_and_the_next_beat_resolves(api: Api, fresh) -> None:
    key = _heartbeat(api, interval="10m", grace="2m")
    url = f"{api.base}/v1/heartbeats/{key}"
    r = api.http.get(url, timeout=10)
    assert r.status_code == 200 and r.json()["heartbeat"] == "nightly backup"

    clock.advance(11 * 60)  # within interval + grace: fine
    assert heartbeats.sweep() == 0
    assert api.http.post(url, timeout=10).status_code == 200  # beats are on time
    clock.advance(12 * 60 + 1)  # nothing for 12 min: missed
    assert heartbeats.sweep() == 1
    assert heartbeats.sweep() == 0  # opened once
    sms = fresh.fake.wait_for(kind="sms", to=ALICE)
    assert "nightly backup" in sms["body"]
    number = int(sms["body"].split("#", 1)[1].split()[0])
    assert api.incident(number)["state"] == "triggered"

    assert api.http.get(url, timeout=10).status_code == 200  # the job runs again
    inc = api.incident(number)
    assert inc["state"] == "resolved" and inc["resolved_by"] == "nightly backup"


def test_a_heartbeat_url_needs_a_heartbeat_key(api: Api) -> None:
    assert api.http.get(f"{api.base}/v1/heartbeats/ik_nope", timeout=10).status_code == 403
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"},
                      json={"source": "generic", "options": {"summary": "x"}})
    wrong = api.http.get(f"{api.base}/v1/heartbeats/{r.json()['key']}", timeout=10)
    assert wrong.status_code == 400 and "not a heartbeat" in wrong.json()["message"]


def _revoke(api: Api, key: str, rotate: bool = False) -> None:
    from chalicelib import hashing

    key_id = hashing.sha256_hex(key)[:12]
    base = f"{api.base}/v1/services/helpdesk/integrations/{key_id}"
    auth = {"Authorization": f"Bearer {api.token}"}
    r = api.http.post(f"{base}/rotate", headers=auth, timeout=10) if rotate else \
        api.http.delete(base, headers=auth, timeout=10)
    assert r.status_code in (201, 204), r.text


def test_a_revoked_heartbeat_pages_nobody_when_its_beats_stop(api: Api, fresh) -> None:
    key = _heartbeat(api, interval="10m", grace="2m")
    assert api.http.get(f"{api.base}/v1/heartbeats/{key}", timeout=10).status_code == 200
    _revoke(api, key)  # the job is decommissioned with its key
    clock.advance(13 * 60)
    assert heartbeats.sweep() == 0
    clock.advance(60 * 60)
    assert heartbeats.sweep() == 0
    assert fresh.fake.messages(kind="sms") == [] and fresh.fake.messages(kind="slack") == []
    assert api.http.get(f"{api.base}/v1/heartbeats/{key}", timeout=10).status_code == 403


def test_the_open_incident_of_a_revoked_heartbeat_is_resolved_saying_why(api: Api, fresh) -> None:
    key = _heartbeat(api, interval="10m", grace="2m")
    assert api.http.get(f"{api.base}/v1/heartbeats/{key}", timeout=10).status_code == 200
    clock.advance(12 * 60 + 1)
    assert heartbeats.sweep() == 1  # missed: paged
    sms = fresh.fake.wait_for(kind="sms", to=ALICE)
    number = int(sms["body"].split("#", 1)[1].split()[0])

    _revoke(api, key)  # the key can no longer beat: the incident could never close by itself
    clock.advance(10 * 60 + 1)  # the sweeper looks at a missed heartbeat again every interval
    assert heartbeats.sweep() == 0
    inc = api.incident(number)
    assert inc["state"] == "resolved" and inc["resolved_by"] == "astreinte"
    [why] = [e for e in inc["timeline"] if e["kind"] == "heartbeat_retired"]
    assert "revoked or rotated" in why["detail"]["why"] and "révoquée" in why["detail"]["why"]
    clock.advance(60 * 60)
    assert heartbeats.sweep() == 0  # and it opens nothing again
    texts = [m["body"] for m in fresh.fake.messages(kind="sms", to=ALICE)]
    assert sum("Heartbeat missed" in t for t in texts) == 1  # one page; then Alice is told it is closed
    assert any(f"#{number} clos" in t for t in texts)


def test_rotating_a_heartbeat_key_carries_the_watch_and_its_incident_to_the_new_key(api: Api, fresh) -> None:
    key = _heartbeat(api, interval="10m", grace="2m")
    assert api.http.get(f"{api.base}/v1/heartbeats/{key}", timeout=10).status_code == 200
    clock.advance(12 * 60 + 1)
    assert heartbeats.sweep() == 1  # missed: paged
    number = int(fresh.fake.wait_for(kind="sms", to=ALICE)["body"].split("#", 1)[1].split()[0])

    from chalicelib import hashing

    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations/{hashing.sha256_hex(key)[:12]}/rotate",
                      headers={"Authorization": f"Bearer {api.token}"}, timeout=10)
    new_key = r.json()["key"]
    clock.advance(10 * 60 + 1)
    assert heartbeats.sweep() == 0  # still watched under the new key, not retired, not paged again
    assert api.incident(number)["state"] == "triggered"
    assert api.http.get(f"{api.base}/v1/heartbeats/{key}", timeout=10).status_code == 403  # the old key
    assert api.http.get(f"{api.base}/v1/heartbeats/{new_key}", timeout=10).status_code == 200
    inc = api.incident(number)  # the job beats again with its new key: what it had opened closes
    assert inc["state"] == "resolved" and inc["resolved_by"] == "nightly backup"
    clock.advance(12 * 60 + 1)
    assert heartbeats.sweep() == 1  # and the new key is watched: a missed beat pages again

"""Integration keys through the API, and the generic JSON webhook with its field mapping."""
from __future__ import annotations

from conftest import Api

ALICE = "+33600000001"
MAPPING = {"summary": "alert.title", "dedup_key": "alert.id", "severity": "alert.priority",
           "severity_map": {"P1": "critique", "P3": "moyen"}, "source": "host",
           "resolve_when": {"path": "alert.state", "equals": "ok"}}


def _auth(api: Api) -> dict:
    return {"Authorization": f"Bearer {api.token}"}


def _key(api: Api, source: str = "generic", options: dict | None = None) -> dict:
    options = MAPPING if options is None else options
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", headers=_auth(api), timeout=10,
                      json={"source": source, "label": "tests", "options": options})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_generic_webhook_opens_dedups_and_resolves_with_its_mapping(api: Api, fresh) -> None:
    key = _key(api)
    alert = {"alert": {"id": "a-1", "title": "API 5xx > 5%", "priority": "P3", "state": "alerting"},
             "host": "api-1"}
    r = api.http.post(key["url"], json=alert, timeout=10)
    assert r.status_code == 202, r.text
    number = r.json()["events"][0]["incident_number"]
    fresh.fake.wait_for(kind="sms", to=ALICE)
    assert api.http.post(key["url"], json=alert, timeout=10).json()["events"][0]["new"] is False
    inc = api.incident(number)
    assert inc["summary"] == "API 5xx > 5%" and inc["severity"] == "moyen" and inc["event_count"] == 2
    alert["alert"]["state"] = "ok"
    assert api.http.post(key["url"], json=alert, timeout=10).status_code == 202
    assert api.incident(number)["state"] == "resolved"


def test_a_generic_event_missing_its_mapped_fields_is_refused_and_nothing_stored(api: Api, fresh) -> None:
    key = _key(api)
    r = api.http.post(key["url"], json={"alert": {"priority": "P1"}}, timeout=10)
    assert r.status_code == 400
    assert "'alert.title' (the summary) is missing" in r.json()["message"]
    assert "'alert.id' (the dedup key) is missing" in r.json()["message"]
    assert fresh.fake.messages() == []
    assert api.http.post(key["url"], data=b"{nope", timeout=10).status_code == 400


def test_keys_are_listed_without_their_secret_rotated_and_revoked(api: Api) -> None:
    key = _key(api)
    listed = api.http.get(f"{api.base}/v1/services/helpdesk/integrations", headers=_auth(api), timeout=10)
    entries = listed.json()["integrations"]
    assert len(entries) == 1 and entries[0]["source"] == "generic"
    assert key["key"] not in listed.text
    kid = entries[0]["id"]
    rotated = api.http.post(f"{api.base}/v1/services/helpdesk/integrations/{kid}/rotate",
                            headers=_auth(api), timeout=10)
    assert rotated.status_code == 201
    body = {"alert": {"id": "r", "title": "t"}}
    old = api.http.post(key["url"], json=body, timeout=10)
    assert old.status_code == 403 and old.json()["error"] == "unknown_key"
    assert api.http.post(rotated.json()["url"], json=body, timeout=10).status_code == 202
    new_id = api.http.get(f"{api.base}/v1/services/helpdesk/integrations", headers=_auth(api),
                          timeout=10).json()["integrations"][0]["id"]
    gone = api.http.delete(f"{api.base}/v1/services/helpdesk/integrations/{new_id}", headers=_auth(api),
                           timeout=10)
    assert gone.status_code == 204


def test_managing_keys_is_authenticated_and_validated(api: Api) -> None:
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10, json={"source": "generic"})
    assert r.status_code == 401
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", headers=_auth(api), timeout=10,
                      json={"source": "carrier-pigeon"})
    assert r.status_code == 400 and "'source' must be one of" in r.json()["message"]
    r = api.http.post(f"{api.base}/v1/services/nope/integrations", headers=_auth(api), timeout=10,
                      json={"source": "generic"})
    assert r.status_code == 404


def test_the_pagerduty_format_works_on_an_integration_url_too(api: Api, fresh) -> None:
    key = _key(api, "pagerduty", {})
    r = api.http.post(key["url"], timeout=10, json={
        "event_action": "trigger", "dedup_key": "pd-url",
        "payload": {"summary": "Disk full", "source": "db-1", "severity": "critical"}})
    assert r.status_code == 202, r.text
    fresh.fake.wait_for(kind="sms", to=ALICE)


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(api: Api, fresh) -> None:
    key = _key(api, options={**MAPPING, "rate_limit_per_minute": 3})
    answers = [api.http.post(key["url"], json={"alert": {"id": f"r{i}", "title": "t"}}, timeout=10)
               for i in range(4)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429]
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert "more than 3 events a minute" in answers[3].json()["message"]
    again = api.http.post(key["url"], json={"alert": {"id": "r5", "title": "t"}}, timeout=10)
    assert again.status_code == 429


def test_keys_from_the_command_line(api: Api, fresh, capsys) -> None:
    """The same life of a key as through the API, for whoever holds the AWS credentials."""
    import json

    from chalicelib import cli

    assert cli.main(["integration", "create", "helpdesk", "generic", "--label", "zabbix",
                     "--options", json.dumps(MAPPING)]) == 0
    made = json.loads(capsys.readouterr().out)
    alert = {"alert": {"id": "z-1", "title": "Zabbix: disk full", "priority": "P3"}}
    assert api.http.post(made["url"], json=alert, timeout=10).status_code == 202

    assert cli.main(["integration", "list", "helpdesk"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["label"] == "zabbix" and made["key"] not in json.dumps(listed)

    assert cli.main(["integration", "rotate", "helpdesk", listed["id"]]) == 0
    rotated = json.loads(capsys.readouterr().out)
    assert api.http.post(made["url"], json=alert, timeout=10).status_code == 403  # the old key
    assert api.http.post(rotated["url"], json=alert, timeout=10).status_code == 202

    [new] = json.loads((cli.main(["integration", "list", "helpdesk"]), capsys.readouterr().out)[1])
    assert cli.main(["integration", "revoke", "helpdesk", new["id"]]) == 0
    assert api.http.post(rotated["url"], json=alert, timeout=10).status_code == 403

    # Mistakes are named, and no key is made.
    capsys.readouterr()
    assert cli.main(["integration", "create", "helpdesk", "alertmanager",
                     "--options", '{"group-by": "group", "severity_map": {"P1": "urgent"}}']) == 1
    err = capsys.readouterr().err
    assert "options.group-by is not an option of alertmanager integrations" in err
    assert "options.severity_map must be severities as values (not for P1)" in err
    assert cli.main(["integration", "create", "nowhere", "generic"]) == 1
    assert "there is no service 'nowhere'" in capsys.readouterr().err
    assert cli.main(["integration", "list", "helpdesk"]) == 0
    assert json.loads(capsys.readouterr().out) == []

    # And as an operator types it: the module run as a program, on the same table.
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "chalicelib.cli", "integration", "create", "helpdesk",
                           "opsgenie"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"].startswith("http") and len(
        json.loads((cli.main(["integration", "list", "helpdesk"]), capsys.readouterr().out)[1])) == 1


def test_a_key_made_before_options_were_checked_can_still_be_rotated(api: Api, fresh) -> None:
    """A leaked key must be replaceable whatever its options; new keys get the check."""
    from chalicelib import integrations

    integrations.create("helpdesk", "generic", "tests", "old", {"summary": "t", "colour": "red"}, check=False)
    [old] = api.http.get(f"{api.base}/v1/services/helpdesk/integrations", headers=_auth(api),
                         timeout=10).json()["integrations"]
    rotated = api.http.post(f"{api.base}/v1/services/helpdesk/integrations/{old['id']}/rotate",
                            headers=_auth(api), timeout=10)
    assert rotated.status_code == 201, rotated.text
    not_an_object = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", headers=_auth(api),
                                  timeout=10, json={"source": "generic", "options": "summary=title"})
    assert not_an_object.status_code == 400
    assert not_an_object.json()["message"] == "'options' must be an object"

"""Production settings without hand edits: the public URL learnt from API Gateway, the
stage's secret re-read so rotated tokens reach warm containers, `cli secrets set`, the
self-check (`cli doctor`, GET /health, hourly), and the CLI finding `make run`'s stack.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from conftest import Api
from twilio.request_validator import RequestValidator

from chalicelib import cli, clock, config, doctor, links

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "abc123defg.execute-api.eu-west-3.amazonaws.com"
ALICE = "+33600000001"


class Context:
    """What Lambda hands a handler, as far as Chalice reads it."""

    aws_request_id = "req-1"
    function_name = "astreinte-prod"
    memory_limit_in_mb = 512

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def gateway_event(method: str, path: str, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """A REST API proxy event as API Gateway sends it for stage `api` of DOMAIN."""
    return {
        "resource": path, "path": path, "httpMethod": method, "body": body, "isBase64Encoded": False,
        # API Gateway's request context says where the call came, whatever the Host header says.
        "headers": {"Host": "evil.example", **headers},
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": path, "httpMethod": method, "path": f"/api{path}", "stage": "api",
                           "domainName": DOMAIN, "requestId": "req-1", "identity": {"sourceIp": "54.1.2.3"}},
    }


def twilio_sms_event(url: str, params: dict[str, str]) -> dict[str, Any]:
    signature = RequestValidator(os.environ["TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    return gateway_event("POST", "/webhooks/twilio/sms", urllib.parse.urlencode(params), headers)


def test_twilio_signs_the_url_api_gateway_was_called_on_and_it_passes(fresh, monkeypatch) -> None:  # noqa: ANN001
    import app as app_module

    monkeypatch.delenv("ASTREINTE_PUBLIC_URL")  # nothing configured: the deploy step has not run yet
    params = {"From": ALICE, "To": "+33900000000", "Body": "aide", "MessageSid": "SM" + "1" * 32}

    answer = app_module.app(twilio_sms_event(f"https://{DOMAIN}/api/webhooks/twilio/sms", params), Context())

    assert answer["statusCode"] == 200, answer
    assert "répondez 4" in answer["body"]  # Alice's help, in French
    # The container learnt its URL from that request: the links it sends now point there.
    assert config.settings().public_url == f"https://{DOMAIN}/api"
    assert links.make(1, "alice", "ack").startswith(f"https://{DOMAIN}/api/l/")

    forged = app_module.app(twilio_sms_event("https://elsewhere.example/api/webhooks/twilio/sms", params),
                            Context())
    assert forged["statusCode"] == 403 and "X-Twilio-Signature" in forged["body"]


@pytest.fixture()
def moto_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The stage's secret in Secrets Manager (moto's server on loopback), as infra/ creates it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    requests.post(f"http://{host}:{port}/moto-api/reset", timeout=10)  # moto's accounts live per process
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", f"http://{host}:{port}")
    monkeypatch.setenv("ASTREINTE_SECRETS_ID", "astreinte/prod")
    for key in ("TWILIO_AUTH_TOKEN", "TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(key)  # from the secret, as in AWS
    boto3.client("secretsmanager", region_name="eu-west-3").create_secret(
        Name="astreinte/prod", SecretString=json.dumps({"TWILIO_AUTH_TOKEN": "first-token"}))
    config.reload()
    try:
        yield "astreinte/prod"
    finally:
        server.stop()
        config.reload()


def test_secrets_set_reaches_warm_containers_within_five_minutes(fresh, moto_secret, capsys) -> None:  # noqa: ANN001
    assert config.settings().twilio_auth_token == "first-token"
    assert cli.main(["secrets", "set", "TWILIO_ACCOUNT_SID=AC" + "9" * 32, "TWILIO_FROM_NUMBER=+33900000000",
                     "TWILIO_AUTH_TOKEN=rotated-token"]) == 0
    assert "TWILIO_AUTH_TOKEN" in capsys.readouterr().out
    assert config.settings().twilio_auth_token == "first-token"  # a warm container, a minute later
    clock.advance(config.SECRETS_SECONDS + 1)
    assert config.settings().twilio_auth_token == "rotated-token"
    assert config.settings().twilio_from == "+33900000000"
    assert config.twilio_client().password == "rotated-token"  # the client is built anew

    assert cli.main(["secrets", "show"]) == 0
    shown = capsys.readouterr().out
    assert "rotated-token" not in shown and "TWILIO_AUTH_TOKEN          set" in shown
    assert "SLACK_BOT_TOKEN            MISSING" in shown
    assert cli.main(["secrets", "set", "NOT_A_KEY=1"]) == 2


def test_doctor_says_all_is_well_then_names_the_broken_part_and_its_fix(api: Api, fresh, monkeypatch,  # noqa: ANN001
                                                                       capsys, caplog) -> None:
    assert cli.main(["doctor"]) == 0
    out = capsys.readouterr().out
    for name in ("table", "secret", "twilio", "slack", "public_url", "schedules"):
        assert f"ok   {name}" in out, out

    r = api.http.get(f"{api.base}/health", headers={"Authorization": f"Bearer {api.token}"}, timeout=30)
    assert r.status_code == 200 and r.json()["ok"] is True

    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "revoked-in-the-console")
    config.reload()
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "FAIL twilio" in out and "401" in out and "fix: " in out

    r = api.http.get(f"{api.base}/health", headers={"Authorization": f"Bearer {api.token}"}, timeout=30)
    assert r.status_code == 503
    [twilio] = [c for c in r.json()["checks"] if c["name"] == "twilio"]
    assert twilio["ok"] is False and "secrets set" in twilio["fix"]

    failed = doctor.self_check()  # the hourly run: logged (and counted: SelfCheckFailed)
    assert [c.name for c in failed if not c.ok] == ["twilio"]
    assert any("self_check_failed" in r.getMessage() for r in caplog.records)


def test_health_is_not_for_everyone(api: Api, fresh) -> None:  # noqa: ANN001
    from chalicelib import tokens

    agent = tokens.create("alice", "test")
    r = api.http.get(f"{api.base}/health", headers={"Authorization": f"Bearer {agent}"}, timeout=30)
    assert r.status_code == 403
    assert api.http.get(f"{api.base}/health", timeout=30).status_code == 401


def test_the_cli_finds_make_runs_stack_by_itself(fresh, tmp_path: Path) -> None:  # noqa: ANN001
    keep = cli.LOCAL_SETTINGS
    stack_file = tmp_path / "stack.json"
    stack_file.write_text(json.dumps({k: v for k, v in os.environ.items() if k.startswith(keep)}))
    shell = {k: v for k, v in os.environ.items() if not k.startswith(keep)}  # a new terminal
    shell["ASTREINTE_STACK_FILE"] = str(stack_file)

    done = subprocess.run([sys.executable, "-m", "chalicelib.cli", "oncall"], cwd=ROOT, env=shell,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert "local stack" in done.stderr and "alice" in done.stdout.lower()


def test_a_secret_that_cannot_be_read_again_keeps_its_last_values(fresh, moto_secret, monkeypatch) -> None:  # noqa: ANN001
    assert config.settings().twilio_auth_token == "first-token"
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:9")  # Secrets Manager away
    config.secrets_client.cache_clear()
    clock.advance(config.SECRETS_SECONDS + 1)
    assert config.settings().twilio_auth_token == "first-token"  # pages go on with what worked
    config.reload()  # a new container has nothing to fall back on: its failure is loud
    with pytest.raises(Exception):  # noqa: B017, PT011 - botocore's, as it happens
        _ = config.settings().twilio_auth_token

"""The local stack for integration tests: DynamoDB Local, the API over HTTP, the fakes.

One stack per test session; each test gets a fresh table and a reset fake, and drives
time with chalicelib.clock (no sleeping through escalation delays).
"""
from __future__ import annotations

import copy
import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.stack import Stack  # noqa: E402

SERVER_FIXTURES = {"stack", "fresh", "api"}
# Modules whose tests start servers or programs of their own (an in-process fake, moto,
# Chromium, `make run`, `chalice package`, Alertmanager): not `unit`, even without the stack.
OWN_SERVERS = {"test_dashboard", "test_deploy", "test_fakes", "test_fakes_ses", "test_intake_alertmanager",
               "test_intake_cloudwatch", "test_integrations", "test_make_run", "test_rotas_api",
               "test_sqs_timers", "test_email", "test_package", "test_sqs_batch", "test_openapi",
               "test_me_page"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark `unit` every test that needs no server: `make unit` runs them alone, in seconds."""
    for item in items:
        module = item.module.__name__ if isinstance(item, pytest.Function) else ""
        if not SERVER_FIXTURES & set(getattr(item, "fixturenames", ())) and module not in OWN_SERVERS:
            item.add_marker(pytest.mark.unit)


HELPDESK_KEY = "test-helpdesk-key"
# A second rota beside tests/rotas, for the role tests: Olga its agent, Paul its manager layer.
NIGHT_ROTA = """
people:
  - {id: olga, name: Olga Ivanova, language: fr, phone: "+33611111111", notify: [{channel: sms}]}
  - {id: paul, name: Paul Blanc, language: fr, phone: "+33611111112", notify: [{channel: sms}]}
rotas:
  - id: night
    timezone: Europe/Paris
    layers:
      agent: {participants: [olga], shift: weekly}
      manager: {participants: [paul], shift: weekly}
"""
QUICK_KEY = "test-quick-key"
_tables = itertools.count(1)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    s = Stack(rotas_dir=ROOT / "tests" / "rotas", timer_interval=None).start()
    yield s
    s.stop()


@pytest.fixture()
def fresh(stack: Stack) -> Iterator[Stack]:
    """A new table with the test rotas, a reset fake and a reset clock."""
    from chalicelib import clock, config, store
    from chalicelib.rotas import directory
    from chalicelib.rotas import load as rotas

    os.environ["ASTREINTE_TABLE"] = f"astreinte-test-{next(_tables)}"
    config.reload()
    store.configure()
    store.create_table()
    directory.invalidate()
    directory.sync(rotas.load_dir(ROOT / "tests" / "rotas"))
    clock.reset()
    stack.fake.reset()
    yield stack
    clock.reset()


class Api:
    """The service over HTTP, as a monitoring tool or a person's script would call it."""

    def __init__(self, base: str, token: str):
        self.base, self.token = base, token
        self.http = requests.Session()

    def enqueue(self, body: Any, **kw: Any) -> requests.Response:
        return self.http.post(f"{self.base}/v2/enqueue", json=body, timeout=10, **kw)

    def trigger(self, key: str = HELPDESK_KEY, dedup: str | None = None, severity: str = "error",
                summary: str = "Disk full on db-1") -> dict:
        body: dict[str, Any] = {"routing_key": key, "event_action": "trigger",
                                "payload": {"summary": summary, "source": "db-1", "severity": severity,
                                            "custom_details": {"disk": "/var"}}}
        if dedup:
            body["dedup_key"] = dedup
        r = self.enqueue(body)
        assert r.status_code == 202, r.text
        return r.json()

    def incident(self, number: int) -> dict:
        r = self.http.get(f"{self.base}/v1/incidents/{number}", timeout=10,
                          headers={"Authorization": f"Bearer {self.token}"})
        assert r.status_code == 200, r.text
        return r.json()

    def act(self, number: int, action: str, token: str | None = None) -> requests.Response:
        return self.http.post(f"{self.base}/v1/incidents/{number}/{action}", timeout=10,
                              headers={"Authorization": f"Bearer {token or self.token}"})


@pytest.fixture()
def api(fresh: Stack) -> Api:
    from chalicelib import tokens

    return Api(fresh.api_url, tokens.create("carol", "tests"))


@pytest.fixture(scope="module")
def sns_server() -> Iterator[Any]:
    """A fake SNS (tests/fakes/sns.py) that signs messages and serves its certificate."""
    from fakes.sns import FakeSNS

    fake = FakeSNS().start()
    yield fake
    fake.stop()


@pytest.fixture()
def sns(sns_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The fake SNS, trusted as a certificate host for this test only (the API, when there is
    one, runs in this process and reads the setting)."""
    sns_server.reset()
    monkeypatch.setenv("ASTREINTE_SNS_CERT_HOSTS", sns_server.base)
    return sns_server


def pd_event(action: str = "trigger", dedup: str | None = None, **payload: Any) -> dict[str, Any]:
    """A valid PagerDuty Events v2 body without its routing_key (an integration URL carries the
    key); payload fields given as keywords override the defaults."""
    body: dict[str, Any] = {"event_action": action}
    if dedup is not None:
        body["dedup_key"] = dedup
    if action == "trigger":
        body["payload"] = {"summary": "Disk full on db-1", "source": "db-1", "severity": "error", **payload}
    return body


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    """A copy of `body` with the field at `path` removed."""
    body = copy.deepcopy(body)
    holder = body
    for part in path[:-1]:
        holder = holder[part]
    del holder[path[-1]]
    return body


def last_number() -> int:
    from chalicelib.store import Counter

    return int(Counter.get("COUNTER", "incident").value)


def kinds(incident: dict) -> list[str]:
    return [e["kind"] for e in incident["timeline"]]

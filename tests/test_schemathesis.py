"""Schemathesis fuzzes the JSON API from chalicelib/openapi.json against the local stack: no answer is
a 5xx, and every answer has a documented status, content type and body.

Bounded and reproducible: a fixed number of examples per operation, derandomized (the same cases
every run), no shrinking.  The Twilio and Slack webhooks (they need signatures: tests of their own
cover them) and the dashboard page are left out.  Every failure is collected, then reported together
with its request (and the 500's traceback: the app runs in debug mode for this test)."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from conftest import HELPDESK_KEY
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

DOCUMENT = Path(__file__).resolve().parent.parent / "chalicelib" / "openapi.json"
SKIPPED = ("/webhooks/", "/dashboard")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                    phases=[Phase.explicit, Phase.generate], report_multiple_bugs=False,
                    suppress_health_check=list(HealthCheck))


def _fuzz(operation: Any, mode: GenerationMode, base: str, headers: dict[str, str],
          session: requests.Session, statuses: Counter[int], keys: dict[str, str]) -> str | None:
    """The first failure of this operation in this mode, as text; None when every case passed.

    Valid cases of the intake paths carry live keys (else every one would stop at 403)."""
    found: list[str] = []
    if operation.path.startswith("/v2/alerts"):
        headers = {**headers, "Authorization": f"GenieKey {keys['opsgenie']}"}

    @_settings(EXAMPLES[mode])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        if mode is GenerationMode.POSITIVE:
            if operation.path == "/v1/integrations/{key}":
                case.path_parameters["key"] = HELPDESK_KEY
            elif operation.path == "/v1/heartbeats/{key}":
                case.path_parameters["key"] = keys["heartbeat"]
            elif operation.path == "/v2/enqueue" and isinstance(case.body, dict):
                case.body["routing_key"] = HELPDESK_KEY
        response = case.call(base_url=base, session=session, headers=headers, timeout=30)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except BaseException as exc:  # schemathesis' FailureGroup is a BaseExceptionGroup
            if not found:
                found.append(f"{case.method} {case.formatted_path} query={case.query} body={case.body!r}\n"
                             f"-> {response.status_code} {response.headers.get('Content-Type')}\n"
                             f"{response.text[:4000]}\n{exc}")
            raise

    try:
        run()
    except Unsatisfiable:
        return None  # nothing to make invalid (a free string in the path, no query, no body)
    except BaseException as exc:  # noqa: BLE001 - collected, reported with the others
        return found[0] if found else f"{type(exc).__name__}: {exc}"
    return None


def test_the_api_answers_as_documented(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import app

    monkeypatch.setattr(app, "debug", True)  # a 500 answers its traceback: the report shows it
    from chalicelib import integrations

    for key in ("fuzz-1", "fuzz-2"):  # incidents #1 and #2 exist, so actions on them find one
        api.trigger(dedup=key)
    keys = {source: integrations.create("helpdesk", source, "carol", "fuzz", None)
            for source in ("opsgenie", "heartbeat")}
    schema = schemathesis.openapi.from_dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))
    headers = {"Authorization": f"Bearer {api.token}"}
    session = requests.Session()
    routes = {(method, path) for path, entries in app.routes.items() for method in entries}
    failures, tested, statuses = [], 0, Counter[int]()
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(SKIPPED) or (operation.method.upper(), operation.path) not in routes:
            continue  # routes documented ahead of their code: tests/test_openapi.py names them
        for mode in EXAMPLES:
            tested += 1
            failure = _fuzz(operation, mode, api.base, headers, session, statuses, keys)
            if failure:
                failures.append(f"[{mode.value}] {operation.method.upper()} {operation.path}\n{failure}")
    print(f"schemathesis: {tested} operation runs, {sum(statuses.values())} requests, by status "
          f"{dict(sorted(statuses.items()))}")
    assert tested > 40 and any(200 <= s < 300 for s in statuses)
    assert not failures, f"{len(failures)} failing operation(s):\n\n" + "\n\n".join(failures)

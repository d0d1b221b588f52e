"""A trigger answers without waiting on a slow provider, and paging breaking is loud.

The fake holds Twilio's SMS request (slow_next) until the test lets it go: the 202 coming back
while it is still held is the proof that the answer did not wait for it (no clock in sight).
The page still being sent stays leased; it is recorded when it comes back, or sent again when
its cut lease ends.  Then: failed pages logged with the number masked, and counted.
"""
from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from conftest import Api

from chalicelib import clock, config, incidents, log, metrics
from chalicelib.incidents import engine, records

ALICE = "+33600000001"


@pytest.fixture()
def slow_sms(fresh, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Alice's next SMS held by the fake until released; Twilio's client waits up to 15 s, so it
    does not give up while the test looks (its default, 5 s, is what a Lambda uses)."""
    monkeypatch.setenv("ASTREINTE_HTTP_TIMEOUT", "15")
    config.reload()
    fresh.fake.slow_next(120, service="twilio", kind="sms")
    yield fresh.fake
    fresh.fake.release()
    monkeypatch.undo()
    config.reload()


def critique(api: Api, dedup: str) -> int:
    r = api.enqueue({"routing_key": "test-helpdesk-key", "event_action": "trigger", "dedup_key": dedup,
                     "payload": {"summary": "Payments down", "source": "pay-1", "severity": "critical"}})
    assert r.status_code == 202, r.text
    return int(r.json()["incident_number"])


def until(check: Callable[[], Any], what: str, tries: int = 200) -> Any:
    """Poll `check` until it answers something true (a thread of the service is at work)."""
    for _ in range(tries):
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"never: {what}")


def paged(api: Api, number: int, channel: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in api.incident(number)["timeline"]
            if e["kind"] == "paged" and e["channel"] == channel]


def sms_lease(number: int) -> dict[str, Any] | None:
    inc = records.get(number)
    assert inc is not None
    return next((p for p in inc.escalation["pending"]
                 if p["to"] == "alice" and p["channel"] == "sms" and p.get("leased")), None)


def test_a_critique_trigger_answers_while_twilio_still_holds_the_sms_which_is_then_sent_once(
        api: Api, slow_sms) -> None:
    fake = slow_sms
    number = critique(api, "slow-twilio")

    # Answered while the SMS is still held by Twilio: the answer did not wait for it.
    assert fake.held() == 1 and fake.messages(kind="sms") == []
    # The pages that came back are recorded: Alice's Slack DM and the team channel.
    assert {m["channel"] for m in fake.messages(kind="slack")} == {"U0ALICE", "C0SUPPORT"}
    assert len(paged(api, number, "slack")) == 2 and paged(api, number, "sms") == []
    lease = sms_lease(number)  # still leased, the lease cut: due again soon if nobody records it
    assert lease is not None and lease["at"] <= clock.now() + engine.late_lease()
    assert lease["at"] < clock.now() + engine.LEASE_SECONDS

    fake.release()  # Twilio answers at last: the page's own thread records it
    fake.wait_for(kind="sms", to=ALICE)
    until(lambda: paged(api, number, "sms"), "the late SMS recorded on the timeline")
    assert sms_lease(number) is None  # released

    clock.advance(engine.LEASE_SECONDS + 1)  # past any lease: nothing due is sent again
    incidents.sweep()
    assert len(fake.messages(kind="sms", to=ALICE)) == 1
    [sms] = paged(api, number, "sms")
    assert sms["ok"] is True and sms["to"] == "alice"
    inc = api.incident(number)
    assert inc["state"] == "triggered" and [e["kind"] for e in inc["timeline"]].count("paged") == 3


def test_a_page_whose_thread_never_came_back_is_sent_again_when_its_cut_lease_ends(
        api: Api, slow_sms) -> None:
    fake = slow_sms
    number = critique(api, "frozen")
    assert fake.held() == 1

    # The Lambda froze after its answer: the held SMS is not back when its lease ends.
    clock.advance(engine.late_lease() + 1)
    incidents.sweep()
    fake.wait_for(kind="sms", to=ALICE)  # sent again by the sweeper, not held this time
    assert fake.held() == 1
    assert [p["ok"] for p in paged(api, number, "sms")] == [True] and sms_lease(number) is None

    fake.release()  # ...and the first send thaws and completes: at least once, as documented
    until(lambda: len(paged(api, number, "sms")) == 2, "the late SMS recorded beside the second")
    assert len(fake.messages(kind="sms", to=ALICE)) == 2
    assert sms_lease(number) is None  # it released nothing that was not its own
    clock.advance(engine.LEASE_SECONDS + 1)
    incidents.sweep()
    assert len(fake.messages(kind="sms", to=ALICE)) == 2  # and nothing more


@pytest.fixture()
def log_lines() -> Iterator[io.StringIO]:
    """What chalicelib.log writes, as its JSON lines (the Powertools formatter)."""
    logger = logging.getLogger(log.service_name())
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(next(h.formatter for h in logger.handlers
                              if isinstance(h.formatter, LambdaPowertoolsFormatter)))
    logger.addHandler(handler)
    yield out
    logger.removeHandler(handler)


def test_a_page_that_fails_is_counted_and_logged_with_the_number_masked(
        api: Api, fresh, log_lines: io.StringIO) -> None:
    fresh.fake.fail_numbers.add(ALICE)  # Twilio: 400, error 21211 "Invalid 'To' Phone Number"
    before = metrics.totals()
    number = api.trigger(dedup="wrong-number", severity="error")["incident_number"]
    fresh.fake.wait_for(kind="slack", channel="U0ALICE")

    after = metrics.totals()
    assert after.get("PagesFailed", 0) - before.get("PagesFailed", 0) == 1
    assert after.get("PagesSent", 0) - before.get("PagesSent", 0) == 1  # her Slack DM
    assert after.get("EventsAccepted", 0) - before.get("EventsAccepted", 0) == 1
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    [failed] = [line for line in lines if line["message"] == "page_failed"]
    assert failed["level"] == "ERROR" and failed["incident"] == number and failed["channel"] == "sms"
    assert failed["address"] == "+33 6•• •• •• 01" and "Invalid 'To' Phone Number" in failed["error"]
    assert failed["service"] == log.service_name() and failed["permanent"] is True
    assert ALICE not in log_lines.getvalue()


def test_a_refused_event_is_counted(api: Api, fresh) -> None:
    before = metrics.totals().get("EventsRefused", 0)
    r = api.enqueue({"routing_key": "not-a-key", "event_action": "trigger",
                     "payload": {"summary": "x", "source": "y", "severity": "critical"}})
    assert r.status_code == 400
    r = api.http.post(f"{api.base}/v1/integrations/ik_unknown", json={}, timeout=10)
    assert r.status_code == 403
    assert metrics.totals().get("EventsRefused", 0) - before == 2


def test_metrics_print_one_emf_line_per_invocation_only_when_asked(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("ASTREINTE_METRICS", raising=False)
    metrics.per_invocation(None, lambda _: metrics.count("PagesSent"))
    assert capsys.readouterr().out == ""  # locally: nothing printed

    monkeypatch.setenv("ASTREINTE_METRICS", "stdout")
    answer = metrics.per_invocation(None, lambda _: (metrics.count("PagesSent"), metrics.count("PagesSent"),
                                                     metrics.seconds("EscalationLateness", 2.5), "done")[-1])
    assert answer == "done"
    [line] = capsys.readouterr().out.splitlines()
    emf = json.loads(line)
    [directive] = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Astreinte" and directive["Dimensions"] == [["service"]]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {"PagesSent": "Count",
                                                                    "EscalationLateness": "Seconds"}
    assert emf["service"] == "astreinte-local" and emf["PagesSent"] == [1.0, 1.0]
    metrics.flush()
    assert capsys.readouterr().out == ""  # flushed once: nothing left


def test_log_fields_mask_phone_numbers_anywhere() -> None:
    assert log.masked("+33600000001") == "+33 6•• •• •• 01"
    assert log.masked({"error": "Invalid 'To' Phone Number: +447700900002", "n": [1, "+33600000001"]}) == {
        "error": "Invalid 'To' Phone Number: +44 7• •• •• •• 02", "n": [1, "+33 6•• •• •• 01"]}
    assert log.masked("2026-01-09T10:00:00+01:00 #12") == "2026-01-09T10:00:00+01:00 #12"

"""The store's faults: when DynamoDB does not answer, a request ends within 10 s with a 503
and Retry-After (the sender retries); every event answered 202 is stored; nobody is paged
twice; the sweeper catches up once the store is back.

The fault is real: the DynamoDB Local process the tests started is frozen (SIGSTOP).
"""
from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator

import pytest
from conftest import HELPDESK_KEY, Api, pd_event

from chalicelib import clock, incidents
from chalicelib.incidents import dedup, records

BOB = "+447700900002"


@contextlib.contextmanager
def frozen(stack) -> Iterator[None]:
    """DynamoDB Local stopped dead (it keeps its sockets: calls hang, as on a network fault)."""
    os.kill(stack.db.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(stack.db.proc.pid, signal.SIGCONT)


def send(api: Api, dedup_key: str) -> tuple[int, float, dict]:
    """Post one event as a monitoring tool would; (status, seconds it took, answer)."""
    started = time.monotonic()
    r = api.enqueue({"routing_key": HELPDESK_KEY, **pd_event(dedup=dedup_key)})  # gives up after 10 s
    answer = {**r.json(), "retry_after": r.headers.get("Retry-After")}
    return r.status_code, time.monotonic() - started, answer


def test_a_frozen_store_answers_503_with_retry_after_within_10_s_and_nothing_is_lost(api: Api, fresh) -> None:
    answers: dict[str, int] = {}
    for key in ("before-1", "before-2"):
        answers[key] = send(api, key)[0]
    records.forget_pointers()  # a cold container: the event needs the store to be counted
    with frozen(fresh):
        status, took, body = send(api, "during")
    assert status == 503 and took < 10, (status, took, body)
    assert body["error"] == "store_unavailable" and body["retry_after"] == "5"
    assert "send it again" in body["message"] and "renvoyez" in body["message"]

    while (status := send(api, "during")[0]) == 503:  # the sender retries, as told
        time.sleep(1)
    answers["during"] = status
    answers["after"] = send(api, "after")[0]
    assert set(answers.values()) == {202}

    numbers = {}
    for key in answers:  # every event answered 202 is stored: one incident each
        pointer = dedup.open_pointer("helpdesk", key)
        assert pointer is not None, key
        numbers[key] = pointer.number
    assert len(set(numbers.values())) == len(answers)
    incidents.sweep()
    for key, number in numbers.items():  # nobody paged twice: one SMS per incident
        sms = [m for m in fresh.fake.messages(kind="sms") if f"#{number} " in m["body"]]
        assert len(sms) == 1, (key, sms)


def test_the_sweeper_fails_within_10_s_while_the_store_is_frozen_then_catches_up(api: Api, fresh) -> None:
    api.trigger(dedup="step-two")
    clock.advance(5 * 60 + 1)  # the référent's step is due
    with frozen(fresh):
        started = time.monotonic()
        with pytest.raises(Exception) as failed:  # noqa: PT011 - pynamodb's or botocore's, as it happens
            incidents.sweep()
        assert time.monotonic() - started < 10
    assert "timeout" in repr(failed.value).lower() or "timed out" in repr(failed.value).lower()
    assert fresh.fake.messages(kind="call", to=BOB) == []
    incidents.sweep()  # the next run, once the store answers
    fresh.fake.wait_for(kind="call", to=BOB)


def test_an_sms_reply_while_the_store_is_frozen_asks_to_send_it_again(api: Api, fresh) -> None:
    """Twilio does not retry a failed SMS webhook: the person is told, and their next try counts."""
    number = api.trigger(dedup="reply-frozen")["incident_number"]
    fresh.fake.wait_for(kind="sms", to="+33600000001")
    with frozen(fresh):
        status, twiml = fresh.fake.reply_sms("+33600000001", f"4 {number}")
    assert status == 200 and "renvoyez" in twiml and "send it again" in twiml
    status, twiml = fresh.fake.reply_sms("+33600000001", f"4 {number}")
    assert status == 200 and api.incident(number)["state"] == "acknowledged"


def test_a_slack_button_pressed_while_the_store_is_frozen_says_press_again(api: Api, fresh) -> None:
    number = api.trigger(dedup="button-frozen")["incident_number"]
    dm = fresh.fake.wait_for(kind="slack", channel="U0ALICE")
    with frozen(fresh):
        status, _ = fresh.fake.click(dm["ts"], "ack", "U0ALICE")
    assert status == 200
    told = fresh.fake.wait_for(kind="slack_ephemeral", channel=dm["channel"])
    assert "renvoyez" in told["text"] and "send it again" in told["text"]
    assert fresh.fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200
    assert api.incident(number)["state"] == "acknowledged"

"""Per-step timers through SQS (moto's server over HTTP standing in for AWS SQS)."""
from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from chalice.test import Client
from conftest import QUICK_KEY, Api
from moto.server import ThreadedMotoServer

from chalicelib import clock, config
from chalicelib.incidents import sweeper, timers
from devstack.dynamodb import free_port


@pytest.fixture()
def queue(fresh, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # moto keeps its state per process, not per server: start from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset",
                                                  method="POST"), timeout=5)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("ASTREINTE_TIMER_QUEUE", "astreinte-timers")
    config.reload()
    timers._queue_url.cache_clear()
    sqs = boto3.client("sqs", region_name="eu-west-3")
    url = sqs.create_queue(QueueName="astreinte-timers")["QueueUrl"]
    yield sqs, url
    server.stop()
    monkeypatch.undo()
    config.reload()
    timers._queue_url.cache_clear()


def _delayed(sqs, url: str) -> int:  # noqa: ANN001
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessagesDelayed"])


def test_the_next_step_is_woken_by_its_sqs_timer(api: Api, fresh, queue: tuple) -> None:
    sqs, url = queue
    number = api.trigger(key=QUICK_KEY, dedup="sqs-timer")["incident_number"]
    fresh.fake.wait_for(kind="sms", to="+33600000001")
    got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10, MaxNumberOfMessages=1)["Messages"]
    body = json.loads(got[0]["Body"])
    assert body["incident"] == number

    import app as app_module

    with Client(app_module.app) as client:  # the Lambda handler Chalice wires to the queue
        event = client.events.generate_sqs_event(queue_name="astreinte-timers",
                                                 message_bodies=[got[0]["Body"]])
        client.lambda_.invoke("escalation-timer", event)
    fresh.fake.wait_for(kind="call", to="+447700900002")  # the référent, step 2


def test_a_wait_longer_than_sqs_allows_is_chained(fresh, queue: tuple) -> None:
    sqs, url = queue
    due = clock.now() + 40 * 60
    sweeper.on_timer(json.dumps({"incident": 1, "due_at": due}))  # not due: wait again
    assert _delayed(sqs, url) == 1
    assert fresh.fake.messages() == []

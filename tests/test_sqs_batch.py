"""One bad timer message does not make its whole SQS batch come back: the escalation-timer
handler reports the messages that failed (ReportBatchItemFailures), and only those."""
from __future__ import annotations

import json

from chalice.test import Client
from conftest import Api

from chalicelib import clock, metrics

BOB = "+447700900002"


def test_a_malformed_timer_is_reported_alone_and_the_others_of_its_batch_are_run(api: Api, fresh) -> None:
    fake = fresh.fake
    first = api.trigger(dedup="batch-1")["incident_number"]
    second = api.trigger(dedup="batch-2")["incident_number"]
    clock.advance(5 * 60 + 1)  # both référent steps are due
    bodies = [json.dumps({"incident": first, "due_at": clock.now() - 1}),
              "this is not a timer",
              json.dumps({"incident": second, "due_at": clock.now() - 1})]

    import app as app_module

    with Client(app_module.app) as client:  # through Chalice's SQS handler, its middleware included
        event = client.events.generate_sqs_event(queue_name="astreinte-timers", message_bodies=bodies)
        ids = [record["messageId"] for record in event["Records"]]
        answer = client.lambda_.invoke("escalation-timer", event).payload

    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    fake.wait_for(kind="call", to=BOB)
    assert len(fake.messages(kind="call", to=BOB)) == 2  # the two good timers ran: step 2 of each
    for number in (first, second):
        steps = [e["detail"]["step"] for e in api.incident(number)["timeline"] if e["kind"] == "escalated"]
        assert steps == [1, 2]


def test_a_batch_that_all_goes_well_reports_no_failure(api: Api, fresh) -> None:
    number = api.trigger(dedup="batch-ok")["incident_number"]
    before = metrics.totals().get("EscalationLateness", 0)
    clock.advance(5 * 60 + 1)
    import app as app_module

    with Client(app_module.app) as client:
        body = json.dumps({"incident": number, "due_at": clock.now()})
        event = client.events.generate_sqs_event(queue_name="astreinte-timers", message_bodies=[body])
        assert client.lambda_.invoke("escalation-timer", event).payload == {"batchItemFailures": []}
    fresh.fake.wait_for(kind="call", to=BOB)
    assert metrics.totals()["EscalationLateness"] - before >= 1  # the step ran 1 s late (service's clock)

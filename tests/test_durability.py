"""Durable timers: what was decided is done, even when the Lambda deciding it died."""
from __future__ import annotations

from conftest import Api, kinds

from chalicelib import clock, incidents
from chalicelib.incidents import dedup, engine
from chalicelib.rotas import directory

ALICE = "+33600000001"


def test_pages_decided_by_a_lambda_that_died_are_sent_when_their_lease_ends(api: Api, fresh) -> None:
    fake = fresh.fake
    service = directory.bundle()["services"]["helpdesk"]
    event = {"summary": "Lambda died mid-way", "source": "db-1", "severity": "eleve",
             "dedup_key": "died", "via": "events-api"}
    inc, decision = dedup.open_incident(service, event)  # ...and the Lambda dies here
    assert decision is not None and fake.messages() == []

    incidents.sweep()
    assert fake.messages() == []  # still leased to the Lambda that died
    clock.advance(engine.LEASE_SECONDS + 1)
    incidents.sweep()
    fake.wait_for(kind="sms", to=ALICE)
    fake.wait_for(kind="slack", channel="U0ALICE")

    incidents.sweep()  # sent once, not again
    assert len(fake.messages(kind="sms", to=ALICE)) == 1
    timeline = api.incident(inc.number)
    assert kinds(timeline).count("paged") == 2
    # The step's own clock did not move: the référent is still due 5 minutes after the trigger.
    clock.advance(5 * 60 - engine.LEASE_SECONDS - 1)
    incidents.sweep()
    fake.wait_for(kind="call", to="+447700900002")


def test_a_timer_delivered_twice_pages_once(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(dedup="twice")["incident_number"]
    clock.advance(5 * 60 + 1)
    assert incidents.process_due(number) == 1
    assert incidents.process_due(number) == 0  # the SQS redelivery, or the sweeper after it
    incidents.sweep()
    assert len(fake.messages(kind="call", to="+447700900002")) == 1

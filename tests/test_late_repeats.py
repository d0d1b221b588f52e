"""Storms at the store's speed: a repeat of an open incident is one write, and a repeat that
lands on an incident resolved meanwhile (another container still remembered its dedup
pointer) still opens the next incident and pages, once, when the sweeper looks.

Requests to the store are counted on the wire, by a proxy in front of DynamoDB Local.
"""
from __future__ import annotations

import json

import pytest
from conftest import Api, kinds

from bench.ddb_counter import CountingProxy
from chalicelib import clock, config, incidents, store
from chalicelib.incidents import dedup, records, sweeper

ALICE = "+33600000001"


def sms_about(fake, number: int) -> list[dict]:
    """The SMS pages (not the notices) Alice got for an incident: a page tells how to reply."""
    return [m for m in fake.messages(kind="sms", to=ALICE) if f"#{number} " in m["body"]
            and ("Répondez" in m["body"] or "Reply" in m["body"])]


def test_a_repeat_of_an_open_incident_costs_the_store_one_write(api: Api, fresh,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    number = api.trigger(dedup="storm-1")["incident_number"]
    api.trigger(dedup="storm-1")  # this container now knows the open incident of storm-1
    proxy = CountingProxy(fresh.db.port)
    monkeypatch.setenv("DYNAMODB_ENDPOINT", f"http://127.0.0.1:{proxy.port}")
    config.reload()
    store.configure()
    records.remember_pointer("helpdesk", "storm-1", number)  # reload forgot it, as a new table would

    for _ in range(20):
        assert api.trigger(dedup="storm-1")["incident_number"] == number

    spent = proxy.snapshot()
    # One PutItem per event; the rate limit's reservation (one UpdateItem per 50 events, and a
    # new one when the minute turns, which may happen within these 20) may fall in them;
    # nothing else: no read of the pointer, no transaction.
    assert spent["PutItem"] == 20, spent
    assert set(spent) <= {"PutItem", "UpdateItem"} and spent["UpdateItem"] <= 2, spent
    assert incidents.as_json(incidents.get(number), incidents.timeline(number))["event_count"] == 22


def test_a_repeat_stored_on_an_incident_resolved_elsewhere_opens_the_next_one(api: Api, fresh) -> None:
    fake = fresh.fake
    first = api.trigger(dedup="flapping")["incident_number"]
    fake.wait_for(lambda m: f"#{first} " in m["body"], kind="sms", to=ALICE)
    api.trigger(dedup="flapping")  # a repeat while it is open: counted, nobody paged again
    assert api.act(first, "resolve").status_code == 200

    # Another container (Lambda) still remembers the dedup pointer for a few seconds: the
    # event lands on the resolved incident.  Here that container is this process, told so.
    records.remember_pointer("helpdesk", "flapping", first)
    r = api.trigger(dedup="flapping", summary="Disk full again on db-1")
    assert r["incident_number"] == first
    assert len(sms_about(fake, first)) == 1

    clock.advance(records.LATE_REPEATS_SECONDS + 1)
    incidents.sweep()

    second = first + 1
    reopened = api.incident(second)
    assert reopened["state"] == "triggered" and reopened["summary"] == "Disk full again on db-1"
    assert reopened["dedup_key"] == "flapping"
    fake.wait_for(lambda m: f"#{second} " in m["body"], kind="sms", to=ALICE)
    [moved] = [e for e in api.incident(first)["timeline"] if e["kind"] == "late_repeats"]
    assert moved["detail"]["reopened_as"] == second and moved["detail"]["repeats"] == 1
    assert "late_repeats" in kinds(reopened)

    dedup.reopen_late_repeats(incidents.get(first))  # run again (a retried timer): nothing twice
    clock.advance(60)
    incidents.sweep()
    assert len(sms_about(fake, second)) == 1 and len(sms_about(fake, first)) == 1
    assert [e["kind"] for e in api.incident(first)["timeline"]].count("late_repeats") == 1
    assert api.trigger(dedup="flapping")["incident_number"] == second  # the next incident is the open one


def test_repeats_that_came_before_the_resolution_open_nothing(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(dedup="steady")["incident_number"]
    for _ in range(3):
        api.trigger(dedup="steady")
    assert api.act(number, "resolve").status_code == 200

    clock.advance(records.LATE_REPEATS_SECONDS + 1)
    assert incidents.sweep() == 1  # the resolved incident, looked at once
    assert incidents.sweep() == 0  # and off the sweeper's list

    with pytest.raises(AssertionError):  # no incident after it
        api.incident(number + 1)
    assert len(sms_about(fake, number)) == 1
    assert "late_repeats" not in kinds(api.incident(number))


def stale_repeat_after_resolving(api: Api, fake, dedup_key: str) -> int:
    """An incident with a repeat, resolved; then another container, still remembering its
    pointer, stores a trigger on it.  Returns the resolved incident's number."""
    number = api.trigger(dedup=dedup_key)["incident_number"]
    fake.wait_for(lambda m: f"#{number} " in m["body"], kind="sms", to=ALICE)
    api.trigger(dedup=dedup_key)
    assert api.act(number, "resolve").status_code == 200
    records.remember_pointer("helpdesk", dedup_key, number)
    assert api.trigger(dedup=dedup_key)["incident_number"] == number
    records.remember_pointer("helpdesk", dedup_key, None)
    return number


def test_a_step_timer_firing_after_the_resolution_keeps_the_look_for_late_repeats(api: Api, fresh) -> None:
    first = stale_repeat_after_resolving(api, fresh.fake, "timer-race")
    # The SQS message of a step planned before the resolution arrives now, 5 minutes early.
    sweeper.on_timer(json.dumps({"incident": first, "due_at": clock.now()}))
    clock.advance(records.LATE_REPEATS_SECONDS + 1)
    sweeper.on_timer(json.dumps({"incident": first, "due_at": clock.now()}))  # resolving's own timer
    assert api.incident(first + 1)["dedup_key"] == "timer-race"
    fresh.fake.wait_for(lambda m: f"#{first + 1} " in m["body"], kind="sms", to=ALICE)


def test_late_repeats_that_the_source_then_resolved_open_nothing(api: Api, fresh) -> None:
    first = stale_repeat_after_resolving(api, fresh.fake, "self-healing")
    r = api.enqueue({"routing_key": "test-helpdesk-key", "event_action": "resolve",
                     "dedup_key": "self-healing"})
    assert r.status_code == 202, r.text

    clock.advance(records.LATE_REPEATS_SECONDS + 1)
    incidents.sweep()

    with pytest.raises(AssertionError):
        api.incident(first + 1)
    [note] = [e for e in api.incident(first)["timeline"] if e["kind"] == "late_repeats"]
    assert note["detail"]["reopened_as"] is None and "source resolved" in note["detail"]["note"]


def test_late_repeats_of_a_key_that_opened_and_closed_meanwhile_page_nobody_twice(api: Api, fresh) -> None:
    fake = fresh.fake
    first = stale_repeat_after_resolving(api, fake, "came-and-went")
    second = api.trigger(dedup="came-and-went")["incident_number"]  # a container that read the store
    assert second == first + 1
    assert api.act(second, "resolve").status_code == 200

    clock.advance(records.LATE_REPEATS_SECONDS + 1)
    incidents.sweep()

    with pytest.raises(AssertionError):
        api.incident(second + 1)
    [note] = [e for e in api.incident(first)["timeline"] if e["kind"] == "late_repeats"]
    assert note["detail"]["reopened_as"] is None and f"#{second}" in note["detail"]["note"]
    assert len(sms_about(fake, second)) == 1


def test_an_incident_without_recent_repeats_is_not_looked_at_again(api: Api, fresh) -> None:
    number = api.trigger(dedup="quiet")["incident_number"]
    assert api.act(number, "resolve").status_code == 200
    clock.advance(records.LATE_REPEATS_SECONDS + 1)
    assert incidents.sweep() == 0  # nobody can remember its pointer: no look for late repeats


def test_a_container_forgets_a_pointer_after_ten_seconds_of_the_service_clock(api: Api, fresh) -> None:
    first = api.trigger(dedup="forgotten")["incident_number"]
    assert api.act(first, "resolve").status_code == 200
    records.remember_pointer("helpdesk", "forgotten", first)  # stale, as in another container
    clock.advance(records.POINTER_SECONDS + 1)
    assert api.trigger(dedup="forgotten")["incident_number"] == first + 1  # read from the store: opened

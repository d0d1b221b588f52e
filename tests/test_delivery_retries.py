"""No page lost: a page that failed is sent again until it gets through or someone takes the
incident; at its first failure the person's next channel is tried at once; a page that can
never be delivered is not sent again, and the team's managers are told once.

Faults come from the fake providers' failure controls; time moves on the service's clock.
"""
from __future__ import annotations

from typing import Any

from conftest import Api

from chalicelib import clock, incidents

ALICE, BOB = "+33600000001", "+447700900002"


def wait(seconds: float, step: float = 30) -> None:
    """Let time pass on the service's clock in steps, running what is due at each."""
    while seconds > 0:
        clock.advance(min(step, seconds))
        seconds -= step
        incidents.sweep()


def pages(inc: dict, to: str) -> list[dict[str, Any]]:
    return [e["detail"] | {"channel": e["channel"]} for e in inc["timeline"]
            if e["kind"] == "paged" and e["detail"]["to"] == to]


def test_twilio_down_five_minutes_then_up_the_agent_gets_the_page_once_and_a_fallback_before(
        api: Api, fresh) -> None:
    fake = fresh.fake
    fake.fail_next(n=100_000, status=503, service="twilio")  # down: every SMS and call refused
    number = api.trigger(severity="error")["incident_number"]
    fake.wait_for(kind="slack", channel="U0ALICE")
    incidents.sweep()

    inc = api.incident(number)
    [sms] = [p for p in pages(inc, "alice") if p["channel"] == "sms"]
    assert sms["ok"] is False and sms["attempt"] == 1 and "retry_at" in sms and not sms["permanent"]
    assert "fallback" not in sms  # her Slack page got through: no call she did not ask for at "élevé"
    assert [p["channel"] for p in pages(inc, "alice")] == ["slack", "sms"]

    wait(6 * 60)  # six minutes of outage: tried again with backoff, escalated to Bob at 5 minutes
    inc = api.incident(number)
    sms_attempts = [p for p in pages(inc, "alice") if p["channel"] == "sms"]
    assert 3 <= len(sms_attempts) <= 5 and not any(p["ok"] for p in sms_attempts)  # 30 s, 1 min, 2 min …
    assert [p["attempt"] for p in sms_attempts] == list(range(1, len(sms_attempts) + 1))
    assert fake.messages(kind="sms") == [] and fake.messages(kind="call") == []
    # Bob's only rule is a call: it failed, so his next channels were tried at once, SMS (down
    # too) then Slack, which got through.
    bob = pages(inc, "bob")
    first = {p["channel"]: p for p in reversed(bob)}  # each channel's first attempt
    assert first["voice"]["ok"] is False and first["voice"]["fallback"] == "sms"
    assert first["sms"]["ok"] is False and first["sms"]["fallback"] == "slack"
    assert first["slack"]["ok"] is True
    assert [p["channel"] for p in bob if p["ok"]] == ["slack"]
    fake.wait_for(kind="slack", channel="U0BOB")

    fake.recover("twilio")
    wait(10 * 60)
    assert len(fake.messages(kind="sms", to=ALICE)) == 1  # exactly once, however many retries were due
    assert len(fake.messages(kind="call", to=BOB)) == 1
    delivered = [p for p in pages(api.incident(number), "alice") if p["ok"]]
    assert sorted(p["channel"] for p in delivered) == ["slack", "sms"]
    wait(3 * 60)  # up to the policy's repeat, 20 min after the trigger, which pages her anew
    assert len(fake.messages(kind="sms", to=ALICE)) == 1  # never again once delivered
    assert fake.messages(kind="call", to=ALICE) == []


def test_a_page_is_not_sent_again_once_the_incident_is_acknowledged(api: Api, fresh) -> None:
    fake = fresh.fake
    fake.fail_next(n=100_000, status=500, service="twilio")
    number = api.trigger(severity="error")["incident_number"]
    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    assert fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200

    fake.recover("twilio")
    wait(10 * 60)
    assert fake.messages(kind="sms") == [] and fake.messages(kind="call") == []
    inc = api.incident(number)
    assert inc["state"] == "acknowledged"
    assert sum(1 for p in pages(inc, "alice") if p["channel"] == "sms") == 1  # the one before the ack


def test_a_number_that_does_not_exist_is_not_retried_and_the_managers_are_told_once(api: Api, fresh) -> None:
    fake = fresh.fake
    fake.fail_numbers.add(ALICE)  # Twilio: 400, error 21211 "Invalid 'To' Phone Number"
    number = api.trigger(severity="error")["incident_number"]
    fake.wait_for(kind="slack", channel="U0ALICE")

    inc = api.incident(number)
    [sms] = [p for p in pages(inc, "alice") if p["channel"] == "sms"]
    assert sms["ok"] is False and sms["permanent"] is True and "retry_at" not in sms
    assert "21211" in sms["error"] or "Invalid" in sms["error"]
    # Carol manages the team (its manager layer): told once, on Slack, in French.
    note = fake.wait_for(kind="slack", channel="U0CAROL")
    assert "#1" in note["text"] and "Alice Martin" in note["text"] and "sms" in note["text"]

    wait(4 * 60)  # before the next step: nothing sent again to the number, nobody told twice
    assert [m for m in fake.messages(kind="sms") if m["to"] == ALICE] == []
    assert len([p for p in pages(api.incident(number), "alice") if p["channel"] == "sms"]) == 1
    assert len(fake.messages(kind="slack", channel="U0CAROL")) == 1
    told = [e for e in api.incident(number)["timeline"]
            if e["kind"] == "notified" and e["detail"].get("notice") == "undeliverable"]
    assert [(e["detail"]["to"], e["detail"]["about"]) for e in told] == [("carol", "alice")] * len(told)
    assert len(told) >= 1 and all(e["detail"]["ok"] for e in told)


def test_an_outage_across_the_policys_repeat_still_brings_one_sms_not_one_per_retry_chain(
        api: Api, fresh) -> None:
    fake = fresh.fake
    fake.fail_next(n=100_000, status=503, service="twilio")
    number = api.trigger(severity="error")["incident_number"]
    wait(25 * 60)  # the standard policy runs again at 20 min: Alice's SMS fails once more
    inc = api.incident(number)
    assert [e["detail"]["loop"] for e in inc["timeline"] if e["kind"] == "escalated"][-1] == 1
    assert fake.messages(kind="sms") == []

    fake.recover("twilio")
    wait(10 * 60)
    assert len(fake.messages(kind="sms", to=ALICE)) == 1  # one retry per person and channel, not two


def test_an_sms_twilio_accepted_then_could_not_deliver_is_sent_again(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(severity="error")["incident_number"]
    first = fake.wait_for(kind="sms", to=ALICE)
    assert fake.message_status(first["sid"], "undelivered", error_code="30008") == 204  # "unknown error"

    inc = api.incident(number)
    [said] = [e for e in inc["timeline"] if e["kind"] == "undelivered"]
    assert said["channel"] == "sms" and said["detail"]["permanent"] is False and "retry_at" in said["detail"]
    wait(60)
    assert len(fake.messages(kind="sms", to=ALICE)) == 2  # sent again, once
    wait(4 * 60)
    assert len(fake.messages(kind="sms", to=ALICE)) == 2


def test_an_sms_to_a_number_that_cannot_receive_is_not_sent_again_and_managers_are_told(
        api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(severity="error")["incident_number"]
    first = fake.wait_for(kind="sms", to=ALICE)
    fake.message_status(first["sid"], "undelivered", error_code="30005")  # unknown destination handset

    [said] = [e for e in api.incident(number)["timeline"] if e["kind"] == "undelivered"]
    assert said["detail"]["permanent"] is True and "retry_at" not in said["detail"]
    note = fake.wait_for(kind="slack", channel="U0CAROL")
    assert f"#{number}" in note["text"] and "Alice Martin" in note["text"]
    wait(4 * 60)
    assert len(fake.messages(kind="sms", to=ALICE)) == 1

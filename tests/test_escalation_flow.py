"""Escalation as the team lives it: who is paged, on which channel, and when, while nobody
answers; what "escalate now" does; and that a failing provider does not stop the escalation.

Time moves only on the service's clock (chalicelib.clock), and due steps run through the
same sweep the one-minute EventBridge backstop calls.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from conftest import Api, kinds

from chalicelib import clock, incidents

ALICE, BOB, CAROL, DAN = "+33600000001", "+447700900002", "+33600000003", "+33600000004"


# ---------------------------------------------------------------- helpers

def wait(seconds: float) -> None:
    """Let escalation time pass on the service's clock, then run what is due."""
    clock.advance(seconds)
    incidents.sweep()


def sent(fake: Any) -> list[tuple[str, str]]:
    """Every page and call so far as (recipient, kind), oldest first; Slack as (channel, 'slack')."""
    out = []
    for m in fake.messages():
        if m["kind"] in ("sms", "call"):
            out.append((m["to"], m["kind"]))
        elif m["kind"] == "slack":
            out.append((m["channel"], "slack"))
    return out


def new_since(fake: Any, before: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sent(fake)[len(before):]


def escalated_steps(inc: dict) -> list[int]:
    return [e["detail"]["step"] for e in inc["timeline"] if e["kind"] == "escalated"]


def paged(inc: dict) -> list[tuple[str, str, bool]]:
    return [(e["detail"]["to"], e["channel"], e["detail"]["ok"])
            for e in inc["timeline"] if e["kind"] == "paged"]


def sms_answer_text(twiml: str) -> str:
    return ET.fromstring(twiml).findtext("Message") or ""


# ---------------------------------------------------------------- the whole ladder

def test_critical_incident_climbs_the_whole_ladder_then_is_unanswered(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(severity="critical", summary="Site down")["incident_number"]

    # Step 1, at once: the agent by Slack and SMS, and the team channel.
    fake.wait_for(kind="sms", to=ALICE)
    assert sorted(sent(fake)) == sorted([("U0ALICE", "slack"), (ALICE, "sms"), ("C0SUPPORT", "slack")])

    # Two minutes later, still nobody: Alice's phone rings.
    mark = sent(fake)
    wait(100)
    assert new_since(fake, mark) == []
    wait(21)
    assert new_since(fake, mark) == [(ALICE, "call")]

    # 3 minutes: the référent, by voice.
    mark = sent(fake)
    wait(60)
    assert new_since(fake, mark) == [(BOB, "call")]

    # 6 minutes: the manager, by SMS (not before).
    mark = sent(fake)
    wait(150)
    assert new_since(fake, mark) == []
    wait(31)
    assert new_since(fake, mark) == [(CAROL, "sms")]

    # 11 minutes: direction, by SMS.
    mark = sent(fake)
    wait(270)
    assert new_since(fake, mark) == []
    wait(31)
    assert new_since(fake, mark) == [(DAN, "sms")]
    assert not api.incident(number)["unanswered"]

    # Direction's 5 minutes run out: the incident is marked unanswered, still open, and nobody
    # else is paged however long we wait.
    mark = sent(fake)
    wait(301)
    inc = api.incident(number)
    assert inc["unanswered"] is True and inc["state"] == "triggered"
    assert "unanswered" in kinds(inc)
    assert escalated_steps(inc) == [1, 2, 3, 4]
    assert {("alice", "voice", True), ("bob", "voice", True), ("carol", "sms", True),
            ("dan", "sms", True)} <= set(paged(inc))
    wait(3600)
    assert new_since(fake, mark) == []
    assert kinds(api.incident(number)).count("unanswered") == 1


def test_standard_policy_repeats_once_then_is_unanswered(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(severity="error")["incident_number"]
    fake.wait_for(kind="sms", to=ALICE)
    assert sorted(sent(fake)) == sorted([("U0ALICE", "slack"), (ALICE, "sms")])

    mark = sent(fake)
    wait(301)
    assert new_since(fake, mark) == [(BOB, "call")]
    mark = sent(fake)
    wait(301)
    assert new_since(fake, mark) == [(CAROL, "sms")]

    # The manager's 10 minutes pass: the policy starts over with the agent.
    mark = sent(fake)
    wait(301)
    assert new_since(fake, mark) == []
    wait(300)
    assert sorted(new_since(fake, mark)) == sorted([("U0ALICE", "slack"), (ALICE, "sms")])
    assert not api.incident(number)["unanswered"]

    mark = sent(fake)
    wait(301)
    assert new_since(fake, mark) == [(BOB, "call")]
    mark = sent(fake)
    wait(301)
    assert new_since(fake, mark) == [(CAROL, "sms")]
    wait(601)

    inc = api.incident(number)
    assert inc["unanswered"] is True and inc["state"] == "triggered"
    assert escalated_steps(inc) == [1, 2, 3, 1, 2, 3]
    assert kinds(inc).count("unanswered") == 1
    mark = sent(fake)
    wait(3600)
    assert new_since(fake, mark) == []


# ---------------------------------------------------------------- escalate now

def test_escalate_button_pages_the_next_step_at_once(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(severity="error")["incident_number"]
    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    assert fake.messages(to=BOB) == []

    status, _ = fake.click(dm["ts"], "escalate", "U0ALICE")

    assert status == 200
    fake.wait_for(kind="call", to=BOB, timeout=5)
    inc = api.incident(number)
    assert inc["state"] == "triggered" and escalated_steps(inc) == [1, 2]
    requested = [e for e in inc["timeline"] if e["kind"] == "escalate_requested"]
    assert [(e["actor"], e["channel"]) for e in requested] == [("alice", "slack")]


def test_escalate_by_sms_pages_the_next_step_at_once(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(severity="error")["incident_number"]
    fake.wait_for(kind="sms", to=ALICE)

    status, twiml = fake.reply_sms(ALICE, f"5 {number}")

    assert status == 200
    assert "escaladé" in sms_answer_text(twiml)
    fake.wait_for(kind="call", to=BOB, timeout=5)
    inc = api.incident(number)
    assert escalated_steps(inc) == [1, 2]
    # The next step keeps its own delay from now on: the manager 5 minutes later.
    mark = sent(fake)
    wait(301)
    assert new_since(fake, mark) == [(CAROL, "sms")]


# ---------------------------------------------------------------- provider failures

def test_twilio_failure_is_recorded_and_escalation_goes_on(api: Api, fresh) -> None:
    fake = fresh.fake
    fake.fail_next(n=3, status=500, service="twilio", kind="sms")

    number = api.trigger(severity="error")["incident_number"]

    fake.wait_for(kind="slack", channel="U0ALICE")
    assert fake.messages(kind="sms", to=ALICE) == []
    inc = api.incident(number)
    [sms_page] = [e for e in inc["timeline"] if e["kind"] == "paged" and e["channel"] == "sms"]
    assert sms_page["detail"]["to"] == "alice" and sms_page["detail"]["ok"] is False
    assert "500" in sms_page["detail"]["error"]
    assert ("alice", "slack", True) in paged(inc)
    assert inc["state"] == "triggered"

    wait(301)
    fake.wait_for(kind="call", to=BOB)
    assert ("bob", "voice", True) in paged(api.incident(number))


def test_ack_while_the_voice_call_is_pending_cancels_it(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(severity="critical")["incident_number"]
    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    wait(60)

    assert fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200

    wait(70)  # past Alice's 2-minute call
    wait(120)  # and past the référent's step
    assert fake.messages(kind="call") == []
    assert fake.messages(to=BOB) == []
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice"
    assert escalated_steps(inc) == [1]

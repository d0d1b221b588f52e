"""The whole paging story over HTTP against the local stack (clock under test control)."""
from __future__ import annotations

from conftest import Api, kinds

from chalicelib import clock, incidents

ALICE, BOB, CAROL = "+33600000001", "+447700900002", "+33600000003"


def test_trigger_escalate_ack_by_keypad_stops_escalation(api: Api, fresh) -> None:
    fake = fresh.fake
    answer = api.trigger(dedup="db-1-disk", severity="error", summary="Disque plein sur db-1")
    assert answer["status"] == "success" and answer["message"] == "Event processed"
    assert answer["dedup_key"] == "db-1-disk"
    number = answer["incident_number"]

    # The agent on call (Alice, French) is paged at once by SMS and Slack, in French.
    sms = fake.wait_for(kind="sms", to=ALICE)
    assert f"#{number}" in sms["body"] and f"Répondez 4 {number}" in sms["body"]
    assert "Disque plein sur db-1" in sms["body"]
    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    buttons = [e["action_id"] for b in dm["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons == ["ack", "resolve", "escalate"]
    assert "Prendre en charge" in str(dm["blocks"])
    assert fake.messages(kind="call") == []  # voice is for critical incidents only

    # Nobody acknowledges: after the step's 5 minutes the référent's phone rings.
    clock.advance(4 * 60)
    incidents.sweep()
    assert fake.messages(kind="call") == []
    clock.advance(61)
    incidents.sweep()
    call = fake.wait_for(kind="call", to=BOB)
    twiml = fake.answer_call(call["sid"])
    assert "<Gather" in twiml and "Press 4 to acknowledge" in twiml and 'language="en-GB"' in twiml
    done = fake.press_keys(call["sid"], "4")
    assert "you have it" in done

    # Escalation stopped: the manager is never paged, however long we wait.
    clock.advance(60 * 60)
    incidents.sweep()
    assert fake.messages(to=CAROL) == []

    # Alice is told who took it, in French; her Slack page is updated in place.
    taken = fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: "pris en charge par Bob" in m["body"])
    assert f"#{number}" in taken["body"]
    updated = fake.messages(kind="slack", channel="U0ALICE")[0]
    assert updated["updates"] and "Bob Smith" in str(updated["updates"][-1])

    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "bob"
    assert inc["service"] == "helpdesk" and inc["severity"] == "eleve"
    timeline = inc["timeline"]
    assert [e["at"] for e in timeline] == sorted(e["at"] for e in timeline)
    assert all(e["at"].endswith("Z") for e in timeline)
    seq = kinds(inc)
    assert seq[:2] == ["triggered", "escalated"]
    paged = [(e["detail"]["to"], e["channel"], e["detail"]["ok"]) for e in timeline if e["kind"] == "paged"]
    assert ("alice", "sms", True) in paged and ("alice", "slack", True) in paged
    assert ("bob", "voice", True) in paged
    assert not any(to == "carol" for to, _, _ in paged)
    escalated = [e["detail"]["step"] for e in timeline if e["kind"] == "escalated"]
    assert escalated == [1, 2]
    ack = next(e for e in timeline if e["kind"] == "acknowledged")
    assert ack["actor"] == "bob" and ack["channel"] == "voice"
    assert seq.index("acknowledged") > seq.index("paged")
    assert "notified" in seq[seq.index("acknowledged"):]

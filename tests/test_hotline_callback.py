"""An agent calls a customer back through the support number (issue 13): from their own phone
they call the hotline, type the incident number and #, and the customer is dialled with the
support number as caller id, so that neither side learns the other's number.

Every webhook goes through the fake Twilio (tests/fakes/providers.py), signed.
"""
from __future__ import annotations

import json

from conftest import Api, kinds, last_number

from chalicelib import clock
from chalicelib.incidents import records
from chalicelib.store import TimelineEntry

HOTLINE, CALLER = "+33900000100", "+33611223301"
ASK = "Customer callback for Helpdesk support. Enter the incident number, then the hash key."
WRONG = "That number is not a customer call of this support line."
ALICE, BOB = "+33600000001", "+447700900002"
MASKED = "+33 6•• •• •• 01"


def entries(inc: dict, kind: str) -> list[dict]:
    return [e for e in inc["timeline"] if e["kind"] == kind]


def _voicemail(fresh) -> int:
    """A customer leaves a voicemail (reason 3): the incident pages as any."""
    call = fresh.fake.call_hotline(CALLER, HOTLINE, ["3"])
    call.record(seconds=9)
    fresh.fake.wait_for(kind="sms", to=ALICE)
    return last_number()


def test_an_agent_calls_the_customer_back_through_the_support_number(api: Api, fresh) -> None:
    number = _voicemail(fresh)
    assert api.incident(number)["state"] == "triggered"
    clock.advance(600)

    agent = fresh.fake.call_hotline(BOB, HOTLINE, [f"{number}#"])  # Bob speaks English

    assert agent.said[0] == ASK
    assert "Pour : carte bloquée, tapez 1." not in agent.said  # no customer menu for staff
    assert agent.said[-1] == f"Calling the customer of incident {number}. They will see the support number."
    assert agent.state == "dialing"
    assert agent.dialing["to"] == CALLER and agent.dialing["caller_id"] == HOTLINE
    inc = api.incident(number)
    assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "bob"
    [started] = entries(inc, "hotline_callback_started")
    assert started["actor"] == "bob" and started["detail"]["to"] == MASKED

    clock.advance(5)
    leg = agent.answer(None, duration=125)  # the customer picks up; 2 min 5 s later, it is over

    assert leg["from"] == HOTLINE and leg["to"] == CALLER  # what the customer's phone shows
    assert BOB not in json.dumps(leg)  # the agent's number reaches the customer nowhere
    assert agent.said[-1] == "Callback over. Goodbye." and agent.state == "ended"
    inc = api.incident(number)
    [done] = entries(inc, "hotline_callback")
    assert done["actor"] == "bob" and done["detail"]["by"] == "bob"
    assert done["detail"]["duration_seconds"] == 125 and done["detail"]["status"] == "completed"
    assert inc["state"] == "acknowledged"  # the resolution rule is unchanged: the agent closes it
    [worked] = records.get(number).calls  # an answered call: intervention time (reports.astreinte)
    assert worked["to"] == "bob" and worked["seconds"] == 125
    # Nobody's whole number on the timeline but the event's own details.
    shown = json.dumps([e for e in inc["timeline"] if e["kind"] != "triggered"], ensure_ascii=False)
    assert CALLER not in shown and BOB not in shown
    # A retried Dial action changes nothing twice.
    status, _ = agent.again()
    assert status == 200 and len(entries(api.incident(number), "hotline_callback")) == 1
    # Nor does the agent's call's status callback count as a call abandoned in the menu.
    assert agent.hang_up() == 204
    assert [e for e in TimelineEntry.query("HOTLINE#helpdesk") if e.kind == "hotline_abandoned"] == []


def test_a_retried_callback_request_dials_again_but_writes_once(api: Api, fresh) -> None:
    number = _voicemail(fresh)
    agent = fresh.fake.call_hotline(ALICE, HOTLINE, [f"{number}#"])
    assert agent.said[0].startswith("Rappel d'un client du support Helpdesk.")  # Alice: French
    first = agent.twiml[-1]

    status, again = agent.again()

    assert status == 200 and again == first
    inc = api.incident(number)
    assert len(entries(inc, "hotline_callback_started")) == 1 and kinds(inc).count("acknowledged") == 1


def test_a_wrong_number_twice_is_goodbye(api: Api, fresh) -> None:
    _voicemail(fresh)
    api.trigger(summary="Disk full")  # a helpdesk incident, but no customer's call
    other = last_number()
    assert api.incident(other)["source"] != "hotline"

    agent = fresh.fake.call_hotline(BOB, HOTLINE, ["99999#"])

    assert agent.said[-3:] == [WRONG, "Please try once more.", ASK]
    assert agent.state == "menu"  # the Gather waits for the second try
    agent.press(f"{other}#")
    assert agent.said[-2:] == [WRONG, "Goodbye."]
    assert agent.state == "ended" and agent.dialing is None
    assert entries(api.incident(other), "hotline_callback_started") == []


def test_a_long_resolved_incident_is_not_called_back(api: Api, fresh) -> None:
    number = _voicemail(fresh)
    assert api.act(number, "resolve").status_code == 200
    clock.advance(8 * 86400)

    agent = fresh.fake.call_hotline(ALICE, HOTLINE, [f"{number}#", f"{number}#"])

    assert "Cet incident est clos depuis plus de 7 jours." in agent.said
    assert agent.said[-1] == "Au revoir." and agent.state == "ended"


def test_a_recently_resolved_incident_is_called_back_and_stays_resolved(api: Api, fresh) -> None:
    number = _voicemail(fresh)
    assert api.act(number, "resolve").status_code == 200
    clock.advance(2 * 86400)

    agent = fresh.fake.call_hotline(ALICE, HOTLINE, [f"{number}#"])
    agent.answer(None, duration=40)

    inc = api.incident(number)
    assert inc["state"] == "resolved" and inc["resolved_by"] == "carol"
    [done] = entries(inc, "hotline_callback")
    assert done["detail"]["duration_seconds"] == 40


def test_an_unknown_caller_still_gets_the_customer_menu(api: Api, fresh) -> None:
    call = fresh.fake.call_hotline("+33699999999", HOTLINE, [])
    assert call.said[0] == "Bonjour, vous êtes au support Helpdesk, en dehors des heures de bureau."
    assert "Pour : carte bloquée, tapez 1." in call.said and call.state == "menu"


def test_a_customer_number_outside_the_hotlines_country_is_never_dialled_back(api: Api, fresh) -> None:
    """A spoofed call can leave any number as its caller: a premium or foreign one is refused."""
    call = fresh.fake.call_hotline("+882345678901", HOTLINE, ["3"])
    call.record(seconds=9)
    fresh.fake.wait_for(kind="sms", to=ALICE)
    number = last_number()

    agent = fresh.fake.call_hotline(BOB, HOTLINE, [f"{number}#"])

    assert WRONG in agent.said and agent.state != "dialing"
    assert "hotline_callback_started" not in kinds(api.incident(number))

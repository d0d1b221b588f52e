"""PagerDuty Events API v2 intake: the answer a monitoring tool gets, dedup, source-side
acknowledge/resolve, severities, and how bad input is refused (400/413 naming the problem,
nothing stored, nobody paged, never a 500)."""
from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from conftest import HELPDESK_KEY, Api, kinds, last_number, pd_event, without
from pynamodb.exceptions import DoesNotExist

from chalicelib import clock, incidents

ALICE, BOB, CAROL, DAN = "+33600000001", "+447700900002", "+33600000003", "+33600000004"


# ---------------------------------------------------------------- helpers

def event(action: str = "trigger", dedup: str | None = None, key: str = HELPDESK_KEY,
          **payload: Any) -> dict[str, Any]:
    """A valid PagerDuty v2 event; payload fields given as keywords override the defaults."""
    return {"routing_key": key, **pd_event(action, dedup, **payload)}


def counter() -> int:
    """The last incident number handed out, 0 before the first."""
    try:
        return last_number()
    except DoesNotExist:
        return 0


def pages_to(fake: Any, phone: str) -> list[dict]:
    """SMS pages (not notices) sent to a phone: a page tells how to reply."""
    return [m for m in fake.messages(kind="sms", to=phone) if "Répondez" in m["body"] or "Reply" in m["body"]]


def wait(seconds: float) -> None:
    """Let escalation time pass on the service's clock, then run what is due."""
    clock.advance(seconds)
    incidents.sweep()


def post_raw(api: Api, data: bytes, content_type: str = "application/json") -> requests.Response:
    return api.http.post(f"{api.base}/v2/enqueue", data=data, headers={"Content-Type": content_type},
                         timeout=30)


def assert_nothing_happened(api: Api, fake: Any, before: int) -> None:
    assert counter() == before, "a refused event must not open an incident"
    r = api.http.get(f"{api.base}/v1/incidents/{before + 1}", timeout=10,
                     headers={"Authorization": f"Bearer {api.token}"})
    assert r.status_code == 404, r.text
    sent = [m for m in fake.messages() if m["kind"] in ("sms", "call", "slack")]
    assert sent == [], sent


# ---------------------------------------------------------------- the 202 answer

def test_accepted_event_answer_is_pagerduty_shaped(api: Api, fresh) -> None:
    r = api.enqueue(event(dedup="db-1-disk"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "success" and body["message"] == "Event processed"
    assert body["dedup_key"] == "db-1-disk"

    r = api.enqueue(event(summary="No dedup key here"))
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "success" and body["message"] == "Event processed"
    generated = body["dedup_key"]
    assert isinstance(generated, str) and len(generated) >= 16
    assert api.incident(body["incident_number"])["dedup_key"] == generated

    # The generated key is what a tool sends back to resolve the incident.
    r = api.enqueue(event("resolve", dedup=generated))
    assert r.status_code == 202 and r.json()["dedup_key"] == generated
    assert api.incident(body["incident_number"])["state"] == "resolved"


def test_same_dedup_key_is_one_incident_paged_once(api: Api, fresh) -> None:
    fake = fresh.fake
    numbers = {api.trigger(dedup="db-1-disk")["incident_number"] for _ in range(3)}

    assert len(numbers) == 1
    inc = api.incident(numbers.pop())
    assert inc["event_count"] == 3
    assert kinds(inc).count("repeated") == 2 and kinds(inc).count("triggered") == 1
    fake.wait_for(kind="sms", to=ALICE)
    assert len(fake.messages(kind="sms", to=ALICE)) == 1
    assert len(fake.messages(kind="slack", channel="U0ALICE")) == 1


# ---------------------------------------------------------------- acknowledge/resolve from the source

@pytest.mark.parametrize("action, state, by_field", [
    ("resolve", "resolved", "resolved_by"),
    ("acknowledge", "acknowledged", "acknowledged_by"),
])
def test_source_action_stops_escalation(api: Api, fresh, action: str, state: str, by_field: str) -> None:
    fake = fresh.fake
    number = api.trigger(dedup="db-1-disk")["incident_number"]
    fake.wait_for(kind="sms", to=ALICE)

    r = api.enqueue(event(action, dedup="db-1-disk"))

    assert r.status_code == 202, r.text
    assert r.json()["status"] == "success" and r.json()["dedup_key"] == "db-1-disk"
    inc = api.incident(number)
    assert inc["state"] == state
    assert inc[by_field] in ("source", "db-1"), inc[by_field]  # the monitoring tool, not a person
    [done] = [e for e in inc["timeline"] if e["kind"] == state]
    assert done["actor"] == inc[by_field] and done["channel"] == "events-api"

    for _ in range(4):  # an hour of escalation delays: nobody else is paged
        wait(15 * 60)
    assert fake.messages(to=BOB) == [] and fake.messages(to=CAROL) == [] and fake.messages(to=DAN) == []
    assert len(pages_to(fake, ALICE)) == 1
    assert len(fake.messages(kind="slack", channel="U0ALICE")) == 1
    seq = kinds(api.incident(number))
    assert "escalated" not in seq[seq.index(state):]


# ---------------------------------------------------------------- severities

def test_critical_pages_the_team_channel_then_calls_the_agent(api: Api, fresh) -> None:
    fake = fresh.fake
    number = api.trigger(severity="critical")["incident_number"]

    inc = api.incident(number)
    assert inc["severity"] == "critique" and inc["escalation"]["policy"] == "critical"
    channel = fake.wait_for(kind="slack", channel="C0SUPPORT")
    assert f"#{number}" in channel["text"]
    assert fake.messages(kind="call") == []

    wait(121)

    call = fake.wait_for(kind="call", to=ALICE)
    assert call["url"].endswith(f"/webhooks/twilio/voice/{number}.alice")


@pytest.mark.parametrize("pd_severity, ours, label", [
    ("error", "eleve", "ÉLEVÉ"),
    ("warning", "moyen", "MOYEN"),
    ("info", "faible", "FAIBLE"),
])
def test_severity_mapping(api: Api, fresh, pd_severity: str, ours: str, label: str) -> None:
    fake = fresh.fake
    number = api.trigger(severity=pd_severity)["incident_number"]

    inc = api.incident(number)
    assert inc["severity"] == ours and inc["escalation"]["policy"] == "standard"
    sms = fake.wait_for(kind="sms", to=ALICE)
    assert f"#{number} {label}" in sms["body"]
    assert fake.messages(kind="slack", channel="C0SUPPORT") == []
    wait(121)
    assert fake.messages(kind="call") == []  # voice calls are for critical incidents only


# ---------------------------------------------------------------- bad input

BAD_EVENTS: list[tuple[str, Any, str]] = [
    ("unknown routing_key", event(key="not-a-key"), "routing_key"),
    ("missing routing_key", without(event(), "routing_key"), "routing_key"),
    ("bad event_action", {**event(), "event_action": "explode"}, "event_action"),
    ("missing summary", without(event(), "payload", "summary"), "payload.summary"),
    ("missing source", without(event(), "payload", "source"), "payload.source"),
    ("bad severity", event(severity="apocalyptic"), "payload.severity"),
    ("JSON array body", [event()], "object"),
    ("acknowledge without dedup_key", event("acknowledge"), "dedup_key"),
    ("resolve without dedup_key", event("resolve"), "dedup_key"),
    ("dedup_key too long", event(dedup="k" * 256), "dedup_key"),
    ("missing payload", without(event(), "payload"), "payload"),
    # Plausible mistakes in the types of fields: still a 400 that names the field.
    ("severity as a list", event(severity=["critical"]), "payload.severity"),
    ("payload as a string", {**event(), "payload": "Disk full"}, "payload"),
    ("routing_key as a number", {**event(), "routing_key": 42}, "routing_key"),
    ("dedup_key as a number", event(dedup=12), "dedup_key"),
    ("summary as an object", event(summary={"text": "Disk full"}), "payload.summary"),
]


@pytest.mark.parametrize("body, field", [(b, f) for _, b, f in BAD_EVENTS], ids=[n for n, _, _ in BAD_EVENTS])
def test_bad_event_is_refused_and_named(api: Api, fresh, body: Any, field: str) -> None:
    before = counter()

    r = api.enqueue(body)

    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    errors = r.json()["errors"]
    assert errors and any(field in e for e in errors), errors
    assert_nothing_happened(api, fresh.fake, before)


@pytest.mark.parametrize("data", [
    b"this is not json",
    b'{"routing_key": "test-helpdesk-key", "event_action": "trigger",',
    b"\xff\xfe not utf-8",
    b"[" * 100_000 + b"]" * 100_000,  # deeply nested, still far under the size limit
], ids=["text", "truncated", "not-utf8", "deeply-nested"])
def test_body_that_is_not_a_json_object_is_refused(api: Api, fresh, data: bytes) -> None:
    before = counter()

    r = post_raw(api, data)

    assert r.status_code == 400, r.text
    errors = r.json()["errors"]
    assert any("body" in e for e in errors), errors
    assert_nothing_happened(api, fresh.fake, before)


def test_oversized_body_is_refused_with_413(api: Api, fresh) -> None:
    before = counter()
    body = event(custom_details={"log": "x" * (600 * 1024)})

    r = post_raw(api, json.dumps(body).encode())

    assert r.status_code == 413, r.text[:300]
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["error"] == "body_too_large"
    assert_nothing_happened(api, fresh.fake, before)


def test_an_event_too_big_for_one_item_is_refused_not_lost(api: Api, fresh, monkeypatch) -> None:
    """PagerDuty takes 512 KiB, but the event is stored whole in one DynamoDB item (400 KB):
    the default limit stays below it, and a limit raised above it still answers a 413 that
    says why, never a 500 and never half an incident."""
    r = api.enqueue(event(dedup="big-1", custom_details={"log": "x" * (370 * 1024)}))
    assert r.status_code == 413 and r.json()["error"] == "body_too_large", r.text[:300]

    from chalicelib import config

    monkeypatch.setenv("ASTREINTE_MAX_BODY_BYTES", str(1024 * 1024))
    config.reload()
    try:
        before = counter()
        for _ in range(2):  # and its retry
            r = api.enqueue(event(dedup="big-2", custom_details={"log": "x" * (450 * 1024)}))
            assert r.status_code == 413 and r.json()["error"] == "event_too_large", r.text[:300]
            assert "400 KB" in r.json()["message"]
        for number in range(before + 1, counter() + 1):
            assert incidents.get(number) is None and incidents.timeline(number) == []
        assert [m for m in fresh.fake.messages() if m["kind"] in ("sms", "call", "slack")] == []

        r = api.enqueue(event(dedup="big-3", custom_details={"log": "x" * (300 * 1024)}))
        assert r.status_code == 202, r.text[:300]  # below the item limit: stored whole
        stored = incidents.get(r.json()["incident_number"])
        assert stored is not None and len(stored.details["custom_details"]["log"]) == 300 * 1024
    finally:
        monkeypatch.delenv("ASTREINTE_MAX_BODY_BYTES")
        config.reload()


def test_a_resolve_for_nothing_open_is_kept_ninety_days(api: Api, fresh) -> None:
    """Answered 202 as PagerDuty does, stored (an accepted event is never dropped), opens
    nothing, and expires by TTL so a tool resolving every minute cannot grow the table."""
    from chalicelib.store import TimelineEntry

    before = counter()
    r = api.enqueue(event("resolve", dedup="never-opened"))
    assert r.status_code == 202, r.text
    assert_nothing_happened(api, fresh.fake, before)
    [kept] = [e for e in TimelineEntry.query("ORPHAN#helpdesk")
              if e.detail["event"]["dedup_key"] == "never-opened"]
    assert kept.kind == "resolve" and kept.actor == "source"
    assert kept.expires - clock.now() == pytest.approx(90 * 86400, abs=60)


def test_a_trigger_after_the_incident_was_resolved_elsewhere_opens_a_new_one_and_pages(
        api: Api, fresh) -> None:
    """This container still remembers the closed incident for the dedup key (another one
    resolved it): the event must not vanish into the closed incident."""
    first = api.trigger(dedup="flapping")["incident_number"]
    assert api.trigger(dedup="flapping")["incident_number"] == first  # a repeat, remembered here
    assert api.act(first, "resolve").status_code == 200  # (the API here: the memory is not told)
    fresh.fake.reset()

    again = api.trigger(dedup="flapping")["incident_number"]
    assert again != first
    assert api.incident(again)["state"] == "triggered"
    fresh.fake.wait_for(kind="sms", to="+33600000001")  # the agent is paged for the new one
    assert api.incident(first)["state"] == "resolved"

"""Flood bundling: past a rate, new pages to one person become one message, and "4" alone
acknowledges them all; the first page of a critique incident is never held."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import Api

from chalicelib import clock, incidents

ALICE = "+33600000001"
WINDOW = 300


@pytest.fixture()
def flood_of_two(monkeypatch: pytest.MonkeyPatch, fresh) -> Iterator[None]:
    """Past two incidents in five minutes, a person's pages are bundled; time at a window's start."""
    monkeypatch.setenv("ASTREINTE_FLOOD_INCIDENTS", "2")
    monkeypatch.setenv("ASTREINTE_FLOOD_SECONDS", str(WINDOW))
    clock.advance(WINDOW - clock.now() % WINDOW + 1)
    yield


def sms_for(fake, number: int) -> list[dict]:
    return [m for m in fake.messages(kind="sms", to=ALICE) if f"#{number} " in m["body"]]


def test_past_the_rate_pages_become_one_message_and_4_acknowledges_them_all(
        api: Api, fresh, flood_of_two: None) -> None:
    fake = fresh.fake
    numbers = [api.trigger(dedup=f"flood-{i}", summary=f"disk {i}")["incident_number"] for i in range(5)]
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{numbers[1]} " in m["body"])
    assert all(len(sms_for(fake, n)) == 1 for n in numbers[:2])  # the first two page as usual
    assert all(sms_for(fake, n) == [] for n in numbers[2:])  # the next ones wait for the bundle
    held = [e for e in api.incident(numbers[2])["timeline"] if e["kind"] == "paged"]
    assert held and all(e["detail"]["bundled"] for e in held)

    clock.advance(WINDOW)
    incidents.sweep()
    [bundle] = [m for m in fake.messages(kind="sms", to=ALICE) if "nouveaux incidents" in m["body"]]
    assert "3 nouveaux incidents" in bundle["body"] and "Répondez 4" in bundle["body"]
    assert all(f"#{n} Helpdesk" in bundle["body"] for n in numbers[2:])
    incidents.sweep()  # sent once
    assert len([m for m in fake.messages(kind="sms", to=ALICE) if "nouveaux incidents" in m["body"]]) == 1

    status, twiml = fake.reply_sms(ALICE, "4")
    assert status == 200 and "Pris en charge" in twiml
    for n in numbers[2:]:
        inc = api.incident(n)
        assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "alice"
    assert api.incident(numbers[0])["state"] == "triggered"  # not in the bundle: not taken


def test_the_first_page_of_a_critique_incident_is_never_held(api: Api, fresh, flood_of_two: None) -> None:
    fake = fresh.fake
    for i in range(3):
        api.trigger(dedup=f"noise-{i}")
    urgent = api.trigger(dedup="db-down", severity="critical")["incident_number"]
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{urgent} " in m["body"])


def test_without_a_setting_nothing_is_ever_bundled(api: Api, fresh) -> None:
    numbers = [api.trigger(dedup=f"calm-{i}")["incident_number"] for i in range(6)]
    for n in numbers:
        fresh.fake.wait_for(kind="sms", to=ALICE, predicate=lambda m, n=n: f"#{n} " in m["body"])

"""The hotline's decisions, without servers: who rings next, the language, office hours."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chalicelib.hotline import logic
from chalicelib.rotas import load

ROOT = Path(__file__).resolve().parent.parent
PARIS = ZoneInfo("Europe/Paris")
BUNDLE = load.load_dir(ROOT / "tests" / "rotas")
HOTLINE = BUNDLE["services"]["helpdesk"]["hotline"]
NOW = datetime(2027, 2, 2, 22, 0, tzinfo=PARIS).timestamp()


def test_the_policy_s_people_ring_in_step_order_each_once_channels_skipped() -> None:
    assert logic.candidates(BUNDLE["policies"]["critical"], BUNDLE, NOW) == ["alice", "bob", "carol", "dan"]
    assert logic.candidates(BUNDLE["policies"]["standard"], BUNDLE, NOW) == ["alice", "bob", "carol"]


def test_who_is_next_then_voicemail() -> None:
    assert logic.next_index(3, 0) == 1
    assert logic.next_index(3, 1) == 2
    assert logic.next_index(3, 2) is None
    assert logic.next_index(0, 0) is None


def test_key_9_goes_round_the_languages() -> None:
    assert logic.next_language(["fr", "en"], "fr") == "en"
    assert logic.next_language(["fr", "en"], "en") == "fr"
    assert logic.next_language(["fr"], "fr") == "fr"
    assert logic.next_language(["en", "fr"], "de") == "en"


def test_the_menu_and_its_labels() -> None:
    assert HOTLINE is not None
    item = logic.choice(HOTLINE, "1")
    assert item is not None and item["policy"] == "critical"
    assert logic.label(item, "en", HOTLINE["languages"]) == "blocked card"
    assert logic.label(item, "de", HOTLINE["languages"]) == "carte bloquée"  # the default language
    third = logic.choice(HOTLINE, "3")
    assert third is not None and third["voicemail"] and third["policy"] is None
    assert logic.choice(HOTLINE, "9") is None and logic.choice(HOTLINE, "") is None


def test_how_long_the_caller_may_wait() -> None:
    assert HOTLINE is not None
    assert logic.max_wait_minutes(HOTLINE, 4) == 2  # 80 s
    assert logic.max_wait_minutes(HOTLINE, 3) == 1
    assert logic.max_wait_minutes(HOTLINE, 0) == 1
    assert logic.hold_seconds(HOTLINE, 3) == 3 * 35 + logic.VOICEMAIL_SECONDS


def _service_with_hours() -> dict[str, Any]:
    hours = load._support_hours({"support_hours": {"timezone": "Europe/Paris", "defer": [],
                                                   "hours": [{"days": ["weekdays"], "from": "09:00",
                                                              "to": "18:00"}]}},
                                "x", {}, [])
    return {"support_hours": hours}


@pytest.mark.parametrize("when,inside", [
    (datetime(2027, 2, 2, 10, 0), True),  # Tuesday morning
    (datetime(2027, 2, 2, 17, 59), True),
    (datetime(2027, 2, 2, 18, 0), False),  # the evening
    (datetime(2027, 2, 6, 11, 0), False),  # Saturday
    (datetime(2027, 5, 1, 11, 0), False),  # 1 May, a public holiday (a Saturday anyway)
    (datetime(2027, 7, 14, 11, 0), False),  # 14 July, a Wednesday holiday
])
def test_office_hours_are_the_service_s_support_hours(when: datetime, inside: bool) -> None:
    at = when.replace(tzinfo=PARIS).timestamp()
    assert logic.in_office_hours(_service_with_hours(), at) is inside


def test_without_support_hours_it_is_never_office_hours() -> None:
    assert logic.in_office_hours(BUNDLE["services"]["helpdesk"], NOW - 12 * 3600) is False


def test_a_call_reference() -> None:
    assert logic.parse_ref("12.1") == (12, 1)
    assert logic.parse_ref("12") is None and logic.parse_ref("a.1") is None
    assert logic.parse_ref("1.-1") is None


# ---------------------------------------------------------------- an agent's callback

def test_the_incident_number_typed_before_hash() -> None:
    assert logic.incident_number("12") == 12
    assert logic.incident_number("12#") == 12
    for typed in ("", "#", "0", "1*2", "１２", "1234567890"):
        assert logic.incident_number(typed) is None


def test_which_incidents_a_service_s_number_calls_back() -> None:
    day, caller = 86400.0, "+33611223301"
    assert logic.callback_refusal("helpdesk", "helpdesk", "hotline", caller, None, NOW) is None
    assert logic.callback_refusal("helpdesk", "helpdesk", "hotline", caller, NOW - 6 * day, NOW) is None
    assert logic.callback_refusal("helpdesk", "helpdesk", "hotline", caller, NOW - 8 * day, NOW) == "too_old"
    assert logic.callback_refusal("helpdesk", "billing", "hotline", caller, None, NOW) == "unknown"
    assert logic.callback_refusal("helpdesk", "helpdesk", "pagerduty", None, None, NOW) == "unknown"
    assert logic.callback_refusal("helpdesk", None, None, None, None, NOW) == "unknown"


def test_one_more_try_then_goodbye() -> None:
    assert logic.next_try(0) == 1
    assert logic.next_try(1) is None

"""SMS reply codes and message templates: pure functions, no server."""
from __future__ import annotations

import pytest

from chalicelib.notify.templates import TEXTS, text
from chalicelib.replies import parse_sms


@pytest.mark.parametrize("body,expected", [
    ("4 12", ("acknowledge", 12)), ("4 #12", ("acknowledge", 12)), ("ack 12", ("acknowledge", 12)),
    ("ACQ12", ("acknowledge", 12)), (" Ok 7 ", ("acknowledge", 7)),
    ("6 12", ("resolve", 12)), ("res 3", ("resolve", 3)), ("Clos 3", ("resolve", 3)),
    ("résolu 3", ("resolve", 3)), ("5 9", ("escalate", 9)), ("ESC 9", ("escalate", 9)),
])
def test_reply_codes_in_both_languages(body: str, expected: tuple[str, int]) -> None:
    assert parse_sms(body) == expected


@pytest.mark.parametrize("body", ["", "4", "ack", "hello 12", "7 12", "4 12 13"])
def test_anything_else_gets_the_help_text(body: str) -> None:
    assert parse_sms(body) is None


def test_every_message_exists_in_french_and_english() -> None:
    assert set(TEXTS["fr"]) == set(TEXTS["en"])


def test_sms_page_speaks_the_persons_language_and_shows_the_codes() -> None:
    view = {"number": 42, "service": "Helpdesk", "sev": "critique", "summary": "DB down",
            "source": "db-1", "at": "10:00:00", "link": ""}
    fr, en = text("fr", "sms_page", **view), text("en", "sms_page", **view)
    assert "CRITIQUE" in fr and "Répondez 4 42" in fr and "6 42" in fr
    assert "CRITICAL" in en and "Reply 4 42" in en

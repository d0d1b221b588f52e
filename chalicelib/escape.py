"""Text at each exit, escaped by the rules of the format it goes into.

Text is cleaned once where it comes in (chalicelib.text); here it is made harmless for
where it goes: a spreadsheet, Slack's mrkdwn, an SMS that Twilio caps.  (HTML is escaped by
the standard library's html.escape and the dashboard's textContent; TwiML and email are
built by twilio's VoiceResponse and the email library, never by string.)
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

# OWASP, CSV injection: a cell a spreadsheet would read as a formula starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Twilio refuses a body longer than 1,600 characters; outside GSM-7 it counts UTF-16 units.
SMS_MAX = 1600
_GSM7 = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
            "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€")


def csv_cell(value: Any) -> Any:
    """A value for a CSV export: text that a spreadsheet would run as a formula gets a
    leading apostrophe (shown as text by Excel, LibreOffice and Google Sheets)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def slack(text: str) -> str:
    """Text for Slack's mrkdwn: &, < and > escaped as Slack's docs ask, so that an event
    cannot mention @channel, a user, or show a link of its own; *bold* stays."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sms_units(text: str) -> int:
    """The length Twilio counts: characters for GSM-7 text, UTF-16 code units otherwise."""
    if all(c in _GSM7 for c in text):
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _longest(text: str, fits: Callable[[str], bool]) -> int:
    """The longest prefix length of text that fits, by bisection (units are not per character)."""
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(text[:mid]):
            low = mid
        else:
            high = mid - 1
    return low


def sms_fit(head: str, tail: str, limit: int = SMS_MAX) -> str:
    """head + tail within Twilio's limit: the head (the event's words) is cut, with '…',
    before the tail (the reply codes and the link); a tail too long alone is cut too."""
    if sms_units(head + tail) <= limit:
        return head + tail
    if sms_units("…" + tail) > limit:
        whole = head + tail
        return whole[:_longest(whole, lambda t: sms_units(t + "…") <= limit)] + "…"
    cut = _longest(head, lambda h: sms_units(h.rstrip() + "…" + tail) <= limit)
    return head[:cut].rstrip() + "…" + tail


SLACK_TEXT_MAX = 3000  # a Block Kit text object


def slack_fit(text: str, limit: int = SLACK_TEXT_MAX) -> str:
    """slack(text) within a Block Kit text object's limit: escaping can make text five times
    longer, so the text is cut before it is escaped, never inside an entity."""
    if len(slack(text)) <= limit:
        return slack(text)
    return slack(text[:_longest(text, lambda t: len(slack(t)) + 1 <= limit)]) + "…"

"""The hotline's decisions, pure: no store, no provider, no clock but the instant given.

Who rings, in order: the people each step of the reason's policy reaches at the time of the
call (step by step, targets in order), each once, those with a phone; Slack channels are
not people to talk to.  The caller may wait for every one of them to ring out.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from ..model import Bundle, Hotline, MenuItem, Policy
from ..rotas.shifts import on_call
from ..text import whole_number

SWITCH_KEY = "9"
VOICEMAIL_SECONDS = 300  # the longest a held incident waits for the caller to leave a message
HOLD_MARGIN_SECONDS = 15  # per person: the time to dial and to hear the whisper


def in_office_hours(service: Mapping[str, Any], now: float) -> bool:
    """During the service's support_hours (calls go to office_forward); none: never."""
    hours = service.get("support_hours")
    return hours is not None and on_call(hours["rota"], "hours", now) is not None


def next_language(languages: list[str], current: str) -> str:
    """Key 9: the hotline's next language, round the list."""
    if current not in languages:
        return languages[0]
    return languages[(languages.index(current) + 1) % len(languages)]


def choice(hotline: Hotline, digit: str) -> MenuItem | None:
    return next((item for item in hotline["menu"] if item["key"] == digit), None)


def label(item: MenuItem, lang: str, languages: list[str]) -> str:
    """The reason in `lang`, or in the hotline's default language."""
    return item["label"].get(lang) or item["label"][languages[0]]


def candidates(policy: Policy, bundle: Bundle, at: float) -> list[str]:
    """Person ids to ring, in order: each step's on-call people, each once, with a phone."""
    out: list[str] = []
    for step in policy["steps"]:
        for target in step["targets"]:
            if "rota" in target:
                who = on_call(bundle["rotas"][target["rota"]], target["layer"], at)
            else:
                who = target.get("person")
            person = bundle["people"].get(who or "")
            if person is not None and person["phone"] and person["id"] not in out:
                out.append(person["id"])
    return out


def next_index(count: int, index: int) -> int | None:
    """After person `index` did not take the call: the next one, or None (voicemail)."""
    return index + 1 if index + 1 < count else None


def max_wait_minutes(hotline: Hotline, count: int) -> int:
    """What the caller is told: every person ringing out, rounded up to the minute."""
    return max(1, math.ceil(count * hotline["ring_seconds"] / 60))


def hold_seconds(hotline: Hotline, count: int) -> float:
    """How long the incident's pages wait at most: the longest the call can take before
    voicemail ends (the backstop if no callback ever releases them)."""
    return count * (hotline["ring_seconds"] + HOLD_MARGIN_SECONDS) + VOICEMAIL_SECONDS


def parse_ref(ref: str) -> tuple[int, int] | None:
    """'12.1' -> (incident 12, person index 1)."""
    number, _, index = ref.partition(".")
    if not (number.isdigit() and index.isdigit()) or len(ref) > 24:
        return None
    return int(number), int(index)


# ---------------------------------------------------------------- callbacks by staff

CALLBACK_TRIES = 2  # incident numbers an agent may enter on one call
CALLBACK_DAYS = 7  # a resolved incident's customer may be called back this long after
MAX_NUMBER_DIGITS = 9


def incident_number(digits: str) -> int | None:
    """What the agent typed before # ('12', or '12#' when the key came along): the number."""
    return whole_number(digits.strip().removesuffix("#"), 1, 10**MAX_NUMBER_DIGITS - 1)


def same_country(caller: str, hotline_number: str) -> bool:
    """A customer number we may dial back: a whole E.164 number with the hotline's own country
    calling code (never 'anonymous', nor a premium or foreign number a spoofed call left)."""
    if not re.fullmatch(r"\+[1-9][0-9]{7,14}", caller or "") or not hotline_number.startswith("+"):
        return False
    return caller[1:1 + _code_length(hotline_number)] == hotline_number[1:1 + _code_length(hotline_number)]


# ITU-T E.164 country codes: 1 and 7 are one digit; these prefixes begin three-digit codes.
_THREE_DIGITS = ("21", "22", "23", "24", "25", "26", "29", "35", "37", "38", "42", "50", "59", "67", "68",
                 "69", "80", "85", "87", "88", "96", "97", "99")


def _code_length(number: str) -> int:
    if number[1] in "17":
        return 1
    return 3 if number[1:3] in _THREE_DIGITS else 2


def callback_refusal(service_id: str, inc_service: str | None, source: str | None, caller: str | None,
                     resolved_at: float | None, now: float, hotline_number: str = "",
                     allowed: bool = True) -> str | None:
    """Why this incident's customer may not be called back from `service_id`'s number, or None.

    'unknown': no such incident, not a hotline call, another service's, no caller number, a
    number outside the hotline's country, or an agent who was neither rung nor paged for it
    nor manages its team (one answer for all: the line says nothing of other incidents — a
    spoofed staff number learns nothing); 'too_old': resolved more than CALLBACK_DAYS ago."""
    if inc_service != service_id or source != "hotline" or not caller or not allowed:
        return "unknown"
    if hotline_number and not same_country(caller, hotline_number):
        return "unknown"
    if resolved_at is not None and now - resolved_at > CALLBACK_DAYS * 86400:
        return "too_old"
    return None


def next_try(attempt: int) -> int | None:
    """After a wrong number on try `attempt` (0-based): the next try, or None (goodbye)."""
    return attempt + 1 if attempt + 1 < CALLBACK_TRIES else None

"""Text at the door: one normalisation for everything that comes in (events, webhooks,
query strings, rotas), so that nothing further in has to wonder what a string may hold.

A lone surrogate (valid JSON, "\\ud800") cannot be encoded as UTF-8: kept, it made every
answer that carried it fail.  Control characters other than newline and tab break XML
(TwiML), terminals and CSV readers.  Both are replaced or removed here, and text is put in
NFC so that the same word typed on two keyboards is the same string.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from typing import Any

MAX_INT_DIGITS = 40  # a JSON number longer than this is not an id or a count anyone sends
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_DIGITS = re.compile(r"[0-9]+")


class BadJson(ValueError):
    """A body that is not JSON we accept; the message says why, for the 400 answer."""


def clean(value: str) -> str:
    """The text, safe to store and to show: lone surrogates replaced by U+FFFD, control
    characters other than newline and tab removed, NFC."""
    if value.isascii():
        return _CONTROL.sub("", value) if _CONTROL.search(value) else value
    value = _SURROGATE.sub("\ufffd", value)
    return unicodedata.normalize("NFC", _CONTROL.sub("", value))


def clean_tree(doc: Any) -> Any:
    """Every string of a parsed JSON document (keys too) cleaned."""
    if isinstance(doc, str):
        return clean(doc)
    if isinstance(doc, dict):
        return {clean(k) if isinstance(k, str) else k: clean_tree(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [clean_tree(v) for v in doc]
    return doc


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise BadJson(f"a number has more than {MAX_INT_DIGITS} digits")
    return int(digits)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e999: no JSON answer could carry it back
        raise BadJson(f"the number {literal[:20]} is too large")
    return value


def _no_constant(name: str) -> Any:
    raise BadJson(f"{name} is not JSON")


def parse_json(raw: bytes | str, cleaned: bool = True) -> Any:
    """JSON from a request body, cleaned; BadJson (a ValueError) saying why it is not JSON.
    `cleaned=False` for a document whose signature covers its text as sent (SNS): clean it
    once verified."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        doc = json.loads(text, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
        return clean_tree(doc) if cleaned else doc
    except BadJson:
        raise
    except UnicodeDecodeError as exc:
        raise BadJson(f"body is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise BadJson(f"body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadJson("body is nested too deeply") from exc
    except ValueError as exc:  # e.g. an exponent no float holds
        raise BadJson(f"body is not valid JSON: {exc}") from exc


def whole_number(value: str, low: int = 0, high: int = 10**12) -> int | None:
    """An ASCII whole number within [low, high], or None: int() alone takes '²', '٣' and
    '1_000', and a 5,000-digit number is no incident anyone has."""
    value = value.strip()
    if not _DIGITS.fullmatch(value) or len(value) > len(str(high)):
        return None
    number = int(value)
    return number if low <= number <= high else None

"""Intake: turn each source's format into one normalised event, or name what is wrong.

One module per source, each with `parse(raw, headers, options) -> list[event]`: pure
functions (no store, no provider) tested on saved payloads.  The event is the one shape
the incidents package takes, whatever the source said.
"""
from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from .. import errors, text


class Event(TypedDict):
    """A normalised event (the key `action` is taken off before it is stored)."""

    action: NotRequired[str]  # trigger | acknowledge | resolve
    dedup_key: str
    summary: NotRequired[str]
    source: NotRequired[str | None]
    severity: NotRequired[str]  # critique | eleve | moyen | faible
    details: NotRequired[dict[str, Any] | None]
    via: NotRequired[str]  # the source's name on the timeline
    actor: NotRequired[str]


class InvalidEvent(errors.BadRequest):
    """The event cannot be accepted; `errors` names each problem, field by field.  `status`
    is 400, or 409 when the integration's own options are wrong."""

    code = "invalid_event"

    def __init__(self, errors: list[str], status: int = 400):
        super().__init__("; ".join(errors))
        self.errors = errors
        self.status = status


def load_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or InvalidEvent saying why it is not one."""
    try:
        doc = text.parse_json(raw)
    except text.BadJson as exc:
        raise InvalidEvent([str(exc)]) from exc
    if not isinstance(doc, dict):
        raise InvalidEvent(["body must be a JSON object"])
    return doc


def obj(doc: dict[str, Any], key: str) -> dict[str, Any]:
    """doc[key] when it is a JSON object, else {}: a payload's nested parts are read without
    trusting their type (a string where an object belongs is a missing field, not a 500)."""
    value = doc.get(key)
    return value if isinstance(value, dict) else {}

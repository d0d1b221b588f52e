"""Opsgenie's Alert API, for teams leaving Opsgenie: their scripts and tools keep working
by changing the API host, and their API key becomes an integration key of source opsgenie
(sent as `Authorization: GenieKey <key>`).

  POST /v2/alerts                                          create  -> trigger
  POST /v2/alerts/{alias}/acknowledge?identifierType=alias        -> acknowledge
  POST /v2/alerts/{alias}/close?identifierType=alias              -> resolve

The alias is the dedup key, as in Opsgenie (one open alert per alias).  Priorities: P1
critique, P2 eleve, P3 (Opsgenie's default) moyen, P4 and P5 faible.  Answers are
Opsgenie's: 202 {"result": "Request will be processed", "took", "requestId"}.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from . import Event, InvalidEvent, load_object

PRIORITIES = {"P1": "critique", "P2": "eleve", "P3": "moyen", "P4": "faible", "P5": "faible"}
ACTIONS = {"acknowledge": "acknowledge", "close": "resolve"}
LIMITS = {"message": 130, "alias": 512, "description": 15000, "entity": 512, "source": 100}


def _text(doc: dict[str, Any], field: str, errors: list[str], required: bool = False) -> str | None:
    value = doc.get(field)
    if value is None or (value == "" and not required):
        if required:
            errors.append(f"'{field}' is missing")
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        errors.append(f"'{field}' must be a non-empty string")
        return None
    if len(value) > LIMITS[field]:
        errors.append(f"'{field}' is longer than {LIMITS[field]} characters")
    return value.strip()


def parse(raw: bytes, headers: dict[str, str] | None = None,
          options: dict[str, Any] | None = None) -> list[Event]:
    """Create alert (POST /v2/alerts): a trigger."""
    doc = load_object(raw)
    errors: list[str] = []
    message = _text(doc, "message", errors, required=True)
    alias = _text(doc, "alias", errors)
    description = _text(doc, "description", errors)
    entity = _text(doc, "entity", errors)
    source = _text(doc, "source", errors)
    priority = doc.get("priority", "P3")
    if not isinstance(priority, str) or priority not in PRIORITIES:
        errors.append(f"'priority' must be one of P1, P2, P3, P4, P5 (got {priority!r})")
    tags = doc.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        errors.append("'tags' must be a list of strings")
    extra = doc.get("details")
    if extra is not None and not isinstance(extra, dict):
        errors.append("'details' must be an object of string values")
    if errors:
        raise InvalidEvent(errors, status=422)  # Opsgenie answers 422 to a bad request
    details = {k: v for k, v in (("description", description), ("entity", entity), ("tags", tags),
                                 ("details", extra), ("priority", priority),
                                 ("responders", doc.get("responders")), ("note", doc.get("note")),
                                 ("user", doc.get("user"))) if v}
    return [{"action": "trigger", "summary": str(message), "dedup_key": alias or uuid.uuid4().hex,
             "severity": PRIORITIES[str(priority)], "source": source or "opsgenie",
             "details": {"opsgenie": details} if details else None}]


def parse_action(action: str, alias: str, raw: bytes = b"",
                 identifier_type: str | None = "alias") -> list[Event]:
    """Acknowledge or close by alias; the body ({"user", "source", "note"}) is optional."""
    errors: list[str] = []
    if action not in ACTIONS:
        errors.append(f"the action must be acknowledge or close (got {action!r})")
    if (identifier_type or "id") != "alias":
        errors.append("only identifierType=alias is supported: alerts here are known by their alias "
                      f"(got {identifier_type or 'id'!r}, Opsgenie's default)")
    if not alias or len(alias) > LIMITS["alias"]:
        errors.append(f"the alias must be 1 to {LIMITS['alias']} characters")
    doc = load_object(raw) if raw.strip() else {}
    user = doc.get("user")
    if user is not None and not isinstance(user, str):
        errors.append("'user' must be a string")
    source = _text(doc, "source", errors)
    if errors:
        raise InvalidEvent(errors, status=422)
    event: Event = {"action": ACTIONS[action], "dedup_key": alias, "source": source or "opsgenie"}
    if user:
        event["actor"] = user
    if isinstance(doc.get("note"), str) and doc["note"]:
        event["details"] = {"opsgenie": {"note": doc["note"]}}
    return [event]


def accepted(started: float | None = None) -> dict[str, Any]:
    """Opsgenie's 202 body; requestId is new each time (we keep no request status)."""
    took = round(time.monotonic() - started, 3) if started is not None else 0.0
    return {"result": "Request will be processed", "took": took, "requestId": str(uuid.uuid4())}


def error(errors: list[str]) -> dict[str, Any]:
    """Opsgenie's error body {"message", "took", "requestId"}, with our field errors."""
    return {"message": "; ".join(errors), "errors": errors, "took": 0.0, "requestId": str(uuid.uuid4())}


def genie_key(headers: dict[str, str]) -> str | None:
    """The key of `Authorization: GenieKey <key>` (headers in any case)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("authorization", "")
    scheme, _, key = value.strip().partition(" ")
    return key.strip() if scheme.lower() == "geniekey" and key.strip() else None


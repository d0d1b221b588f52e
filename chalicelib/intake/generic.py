"""A generic JSON webhook: any tool that can post JSON, its fields mapped per integration.

Options (set when the key is created, or in rotas/ services.integrations[].options):
  summary:       path of the summary field, e.g. "alert.title"         (required)
  dedup_key:     path of the field that identifies the problem          (default: a new key)
  severity:      path of the severity field; mapped with severity_map, then our words
  severity_map:  {"P1": "critique", ...}; default_severity when absent (moyen)
  source:        path of the source field
  resolve_when:  {"path": "state", "equals": "ok"}: such an event resolves what it opened
  acknowledge_when: the same, to acknowledge
Paths are dot-separated; list items by index ("alerts.0.name").
"""
from __future__ import annotations

import uuid
from typing import Any

from .. import text
from ..severity import normalise
from . import Event, InvalidEvent


def _get(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        elif isinstance(doc, dict) and part in doc:
            doc = doc[part]
        else:
            return None
    return doc


def parse(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Event]:
    try:
        doc = text.parse_json(raw)
    except text.BadJson as exc:
        raise InvalidEvent([str(exc)]) from exc
    if not options.get("summary"):
        raise InvalidEvent(["this integration has no field mapping: set options.summary"], status=409)
    errors = []
    summary = _get(doc, options["summary"])
    if not isinstance(summary, (str, int, float)) or not str(summary).strip():
        errors.append(f"'{options['summary']}' (the summary) is missing or empty")
    dedup = _get(doc, options["dedup_key"]) if options.get("dedup_key") else None
    if options.get("dedup_key") and (dedup is None or str(dedup) == ""):
        errors.append(f"'{options['dedup_key']}' (the dedup key) is missing")
    elif dedup is not None and (not isinstance(dedup, (str, int)) or isinstance(dedup, bool)
                                or len(str(dedup)) > 255):
        errors.append(f"'{options['dedup_key']}' (the dedup key) must be a string or a whole number "
                      f"of at most 255 characters, not {type(dedup).__name__}")
    action = "trigger"
    rules = (("resolve", options.get("resolve_when")), ("acknowledge", options.get("acknowledge_when")))
    for name, rule in rules:
        if rule and str(_get(doc, rule["path"])) == str(rule["equals"]):
            action = name
    if action != "trigger" and not options.get("dedup_key"):
        errors.append(f"to {action}, the integration needs a dedup_key mapping")
    raw_sev = _get(doc, options["severity"]) if options.get("severity") else None
    mapped = (options.get("severity_map") or {}).get(str(raw_sev), raw_sev)
    severity = normalise(str(mapped)) if mapped is not None else None
    if severity is None:
        severity = normalise(str(options.get("default_severity", "moyen"))) or "moyen"
    if errors:
        raise InvalidEvent(errors)
    source = _get(doc, options["source"]) if options.get("source") else None
    if not isinstance(source, (str, int, float)) or isinstance(source, bool):
        source = None  # an object where the source belongs: the integration's name instead
    return [{"action": action, "summary": str(summary).strip()[:1024],
             "dedup_key": str(dedup) if dedup is not None else uuid.uuid4().hex,
             "severity": severity, "source": str(source)[:255] if source is not None else "webhook",
             "details": {"body": doc}}]

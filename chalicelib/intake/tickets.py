"""Ticketing tools (Zendesk, Jira Service Management, Freshdesk), inbound: what the three
intake parsers share (pure; the write-back on acknowledgement is chalicelib.ticketing).

A ticket pages only when its priority maps to one of our severities (options.priority_map,
per integration key; a default per tool); the ticket id is the dedup key, so every later
update of the same ticket is a repeat; a solved/closed/done ticket resolves the incident,
whatever its priority by then.
"""
from __future__ import annotations

from typing import Any

from ..severity import normalise
from . import Event

TOOLS = ("zendesk", "jira", "freshdesk")
NAMES = {"zendesk": "Zendesk", "jira": "Jira", "freshdesk": "Freshdesk"}

# Only the top priorities page unless the integration says otherwise.
DEFAULT_PRIORITY_MAPS: dict[str, dict[str, str]] = {
    "zendesk": {"urgent": "critique", "high": "eleve"},
    "jira": {"highest": "critique", "blocker": "critique", "critical": "critique",
             "high": "eleve", "major": "eleve"},
    "freshdesk": {"urgent": "critique", "high": "eleve"},
}



def language(locale: Any, default: str = "en") -> str:
    """fr for any French locale or language name (fr, fr-CA, fr_FR, Français, French)."""
    text = str(locale or "").strip().lower()
    if not text:
        return default if default in ("fr", "en") else "en"
    return "fr" if text.startswith("fr") else "en"


def severity_for(tool: str, priority: Any, options: dict[str, Any]) -> str | None:
    """Our severity for the ticket's priority, or None when that priority does not page."""
    if priority is None or str(priority).strip() == "":
        return None
    mapping = options.get("priority_map")
    if not isinstance(mapping, dict):
        mapping = DEFAULT_PRIORITY_MAPS[tool]
    table = {str(k).strip().lower(): v for k, v in mapping.items()}
    mapped = table.get(str(priority).strip().lower())
    return normalise(mapped) if isinstance(mapped, str) else None


def text_field(value: Any) -> str | None:
    """A non-empty string (ids may come as numbers), else None."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None


def ticket_events(tool: str, ticket_id: str, subject: str | None, priority: Any, closed: bool,
                  url: str | None, requester: dict[str, Any], options: dict[str, Any],
                  status: Any = None) -> list[Event]:
    """The one event a ticket webhook makes, or none when an open ticket does not page."""
    details = {"ticket": {
        "tool": tool, "id": ticket_id, "url": url, "api_base": options.get("api_base"),
        "priority": text_field(priority), "status": text_field(status),
        "requester": {"name": text_field(requester.get("name")),
                      "email": text_field(requester.get("email")),
                      "language": language(requester.get("locale"),
                                           str(options.get("default_language", "en")))},
    }}
    event: Event = {"dedup_key": f"{tool}:{ticket_id}", "source": tool, "details": details,
             "summary": f"{NAMES[tool]} #{ticket_id}: {subject or ''}".strip()[:1024]}
    if closed:
        return [{**event, "action": "resolve"}]
    severity = severity_for(tool, priority, options)
    if severity is None:
        return []
    return [{**event, "action": "trigger", "severity": severity}]


def is_closed(status: Any, closed_statuses: tuple[str, ...], options: dict[str, Any]) -> bool:
    custom = options.get("closed_statuses")
    names = tuple(str(s).lower() for s in custom) if isinstance(custom, list) else closed_statuses
    return str(status or "").strip().lower() in names

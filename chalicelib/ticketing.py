"""Ticketing tools (Zendesk, Jira Service Management, Freshdesk), both ways.

Inbound: what the three intake parsers share. A ticket pages only when its priority maps
to one of our severities (options.priority_map, per integration key; a default per tool);
the ticket id is the dedup key, so every later update of the same ticket is a repeat; a
solved/closed/done ticket resolves the incident, whatever its priority by then.

Outbound: when the incident is acknowledged, `on_acknowledged` writes an internal note on
the ticket (who took it, when) and a public reply to the requester in their language,
through the tool's REST API.  The API base URL and credentials come from the integration's
options only, never from the webhook body: a forged body must not be able to send our
credentials to a host of its choosing.
"""
from __future__ import annotations

import json
import os
from typing import Any

from .intake import InvalidEvent
from .severity import normalise

TOOLS = ("zendesk", "jira", "freshdesk")
NAMES = {"zendesk": "Zendesk", "jira": "Jira", "freshdesk": "Freshdesk"}

# Only the top priorities page unless the integration says otherwise.
DEFAULT_PRIORITY_MAPS: dict[str, dict[str, str]] = {
    "zendesk": {"urgent": "critique", "high": "eleve"},
    "jira": {"highest": "critique", "blocker": "critique", "critical": "critique",
             "high": "eleve", "major": "eleve"},
    "freshdesk": {"urgent": "critique", "high": "eleve"},
}

REPLY = {
    "fr": "Bonjour {name}, votre demande #{id} est prise en charge par notre équipe d'astreinte "
          "({by}, {at}).",
    "en": "Hello {name}, your request #{id} has been taken in hand by our on-call team ({by}, {at}).",
}
NOTE = {
    "fr": "[Astreinte] Pris en charge par {by} le {at}.",
    "en": "[Astreinte] Acknowledged by {by} at {at}.",
}


# ---------------------------------------------------------------- inbound (intake parsers)

def load_json(raw: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent([f"body is not valid JSON: {exc}"]) from exc
    except RecursionError as exc:
        raise InvalidEvent(["body is nested too deeply"]) from exc
    if not isinstance(doc, dict):
        raise InvalidEvent(["body must be a JSON object"])
    return doc


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
                  status: Any = None) -> list[dict[str, Any]]:
    """The one event a ticket webhook makes, or none when an open ticket does not page."""
    details = {"ticket": {
        "tool": tool, "id": ticket_id, "url": url, "api_base": options.get("api_base"),
        "priority": text_field(priority), "status": text_field(status),
        "requester": {"name": text_field(requester.get("name")),
                      "email": text_field(requester.get("email")),
                      "language": language(requester.get("locale"),
                                           str(options.get("default_language", "en")))},
    }}
    event = {"dedup_key": f"{tool}:{ticket_id}", "source": tool, "details": details,
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


# ---------------------------------------------------------------- outbound (acknowledgement)

def on_acknowledged(details: dict[str, Any], actor_name: str, at_iso: str,
                    options: dict[str, Any]) -> dict[str, Any]:
    """Tell the ticket who took it: an internal note, and a reply to the requester.

    Returns what was posted, for the timeline: {"ticket", "note": {"ok", ...},
    "reply": {"ok", ...}}.  Never raises: the acknowledgement has already happened and a
    ticketing tool being down must not undo or delay it."""
    ticket = (details or {}).get("ticket") if isinstance(details, dict) else None
    if not isinstance(ticket, dict) or ticket.get("tool") not in TOOLS or not ticket.get("id"):
        return {"ticket": None, "note": {"ok": False, "error": "no ticket in the incident's details"}}
    tool, tid = ticket["tool"], str(ticket["id"])
    record: dict[str, Any] = {"ticket": f"{tool}:{tid}"}
    base = str(options.get("api_base") or "").rstrip("/")
    if not base:
        record["note"] = {"ok": False, "error": "options.api_base is not set"}
        return record
    auth = _auth(tool, options)
    team_lang = language(options.get("language"), "fr")
    note = NOTE[team_lang].format(by=actor_name, at=at_iso)
    record["note"] = _post(tool, "note", base, tid, note, auth, options)
    requester = ticket.get("requester") or {}
    if options.get("reply_to_requester", True):
        lang = requester.get("language") if requester.get("language") in REPLY else "en"
        reply = REPLY[lang].format(name=requester.get("name") or "", id=tid, by=actor_name, at=at_iso)
        reply = reply.replace(" ,", ",")  # no name: "Bonjour, votre demande…"
        record["reply"] = {**_post(tool, "reply", base, tid, reply, auth, options), "language": lang}
    return record


def _auth(tool: str, options: dict[str, Any]) -> tuple[str, str] | None:
    """Basic credentials: Zendesk "email/token" + API token, Jira email + API token,
    Freshdesk API key + "X".  The secret may be named by an environment variable
    (api_token_env) rather than stored in the options."""
    token = options.get("api_token")
    if not token and options.get("api_token_env"):
        token = os.environ.get(str(options["api_token_env"]))
    if not token:
        return None
    user = str(options.get("api_user") or "")
    if tool == "zendesk" and user and not user.endswith("/token"):
        user += "/token"
    if tool == "freshdesk":
        return str(token), "X"
    return user, str(token)


def _request(tool: str, kind: str, base: str, tid: str, body: str,
             options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(method, url, json) of an internal note or a public reply, as each tool's API wants."""
    internal = kind == "note"
    if tool == "zendesk":
        return "PUT", f"{base}/api/v2/tickets/{tid}.json", {
            "ticket": {"comment": {"body": body, "public": not internal}}}
    if tool == "freshdesk":
        if internal:
            return "POST", f"{base}/api/v2/tickets/{tid}/notes", {"body": body, "private": True}
        return "POST", f"{base}/api/v2/tickets/{tid}/reply", {"body": body}
    if options.get("jira_api") == "platform":  # plain Jira: the JSM property marks it internal
        payload: dict[str, Any] = {"body": {"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": body}]}]}}
        if internal:
            payload["properties"] = [{"key": "sd.public.comment", "value": {"internal": True}}]
        return "POST", f"{base}/rest/api/3/issue/{tid}/comment", payload
    return "POST", f"{base}/rest/servicedeskapi/request/{tid}/comment", {"body": body, "public": not internal}


def _post(tool: str, kind: str, base: str, tid: str, body: str, auth: tuple[str, str] | None,
          options: dict[str, Any]) -> dict[str, Any]:
    try:
        import requests  # only on this path: the intake never needs it

        method, url, payload = _request(tool, kind, base, tid, body, options)
        resp = requests.request(method, url, json=payload, auth=auth, headers={"Accept": "application/json"},
                                timeout=float(options.get("timeout", 5)))
        if resp.status_code >= 300:
            return {"ok": False, "status": resp.status_code, "error": resp.text[:200]}
        return {"ok": True, "status": resp.status_code}
    except Exception as exc:  # never raise: see on_acknowledged
        return {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}


def integration_options(service_id: str, tool: str, api_base: str | None) -> dict[str, Any] | None:
    """The options (API base, credentials) of the service's key for this tool: what the
    acknowledgement hook needs, since the incident keeps only the ticket, not the key."""
    from . import directory
    from .store import IntegrationKey

    candidates: list[dict[str, Any]] = []
    svc = directory.bundle()["services"].get(service_id) or {}
    candidates += [i.get("options") or {} for i in svc.get("integrations", []) if i.get("type") == tool]
    candidates += [item.options or {} for item in IntegrationKey.query(f"IKEYS#{service_id}")
                   if item.source == tool]
    for opts in candidates:
        if opts.get("api_base") and (api_base is None or opts["api_base"] == api_base):
            return opts
    return None

"""Ticketing tools (Zendesk, Jira Service Management, Freshdesk), outbound: when the incident
a ticket opened is acknowledged, `on_acknowledged` writes an internal note on the ticket (who
took it, when) and a public reply to the requester in their language, through the tool's
REST API.  The API base URL and credentials come from the integration's options only, never
from the webhook body: a forged body must not be able to send our credentials to a host of
its choosing.  (Inbound parsing is chalicelib.intake.tickets.)
"""
from __future__ import annotations

import os
from typing import Any

from .intake.tickets import TOOLS, language
from .rotas import directory
from .store import IntegrationKey

REPLY = {
    "fr": "Bonjour {name}, votre demande #{id} est prise en charge par notre équipe d'astreinte "
          "({by}, {at}).",
    "en": "Hello {name}, your request #{id} has been taken in hand by our on-call team ({by}, {at}).",
}
NOTE = {
    "fr": "[Astreinte] Pris en charge par {by} le {at}.",
    "en": "[Astreinte] Acknowledged by {by} at {at}.",
}


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
        lang = str(requester.get("language")) if requester.get("language") in REPLY else "en"
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
    candidates: list[dict[str, Any]] = []
    svc = directory.bundle()["services"].get(service_id)
    candidates += [i["options"] or {} for i in (svc["integrations"] if svc else []) if i["type"] == tool]
    candidates += [item.options or {} for item in IntegrationKey.query(f"IKEYS#{service_id}")
                   if item.source == tool]
    for opts in candidates:
        if opts.get("api_base") and (api_base is None or opts["api_base"] == api_base):
            return opts
    return None

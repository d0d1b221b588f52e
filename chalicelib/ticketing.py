"""Ticketing tools (Zendesk, Jira Service Management, Freshdesk), outbound: when the incident
a ticket opened is acknowledged or resolved from our side, an internal note on the ticket (who,
when) and a public reply to the requester in their language, through the tool's REST API; and
the first technical answer an agent sends on demand (`customer_reply`: what we need, when we
call back).  The replies are the support team's templates, per service in rotas/
(`customer_messages`, checked by chalicelib.rotas.load), else the built-in ones below.

The API base URL and credentials come from the integration's options only, never from the
webhook body: a forged body must not be able to send our credentials to a host of its
choosing.  (Inbound parsing is chalicelib.intake.tickets.)
"""
from __future__ import annotations

import os
import secrets
import string
from typing import Any

from . import clock, errors, text
from .intake.tickets import TOOLS, language
from .rotas import directory
from .rotas.messages import MESSAGE_PLACEHOLDERS
from .store import Incident, IntegrationKey, TimelineEntry

KINDS = tuple(MESSAGE_PLACEHOLDERS)  # acknowledgement, first_answer, closure

# The built-in customer messages (a service's `customer_messages` replace them one by one).
MESSAGES: dict[str, dict[str, str]] = {
    "acknowledgement": {
        "fr": "Bonjour {name}, votre demande #{ticket} est prise en charge par notre équipe "
              "d'astreinte ({agent_name}, {at}).",
        "en": "Hello {name}, your request #{ticket} has been taken in hand by our on-call team "
              "({agent_name}, {at}).",
    },
    "first_answer": {
        "fr": "Bonjour {name}, nous travaillons sur votre demande #{ticket}. Pour avancer, il nous "
              "faut : {need}. {agent} vous recontacte sous {delay}.",
        "en": "Hello {name}, we are working on your request #{ticket}. To move forward we need: "
              "{need}. {agent} will get back to you within {delay}.",
    },
    "closure": {
        "fr": "Bonjour {name}, votre demande #{ticket} est résolue ({agent}, équipe d'astreinte). "
              "Merci de votre patience : réouvrez le ticket si le problème persiste.",
        "en": "Hello {name}, your request #{ticket} is resolved ({agent}, on-call team). "
              "Thank you for your patience: reopen the ticket if the problem persists.",
    },
}
REPLY = MESSAGES["acknowledgement"]  # (its older name)
NOTE = {
    "fr": "[Astreinte] Pris en charge par {by} le {at}.",
    "en": "[Astreinte] Acknowledged by {by} at {at}.",
}
NOTES = {
    "acknowledgement": NOTE,
    "closure": {"fr": "[Astreinte] Résolu par {by} le {at} ; le demandeur est prévenu.",
                "en": "[Astreinte] Resolved by {by} at {at}; the requester has been told."},
}
NEED_MAX, DELAY_MAX = 1000, 60


class NoTicket(errors.Conflict):
    """customer_reply on an incident no ticket opened."""

    code = "no_ticket"


def on_acknowledged(details: dict[str, Any], actor_name: str, at_iso: str, options: dict[str, Any],
                    messages: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """Tell the ticket who took it: an internal note, and a reply to the requester.

    Returns what was posted, for the timeline: {"ticket", "message", "note": {"ok", ...},
    "reply": {"ok", ...}}.  Never raises: the acknowledgement has already happened and a
    ticketing tool being down must not undo or delay it.  `messages`: the service's own."""
    return _tell(details, "acknowledgement", actor_name, at_iso, options, messages)


def on_resolved(details: dict[str, Any], actor_name: str, at_iso: str, options: dict[str, Any],
                messages: dict[str, dict[str, str]] | None = None) -> dict[str, Any]:
    """Resolved from our side (SMS, Slack, API): an internal note, and the closure message to
    the requester ("reopen the ticket if the problem persists").  Never raises."""
    return _tell(details, "closure", actor_name, at_iso, options, messages)


def _tell(details: dict[str, Any], kind: str, actor_name: str, at_iso: str, options: dict[str, Any],
          messages: dict[str, dict[str, str]] | None) -> dict[str, Any]:
    ticket = (details or {}).get("ticket") if isinstance(details, dict) else None
    if not isinstance(ticket, dict) or ticket.get("tool") not in TOOLS or not ticket.get("id"):
        return {"ticket": None, "note": {"ok": False, "error": "no ticket in the incident's details"}}
    tool, tid = ticket["tool"], str(ticket["id"])
    record: dict[str, Any] = {"ticket": f"{tool}:{tid}", "message": kind}
    base = str(options.get("api_base") or "").rstrip("/")
    if not base:
        record["note"] = {"ok": False, "error": "options.api_base is not set"}
        return record
    auth = _auth(tool, options)
    team_lang = language(options.get("language"), "fr")
    note = NOTES[kind][team_lang].format(by=actor_name, at=at_iso)
    record["note"] = _post(tool, "note", base, tid, note, auth, options)
    if options.get("reply_to_requester", True):
        requester = ticket.get("requester") or {}
        lang = _requester_language(requester)
        reply = render(template(messages, kind, lang), _values(ticket, actor_name, at_iso))
        record["reply"] = {**_post(tool, "reply", base, tid, reply, auth, options), "language": lang}
    return record


def customer_reply(inc: Incident, person_id: str, kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """The `customer_reply` action: a public reply on the incident's ticket with the service's
    template of that kind (first_answer: values "need" and "delay"), recorded on the timeline
    (`notified`, actor = the person).  -> {"ok", "ticket", "message", "language", "text",
    "reply": {"ok", "status"?, "error"?}}: ok is False when the tool refused or could not be
    reached (recorded too; the caller decides what to answer).

    Raises NoTicket (409) when no ticket opened the incident, BadRequest naming the field
    (kind, need, delay) otherwise."""
    ticket = inc.details.get("ticket") if isinstance(inc.details, dict) else None
    if not isinstance(ticket, dict) or ticket.get("tool") not in TOOLS or not ticket.get("id"):
        raise NoTicket("this incident was not opened by a ticket / cet incident ne vient pas d'un ticket")
    if kind not in KINDS:
        raise errors.BadRequest(f"'kind' must be one of {', '.join(KINDS)} / type de message inconnu",
                                code="bad_kind")
    words = _reply_values(kind, values)
    tool, tid = ticket["tool"], str(ticket["id"])
    now = clock.now()
    svc = directory.bundle()["services"].get(inc.service)
    lang = _requester_language(ticket.get("requester") or {})
    reply = render(template(svc.get("customer_messages") if svc else None, kind, lang),
                   {**_values(ticket, directory.name_of(person_id), clock.iso(now)), **words})
    record: dict[str, Any] = {"ticket": f"{tool}:{tid}", "message": kind, "language": lang, "text": reply}
    options = integration_options(inc.service, tool, ticket.get("api_base"))
    if not options or not options.get("api_base"):
        record["reply"] = {"ok": False, "error": f"no {tool} integration of the service has options.api_base"}
    else:
        base = str(options["api_base"]).rstrip("/")
        record["reply"] = _post(tool, "reply", base, tid, reply, _auth(tool, options), options)
    record["ok"] = bool(record["reply"].get("ok"))
    TimelineEntry(f"INC#{inc.number}", f"T#{clock.iso(now)}#{secrets.token_hex(4)}", at=now, kind="notified",
                  actor=person_id, channel=tool, detail=record).save()
    return record


def _reply_values(kind: str, values: dict[str, Any]) -> dict[str, str]:
    """need and delay of a first answer, cleaned and bounded; BadRequest naming the field."""
    words: dict[str, str] = {}
    if kind != "first_answer":
        return words
    for field, limit in (("need", NEED_MAX), ("delay", DELAY_MAX)):
        value = values.get(field)
        value = text.clean(value).strip() if isinstance(value, str) else ""
        if not value or len(value) > limit:
            raise errors.BadRequest(f"'{field}' must be a text of 1 to {limit} characters "
                                    f"/ '{field}' : un texte de 1 à {limit} caractères", code=f"bad_{field}")
        words[field] = value
    return words


def template(messages: dict[str, dict[str, str]] | None, kind: str, lang: str) -> str:
    """The service's template of that kind in that language, else the built-in one."""
    own = (messages or {}).get(kind) or {}
    return own.get(lang) or MESSAGES[kind][lang]


def render(template_text: str, values: dict[str, Any]) -> str:
    """A checked template (chalicelib.rotas.load.template_problems) with its values; a value
    not known (a nameless requester) is left out and the text stays readable."""
    out = []
    for literal, field, _, _ in string.Formatter().parse(template_text):
        out.append(literal)
        if field is not None:
            out.append(str(values.get(field) or ""))
    words = "".join(out)
    for before, after in ((" ,", ","), (" .", "."), ("  ", " "), ("( ", "("), (" )", ")")):
        words = words.replace(before, after)
    return words.strip()


def _values(ticket: dict[str, Any], actor_name: str, at_iso: str) -> dict[str, str]:
    requester = ticket.get("requester") or {}
    return {"ticket": str(ticket.get("id") or ""), "name": str(requester.get("name") or ""),
            "agent": (actor_name.split() or [""])[0], "agent_name": actor_name, "at": at_iso}


def _requester_language(requester: dict[str, Any]) -> str:
    return str(requester.get("language")) if requester.get("language") in ("fr", "en") else "en"


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

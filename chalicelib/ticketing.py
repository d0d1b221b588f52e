"""Ticketing tools (Zendesk, Jira Service Management, Freshdesk), outbound: when the incident
a ticket opened is acknowledged or resolved from our side, an internal note on the ticket (who,
when) and a public reply to the requester in their language, through the tool's REST API; and
the first technical answer an agent sends on demand (`customer_reply`: what we need, when we
call back).  The replies are the support team's templates, per service in rotas/
(`customer_messages`, checked by chalicelib.rotas.load), else the built-in ones below.

The API base URL and credentials come from the integration's options only, never from the
webhook body: a forged body must not be able to send our credentials to a host of its
choosing.  (Inbound parsing is chalicelib.intake.tickets.)

The internal notes give the time in the team's time zone (service -> team -> timezone):
"le 02/12/2026 à 05:58 (Europe/Paris)".  A requester already sent the closure message on
this incident (customer_reply, kind closure) is not sent it again when it is resolved: the
note says when they were told.

Our own writes come back: Jira sends jira:issue_updated for every comment, and a Zendesk or
Freshdesk trigger may fire on any update.  Before posting on a ticket we remember it
(`remember_writing`, ECHO_SECONDS); an update of that ticket in that time that leaves its
status as we knew it is our echo (`own_echo`), never an incident of its own.
"""
from __future__ import annotations

import os
import secrets
import string
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from . import clock, errors, text
from .intake import Event
from .intake.tickets import TOOLS, language
from .notify.templates import dated
from .rotas import directory
from .rotas.messages import MESSAGE_PLACEHOLDERS
from .store import Idempotency, Incident, IntegrationKey, TimelineEntry

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
    "en": "[Astreinte] Acknowledged by {by} on {at}.",
}
NOTES = {
    "acknowledgement": NOTE,
    "closure": {"fr": "[Astreinte] Résolu par {by} le {at}.",
                "en": "[Astreinte] Resolved by {by} on {at}."},
}
# What the closure note adds, from the reply's result (nothing when no reply was tried).
REQUESTER_TOLD = {"fr": " Le demandeur est prévenu.", "en": " The requester has been told."}
# ... when the closure message went out before (customer_reply): not sent twice.
REQUESTER_TOLD_AT = {"fr": " Le demandeur a été prévenu le {at}.", "en": " The requester was told on {at}."}
REQUESTER_NOT_TOLD = {
    "fr": " Le message au demandeur n'a pas pu être envoyé ({error}) : il ne sait rien.",
    "en": " The message to the requester could not be sent ({error}): they know nothing yet.",
}
NEED_MAX, DELAY_MAX = 1000, 60
ECHO_SECONDS = 300.0  # a tool's webhook about our own comment comes within this
CLAIM_SECONDS = 60.0  # a customer reply being posted (a retry meanwhile is told to wait)
ANSWER_DAYS = 7  # a posted customer reply's answer, for a retry with the same Idempotency-Key


class NoTicket(errors.Conflict):
    """customer_reply on an incident no ticket opened."""

    code = "no_ticket"


def on_acknowledged(details: dict[str, Any], actor_name: str, at_iso: str, options: dict[str, Any],
                    messages: dict[str, dict[str, str]] | None = None,
                    number: int | None = None) -> dict[str, Any]:
    """Tell the ticket who took it: an internal note, and a reply to the requester.

    Returns what was posted, for the timeline: {"ticket", "message", "note": {"ok", ...},
    "reply": {"ok", ...}}.  Never raises: the acknowledgement has already happened and a
    ticketing tool being down must not undo or delay it.  `messages`: the service's own.
    (The caller remembers the write first: remember_writing.)  `number`: the incident, for
    the team's time zone; else the one remember_writing named for this ticket."""
    return _tell(details, "acknowledgement", actor_name, at_iso, options, messages, number)


def on_resolved(details: dict[str, Any], actor_name: str, at_iso: str, options: dict[str, Any],
                messages: dict[str, dict[str, str]] | None = None,
                number: int | None = None) -> dict[str, Any]:
    """Resolved from our side (SMS, Slack, API): an internal note, and the closure message to
    the requester ("reopen the ticket if the problem persists"), unless it was already posted
    on this incident (customer_reply): then the note says when.  Never raises."""
    return _tell(details, "closure", actor_name, at_iso, options, messages, number)


def _tell(details: dict[str, Any], kind: str, actor_name: str, at_iso: str, options: dict[str, Any],
          messages: dict[str, dict[str, str]] | None, number: int | None = None) -> dict[str, Any]:
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
    inc = _incident_of(ticket, number)
    zone = _team_zone(inc)
    note = NOTES[kind][team_lang].format(by=actor_name, at=_note_time(at_iso, zone, team_lang))
    # The closure's note says whether the requester was told: its reply is posted first.
    reply_first = kind == "closure"
    told_at = _closure_posted(inc.number, record["ticket"]) if reply_first and inc is not None else None
    if not reply_first:
        record["note"] = _post(tool, "note", base, tid, note, auth, options)
    if told_at is not None:  # customer_reply sent it already: the requester is not told twice
        record["reply"] = {"ok": True, "sent_before": clock.iso(told_at)}
    elif options.get("reply_to_requester", True):
        requester = ticket.get("requester") or {}
        lang = _requester_language(requester)
        reply = render(template(messages, kind, lang), _values(ticket, actor_name, at_iso))
        record["reply"] = {**_post(tool, "reply", base, tid, reply, auth, options), "language": lang}
    if reply_first:
        note += _requester_words(record.get("reply"), team_lang, zone)
        record["note"] = _post(tool, "note", base, tid, note, auth, options)
    return record


def _incident_of(ticket: dict[str, Any], number: int | None) -> Incident | None:
    """The incident this write-back is about: `number`, else the one remember_writing named for
    the ticket just before (its caller does so before every write); None when not known."""
    try:
        if number is None:
            wrote = Idempotency.get(_wrote_pk(ticket), "IDEM", consistent_read=True)
            if wrote.expires < clock.now() or not (wrote.answer or {}).get("incident"):
                return None
            number = int(wrote.answer["incident"])
        inc = Incident.get(f"INC#{number}", "META", consistent_read=True)
    except Exception:  # noqa: BLE001 - a write-back never fails for the time zone of its note
        return None
    own = _ticket_of(inc.details)
    same = own is not None and (own["tool"], str(own["id"])) == (ticket["tool"], str(ticket["id"]))
    return inc if same else None


def _team_zone(inc: Incident | None) -> str | None:
    """The time zone of the team of the incident's service (rotas/ teams), None if not known."""
    if inc is None:
        return None
    try:
        bundle = directory.bundle()
        svc = bundle["services"].get(inc.service)
        team_id = svc["team"] if svc else None
        team = bundle["teams"].get(team_id) if team_id else None
        return str(team["timezone"]) if team else None
    except Exception:  # noqa: BLE001 - see _incident_of
        return None


def local_time(ts: float, zone: str, lang: str) -> str:
    """"02/12/2026 à 05:58 (Europe/Paris)" / "2 Dec 2026 at 05:58 (Europe/Paris)"."""
    return dated(lang, ts, clock.zone(zone), full=True)


def _note_time(at_iso: str, zone: str | None, lang: str) -> str:
    """The note's time in the team's zone; as given when the team is not known."""
    if zone is None:
        return at_iso
    try:
        return local_time(clock.parse_iso(at_iso), zone, lang)
    except Exception:  # noqa: BLE001 - a bad zone or time: the time as given
        return at_iso


def _closure_posted(number: int, ticket_ref: str) -> float | None:
    """When the closure message was posted to this ticket's requester on this incident (the
    first `notified` entry of message closure whose reply the tool took), else None."""
    entries = TimelineEntry.query(f"INC#{number}", consistent_read=True,
                                  filter_condition=TimelineEntry.kind == "notified")
    for e in entries:
        d = e.detail or {}
        reply = d["reply"] if isinstance(d.get("reply"), dict) else {}
        if d.get("message") == "closure" and d.get("ticket") == ticket_ref and reply.get("ok"):
            return float(e.at)
    return None


def _requester_words(reply: dict[str, Any] | None, lang: str, zone: str | None = None) -> str:
    """The note's last sentence about the requester: told (when, if it was before), not told
    (why), or nothing when no reply was tried (the integration's reply_to_requester is false)."""
    if reply is None:
        return ""
    if reply.get("sent_before"):
        return REQUESTER_TOLD_AT[lang].format(at=_note_time(str(reply["sent_before"]), zone, lang))
    if reply.get("ok"):
        return REQUESTER_TOLD[lang]
    return REQUESTER_NOT_TOLD[lang].format(error=str(reply.get("status") or reply.get("error") or "?")[:100])


def remember_writing(inc: Incident) -> None:
    """We are about to post on the ticket that opened `inc`: its tool's webhook about our own
    comment, in the next ECHO_SECONDS, is to be recognised (own_echo).  Kept with the
    ticket's status as its tool last told us: an update that changes it is news, not our echo."""
    ticket = _ticket_of(inc.details)
    if ticket is None:
        return
    Idempotency(_wrote_pk(ticket), answer={"incident": inc.number, "status": _last_status(inc, ticket)},
                expires=int(clock.now() + ECHO_SECONDS)).save()


def _last_status(inc: Incident, ticket: dict[str, Any]) -> str:
    """The ticket's status in its latest webhook: the newest repeat of this ticket on the
    incident's timeline (the support team moved it meanwhile), else the one that opened it."""
    repeats = TimelineEntry.query(f"INC#{inc.number}", scan_index_forward=False, consistent_read=True,
                                  filter_condition=TimelineEntry.kind == "repeated")
    for repeat in repeats:
        event = (repeat.detail or {}).get("event")
        heard = _ticket_of(event.get("details") if isinstance(event, dict) else None)
        if heard is not None and (heard["tool"], str(heard["id"])) == (ticket["tool"], str(ticket["id"])):
            return _status(heard)
    return _status(ticket)


def own_echo(event: Event) -> int | None:
    """The incident whose write-back this ticket event is the tool's echo of (a trigger for a
    ticket we posted on within ECHO_SECONDS, its status unchanged), else None."""
    ticket = _ticket_of(event.get("details"))
    if ticket is None:
        return None
    try:
        wrote = Idempotency.get(_wrote_pk(ticket), "IDEM", consistent_read=True)
    except DoesNotExist:
        return None
    known = wrote.answer or {}
    if wrote.expires < clock.now() or known.get("status") != _status(ticket):
        return None
    return int(known["incident"])


def _ticket_of(details: Any) -> dict[str, Any] | None:
    ticket = details.get("ticket") if isinstance(details, dict) else None
    if not isinstance(ticket, dict) or ticket.get("tool") not in TOOLS or not ticket.get("id"):
        return None
    return ticket


def _wrote_pk(ticket: dict[str, Any]) -> str:
    return f"IDEM#wrote#{ticket['tool']}:{ticket['id']}"


def _status(ticket: dict[str, Any]) -> str:
    return str(ticket.get("status") or "").strip().lower()


def customer_reply(inc: Incident, person_id: str, kind: str, values: dict[str, Any],
                   idem_key: str | None = None) -> dict[str, Any]:
    """The `customer_reply` action: a public reply on the incident's ticket with the service's
    template of that kind (first_answer: values "need" and "delay"), recorded on the timeline
    (`notified`, actor = the person).  -> {"ok", "ticket", "message", "language", "text",
    "reply": {"ok", "status"?, "error"?}}: ok is False when the tool refused or could not be
    reached (recorded too; the caller decides what to answer).

    `idem_key` (the caller's Idempotency-Key): claimed before posting, so a retry posts
    nothing twice and gets the first record; a reply the tool did not take releases it (the
    retry tries again); a retry while the first is still posting is a Conflict (in_progress).

    Raises NoTicket (409) when no ticket opened the incident, BadRequest naming the field
    (kind, need, delay) otherwise."""
    ticket = _ticket_of(inc.details)
    if ticket is None:
        raise NoTicket("this incident was not opened by a ticket / cet incident ne vient pas d'un ticket")
    if kind not in KINDS:
        known, shown = ", ".join(KINDS), repr(kind[:40])
        raise errors.BadRequest(f"'kind' must be one of {known}, not {shown} / "
                                f"'kind' doit être l'un de {known}, pas {shown}", code="bad_kind")
    words = _reply_values(kind, values)
    if idem_key is not None and (first := _claim(idem_key)) is not None:
        return first
    try:
        record = _customer_reply(inc, ticket, person_id, kind, words)
    except Exception:
        if idem_key is not None:
            Idempotency(f"IDEM#{idem_key}").delete()
        raise
    if idem_key is not None:
        if record["ok"]:
            Idempotency(f"IDEM#{idem_key}", answer=record,
                        expires=int(clock.now() + ANSWER_DAYS * 86400)).save()
        else:
            Idempotency(f"IDEM#{idem_key}").delete()
    return record


def _claim(idem_key: str) -> dict[str, Any] | None:
    """None when the key is ours now; the record its first delivery got otherwise."""
    now = clock.now()
    try:
        Idempotency(f"IDEM#{idem_key}", answer=None, expires=int(now + CLAIM_SECONDS)).save(
            condition=Idempotency.pk.does_not_exist() | (Idempotency.expires < int(now)))
        return None
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
    try:
        first = Idempotency.get(f"IDEM#{idem_key}", "IDEM", consistent_read=True).answer
    except DoesNotExist:
        first = None
    if not first:
        raise errors.Conflict("a request with this Idempotency-Key is posting the reply; try again shortly / "
                              "une requête avec cette Idempotency-Key envoie la réponse ; réessayez",
                              code="in_progress")
    return dict(first)


def _customer_reply(inc: Incident, ticket: dict[str, Any], person_id: str, kind: str,
                    words: dict[str, str]) -> dict[str, Any]:
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
        remember_writing(inc)
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


_CLOSING = tuple(",.;:!?)")


def render(template_text: str, values: dict[str, Any]) -> str:
    """A checked template (chalicelib.rotas.load.template_problems) with its values; a value
    not known (a nameless requester) is left out and the text stays readable: only the
    template's own text around it is tidied ("Bonjour {name}, nous" -> "Bonjour, nous",
    "({agent_name}, {at})" -> "({at})"), never what the values say."""
    texts: list[str] = []  # the template's text at even places, the values at odd ones
    for text_before, field, _, _ in string.Formatter().parse(template_text):
        texts.append(text_before)
        if field is not None:
            texts.append(str(values.get(field) or ""))
    for i in range(1, len(texts) - 1, 2):  # each value with the template's text either side
        if texts[i]:
            continue
        left, right = i - 1, i + 1
        if not texts[right] or texts[right][0].isspace() or texts[right].startswith(_CLOSING):
            texts[left] = texts[left].rstrip()  # "Bonjour {name}, nous"
        before = "".join(texts[:i])
        if not before.strip() or before.endswith("("):
            texts[right] = texts[right].lstrip(",;: ")  # "({agent_name}, {at})", "{name}, bonjour"
    return "".join(texts).strip()


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

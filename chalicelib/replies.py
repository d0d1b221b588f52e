"""People answering a page: SMS replies, phone keypad, Slack buttons, signed links, the API.

Every inbound webhook is verified first (Twilio X-Twilio-Signature, Slack signing secret)
and carries an idempotency key, so a retried delivery changes nothing twice.  Whatever the
channel, the action is one of incidents.acknowledge / resolve / escalate and the answer
is the same sentence, in the person's language.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from . import config, errors, incidents, links
from .hotline import csat
from .incidents import delivery, flood
from .incidents.views import view
from .model import Person
from .notify import channels, sms, voice
from .notify import slack as slack_notify
from .notify.channels import PageRef
from .notify.templates import text
from .rotas import directory
from .text import BadJson, clean, parse_json, whole_number

ACTIONS = {"acknowledge": incidents.acknowledge, "resolve": incidents.resolve,
           "escalate": incidents.escalate}
_WORDS = {
    "4": "acknowledge", "ACK": "acknowledge", "ACQ": "acknowledge", "OK": "acknowledge",
    "PRIS": "acknowledge", "PRENDS": "acknowledge",
    "6": "resolve", "RES": "resolve", "RESOLVE": "resolve", "RESOLU": "resolve", "CLOS": "resolve",
    "CLOSE": "resolve", "FERMER": "resolve",
    "5": "escalate", "ESC": "escalate", "ESCALATE": "escalate", "ESCALADE": "escalate",
}
_SMS = re.compile(r"^([A-Z]+|[456])\s*[#:]?\s*(\d+)$")
_RESULT_KEYS = {"acknowledged": "ok_ack", "resolved": "ok_resolve", "escalated": "ok_escalate",
                "already_acknowledged": "already_ack", "already_resolved": "already_resolved",
                "not_paged": "not_paged", "no_incident": "no_incident"}


class Forbidden(errors.BadSignature):
    """The request is not signed by who it claims to come from."""


def _plain(body: str) -> str:
    return unicodedata.normalize("NFKD", body).encode("ascii", "ignore").decode().upper().strip()


_ALL = re.compile(r"^(4|ACK|ACQ|OK)$")  # acknowledge, with no number: the last bundle


def parse_sms(body: str) -> tuple[str, int] | None:
    """'4 12', 'ack 12', 'Clos #12', 'résolu 12' -> (action, incident number)."""
    plain = _plain(body)
    m = _SMS.match(plain)
    number = whole_number(m.group(2), 1) if m else None
    if not m or m.group(1) not in _WORDS or number is None:
        return None
    return _WORDS[m.group(1)], number


def answer(outcome: incidents.Outcome, lang: str) -> str:
    by = outcome.by
    person = directory.person(by) if by else None
    return text(lang, _RESULT_KEYS[outcome.result], number=outcome.number,
                by=person["name"] if person else (by or "?"))


# ---------------------------------------------------------------- Twilio

def verify_twilio(url: str, raw_body: bytes, signature: str | None) -> dict[str, str]:
    from twilio.request_validator import RequestValidator

    params = dict(parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True))
    token = config.settings().twilio_auth_token
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        raise Forbidden("X-Twilio-Signature is missing or does not match this request")
    return {clean(k): clean(v) for k, v in params.items()}  # signed as sent, then cleaned


def sms_received(params: dict[str, str]) -> str:
    """An SMS reply; answers TwiML with one message in the sender's language."""
    person = directory.person_by_phone(params.get("From", ""))
    if person is None:
        # A hotline caller is no person of the rotas: their score of an answered call?
        said = csat.answer(params)
        return sms.reply(said if said is not None else text("fr", "unknown_person"))
    lang = person["language"]
    parsed = parse_sms(params.get("Body", ""))
    if parsed is None and _ALL.match(_plain(params.get("Body", ""))):
        numbers = flood.last(person["id"])  # "4" alone: every incident of the last bundle
        if numbers:
            sid = params.get("MessageSid", "")
            for n in numbers:
                incidents.acknowledge(n, person["id"], "sms", idem_key=f"twilio-sms:{sid}:{n}")
            return sms.reply(text(lang, "bundle_done", list=", ".join(f"#{n}" for n in numbers)))
    if parsed is None:
        return sms.reply(text(lang, "help"))
    action, number = parsed
    outcome = ACTIONS[action](number, person["id"], "sms",
                              idem_key=f"twilio-sms:{params.get('MessageSid', '')}")
    return sms.reply(answer(outcome, lang))


class BadRequest(errors.BadRequest):
    """A signed request whose content still makes no sense to us."""


def _call_ref(ref: str) -> tuple[int, Person]:
    page = PageRef.parse(ref, with_channel=False)
    person = directory.person(page.person)
    if person is None:
        raise BadRequest(f"'{ref[:80]}' is not an incident number and a person of the directory")
    return page.number, person


def voice_answered(ref: str) -> str:
    """Twilio fetched the call's TwiML: read the page and gather one key."""
    number, person = _call_ref(ref)
    lang = person["language"]
    inc = incidents.get(number)
    if inc is None:
        return voice.say(text(lang, "no_incident", number=number), lang)
    if inc.state != "triggered":
        outcome = incidents.Outcome("already_acknowledged" if inc.state == "acknowledged"
                                    else "already_resolved", number,
                                    inc.acknowledged_by if inc.state == "acknowledged" else inc.resolved_by)
        return voice.say(answer(outcome, lang), lang)
    v = {**view(inc, directory.bundle()), "name": person["name"]}
    action = sms.twilio_url("gather", ref)
    return voice.gather(text(lang, "voice_page", **v), lang, action,
                               text(lang, "voice_goodbye"))


def voice_key(ref: str, params: dict[str, str]) -> str:
    """The key pressed on the call: 4 acknowledge, 6 resolve, 5 escalate, 1 repeat."""
    number, person = _call_ref(ref)
    lang = person["language"]
    digit = params.get("Digits", "")
    action = {"4": "acknowledge", "6": "resolve", "5": "escalate"}.get(digit)
    if action is None:
        return voice_answered(ref)
    outcome = ACTIONS[action](number, person["id"], "voice",
                              idem_key=f"twilio-gather:{params.get('CallSid', '')}:{digit}")
    return voice.say(text(lang, "voice_done", result=answer(outcome, lang)), lang)


def status_callback(ref: str, params: dict[str, str]) -> None:
    """A provider's delivery callback about a page: the page's channel reads it."""
    page = PageRef.parse(ref)
    assert page.channel is not None
    delivery.record(page, channels.get(page.channel).delivery_report(params))


# ---------------------------------------------------------------- Slack

def verify_slack(raw_body: bytes, timestamp: str | None, signature: str | None) -> dict[str, Any]:
    from slack_sdk.signature import SignatureVerifier

    secret = config.settings().slack_signing_secret
    body = raw_body.decode("utf-8", "replace")
    if not secret or not timestamp or not signature or \
            not SignatureVerifier(secret).is_valid(body, timestamp, signature):
        raise Forbidden("X-Slack-Signature is missing, stale or does not match this request")
    try:
        payload = parse_json(dict(parse_qsl(body)).get("payload", ""))
    except BadJson as exc:
        raise BadRequest(f"the 'payload' field is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("actions", []), list) \
            or not isinstance(payload.get("user", {}), dict):
        raise BadRequest("the 'payload' field is not a Slack interaction")
    return payload


def slack_try_again(payload: dict[str, Any]) -> None:
    """Slack does not retry a failed button: tell the clicker, privately, to press it again."""
    user = str(_obj(payload.get("user")).get("id", ""))
    channel = _obj(payload.get("channel")).get("id") or _obj(payload.get("container")).get("channel_id")
    if channel and user:
        slack_notify.ephemeral(str(channel), user, text("fr", "try_again"))


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def slack_clicked(payload: dict[str, Any]) -> str:
    """A button on a page: act, then answer the clicker privately in their language."""
    user = str(_obj(payload.get("user")).get("id", ""))
    actions = payload.get("actions") or []
    if payload.get("type") != "block_actions" or not actions:
        return "ignored"
    act = _obj(actions[0])
    buttons = {"ack": "acknowledge", "resolve": "resolve", "escalate": "escalate"}
    action = buttons.get(str(act.get("action_id")))
    channel = _obj(payload.get("channel")).get("id") or _obj(payload.get("container")).get("channel_id")
    person = directory.person_by_slack(user)
    number = whole_number(str(act.get("value", "")), 1)
    if person is None or action is None or number is None:
        if channel:
            slack_notify.ephemeral(channel, user, text("fr", "unknown_person"))
        return "unknown"
    inc = incidents.get(number)
    # A page posted in a team channel may be taken by anyone in the directory.
    via_channel = inc is not None and f"slack:{channel}" in (inc.paged or [])
    outcome = ACTIONS[action](number, person["id"], "slack",
                              idem_key=f"slack:{user}:{act.get('action_ts', '')}:{act.get('action_id')}",
                              authorised=via_channel)
    if not outcome.changed and channel:
        slack_notify.ephemeral(channel, user, answer(outcome, person["language"]))
    return outcome.result


# ---------------------------------------------------------------- links and API

def _link(token: str) -> tuple[int, str, str, Person]:
    """A valid link's incident, person, action, and the person as the rotas know them now:
    a link sent to someone since removed from rotas/ no longer acts."""
    number, pid, action = links.verify(token)
    person = directory.person(pid)
    if person is None:
        raise links.BadLink("this link's person is no longer in the rotas / cette personne n'est plus "
                            "dans les astreintes")
    return number, pid, action, person


@dataclass(frozen=True)
class LinkPage:
    """What a one-click link shows before anyone presses its button."""

    number: int
    action: str  # ack | resolve
    state: str | None  # None: no such incident
    title: str
    button: str
    hint: str
    lang: str


def link_opened(token: str) -> LinkPage:
    """A signed link opened (GET): what it would do, changing nothing.  Link previews
    (Slackbot, iMessage, Outlook Safe Links, mail scanners) open links; only a person presses."""
    number, pid, action, person = _link(token)
    lang = person["language"]
    inc = incidents.get(number)
    state = inc.state if inc else None
    title = text(lang, "link_page", number=number, state=state or "?", summary=inc.summary if inc else "")
    return LinkPage(number, action, state, title, text(lang, "btn_ack" if action == "ack" else "btn_resolve"),
                    text(lang, "link_hint"), lang)


def link_clicked(token: str) -> tuple[incidents.Outcome, str, str]:
    """A signed link's button pressed (POST): the signature says who may act; returns the
    outcome, its sentence and the person's language."""
    number, pid, action, person = _link(token)
    lang = person["language"]
    fn = incidents.acknowledge if action == "ack" else incidents.resolve
    outcome = fn(number, pid, "link")
    return outcome, answer(outcome, lang), lang


def api_action(number: int, person_id: str, action: str) -> incidents.Outcome:
    """The API acts for the token's owner; any directory member may take an incident."""
    return ACTIONS[action](number, person_id, "api", authorised=True)

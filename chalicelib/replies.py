"""People answering a page: SMS replies, phone keypad, Slack buttons, signed links, the API.

Every inbound webhook is verified first (Twilio X-Twilio-Signature, Slack signing secret)
and carries an idempotency key, so a retried delivery changes nothing twice.  Whatever the
channel, the action is one of incidents.acknowledge / resolve / escalate, or a responder's
other action (incidents.actions: note, reassign, snooze, add responders, merge), and the
answer is the same sentence, in the person's language.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from pynamodb.exceptions import PutError

from . import clock, config, errors, hashing, incidents, links, notify, store, ticketing
from .hotline import csat
from .incidents import delivery, engine, flood
from .incidents.actions import NOTE_MAX, BadTarget
from .incidents.records import IDEMPOTENCY_DAYS
from .incidents.views import channel_of, said_by, view
from .model import Person
from .notify import channels, sms, voice
from .notify import slack as slack_notify
from .notify.channels import PageRef
from .notify.templates import text
from .rotas import directory
from .text import BadJson, clean, parse_json, whole_number

SLACK_SNOOZE_MINUTES = 60
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
                "not_paged": "not_paged", "no_incident": "no_incident", "noted": "ok_note",
                "reassigned": "ok_reassign", "snoozed": "ok_snooze", "responders_added": "ok_responders",
                "merged": "ok_merge", "not_acknowledged": "not_acknowledged",
                "customer_replied": "ok_customer_reply", "bad_target": "bad_target"}
# The API's actions: POST /v1/incidents/{n}/{action} with a JSON body (api_action).
API_ACTIONS = ("acknowledge", "resolve", "escalate", "note", "reassign", "snooze", "add_responders", "merge",
               "customer_reply")
# PagerDuty's spellings of the same actions (its REST API's paths), for the hands used to them.
API_ALIASES = {"notes": "note", "responder_requests": "add_responders"}
SNOOZE_SECONDS_MAX = 1440 * 60  # PagerDuty's `duration`, in seconds: a day at most, as `minutes`
CHOICES_SHOWN = 20  # ids listed in a 400 about an unknown person or policy


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


_NOTE = re.compile(r"^\s*(NOTE|N)\s*[#:]?\s*(\d+)\s*[:\-]?\s+(\S.*)$", re.IGNORECASE | re.DOTALL)
_SNOOZE = re.compile(r"^(SNOOZE|Z)\s*[#:]?\s*(\d+)(?:\s+(\d{1,12})\s*(?:MIN|MINUTES|M)?)?$")


def parse_command(body: str) -> tuple[str, int, Any] | None:
    """'NOTE 12 disque remplacé' / 'N 12 …' -> ("note", 12, the text as typed);
    'SNOOZE 12 30' / 'Z 12' -> ("snooze", 12, minutes or None).  Minutes are passed as
    typed, however many: actions.snooze refuses a duration out of range (with the help)."""
    note = _NOTE.match(body)
    if note:
        number = whole_number(note.group(2), 1)
        return ("note", number, note.group(3).strip()) if number is not None else None
    snooze = _SNOOZE.match(_plain(body))
    if snooze:
        number = whole_number(snooze.group(2), 1)
        minutes = whole_number(snooze.group(3)) if snooze.group(3) else None
        return ("snooze", number, minutes) if number is not None else None
    return None


def answer(outcome: incidents.Outcome, lang: str) -> str:
    return text(lang, _RESULT_KEYS[outcome.result], **{**outcome.words, "number": outcome.number,
                                                       "by": _by(outcome, lang)})


def _by(outcome: incidents.Outcome, lang: str) -> str:
    """Who did it, as the answer says it: a person's name, or the tool that acknowledged or
    resolved it at the source ("l'outil de supervision"), never "source" (views.said_by)."""
    by, inc = outcome.by, outcome.incident
    if not by:
        return "?"
    if directory.person(by) is not None or inc is None:
        return said_by(by, lang, inc) or by
    kinds = ("acknowledged",) if outcome.result == "already_acknowledged" else ("resolved", "merged")
    return said_by(by, lang, inc, channel_of(incidents.timeline(inc.number), by, *kinds)) or by


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
    command = parse_command(params.get("Body", ""))
    if command is not None:
        return sms.reply(_command(command, person, f"twilio-sms:{params.get('MessageSid', '')}"))
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


def _command(command: tuple[str, int, Any], person: Person, idem_key: str) -> str:
    """An SMS NOTE or SNOOZE, answered in the sender's language (a bad duration or note: why)."""
    action, number, arg = command
    try:
        if action == "note":
            outcome = incidents.note(number, person["id"], "sms", arg, idem_key)
        else:
            outcome = incidents.snooze(number, person["id"], "sms", arg, idem_key)
    except errors.BadRequest as exc:
        return f"{exc} — {text(person['language'], 'help')}"
    return answer(outcome, person["language"])


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
    why = engine.why_called(number, person["id"])  # reassigned to them, or their help asked
    if why:
        v = notify.in_context(v, {"why": why}, person, directory.bundle()["people"])
    action = sms.twilio_url("gather", ref)
    return voice.gather(voice.page_said(lang, v), lang, action, text(lang, "voice_goodbye"))


def voice_key(ref: str, params: dict[str, str]) -> str:
    """The key pressed on the call: 4 acknowledge, 6 resolve, 5 escalate, 1 repeat."""
    number, person = _call_ref(ref)
    lang = person["language"]
    digit = params.get("Digits", "")
    if digit == "2":  # the details link by SMS, once a call (Twilio retries); the call goes on
        said = text(lang, "voice_details_sent")
        call = params.get("CallSid", "")
        if not call or store.first_time(f"details-sms:{call}", clock.now(), keep_days=1):
            said, record = sms.send_details(number, person)
            incidents.entry(number, "notified", clock.now(), actor="astreinte", channel="sms",
                            detail=record).save()
        return voice.gather(said, lang, sms.twilio_url("gather", ref), text(lang, "voice_goodbye"))
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
    buttons = {"ack": "acknowledge", "resolve": "resolve", "escalate": "escalate", "snooze": "snooze",
               "note": "note"}
    action = buttons.get(str(act.get("action_id")))
    channel = _obj(payload.get("channel")).get("id") or _obj(payload.get("container")).get("channel_id")
    person = directory.person_by_slack(user)
    number = whole_number(str(act.get("value", "")), 1)
    if person is None or action is None or number is None:
        if channel:  # someone Slack knows and rotas/ does not, or a button we never made
            said = text("fr", "unknown_slack_user") if person is None else \
                text(person["language"], "unknown_button")
            slack_notify.ephemeral(channel, user, said)
        return "unknown"
    inc = incidents.get(number)
    if action == "note":  # a modal to type it in (slack_submitted adds it); any directory member may
        return _open_note(payload, person, user, number, inc, channel)
    # A page posted in a team channel may be taken by anyone in the directory.
    via_channel = inc is not None and f"slack:{channel}" in (inc.paged or [])
    idem_key = f"slack:{user}:{act.get('action_ts', '')}:{act.get('action_id')}"
    if action == "snooze":  # the page's button: an hour
        outcome = incidents.snooze(number, person["id"], "slack", SLACK_SNOOZE_MINUTES, idem_key,
                                   authorised=via_channel)
    else:
        outcome = ACTIONS[action](number, person["id"], "slack", idem_key=idem_key, authorised=via_channel)
    # Taken, closed or escalated: the page changes in place; anything else is said privately.
    if outcome.result not in ("acknowledged", "resolved", "escalated") and channel:
        slack_notify.ephemeral(channel, user, answer(outcome, person["language"]))
    return outcome.result


def _open_note(payload: dict[str, Any], person: Person, user: str, number: int,
               inc: store.Incident | None, channel: Any) -> str:
    """The Note button: the modal opened with the click's trigger_id, in the clicker's language.
    No such incident, or Slack refusing the trigger (more than 3 seconds old): said privately."""
    lang = person["language"]
    if inc is None:
        if channel:
            slack_notify.ephemeral(str(channel), user, text(lang, "no_incident", number=number))
        return "no_incident"
    from slack_sdk.errors import SlackApiError

    modal = slack_notify.note_modal(lang, number, inc.summary, NOTE_MAX)
    try:
        slack_notify.open_modal(str(payload.get("trigger_id", "")), modal)
    except SlackApiError:
        if channel:
            slack_notify.ephemeral(str(channel), user, text(lang, "try_again"))
        return "modal_refused"
    return "modal_opened"


def slack_submitted(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The Note modal submitted (a view_submission): the note added for the one who typed it, once
    per view (a retried delivery adds nothing).  None closes the modal (Slack wants an empty
    200); otherwise Slack's {"response_action": "errors", "errors": {block_id: why}} keeps it open
    with the reason under the field, in the person's language."""
    user = str(_obj(payload.get("user")).get("id", ""))
    modal = _obj(payload.get("view"))
    if payload.get("type") != "view_submission" or modal.get("callback_id") != "note":
        return None  # no modal of ours: closed, nothing done
    person = directory.person_by_slack(user)
    if person is None:
        return _field_error(text("fr", "unknown_slack_user"))
    lang = person["language"]
    number = whole_number(str(modal.get("private_metadata", "")), 1)
    if number is None:
        return _field_error(text(lang, "unknown_button"))
    typed = _obj(_obj(_obj(_obj(modal.get("state")).get("values")).get(slack_notify.NOTE_BLOCK))
                 .get(slack_notify.NOTE_INPUT)).get("value")
    view_id = str(modal.get("id", ""))
    try:
        outcome = incidents.note(number, person["id"], "slack", typed,
                                 f"slack-view:{view_id}" if view_id else None)
    except errors.BadRequest:
        return _field_error(text(lang, "note_modal_bad", max=NOTE_MAX))
    except Exception as exc:
        if not store.unavailable(exc):
            raise
        return _field_error(text(lang, "try_again"))  # nothing recorded: the modal stays, to send again
    if outcome.result != "noted":
        return _field_error(answer(outcome, lang))
    return None


def _field_error(said: str) -> dict[str, Any]:
    return {"response_action": "errors", "errors": {slack_notify.NOTE_BLOCK: said}}


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


def customer_reply(number: int, person_id: str, body: dict[str, Any],
                   idem_key: str | None = None) -> incidents.Outcome:
    """The support team's first technical answer (or another of the service's customer
    messages) posted on the ticket that opened the incident; the tool refusing it is a 502
    naming the tool's answer (the attempt is on the timeline).  Once per `idem_key`: a
    retry gets the first answer and posts nothing."""
    inc = incidents.get(number)
    if inc is None:
        return incidents.Outcome("no_incident", number)
    kind = body.get("kind", "first_answer")
    record = ticketing.customer_reply(inc, person_id, str(kind)[:40], body, idem_key)
    if not record["ok"]:
        error = str(record["reply"].get("error") or record["reply"].get("status") or "?")[:200]
        ticket = record["ticket"]
        raise errors.UpstreamFailed(f"{ticket} did not take the reply: {error} / "
                                    f"{ticket} n'a pas accepté la réponse : {error}", code="ticket_refused")
    return incidents.Outcome("customer_replied", number, person_id, inc,
                             words={"ticket": record["ticket"], "kind": record["message"]})


class IdempotencyKeyReused(errors.Unprocessable):
    """An Idempotency-Key sent again with another body: refused, not answered as done (422, as
    the IETF Idempotency-Key draft and Stripe say)."""

    code = "idempotency_key_reused"


def _api_key(person_id: str, number: int, action: str, idem_key: str, body: dict[str, Any]) -> str:
    """The caller's Idempotency-Key as stored: theirs, for this incident and this action only
    (a script reusing one key acts on each incident, for each action).  The body it first
    came with is kept beside the action's own record (same partition, sort key BODY): the
    same key again with another body is a 422 naming it, never the first answer replayed."""
    key = f"api:{person_id}:{number}:{action}:{idem_key}"
    digest = hashing.sha256_hex(json.dumps(body, sort_keys=True, ensure_ascii=False))
    now = clock.now()
    try:
        store.Idempotency(f"IDEM#{key}", "BODY", answer={"body": digest},
                          expires=int(now + IDEMPOTENCY_DAYS * 86400)).save(
            condition=store.Idempotency.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        first = store.Idempotency.get(f"IDEM#{key}", "BODY", consistent_read=True).answer or {}
        if first.get("body") != digest:
            shown = idem_key[:60]
            raise IdempotencyKeyReused(
                f"Idempotency-Key {shown!r} was already used with another body for {action} on #{number} / "
                f"la clé Idempotency-Key {shown!r} a déjà servi avec un autre corps pour {action} "
                f"sur #{number}") from None
    return key


def api_action(number: int, person_id: str, action: str, body: dict[str, Any],
               idem_key: str | None = None) -> tuple[incidents.Outcome, str]:
    """The API acts for the token's owner (any directory member may act on an incident);
    returns the outcome and its sentence in the caller's language.  `idem_key`: the caller's
    Idempotency-Key, if any (_api_key)."""
    action = API_ALIASES.get(action, action)
    if action not in API_ACTIONS:
        raise unknown_action(action)
    key = _api_key(person_id, number, action, idem_key, body) if idem_key else None
    if action in ACTIONS:
        outcome = ACTIONS[action](number, person_id, "api", key, authorised=True)
    elif action == "note":
        outcome = incidents.note(number, person_id, "api", note_of(body), key)
    elif action == "reassign":
        if (body.get("to") is None) != (body.get("policy") is None):  # both or neither: the action says
            check_targets(body, "to", "policy")
        outcome = incidents.reassign(number, person_id, "api", body.get("to"), body.get("policy"), key)
    elif action == "snooze":
        outcome = incidents.snooze(number, person_id, "api", minutes_of(body), key, authorised=True)
    elif action == "add_responders":
        check_targets(body, "people")
        outcome = incidents.add_responders(number, person_id, "api", body.get("people"), key)
    elif action == "customer_reply":
        outcome = customer_reply(number, person_id, body, key)
    else:
        into = body.get("into")
        outcome = incidents.merge(number, person_id, "api", into, key)
        if outcome.result == "no_incident" and outcome.number == into != number:  # the kept one is missing
            raise errors.NotFound(
                f"there is no incident #{into} to merge #{number} into: nothing was changed / "
                f"aucun incident #{into} dans lequel fusionner #{number} : rien n'a été changé",
                code="no_incident", result="no_incident", number=number, into=into)
    person = directory.person(person_id)
    return outcome, answer(outcome, person["language"] if person else "en")


def unknown_action(action: str) -> errors.NotFound:
    """The 404 of an action we do not have: every action, and the closest one when it is close
    ("acknowledged": did you mean acknowledge?)."""
    names = ", ".join(API_ACTIONS)
    shown = action[:40]
    import difflib  # only for an unknown action: kept off the cold start

    close = difflib.get_close_matches(action.lower(), [*API_ACTIONS, *API_ALIASES], n=1, cutoff=0.6)
    guess = API_ALIASES.get(close[0], close[0]) if close else None
    en = f"unknown action {shown!r}" + (f": did you mean {guess}?" if guess else "")
    fr = f"action inconnue {shown!r}" + (f" : vouliez-vous dire {guess} ?" if guess else "")
    return errors.NotFound(f"{en} The actions are {names} / {fr} Les actions sont : {names}",
                           code="unknown_action", actions=list(API_ACTIONS),
                           **({"did_you_mean": guess} if guess else {}))


def note_of(body: dict[str, Any]) -> Any:
    """A note's text: ours {"text": …}, or PagerDuty's {"note": {"content": …}}."""
    pd = body.get("note")
    if "text" not in body and isinstance(pd, dict):
        return pd.get("content")
    return body.get("text")


def minutes_of(body: dict[str, Any]) -> Any:
    """A snooze's minutes: ours {"minutes": …}, or PagerDuty's {"duration": seconds}, rounded up
    to the minute; a bad duration is a 400 naming `duration`."""
    if "duration" not in body:
        return body.get("minutes")
    if "minutes" in body:
        raise errors.BadRequest("give 'minutes' or 'duration' (seconds), not both / "
                                "indiquez 'minutes' ou 'duration' (en secondes), pas les deux")
    seconds = body["duration"]
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= SNOOZE_SECONDS_MAX:
        most = SNOOZE_SECONDS_MAX
        raise errors.BadRequest(f"'duration' must be a whole number of seconds from 1 to {most} / "
                                f"'duration' doit être un nombre entier de secondes de 1 à {most}")
    return -(-seconds // 60)


def _listed(ids: list[str]) -> str:
    more = len(ids) - CHOICES_SHOWN
    return ", ".join(ids[:CHOICES_SHOWN]) + (f" (+{more})" if more > 0 else "")


def check_targets(body: dict[str, Any], *fields: str) -> None:
    """An unknown person or policy in reassign / add_responders: a 400 listing the ids that
    would do (sorted, at most CHOICES_SHOWN), for `to` and `people` saying it takes a person's id
    (a name given: its id).  Anything else is left to the action's own checks."""
    bundle = directory.bundle()
    people, policies = sorted(bundle["people"]), sorted(bundle["policies"])
    for name in fields:
        value = body.get(name)
        listed = value if name == "people" and isinstance(value, list) else [value]
        if value is None or not all(isinstance(v, str) for v in listed):
            continue
        given = [str(v) for v in listed]
        known = policies if name == "policy" else people
        unknown = [v for v in given if v not in known]
        if not unknown:
            continue
        shown = ", ".join(repr(v[:40]) for v in unknown[:CHOICES_SHOWN])
        if name == "policy":
            raise BadTarget(f"'policy': {shown} is not an escalation policy; the policy ids are "
                            f"{_listed(policies)} / 'policy' : {shown} n'est pas une politique d'escalade ; "
                            f"les identifiants des politiques sont {_listed(policies)}",
                            choices=policies[:CHOICES_SHOWN])
        named = {p["name"].casefold(): pid for pid, p in bundle["people"].items()}
        ids = [named[v.casefold()] for v in unknown if v.casefold() in named]
        hint_en = f" ({', '.join(ids)}?)" if ids else ""
        hint_fr = f" ({', '.join(ids)} ?)" if ids else ""
        en, fr = (("is not a person of the directory", "n'est pas une personne de l'annuaire")
                  if name == "to" else ("not in the directory", "absent(s) de l'annuaire"))
        raise BadTarget(f"'{name}': {shown} {en}: give a person's id{hint_en}, one of {_listed(people)} / "
                        f"'{name}' : {shown} {fr} : indiquez l'identifiant d'une personne{hint_fr}, parmi "
                        f"{_listed(people)}", choices=people[:CHOICES_SHOWN])

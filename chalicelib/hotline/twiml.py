"""What Twilio is told to do on a hotline call, built with twilio's VoiceResponse."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .. import config
from ..model import Hotline
from ..notify.templates import VOICE_LANGUAGE, text
from ..text import clean

MENU_SECONDS = 8  # to choose a reason
WHISPER_SECONDS = 10  # for the agent to press 1
VOICEMAIL_MAX_SECONDS = 120
CALLBACK_DIGITS_SECONDS = 10  # for the agent to type the incident number and #
CALLBACK_RING_SECONDS = 30  # the customer's phone rings this long
CALLBACK_MAX_SECONDS = 3600  # a callback lasts at most an hour (a call we pay for)


def url(path: str) -> str:
    """Our webhook URL under /webhooks/twilio/hotline (what Twilio signs)."""
    return f"{config.settings().public_url}/webhooks/twilio/hotline{path}"


def _response() -> Any:
    from twilio.twiml.voice_response import VoiceResponse

    return VoiceResponse()


def _voice(lang: str) -> str:
    return VOICE_LANGUAGE.get(lang, "en-GB")


def menu(service_name: str, hotline: Hotline, lang: str, other: str | None) -> str:
    """The greeting and the reasons in `lang`, one key; `other`: the language 9 switches to."""
    resp = _response()
    g = resp.gather(input="dtmf", num_digits=1, timeout=MENU_SECONDS, action=url(f"/menu/{lang}"),
                    method="POST", language=_voice(lang))
    g.say(clean(text(lang, "hotline_greeting", service=service_name)), language=_voice(lang))
    for item in hotline["menu"]:
        label = item["label"].get(lang) or item["label"][hotline["languages"][0]]
        g.say(clean(text(lang, "hotline_option", label=label, digit=item["key"])), language=_voice(lang))
    if other is not None:
        g.say(clean(text(other, "hotline_switch_to")), language=_voice(other))
    resp.say(clean(text(lang, "hotline_no_choice")), language=_voice(lang))
    resp.hangup()
    return str(resp)


def forward(number: str, ring_seconds: float) -> str:
    """Office hours: the call goes to the office's number; if nobody there answers, the Dial
    action brings the caller back to the menu (the on-call people), never to silence."""
    resp = _response()
    resp.dial(number, timeout=int(ring_seconds), action=url("/forwarded"), method="POST")
    return str(resp)


def ring(lang: str, said: str, phone: str, ref: str, ring_seconds: float,
         caller_id: str | None = None) -> str:
    """Tell the caller, then ring one person; their leg hears the whisper first (Number url)
    and Twilio posts the outcome to the Dial action.  The person's phone shows the support
    number (`caller_id`), not the customer's."""
    resp = _response()
    resp.say(clean(said), language=_voice(lang))
    dial = resp.dial(timeout=int(ring_seconds), action=url(f"/dial/{ref}"), method="POST",
                     caller_id=caller_id)
    dial.number(phone, url=url(f"/whisper/{ref}"), method="POST")
    return str(resp)


def whisper(lang: str, said: str, ref: str) -> str:
    """The agent's leg, before it is bridged: press 1 to take the call, or it hangs up."""
    resp = _response()
    g = resp.gather(input="dtmf", num_digits=1, timeout=WHISPER_SECONDS, action=url(f"/accept/{ref}"),
                    method="POST", language=_voice(lang))
    g.say(clean(said), language=_voice(lang))
    resp.hangup()
    return str(resp)


def bridge() -> str:
    """An empty answer to the whisper: the agent's leg is connected to the caller."""
    return str(_response())


def voicemail(lang: str, number: int, transcribe: bool) -> str:
    resp = _response()
    resp.say(clean(text(lang, "hotline_voicemail")), language=_voice(lang))
    extra: dict[str, Any] = {"transcribe": True, "transcribe_callback": url(f"/transcription/{number}")} \
        if transcribe else {}
    resp.record(action=url(f"/voicemail/{number}"), method="POST", max_length=VOICEMAIL_MAX_SECONDS,
                play_beep=True, **extra)
    return str(resp)


def goodbye(lang: str, key: str | None) -> str:
    resp = _response()
    if key is not None:
        resp.say(clean(text(lang, key)), language=_voice(lang))
    resp.hangup()
    return str(resp)


# ---------------------------------------------------------------- an agent's callback

def callback_ask(lang: str, service_name: str, attempt: int, before: Sequence[str] = ()) -> str:
    """An agent's phone called the number: `before` (an error), then the incident number and #."""
    resp = _response()
    for said in before:
        resp.say(clean(said), language=_voice(lang))
    g = resp.gather(input="dtmf", finish_on_key="#", timeout=CALLBACK_DIGITS_SECONDS,
                    action=url(f"/callback/{attempt}"), method="POST", language=_voice(lang))
    g.say(clean(text(lang, "hotline_callback_ask", service=service_name)), language=_voice(lang))
    resp.say(clean(text(lang, "hotline_callback_none")), language=_voice(lang))
    resp.hangup()
    return str(resp)


def say_goodbye(lang: str, said: Sequence[str]) -> str:
    resp = _response()
    for line in said:
        resp.say(clean(line), language=_voice(lang))
    resp.hangup()
    return str(resp)


def callback_dial(lang: str, number: int, customer: str, hotline_number: str) -> str:
    """Ring the customer with the support number as caller id: never the agent's own."""
    resp = _response()
    resp.say(clean(text(lang, "hotline_callback_dialing", number=number)), language=_voice(lang))
    dial = resp.dial(caller_id=hotline_number, timeout=CALLBACK_RING_SECONDS, time_limit=CALLBACK_MAX_SECONDS,
                     action=url(f"/callback/dial/{number}"), method="POST")
    dial.number(customer)
    return str(resp)

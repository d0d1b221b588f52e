"""Voice pages: Twilio places the call, fetches our TwiML, reads the page, gathers a key."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .. import config
from ..text import clean
from .channels import Channel, DeliveryReport, Page, Sent, register
from .sms import twilio_missing, twilio_never, twilio_report, twilio_url
from .templates import VOICE_LANGUAGE, text, why_lines


def call(to: str, twiml_url: str, status_callback: str) -> str:
    """Place one call; Twilio will POST to twiml_url when it is answered. Returns the SID."""
    s = config.settings()
    return str(config.twilio_client().calls.create(
        to=to, from_=s.twilio_from, url=twiml_url, method="POST",
        status_callback=status_callback, status_callback_method="POST",
        status_callback_event=["completed"],
    ).sid)


def gather(said: str, lang: str, action_url: str, goodbye: str) -> str:
    """Read the page and wait for one key (4 ack, 6 resolve, 5 escalate, 1 repeat)."""
    from twilio.twiml.voice_response import VoiceResponse

    voice_lang = VOICE_LANGUAGE.get(lang, "en-GB")
    resp = VoiceResponse()
    g = resp.gather(input="dtmf", num_digits=1, timeout=10, action=action_url, method="POST",
                    language=voice_lang)
    g.say(clean(said), language=voice_lang)  # an incident stored before the door cleaned it
    resp.say(clean(goodbye), language=voice_lang)
    resp.hangup()
    return str(resp)


def page_said(lang: str, view: dict[str, Any]) -> str:
    """What a call says (view: the incident's, with `name`, the person's): why they are
    called (reassigned to them, asked to help) and the latest note, when the view has it
    (chalicelib.notify.in_context)."""
    why = why_lines(lang, view)
    if not why:
        return text(lang, "voice_page", **view)
    note = f"{why[1]}. " if len(why) > 1 else ""
    return text(lang, "voice_page_why", **{**view, "why": why[0], "note": note})


def say(said: str, lang: str) -> str:
    from twilio.twiml.voice_response import VoiceResponse

    resp = VoiceResponse()
    resp.say(clean(said), language=VOICE_LANGUAGE.get(lang, "en-GB"))
    resp.hangup()
    return str(resp)


class Voice(Channel):
    name = "voice"
    needs = "phone"
    needs_label = "a phone number"
    tells = False  # a call only to say "taken" or "rest warning" would wake someone for nothing

    def configured(self) -> str | None:
        return twilio_missing()

    def page(self, page: Page, lang: str) -> Sent:
        assert page.person is not None
        phone = self.address(page.person) or ""
        sid = call(phone, twilio_url("voice", page.ref), twilio_url("status", f"{page.ref}.{self.name}"))
        return Sent(self.name, page.to, phone, sid, lang)

    def permanent(self, exc: BaseException) -> bool:
        return twilio_never(exc)

    def delivery_report(self, params: Mapping[str, str]) -> DeliveryReport:
        report = twilio_report(params)
        answered = report.status == "completed" and bool(report.duration_seconds)
        return replace(report, answered=answered)


CHANNEL = register(Voice())

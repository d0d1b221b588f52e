"""Voice pages: Twilio places the call, fetches our TwiML, reads the page, gathers a key."""
from __future__ import annotations

from .. import config
from .templates import VOICE_LANGUAGE


def call(to: str, twiml_url: str, status_callback: str) -> str:
    """Place one call; Twilio will POST to twiml_url when it is answered. Returns the SID."""
    s = config.settings()
    return config.twilio_client().calls.create(
        to=to, from_=s.twilio_from, url=twiml_url, method="POST",
        status_callback=status_callback, status_callback_method="POST",
        status_callback_event=["completed"],
    ).sid


def gather(text: str, lang: str, action_url: str, goodbye: str) -> str:
    """Read the page and wait for one key (4 ack, 6 resolve, 5 escalate, 1 repeat)."""
    from twilio.twiml.voice_response import VoiceResponse

    voice_lang = VOICE_LANGUAGE.get(lang, "en-GB")
    resp = VoiceResponse()
    g = resp.gather(input="dtmf", num_digits=1, timeout=10, action=action_url, method="POST",
                    language=voice_lang)
    g.say(text, language=voice_lang)
    resp.say(goodbye, language=voice_lang)
    resp.hangup()
    return str(resp)


def say(text: str, lang: str) -> str:
    from twilio.twiml.voice_response import VoiceResponse

    resp = VoiceResponse()
    resp.say(text, language=VOICE_LANGUAGE.get(lang, "en-GB"))
    resp.hangup()
    return str(resp)

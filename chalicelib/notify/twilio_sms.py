"""Outbound SMS through Twilio's Messages API (the real twilio client)."""
from __future__ import annotations

from .. import config


def send(to: str, body: str, status_callback: str | None = None) -> str:
    """Send one SMS; returns Twilio's message SID."""
    s = config.settings()
    kwargs = {"to": to, "from_": s.twilio_from, "body": body}
    if status_callback:
        kwargs["status_callback"] = status_callback
    return config.twilio_client().messages.create(**kwargs).sid


def reply(text: str) -> str:
    """TwiML answering an inbound SMS with one message."""
    from twilio.twiml.messaging_response import MessagingResponse

    resp = MessagingResponse()
    resp.message(text)
    return str(resp)

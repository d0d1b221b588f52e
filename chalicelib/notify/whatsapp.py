"""WhatsApp through Twilio's Messages API (the real twilio client): `whatsapp:` addresses.

A person chooses it in rotas/ (`notify: [{channel: whatsapp}]`); it sends to their `phone`.
Settings: TWILIO_WHATSAPP_FROM, the Twilio WhatsApp sender (`+33…` or `whatsapp:+33…`, in
the environment or the stage's secret); WhatsApp is off without it, and the Twilio account
of SMS carries it.  A page is the SMS page's text (reply codes and the one-click link);
Twilio posts replies to the SMS webhook with `From=whatsapp:+33…`, which
chalicelib.replies reads as an SMS reply, and calls back with the statuses of SMS.

WhatsApp lets a business write freely only within 24 hours of the person's last message;
outside it Twilio reports 63016 (a template is needed).  That page can never get through as
it is: like a number that does not exist, it is not sent again, the person's next channel is
tried at once and the team's managers are told (the person should write once to the sender).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import config, escape
from ..model import Person
from .channels import Channel, DeliveryReport, Message, Page, Sent, register
from .sms import page_text, twilio_missing, twilio_report, twilio_url

PREFIX = "whatsapp:"
# Twilio's codes that say this page can never reach this person on WhatsApp: 21211 invalid
# number, 63003 no WhatsApp at this address, 63015 not joined to the sandbox, 63016 outside
# the 24-hour window without a template, 63024 invalid message recipient.  Our own account's
# errors (63007 unknown sender, 63001 authentication, 63018 rate) are tried again.
WHATSAPP_NEVER = {21211, 63003, 63015, 63016, 63024}


def sender() -> str:
    """The Twilio WhatsApp sender, `whatsapp:`-prefixed; empty when not configured."""
    value = config.secret("TWILIO_WHATSAPP_FROM").strip()
    return value if not value or value.startswith(PREFIX) else PREFIX + value


def send(to: str, body: str, status_callback: str | None = None) -> str:
    """Send one WhatsApp message to a phone number; returns Twilio's message SID."""
    kwargs: dict[str, Any] = {"to": PREFIX + to, "from_": sender(), "body": body}
    if status_callback:
        kwargs["status_callback"] = status_callback
    return str(config.twilio_client().messages.create(**kwargs).sid)


def _never(code: object) -> bool:
    return isinstance(code, int) and code in WHATSAPP_NEVER


class WhatsApp(Channel):
    name = "whatsapp"
    needs = "phone"
    needs_label = "a phone number"

    def configured(self) -> str | None:
        missing = twilio_missing()
        if missing:
            return missing
        return None if sender() else "WhatsApp is not configured (TWILIO_WHATSAPP_FROM)"

    def page(self, page: Page, lang: str) -> Sent:
        assert page.person is not None
        phone = self.address(page.person) or ""
        sid = send(phone, page_text(page, lang), twilio_url("status", f"{page.ref}.{self.name}"))
        return Sent(self.name, page.to, PREFIX + phone, sid, lang)

    def tell(self, person: Person, message: Message) -> Sent:
        phone = self.address(person) or ""
        # WhatsApp shows *bold* and ``` blocks as our templates mean them.
        return Sent(self.name, person["id"], PREFIX + phone, send(phone, escape.sms_fit(message.text, "")),
                    person["language"])

    def permanent(self, exc: BaseException) -> bool:
        return _never(getattr(exc, "code", None))

    def delivery_report(self, params: Mapping[str, str]) -> DeliveryReport:
        return twilio_report(params, WHATSAPP_NEVER)


CHANNEL = register(WhatsApp())

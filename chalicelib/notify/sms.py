"""SMS through Twilio's Messages API (the real twilio client), and the TwiML of replies."""
from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any

from .. import config, escape, links, log
from ..model import Person
from ..text import whole_number
from .channels import Channel, DeliveryReport, Message, Page, Sent, register
from .templates import text, why_lines


def send(to: str, body: str, status_callback: str | None = None) -> str:
    """Send one SMS; returns Twilio's message SID."""
    s = config.settings()
    kwargs: dict[str, Any] = {"to": to, "from_": s.twilio_from, "body": body}
    if status_callback:
        kwargs["status_callback"] = status_callback
    return str(config.twilio_client().messages.create(**kwargs).sid)


def reply(message: str) -> str:
    """TwiML answering an inbound SMS with one message."""
    from twilio.twiml.messaging_response import MessagingResponse

    resp = MessagingResponse()
    resp.message(message)
    return str(resp)


def twilio_url(kind: str, ref: str) -> str:
    """Where Twilio calls us back about a page: voice (TwiML), gather (keys), status."""
    return f"{config.settings().public_url}/webhooks/twilio/{kind}/{ref}"


# Twilio error codes that say the number itself cannot receive: invalid, not a mobile,
# unsubscribed (STOP), unreachable, landline.  Errors of our account (From number, geo
# permissions, a full queue) are tried again: someone can fix them.
TWILIO_NEVER = {21211, 21214, 21217, 21610, 21612, 21614, 13223, 13224, 30003, 30005, 30006}


def twilio_never(exc: BaseException) -> bool:
    return getattr(exc, "code", None) in TWILIO_NEVER


def twilio_missing() -> str | None:
    if config.settings().twilio_enabled:
        return None
    return "Twilio is not configured (TWILIO_ACCOUNT_SID/AUTH_TOKEN/FROM_NUMBER)"


def twilio_report(params: Mapping[str, str], never: Set[int] = TWILIO_NEVER) -> DeliveryReport:
    """A Twilio status callback (messages and calls share its fields); `never`: the error codes
    that mean this address cannot receive (each channel's own)."""
    duration = params.get("CallDuration") or ""
    status = params.get("MessageStatus") or params.get("CallStatus") or "unknown"
    error = params.get("ErrorCode") or ""
    failed = status in ("undelivered", "failed")  # a call that rang out is "no-answer": escalation's business
    return DeliveryReport(
        status=status, provider_id=params.get("MessageSid") or params.get("CallSid") or "",
        duration_seconds=whole_number(duration) if duration else None,
        error_code=error or None, failed=failed, permanent=failed and whole_number(error) in never)


def details_link(page: Page) -> str:
    """The short signed link to the incident's details page, for a person's page ('' for a team
    channel, or when links are off)."""
    if page.person is None or not config.settings().signing_secret:
        return ""
    return links.details(page.number, page.to)


def page_text(page: Page, lang: str) -> str:
    """A page as a text message (SMS, WhatsApp): the event's words on one line, cut to
    Twilio's limit first, then the reply codes, the one-click link and the details link
    ("détails : …"), never cut."""
    one_line = {**page.view, "summary": " ".join(str(page.view.get("summary", "")).split())}
    body = text(lang, "sms_page", link=page.link.get("ack", ""), **one_line).strip()
    head, _, tail = body.partition("\n")
    why = [" ".join(w.split()) for w in why_lines(lang, page.view)]
    if why:  # why first; the latest note after the event's words, cut first when too long
        head = "\n".join([f"[Astreinte] {why[0]}.", head.removeprefix("[Astreinte] "), *why[1:]])
    url = details_link(page)
    if url:
        tail = f"{tail}\n{text(lang, 'sms_details', url=url)}" if tail else text(lang, "sms_details", url=url)
    return escape.sms_fit(head, "\n" + tail if tail else "")


def send_details(number: int, person: Person) -> tuple[str, dict[str, Any]]:
    """Pressed 2 on a call: the details link by SMS to the person's phone.  Returns what the call
    says next (sent, or why not) in their language, and the timeline's record of it:
    {to, channel, details_link, ok, ref or error}."""
    lang = person["language"]
    record: dict[str, Any] = {"to": person["id"], "channel": "sms", "details_link": True}
    phone = CHANNEL.address(person)
    if phone is None:
        why_not: str | None = f"{person['id']} has no phone number"
    elif not config.settings().signing_secret:
        why_not = "links are disabled: ASTREINTE_SIGNING_SECRET is not set"
    else:
        why_not = twilio_missing()
    if phone is None or why_not:
        return text(lang, "voice_details_off"), {**record, "ok": False, "error": why_not}
    try:
        sid = send(phone, text(lang, "details_sms", number=number, url=links.details(number, person["id"])))
    except Exception as exc:  # noqa: BLE001 - the call goes on; the page itself is not at stake
        log.warning("details_sms_failed", incident=number, person=person["id"], error=str(exc)[:200])
        return text(lang, "voice_details_off"), {**record, "ok": False, "error": str(exc)[:200]}
    return text(lang, "voice_details_sent"), {**record, "ok": True, "ref": sid}


class Sms(Channel):
    name = "sms"
    needs = "phone"
    needs_label = "a phone number"

    def configured(self) -> str | None:
        return twilio_missing()

    def page(self, page: Page, lang: str) -> Sent:
        assert page.person is not None
        phone = self.address(page.person) or ""
        sid = send(phone, page_text(page, lang), twilio_url("status", f"{page.ref}.{self.name}"))
        return Sent(self.name, page.to, phone, sid, lang)

    def tell(self, person: Person, message: Message) -> Sent:
        phone = self.address(person) or ""
        return Sent(self.name, person["id"], phone, send(phone, escape.sms_fit(message.plain, "")),
                    person["language"])

    def permanent(self, exc: BaseException) -> bool:
        return twilio_never(exc)

    def delivery_report(self, params: Mapping[str, str]) -> DeliveryReport:
        return twilio_report(params)


CHANNEL = register(Sms())

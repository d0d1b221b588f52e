"""Email through Amazon SES (the sesv2 API, with boto3): pages with acknowledge / resolve
links, and notices (rest warnings, monthly summaries) for people without Slack.

Settings: ASTREINTE_EMAIL_FROM, the sender (a verified SES identity; email is off without
it).  Locally AWS_ENDPOINT_URL_SESV2 points boto3 at the outbox, which shows the emails.
Every text goes out twice: plain, and as HTML in which each field is escaped.
"""
from __future__ import annotations

import html
from typing import Any

from .. import config
from ..model import Person
from .channels import BOLD, Channel, Message, Page, Sent, register
from .templates import text, when, why_lines


def sender() -> str:
    """The environment's sender, else the stage's secret's (`cli secrets set ASTREINTE_EMAIL_FROM=…`)."""
    return config.secret("ASTREINTE_EMAIL_FROM")


@config.client
def ses():  # noqa: ANN201 - boto3 clients are typed at run time
    """SES v2; one attempt per call: chalicelib.notify retries transient errors itself, as
    for every channel."""
    import boto3
    from botocore.config import Config

    s = config.settings()
    return boto3.client("sesv2", region_name=s.region,
                        config=Config(retries={"mode": "standard", "total_max_attempts": 1},
                                      connect_timeout=s.http_timeout_seconds,
                                      read_timeout=s.http_timeout_seconds))


def send(to: str, subject: str, body: str, body_html: str) -> str:
    """Send one email; returns SES's MessageId."""
    resp = ses().send_email(
        FromEmailAddress=sender(),
        Destination={"ToAddresses": [to]},
        Content={"Simple": {"Subject": {"Data": " ".join(subject.split())[:200], "Charset": "UTF-8"},
                            "Body": {"Text": {"Data": body, "Charset": "UTF-8"},
                                     "Html": {"Data": body_html, "Charset": "UTF-8"}}}})
    return str(resp["MessageId"])


def as_html(text: str, links: dict[str, str] | None = None, markup: bool = True, extra: str = "") -> str:
    """The text escaped, paragraphs kept, the action links as buttons, and with `markup` its
    *bold* and ``` blocks rendered (fixed-width tables): only for texts our templates
    write; a page carries the source's words, which are data, asterisks and all.  `extra`:
    HTML built here from escaped parts (a page's details), put before the buttons."""
    parts = []
    for i, part in enumerate(text.split("```") if markup else [text]):
        if i % 2:  # inside a ``` block: columns stay aligned
            parts.append(f"<pre>{html.escape(part.strip(chr(10)))}</pre>")
            continue
        for p in part.strip("\n").split("\n\n"):
            if p:
                escaped = html.escape(p)
                escaped = (BOLD.sub(r"<b>\1</b>", escaped) if markup else escaped).replace("\n", "<br>")
                parts.append(f"<p>{escaped}</p>")
    paragraphs = "".join(parts)
    buttons = "".join(f'<p><a href="{html.escape(url, quote=True)}">{html.escape(label)}</a></p>'
                      for label, url in (links or {}).items())
    return (f'<!doctype html><html><body style="font-family:sans-serif">{paragraphs}{extra}{buttons}'
            "</body></html>")


def page_text(lang: str, page: Page) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of a page."""
    v: dict[str, Any] = page.view
    subject = text(lang, "email_page_subject", **v)
    actions = {text(lang, label): page.link[action]
               for action, label in (("ack", "btn_ack"), ("resolve", "btn_resolve")) if page.link.get(action)}
    colon = " : " if lang == "fr" else ": "
    buttons = "\n".join(f"{label}{colon}{url}" for label, url in actions.items())
    details = details_text(lang, v.get("highlights") or {})
    v = {**v, "when": when(lang, v)}
    why = "\n".join(why_lines(lang, v))  # reassigned to them, asked to help; the latest note
    head = f"{why}\n\n" if why else ""
    links = "\n\n".join(p for p in (details, buttons) if p)
    plain = head + text(lang, "email_page", links=links, **v).strip()
    return subject, plain, as_html(head + text(lang, "email_page", links="", **v).strip(), actions,
                                   markup=False, extra=details_html(lang, v.get("highlights") or {}))


def _items(highlights: dict[str, Any]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    return ([*highlights.get("links", []), *highlights.get("images", [])], highlights.get("fields", []))


def details_text(lang: str, highlights: dict[str, Any]) -> str:
    """The event's links, images and fields as plain text lines ('' when it has none)."""
    colon = " : " if lang == "fr" else ": "
    linked, fields = _items(highlights)
    parts = []
    if linked:
        parts.append(text(lang, "details_links") + colon + "\n" +
                     "\n".join(f"- {i['label']}{colon}{i['url']}" for i in linked))
    if fields:
        parts.append(text(lang, "details_fields") + colon + "\n" +
                     "\n".join(f"- {f['label']}{colon}{f['value']}" for f in fields))
    return "\n\n".join(parts)


def details_html(lang: str, highlights: dict[str, Any]) -> str:
    """The same as HTML: links clickable (http(s) only, escaped), fields in a list."""
    linked, fields = _items(highlights)
    out = ""
    if linked:
        out += f"<p><strong>{html.escape(text(lang, 'details_links'))}</strong></p><ul>" + "".join(
            f'<li><a href="{html.escape(i["url"], quote=True)}" rel="noopener noreferrer">'
            f'{html.escape(i["label"])}</a></li>' for i in linked) + "</ul>"
    if fields:
        out += f"<p><strong>{html.escape(text(lang, 'details_fields'))}</strong></p><ul>" + "".join(
            f"<li>{html.escape(f['label'])} : {html.escape(f['value'])}</li>" if lang == "fr" else
            f"<li>{html.escape(f['label'])}: {html.escape(f['value'])}</li>" for f in fields) + "</ul>"
    return out


class Email(Channel):
    name = "email"
    needs = "email"
    needs_label = "an email address"

    def configured(self) -> str | None:
        return None if sender() else "email is not configured (ASTREINTE_EMAIL_FROM)"

    def page(self, page: Page, lang: str) -> Sent:
        assert page.person is not None
        to = self.address(page.person) or ""
        subject, plain, rich = page_text(lang, page)
        return Sent(self.name, page.to, to, send(to, subject, plain, rich), lang)

    def permanent(self, exc: BaseException) -> bool:
        """SES refuses the request itself (an address it cannot send to): not tried again.
        MessageRejected, SendingPaused, limits: our account's, tried again."""
        error = getattr(exc, "response", None)
        code = error.get("Error", {}).get("Code") if isinstance(error, dict) else None
        return code == "BadRequestException"

    def tell(self, person: Person, message: Message) -> Sent:
        to = self.address(person) or ""
        ref = send(to, message.subject, message.plain, as_html(message.text))
        return Sent(self.name, person["id"], to, ref, person["language"])


CHANNEL = register(Email())

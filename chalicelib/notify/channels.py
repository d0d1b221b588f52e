"""The channel interface and its registry, as GoAlert's notification destinations.

A channel is one module (sms, voice, slack, email, …) holding one `Channel` and its
provider's client.  Everything that reaches a person goes through the registry: rota
validation (which channels exist, what each needs from a person), the person's
notification rules, pages, notices (handoffs, managers', "taken by"), updates of pages
already sent, and providers' delivery callbacks.  Adding a channel is one module that
calls `register`, its templates, and its fake: nothing else names channels.
"""
from __future__ import annotations

import importlib
import os
import pkgutil
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from .. import errors
from ..model import Person
from ..text import whole_number


@dataclass(frozen=True)
class Sent:
    """What was sent where, kept on the incident (channel-neutral): enough to update the
    message later and to trace its delivery callbacks."""

    channel: str
    to: str  # a person id, or "slack:<channel id>" for a page posted in a team channel
    address: str  # the phone number, Slack channel or DM, email address it went to
    ref: str  # the provider's id: Twilio SID, Slack ts, SES MessageId
    lang: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @staticmethod
    def of(record: Mapping[str, Any]) -> Sent:
        return Sent(str(record["channel"]), str(record["to"]), str(record["address"]), str(record["ref"]),
                    str(record.get("lang") or default_language()))


@dataclass(frozen=True)
class PageRef:
    """`<incident>.<person>.<channel>`: how a provider's callback names the page it is about
    (in the callback URL: Twilio calls back with it, and signs it)."""

    number: int
    person: str
    channel: str | None = None

    def __str__(self) -> str:
        return ".".join([str(self.number), self.person, *([self.channel] if self.channel else [])])

    @staticmethod
    def parse(ref: str, with_channel: bool = True) -> PageRef:
        number, _, rest = ref.partition(".")
        person, _, channel = rest.rpartition(".") if with_channel else (rest, "", "")
        incident = whole_number(number, 0, 10**12 - 1)
        if incident is None or not person or (with_channel and channel not in REGISTRY):
            shape = "number.person.channel" if with_channel else "number.person"
            raise errors.BadRequest(f"'{ref[:80]}' is not a page reference ({shape})")
        return PageRef(incident, person, channel or None)


@dataclass
class Page:
    """One page to send: an incident (its template fields), to one recipient."""

    number: int
    to: str  # person id, or "slack:<channel>"
    view: dict[str, Any]  # the incident's fields for templates (incidents.views.view)
    step: int  # the escalation step (1-based) that sends it
    person: Person | None = None  # None for a team channel
    link: dict[str, str] = field(default_factory=dict)  # signed one-click links by action

    @property
    def ref(self) -> str:
        return str(PageRef(self.number, self.to))


@dataclass(frozen=True)
class Message:
    """Something to tell a person that is not a page, and a subject for the channels that
    have one (email).  The text may use *bold* and ``` blocks (Slack's mrkdwn, the one
    markup of our templates): Slack shows it as is, email renders it, SMS drops it."""

    text: str
    subject: str = "Astreinte"

    @property
    def plain(self) -> str:
        """The text without markup (SMS, the text part of an email)."""
        lines = [line for line in self.text.splitlines() if line.strip() != "```"]
        return BOLD.sub(r"\1", "\n".join(lines))


BOLD = re.compile(r"\*([^*\n]+)\*")  # *bold*, the one inline markup of our templates


@dataclass(frozen=True)
class DeliveryReport:
    """What a provider's delivery callback says about a page."""

    status: str  # delivered, failed, completed, no-answer, …
    provider_id: str
    duration_seconds: int | None = None
    error_code: str | None = None
    answered: bool = False  # a call someone picked up: work time in the astreinte report
    failed: bool = False  # accepted by the provider, and then never arrived: sent again
    permanent: bool = False  # … and never will (a number that cannot receive)


class Channel:
    """What each channel implements.  `needs` is the person's field it sends to."""

    name: ClassVar[str]
    needs: ClassVar[str]  # "phone", "slack" or "email": rota validation checks people have it
    needs_label: ClassVar[str]  # in rotas-check's words: "a phone number"
    tells: ClassVar[bool] = True  # may carry notices (a call just to say "taken" wakes for nothing)
    updates_in_place: ClassVar[bool] = False  # a page it sent can be edited when the incident changes

    def address(self, person: Mapping[str, Any]) -> str | None:
        value = person.get(self.needs)
        return value if isinstance(value, str) and value else None

    def configured(self) -> str | None:
        """None when the provider is set up, else what is missing (said on the timeline)."""
        return None

    def page(self, page: Page, lang: str) -> Sent:
        """Send a page about an incident; raises the provider's error."""
        raise NotImplementedError

    def tell(self, person: Person, message: Message) -> Sent:
        """Tell a person something (a notice); raises the provider's error."""
        raise NotImplementedError(f"{self.name} does not carry notices")

    def update(self, sent: Sent, view: dict[str, Any], state: str, footer: str) -> None:
        """Edit a page already sent, now that the incident is `state` (updates_in_place only)."""
        raise NotImplementedError(f"{self.name} cannot update a page in place")

    def permanent(self, exc: BaseException) -> bool:
        """Whether the provider said this address can never be reached (a number that does
        not exist, a user gone): not sent again, and the team's managers are told.  Anything
        else (5xx, 429, timeouts, our own credentials or settings) is tried again: it can be
        fixed meanwhile.  Each channel knows its provider's words for "never"."""
        return provider_status(exc) in PERMANENT_STATUSES

    def delivery_report(self, params: Mapping[str, str]) -> DeliveryReport:
        """Read a provider's delivery callback about a page of this channel."""
        raise errors.BadRequest(f"{self.name} sends no delivery callbacks")


PERMANENT_STATUSES = (404, 410)


def provider_status(exc: BaseException) -> int | None:
    """The HTTP status a provider's client error carries (twilio, slack-sdk, botocore)."""
    status = getattr(exc, "status", None)  # TwilioRestException
    response = getattr(exc, "response", None)  # SlackApiError; botocore ClientError (a dict)
    if status is None and isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    elif status is None and response is not None:
        status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


class Undeliverable(Exception):
    """A page that cannot be sent whatever the provider does (no address, nobody by that id)."""


REGISTRY: dict[str, Channel] = {}
NOT_CHANNELS = ("channels", "templates")  # the modules of chalicelib.notify that are not channels


def default_language() -> str:
    """The language of what is not addressed to one person (a team channel's page)."""
    return os.environ.get("ASTREINTE_DEFAULT_LANGUAGE", "fr")


def discover() -> None:
    """Import every channel module of chalicelib.notify: each registers itself, so adding a
    channel is adding its module."""
    package = __name__.rpartition(".")[0]
    for found in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if found.name not in NOT_CHANNELS and not found.name.startswith("_"):
            importlib.import_module(f"{package}.{found.name}")


def register(channel: Channel) -> Channel:
    REGISTRY[channel.name] = channel
    return channel


def get(name: str) -> Channel:
    try:
        return REGISTRY[name]
    except KeyError:
        raise errors.BadRequest(f"'{name}' is not a channel ({', '.join(REGISTRY)})") from None


def names() -> tuple[str, ...]:
    return tuple(REGISTRY)

"""Send a page, tell a person something, update pages already sent: whatever the channel.

The escalation engine decides *who* and *which channel*; this package turns that into an
SMS, a call, a Slack message or an email in the person's language through the channel
registry (chalicelib.notify.channels), retries transient provider errors (5xx, 429,
timeouts) twice, and returns records for the timeline.  Nothing here raises for a provider
failure: a page that failed is a fact on the timeline, not an exception.

Each page sent is counted (chalicelib.metrics: PagesSent, or PagesFailed when every try
failed); the engine logs the failures, with the incident and the retry it planned.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_chain, wait_fixed

from .. import config, links, log, metrics
from ..model import Person
from . import channels
from .channels import REGISTRY, Message, Page, Sent, Undeliverable, default_language, provider_status
from .templates import local_time, text

__all__ = ["deliver", "in_context", "tell", "update_pages", "text", "default_language", "Message", "Sent",
           "URGENT", "READING", "channels_of"]

RETRY_DELAYS = (0.2, 0.6)
# Which channel carries a notice: short news goes where the page went, else by SMS; what is
# read at a desk (reports) goes by Slack, else email, else SMS.  A channel missing from an
# order comes after it, in registry order.
URGENT = ("sms", "slack", "email")
READING = ("slack", "email", "sms")
T = TypeVar("T")


channels.discover()


@dataclass
class Delivery:
    record: dict[str, Any]  # for the timeline: to, channel, step, ok, ref or error
    sent: Sent | None  # kept on the incident, to update the message or trace its callbacks
    address: str | None = None  # where it went or was to go (phone, Slack id, email): for the logs


def deliver(planned: dict[str, Any], view: dict[str, Any], people: dict[str, Person]) -> Delivery:
    """Send one planned page ({to, channel, step}) about the incident `view` describes."""
    to, name = str(planned["to"]), str(planned["channel"])
    record: dict[str, Any] = {"to": to, "channel": name, "step": int(planned["step"]) + 1}
    person = None if to.startswith("slack:") else people.get(to)
    channel = REGISTRY.get(name)
    address = to[len("slack:"):] if to.startswith("slack:") else None
    try:
        if channel is None:
            raise Undeliverable(f"'{name}' is not a channel")
        if person is None and not to.startswith("slack:"):
            raise Undeliverable(f"'{to}' is no longer in the directory")
        if person is not None:
            address = channel.address(person)
        if person is not None and address is None:
            raise Undeliverable(f"{to} has no {channel.needs} for {name}")
        missing = channel.configured()
        if missing:  # said on the timeline and tried again: a setting can be fixed meanwhile
            raise RuntimeError(missing)
        lang = person["language"] if person else default_language()
        if person is not None:
            view = _in_context_or_plain(view, planned, person, people)
            if planned.get("why"):
                record["why"] = planned["why"]["kind"]
        page = Page(number=int(view["number"]), to=to, view=view, step=record["step"], person=person,
                    link=_links(int(view["number"]), to) if person else {})
        sent = with_retries(lambda: channel.page(page, lang))
    except Exception as exc:  # noqa: BLE001 - any provider failure is recorded, not raised
        permanent = isinstance(exc, Undeliverable) or (channel is not None and channel.permanent(exc))
        record.update(ok=False, error=describe(exc), permanent=permanent)
        metrics.count("PagesFailed")
        return Delivery(record, None, address)
    record.update(ok=True, ref=sent.ref)
    metrics.count("PagesSent")
    return Delivery(record, sent, sent.address or address)


def _in_context_or_plain(view: dict[str, Any], planned: dict[str, Any], person: Person,
                         people: dict[str, Person]) -> dict[str, Any]:
    """The page in context (in_context), or the plain page: the context never costs a page."""
    try:
        return in_context(view, planned, person, people)
    except Exception as exc:  # noqa: BLE001 - a bug in the words must not stop paging
        log.error("page_context_failed", incident=view.get("number"), to=person["id"],
                  error=f"{type(exc).__name__}: {exc}"[:300])
        return view


def in_context(view: dict[str, Any], planned: dict[str, Any], person: Person,
               people: dict[str, Person]) -> dict[str, Any]:
    """The view as this person's page shows it: when it was triggered in their time zone
    (the view's `created_at`), and why they are paged (`planned["why"]`: reassigned to them,
    asked to help, by whom, the latest note), with people's names."""
    lang = person["language"]
    out = dict(view)
    if isinstance(view.get("created_at"), int | float):
        out["when"] = local_time(lang, float(view["created_at"]), person.get("timezone"), seconds=True)
    why = planned.get("why")
    if isinstance(why, dict):
        def name(pid: Any) -> str:
            known = people.get(str(pid))
            return known["name"] if known else str(pid or "?")

        out["why"] = {"kind": why.get("kind"), "by": name(why.get("by")),
                      "note": str(why.get("note") or ""), "note_by": name(why.get("note_by"))}
    return out


def _links(number: int, person: str) -> dict[str, str]:
    if not config.settings().signing_secret:
        return {}
    return {action: links.make(number, person, action) for action in links.ACTIONS}


def channels_of(person: Person) -> list[str]:
    """The channels of a person's notification rules, in rule order, once each."""
    return list(dict.fromkeys(rule["channel"] for rule in person["notify"]))


def tell(person: Person, message: Message, order: Sequence[str] = URGENT,
         first: Iterable[str] = ()) -> dict[str, Any]:
    """Tell a person something on the first channel of `first`, then `order`, then any
    other, that carries notices and on which they can be reached; when one fails, the next.
    Never raises: the record says where it went, or every failure."""
    record: dict[str, Any] = {"to": person["id"]}
    failed: list[dict[str, str]] = []
    for name in dict.fromkeys([*first, *order, *REGISTRY]):
        channel = REGISTRY.get(name)
        if channel is None or not channel.tells or channel.address(person) is None or channel.configured():
            continue
        try:
            sent = with_retries(lambda: channel.tell(person, message))  # noqa: B023 - called at once
        except Exception as exc:  # noqa: BLE001
            failed.append({"channel": name, "error": describe(exc)})
            continue
        record.update(channel=name, ok=True, ref=sent.ref)
        if failed:
            record["failed"] = failed
        return record
    if failed:
        return {**record, "channel": failed[0]["channel"], "ok": False, "error": failed[-1]["error"],
                "failed": failed}
    return {**record, "channel": None, "ok": False,
            "error": f"no channel of {', '.join(REGISTRY)} reaches {person['id']}"}


def update_pages(sent: Iterable[Sent], view: dict[str, Any], state: str,
                 footer: Callable[[str], str],
                 zones: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Edit in place every page already sent on a channel that can: the buttons follow the
    state, and `footer(lang)` says who took or closed it.  `zones` (person id -> time zone)
    and the view's `created_at`: a person's page keeps saying when it was triggered in their
    time (a team channel's, and without them, in UTC)."""
    records = []
    for s in sent:
        channel = REGISTRY.get(s.channel)
        if channel is None or not channel.updates_in_place:
            continue
        try:
            seen = view
            zone = (zones or {}).get(s.to)
            if zone and isinstance(view.get("created_at"), int | float):
                seen = {**view, "when": local_time(s.lang, float(view["created_at"]), zone, seconds=True)}
            channel.update(s, seen, state, footer(s.lang))
            records.append({"to": s.address, "channel": s.channel, "ok": True, "ref": s.ref,
                            "notice": "update", "person": s.to})
        except Exception as exc:  # noqa: BLE001
            records.append({"to": s.address, "channel": s.channel, "ok": False, "error": describe(exc)[:200],
                            "person": s.to})
    return records


def _transient(exc: BaseException) -> bool:
    """Worth trying again within the same call (0.2 s, 0.6 s later)."""
    status = provider_status(exc)
    if status is None:
        return not isinstance(exc, ValueError | RuntimeError) or "timed out" in str(exc)
    return bool(status == 429 or status >= 500)


def with_retries(send: Callable[[], T]) -> T:
    """Call `send`, again after 0.2 s and 0.6 s while the provider's error is transient."""
    for attempt in Retrying(stop=stop_after_attempt(len(RETRY_DELAYS) + 1), reraise=True,
                            wait=wait_chain(*(wait_fixed(d) for d in RETRY_DELAYS)),
                            retry=retry_if_exception(_transient)):
        with attempt:
            return send()
    raise AssertionError("unreachable: tenacity re-raises the last error")


def describe(exc: BaseException) -> str:
    msg = getattr(exc, "msg", None) or str(exc)
    status = getattr(exc, "status", None)
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {msg}"[:300]

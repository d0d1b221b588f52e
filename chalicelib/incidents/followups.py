"""What follows an acknowledgement or a resolution, once the change is stored: the pages
already sent are updated in place, everyone else paged is told who took it, and a ticket
that opened the incident gets its note.

Run after the state change is written, never inside it: a provider or a ticketing tool
being down must not undo or delay the acknowledgement.  Every message is on the timeline.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .. import clock, log, metrics, notify, ticketing
from ..model import Bundle
from ..notify.channels import Message, Sent
from ..rotas import directory
from ..store import Incident, first_time
from .records import entry, get, record_notices, timeline
from .views import TOOL_NAMES, said_by, view


def after_change(inc: Incident, actor: str, how: str, target: str, now: float) -> list[dict[str, Any]]:
    """Tell the world about an acknowledgement or a resolution; returns the notices sent."""
    bundle = directory.bundle()
    records = tell_others(inc, actor, how, target, now, bundle)
    if target in ("acknowledged", "resolved"):
        tell_ticket(inc, actor, how, target, now)
    if target == "resolved":
        with _never_raising("merged_tickets_failed", inc, target):
            for duplicate in merged_into_it(inc):  # their requesters wait for this one's closure too
                tell_ticket(duplicate, actor, how, target, now)
    return records


def merged_into_it(inc: Incident) -> list[Incident]:
    """The incidents merged into this one (its `merged` entries {from}) that a ticket opened."""
    if not inc.merged_from:  # nothing was ever merged into it: no timeline to read
        return []
    numbers = [e.detail["from"] for e in timeline(inc.number)
               if e.kind == "merged" and isinstance(e.detail, dict) and isinstance(e.detail.get("from"), int)]
    found = [get(n) for n in dict.fromkeys(numbers)]
    return [d for d in found if d is not None and isinstance(d.details, dict) and d.details.get("ticket")]


def who_did(actor: str, how: str, lang: str, bundle: Bundle) -> dict[str, str]:
    """`by` and `how` of "pris en charge par {by} ({how})": a person's name and the channel
    they used; for an acknowledgement or a resolution sent by the source, the tool — "l'outil
    de supervision (PagerDuty Events API)", never "source (events-api)"."""
    if how not in TOOL_NAMES or actor in bundle["people"]:
        return {"by": directory.name_of(actor), "how": how}
    named = TOOL_NAMES[how] if actor in ("source", "", how) else f"{TOOL_NAMES[how]}, {actor}"
    return {"by": said_by(actor, lang, channel=how) or actor, "how": named}


def tell_others(inc: Incident, actor: str, how: str, target: str, now: float,
                bundle: Bundle) -> list[dict[str, Any]]:
    """Update the pages that can be edited, and tell everyone else who was paged who took it."""
    key = "taken" if target == "acknowledged" else "resolved"
    about = {**view(inc, bundle), "created_at": inc.created_at}
    sent = sent_pages(inc)
    footer_key = "slack_taken" if target == "acknowledged" else "slack_resolved"
    at = clock.iso(now)[11:19]
    zones = {pid: p["timezone"] for pid, p in bundle["people"].items()}  # their page keeps their time
    records = notify.update_pages(sent, about, inc.state, lambda lang: notify.text(
        lang, footer_key, **{**about, **who_did(actor, how, lang, bundle), "at": at}), zones=zones)
    updated = {(r["person"], r["channel"]) for r in records if r["ok"]}
    for pid in map(str, inc.paged or []):
        person = bundle["people"].get(pid)
        if pid == actor or person is None:
            continue
        paged_on = list(dict.fromkeys(s.channel for s in sent if s.to == pid))
        others = [c for c in paged_on if (pid, c) not in updated]
        if paged_on and not others:  # they see the page they got change in place
            records.append({"to": pid, "channel": paged_on[0], "ok": True, "notice": key,
                            "skipped": "page updated in place"})
            continue
        lang = person["language"]
        words = {**about, **who_did(actor, how, lang, bundle)}
        message = Message(notify.text(lang, key, **words), notify.text(lang, f"{key}_subject", **words))
        records.append({**notify.tell(person, message, first=others), "notice": key})
    record_notices(inc.number, records)
    return records


def tell_managers_of_permanent_failures(inc: Incident, records: list[dict[str, Any]], bundle: Bundle) -> None:
    """A page that can never be delivered (a number that does not exist, a Slack user gone):
    the service's team managers are told once per person, channel and day (a storm of
    incidents to one wrong number is one problem), so that someone fixes rotas/."""
    if not records:
        return
    service = bundle["services"].get(inc.service)
    team = bundle["teams"].get(service["team"] or "") if service else None
    managers = [bundle["people"][m] for m in (team["managers"] if team else []) if m in bundle["people"]]
    if not managers:
        log.error("undeliverable_page_nobody_to_tell", incident=inc.number, service=inc.service)
    now = clock.now()
    notices = []
    day = clock.iso(now)[:10]
    for r in records:
        if r["to"] not in bundle["people"]:  # gone from rotas/ (or a team channel): nothing to fix there
            log.warning("page_to_nobody", incident=inc.number, to=r["to"])
            continue
        told = [m for m in managers if m["id"] != r["to"]]
        if not told:
            log.error("undeliverable_page_nobody_to_tell", incident=inc.number, to=r["to"])
        for manager in told:
            key = f"undeliverable:{r['to']}:{r['channel']}:{day}:{manager['id']}"
            if not first_time(key, now, keep_days=2):
                continue
            lang = manager["language"]
            words = {"number": inc.number, "name": directory.name_of(r["to"]), "channel": r["channel"],
                     "error": str(r.get("error", ""))[:160]}
            message = Message(notify.text(lang, "undeliverable", **words),
                              notify.text(lang, "undeliverable_subject", **words))
            notices.append({**notify.tell(manager, message, order=notify.READING), "notice": "undeliverable",
                            "about": r["to"]})
    record_notices(inc.number, notices)


def sent_pages(inc: Incident) -> list[Sent]:
    """The pages sent about an incident, to update in place or to know who saw what; with the
    Slack pages recorded before Incident.sent existed ([channel, ts, lang]: whom they went to
    is not known, so they are updated in place and nobody is skipped for them)."""
    return [Sent.of(s) for s in inc.sent or []] + [
        Sent("slack", "", str(ch), str(ts), str(lang)) for ch, ts, lang in inc.slack_messages or []]


def tell_ticket(inc: Incident, actor: str, how: str, target: str, now: float) -> None:
    """An incident opened by a ticket, acknowledged or resolved from our side (SMS, Slack, the
    API, …): an internal note on it, and the requester told with the service's message
    (acknowledgement, closure).  A ticket the support team closed in its tool (the webhook
    resolving the incident) is told nothing: they are the ones who closed it.

    Safe to call once the change is stored: it never raises (what fails is logged and
    counted as HandlerErrors, which raises the alarm), so a done acknowledgement or
    resolution is never answered as an error."""
    with _never_raising("ticket_write_back_failed", inc, target):
        _tell_ticket(inc, actor, how, target, now)


@contextlib.contextmanager
def _never_raising(event: str, inc: Incident, target: str) -> Iterator[None]:
    """What follows a stored change fails alone: logged, counted (HandlerErrors: the alarm)."""
    try:
        yield
    except Exception as exc:
        log.error(event, incident=inc.number, target=target, error=f"{type(exc).__name__}: {str(exc)[:300]}")
        metrics.count("HandlerErrors")


def _tell_ticket(inc: Incident, actor: str, how: str, target: str, now: float) -> None:
    ticket = inc.details.get("ticket") if isinstance(inc.details, dict) else None
    if not isinstance(ticket, dict) or (target == "resolved" and how == ticket.get("tool")):
        return
    options = ticketing.integration_options(inc.service, ticket["tool"], ticket.get("api_base"))
    if not options:
        return
    if options.get("api_base"):
        ticketing.remember_writing(inc)  # its tool's webhook about our comment is no new incident
    service = directory.bundle()["services"].get(inc.service)
    messages = service.get("customer_messages") if service else None
    tell = ticketing.on_acknowledged if target == "acknowledged" else ticketing.on_resolved
    record = tell(inc.details, directory.name_of(actor), clock.iso(now), options, messages, number=inc.number)
    entry(inc.number, "notified", clock.now(), actor="astreinte", channel=ticket["tool"],
          detail=record).save()

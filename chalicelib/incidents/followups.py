"""What follows an acknowledgement or a resolution, once the change is stored: the pages
already sent are updated in place, everyone else paged is told who took it, and a ticket
that opened the incident gets its note.

Run after the state change is written, never inside it: a provider or a ticketing tool
being down must not undo or delay the acknowledgement.  Every message is on the timeline.
"""
from __future__ import annotations

from typing import Any

from .. import clock, log, notify, ticketing
from ..model import Bundle
from ..notify.channels import Message, Sent
from ..rotas import directory
from ..store import Incident, first_time, transaction
from .records import entry
from .views import view


def after_change(inc: Incident, actor: str, how: str, target: str, now: float) -> list[dict[str, Any]]:
    """Tell the world about an acknowledgement or a resolution; returns the notices sent."""
    bundle = directory.bundle()
    records = tell_others(inc, actor, how, target, now, bundle)
    if target in ("acknowledged", "resolved"):
        tell_ticket(inc, actor, how, target, now)
    return records


def tell_others(inc: Incident, actor: str, how: str, target: str, now: float,
                bundle: Bundle) -> list[dict[str, Any]]:
    """Update the pages that can be edited, and tell everyone else who was paged who took it."""
    key = "taken" if target == "acknowledged" else "resolved"
    about = view(inc, bundle)
    words = {**about, "by": directory.name_of(actor), "how": how}
    sent = [Sent.of(s) for s in inc.sent or []] + _older_slack_pages(inc)
    footer_key = "slack_taken" if target == "acknowledged" else "slack_resolved"
    at = clock.iso(now)[11:19]
    records = notify.update_pages(sent, about, inc.state,
                                  lambda lang: notify.text(lang, footer_key, **{**words, "at": at}))
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
        message = Message(notify.text(lang, key, **words), notify.text(lang, f"{key}_subject", **words))
        records.append({**notify.tell(person, message, first=others), "notice": key})
    if records:
        stamp = clock.now()
        with transaction() as tx:
            for r in records:
                tx.save(entry(inc.number, "notified", stamp, actor="astreinte", channel=r.get("channel"),
                              detail=r))
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
    if notices:
        with transaction() as tx:
            for n in notices:
                tx.save(entry(inc.number, "notified", now, actor="astreinte", channel=n.get("channel"),
                              detail=n))


def _older_slack_pages(inc: Incident) -> list[Sent]:
    """Slack pages recorded before Incident.sent existed ([channel, ts, lang]): whom they
    went to is not known, so they are updated in place and nobody is skipped for them."""
    return [Sent("slack", "", str(ch), str(ts), str(lang)) for ch, ts, lang in inc.slack_messages or []]


def tell_ticket(inc: Incident, actor: str, how: str, target: str, now: float) -> None:
    """An incident opened by a ticket, acknowledged or resolved from our side (SMS, Slack, the
    API, …): an internal note on it, and the requester told with the service's message
    (acknowledgement, closure).  A ticket the support team closed in its tool (the webhook
    resolving the incident) is told nothing: they are the ones who closed it."""
    ticket = inc.details.get("ticket") if isinstance(inc.details, dict) else None
    if not isinstance(ticket, dict) or (target == "resolved" and how == ticket.get("tool")):
        return
    options = ticketing.integration_options(inc.service, ticket["tool"], ticket.get("api_base"))
    if not options:
        return
    service = directory.bundle()["services"].get(inc.service)
    messages = service.get("customer_messages") if service else None
    tell = ticketing.on_acknowledged if target == "acknowledged" else ticketing.on_resolved
    record = tell(inc.details, directory.name_of(actor), clock.iso(now), options, messages)
    entry(inc.number, "notified", clock.now(), actor="astreinte", channel=ticket["tool"],
          detail=record).save()

"""How an incident is shown: the fields message templates use, and the API's JSON."""
from __future__ import annotations

from typing import Any

from .. import clock, log
from ..model import Bundle
from ..notify.templates import text
from ..rotas import directory
from ..store import Incident, TimelineEntry
from .details import Highlights, empty, highlights
from .records import timeline


def view(inc: Incident, bundle: Bundle) -> dict[str, Any]:
    """The fields message templates use."""
    svc = bundle["services"].get(inc.service)
    return {"number": inc.number, "service": svc["name"] if svc else inc.service, "sev": inc.severity,
            "summary": inc.summary, "source": inc.source or "-", "at": clock.iso(inc.created_at)[11:19],
            "highlights": _page_highlights(inc)}


def _page_highlights(inc: Incident) -> Highlights:
    """The event's highlights for a page, or none: a page goes out whatever its details hold."""
    try:
        return highlights(inc.details)
    except Exception as exc:  # noqa: BLE001 - a bug in reading the details must not stop paging
        log.error("highlights_failed", incident=inc.number, error=f"{type(exc).__name__}: {exc}"[:300])
        return empty()


# The channels people act on; an acknowledgement or a resolution on any other channel came
# from a tool (its intake: events-api, alertmanager, zendesk…), said as the tool.
# The tools that acknowledge or resolve at the source, by their channel (the intake's `via`),
# as people read them; any other channel is a person's (sms, slack, api, link, web, …).
TOOL_NAMES = {"events-api": "PagerDuty Events API", "pagerduty": "PagerDuty", "alertmanager": "Alertmanager",
              "grafana": "Grafana", "cloudwatch": "CloudWatch", "sns": "Amazon SNS", "opsgenie": "Opsgenie",
              "generic": "webhook", "heartbeat": "heartbeat", "zendesk": "Zendesk", "jira": "Jira",
              "freshdesk": "Freshdesk"}
TICKET_CHANNELS = frozenset({"zendesk", "jira", "freshdesk"})


def channel_of(entries: list[TimelineEntry], actor: str | None, *kinds: str) -> str | None:
    """The channel of the last entry of one of `kinds` by `actor` (who acknowledged, resolved)."""
    found = [e.channel for e in entries if e.kind in kinds and e.actor == actor]
    return found[-1] if found else None


def said_by(actor: str | None, lang: str, inc: Incident | None = None,
            channel: str | None = None) -> str | None:
    """Who did it, as people read it: a person's name; a tool in `lang` ("l'outil de
    supervision", "the ticketing tool"), never "source"; the id of someone no longer in rotas/."""
    if not actor:
        return None
    person = directory.person(actor)
    if person is not None:
        return person["name"]
    if channel is not None and channel not in TOOL_NAMES:  # someone no longer in rotas/
        return actor
    details = inc.details if inc is not None and isinstance(inc.details, dict) else {}
    ticket = channel in TICKET_CHANNELS or (channel is None and bool(details.get("ticket")))
    return text(lang, "by_ticket_tool" if ticket else "by_source")


def as_json(inc: Incident, with_timeline: bool = True, lang: str | None = None) -> dict[str, Any]:
    """The incident as the API returns it: every time in UTC ISO-8601; who acted also as
    people read it (`*_by_name`), in `lang` (the caller's; English when not known)."""
    def t(v: float | None) -> str | None:
        return clock.iso(v) if v is not None else None

    state = inc.escalation or {}
    body: dict[str, Any] = {
        "id": inc.number, "number": inc.number, "service": inc.service, "severity": inc.severity,
        "state": inc.state, "unanswered": bool(inc.unanswered), "summary": inc.summary,
        "source": inc.source, "dedup_key": inc.dedup_key, "details": inc.details,
        "created_at": t(inc.created_at), "acknowledged_at": t(inc.acknowledged_at),
        "acknowledged_by": inc.acknowledged_by, "resolved_at": t(inc.resolved_at),
        "resolved_by": inc.resolved_by,
        "escalation": {"policy": inc.policy, "step": state.get("step", -1) + 1,
                       "repeat": state.get("loop", 0),
                       "next_step_at": t(state.get("next_step_at"))},
        "paged": inc.paged or [],
        "snoozed_until": t(inc.snoozed_until), "merged_into": inc.merged_into,
        "highlights": highlights(inc.details),
    }
    from ..changes import before as changes_before  # what changed on the service (chalicelib.changes)
    body["changes"] = changes_before(inc.service, inc.created_at)
    entries = timeline(inc.number)
    words = lang or "en"
    body["acknowledged_by_name"] = said_by(inc.acknowledged_by, words, inc,
                                           channel_of(entries, inc.acknowledged_by, "acknowledged"))
    body["resolved_by_name"] = said_by(inc.resolved_by, words, inc,
                                       channel_of(entries, inc.resolved_by, "resolved", "merged"))
    # The first acknowledgement, kept once its holder let it go (reassigned, a snooze ran out).
    holds = [h for h in inc.earlier_holds or [] if isinstance(h, dict)]
    first_by = holds[0].get("by") if holds else inc.acknowledged_by
    body["first_acknowledged_at"] = t(inc.first_acknowledged_at if inc.first_acknowledged_at is not None
                                      else inc.acknowledged_at)
    body["first_acknowledged_by"] = first_by
    body["first_acknowledged_by_name"] = said_by(first_by, words, inc,
                                                 channel_of(entries, first_by, "acknowledged"))
    body["event_count"] = 1 + sum(1 for e in entries if e.kind == "repeated")
    if with_timeline:
        body["timeline"] = [
            {"at": clock.iso(e.at), "kind": e.kind, "actor": e.actor, "channel": e.channel,
             **({"detail": e.detail} if e.detail else {})}
            for e in entries
        ]
    return body

"""How an incident is shown: the fields message templates use, and the API's JSON."""
from __future__ import annotations

from typing import Any

from .. import clock, log
from ..model import Bundle
from ..store import Incident
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


def as_json(inc: Incident, with_timeline: bool = True) -> dict[str, Any]:
    """The incident as the API returns it: every time in UTC ISO-8601."""
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
    body["event_count"] = 1 + sum(1 for e in entries if e.kind == "repeated")
    if with_timeline:
        body["timeline"] = [
            {"at": clock.iso(e.at), "kind": e.kind, "actor": e.actor, "channel": e.channel,
             **({"detail": e.detail} if e.detail else {})}
            for e in entries
        ]
    return body

"""What managers are told without asking: rest warnings each morning, the monthly summary.

Both run on schedules (EventBridge; the local timer runner) that may fire more often than
needed or twice: each message is guarded by an idempotency record, and each job acts only
in its window of the team's local time (mornings; the first days of a month), so a retried
run sends nothing twice and a late one still sends.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .. import clock, config, notify
from ..model import Person
from ..notify.channels import Message
from ..notify.templates import text
from ..reports import kpis, review
from ..reports.calendar import CATEGORIES
from ..rotas import directory
from ..store import first_time

MORNING = (8, 12)  # local hours when last night's rest warnings go out
SUMMARY_DAYS = 3  # the monthly summary goes out on the first days of the next month


def _tell(person: Person, message: Message) -> str:
    """Slack if they have it, else email, else SMS (what is read at a desk); the channel used."""
    record = notify.tell(person, message, order=notify.READING)
    if not record["ok"]:
        raise RuntimeError(str(record.get("error")))
    return str(record["channel"])


def _hhmm(ts: float, zone: ZoneInfo, lang: str) -> str:
    local = datetime.fromtimestamp(ts, zone)
    return local.strftime("%d/%m %H:%M" if lang == "fr" else "%a %d %b %H:%M")


def send_rest_notices(now: float | None = None) -> int:
    """Tell each team's managers, in the morning, who worked last night and is owed rest."""
    now = clock.now() if now is None else now
    b = directory.bundle()
    sent = 0
    for team in b["teams"].values():
        zone = ZoneInfo(team["timezone"])
        local = datetime.fromtimestamp(now, zone)
        if not (team["managers"] and MORNING[0] <= local.hour < MORNING[1]):
            continue
        cutoff = datetime(local.year, local.month, local.day, MORNING[0], tzinfo=zone).timestamp()
        for flag in review.rest_flags_between(cutoff - 86400, cutoff, now):
            if flag["person"] not in team["members"]:
                continue
            worker = b["people"].get(flag["person"], {"name": flag["person"]})
            for mid in team["managers"]:
                manager = b["people"][mid]
                key = f"rest:{flag['person']}:{int(flag['intervention_end'])}:{mid}"
                if mid == flag["person"] or not first_time(key, now, keep_days=40):
                    continue
                lang = manager["language"]
                message = text(lang, "rest_warning", name=worker["name"], number=flag["incidents"][-1],
                               end=_hhmm(flag["intervention_end"], zone, lang),
                               next=_hhmm(flag["next_work"], zone, lang),
                               kind={"office": "bureau", "on-call": "astreinte"}[flag["next_work_kind"]]
                               if lang == "fr" else flag["next_work_kind"],
                               hours=f"{flag['rest_hours']:g}", rest=f"{team['rest'] / 3600:g}")
                try:
                    _tell(manager, Message(message, text(lang, "rest_subject", name=worker["name"])))
                    sent += 1
                except Exception as exc:  # noqa: BLE001 - one failed notice must not stop the others
                    print(f"rest notice to {mid} failed: {exc}")
    return sent


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _pct(share: float | None) -> str:
    return "—" if share is None else f"{share * 100:.0f} %"


def summary_text(lang: str, team: Mapping[str, Any], month: str, metrics: dict[str, Any],
                 people: list[dict[str, Any]]) -> str:
    """The month in one message: KPIs, then one line per person in a ``` block (Slack shows
    it as is; email renders it as a fixed-width table)."""
    head = text(lang, "summary_head", team=team["name"], month=month, count=metrics["count"],
                tta=_duration(metrics["tta_median"]), tta90=_duration(metrics["tta_p90"]),
                ttr=_duration(metrics["ttr_median"]), esc=_pct(metrics["escalation_rate"]),
                fcr=_pct(metrics["first_contact_resolution"]), sla_ack=metrics["sla_breaches"]["acknowledge"],
                sla_res=metrics["sla_breaches"]["resolve"])
    lines = [head, text(lang, "summary_table"), "```"]
    for p in people:
        on = " / ".join(f"{p['oncall_hours'][c]:g}" for c in CATEGORIES)
        work = " / ".join(f"{p['interventions']['hours'][c]:g}" for c in CATEGORIES)
        rest = f"  ⚠ {len(p['rest_flags'])}" if p["rest_flags"] else ""
        lines.append(f"{p['name'][:22]:<22} {on:<24} {p['interventions']['count']:>3} × {work}{rest}")
    lines.append("```")
    lines.append(text(lang, "summary_link", url=f"{config.settings().public_url}/dashboard"))
    return "\n".join(lines)


def send_monthly_summaries(now: float | None = None) -> int:
    """On the first days of a month, each team's managers get last month's KPIs and hours."""
    now = clock.now() if now is None else now
    b = directory.bundle()
    sent = 0
    for tid, team in b["teams"].items():
        local = datetime.fromtimestamp(now, ZoneInfo(team["timezone"]))
        if not team["managers"] or local.day > SUMMARY_DAYS or local.hour < MORNING[0]:
            continue
        first = (date(local.year, local.month, 1) - timedelta(days=1)).replace(day=1)
        month = first.strftime("%Y-%m")
        recipients = [m for m in team["managers"]
                      if first_time(f"summary:{tid}:{month}:{m}", now, keep_days=40)]
        if not recipients:
            continue
        report = review.month_report(month, first, now)
        metrics = report["kpis"]["by"]["team"].get(tid) or kpis.metrics([], now)
        people = [p for p in report["astreinte"]["people"] if p["person"] in team["members"]]
        for mid in recipients:
            manager = b["people"][mid]
            try:
                lang = manager["language"]
                _tell(manager, Message(summary_text(lang, team, month, metrics, people),
                                       text(lang, "summary_subject", team=team["name"], month=month)))
                sent += 1
            except Exception as exc:  # noqa: BLE001
                print(f"monthly summary to {mid} failed: {exc}")
    return sent

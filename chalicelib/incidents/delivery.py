"""Providers' delivery callbacks about a page: delivered, failed, a call answered.

The channel reads the provider's callback (chalicelib.notify.channels.Channel.delivery_report);
this records it on the incident's timeline, once per (provider id, status): providers retry.
A call answered is work time: reports read it from the incident's `calls`.  A page the
provider accepted and then could not deliver is sent again, and the next channel tried.
"""
from __future__ import annotations

from typing import Any

from .. import clock
from ..notify.channels import DeliveryReport, PageRef
from ..store import Incident
from . import engine
from .records import AlreadyDone, Change, Gone, entry, mutate


def record(ref: PageRef, report: DeliveryReport) -> bool:
    """Put the callback on the timeline; False when already recorded or the incident is gone."""
    now = clock.now()
    detail: dict[str, Any] = {"status": report.status, "ref": report.provider_id, "to": ref.person}
    if report.duration_seconds is not None:
        detail["duration_seconds"] = report.duration_seconds
    if report.error_code:
        detail["error_code"] = report.error_code

    def change(inc: Incident) -> Change:
        if report.answered:
            inc.calls = [*(inc.calls or []), {"at": now, "to": ref.person,
                                              "seconds": int(report.duration_seconds or 0)}]
        return Change(entries=[entry(ref.number, "delivery", now, actor=ref.person, channel=ref.channel,
                                     detail=detail)],
                      # Provider ids (Twilio SIDs, …) are unique: the key is theirs, whatever the channel.
                      once=(f"status:{report.provider_id}:{report.status}", {"result": "recorded"}),
                      save_incident=report.answered)

    try:
        recorded = mutate(ref.number, change) is not None
    except (Gone, AlreadyDone):
        return False
    if recorded and report.failed and ref.channel:  # it never arrived: as a send that failed
        engine.undelivered(ref.number, ref.person, ref.channel,
                           {**detail, "permanent": report.permanent,
                            "error": f"{report.status} ({report.error_code or '-'})"})
    return recorded

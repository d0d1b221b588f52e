"""Handoff notices: tell people before their shift, and the team channel at handoff.

Run every minute (EventBridge; the local runner locally).  Each notice is sent once:
an idempotency record per (rota, layer, person, shift start, kind) is written before
sending, so a retried or overlapping run sends nothing twice.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .. import clock, notify
from ..notify import slack
from ..notify.channels import Message
from ..notify.templates import text
from ..rotas import directory, shifts
from ..store import first_time

CATCH_UP_SECONDS = 10 * 60  # a "now on call" later than this is no longer news
SHIFT_HORIZON = 35 * 86400  # long enough to see where a monthly shift ends


def due_notices(bundle: Mapping[str, Any], now: float) -> list[dict[str, Any]]:
    """Pure: the notices due at `now` (before a shift starts, and at its start)."""
    out = []
    for rota in bundle["rotas"].values():
        notice = rota.get("handoff_notice") or {}
        before = float(notice.get("before", 0))
        for layer in rota["layers"]:
            if not before and not notice.get("slack_channel"):
                continue
            # Far enough ahead that the shifts are whole, not clipped to the window.
            ahead = shifts.shifts(rota, layer, now - CATCH_UP_SECONDS - 1, now + before + SHIFT_HORIZON)
            if before:
                for s in ahead:
                    if now < s.start <= now + before:
                        out.append({"kind": "soon", "shift": s, "rota": rota})
            if notice.get("slack_channel"):
                for s in ahead:
                    if now - CATCH_UP_SECONDS <= s.start <= now:
                        out.append({"kind": "now", "shift": s, "rota": rota,
                                    "channel": notice["slack_channel"]})
    return out


def _when(ts: float, tz: str, lang: str) -> str:
    local = datetime.fromtimestamp(ts, ZoneInfo(tz))
    return local.strftime("%d/%m %H:%M") if lang == "fr" else local.strftime("%a %d %b %H:%M")


def send_due(now: float | None = None) -> int:
    """Send every notice due now, once each; returns how many were sent."""
    now = clock.now() if now is None else now
    bundle = directory.bundle()
    sent = 0
    for n in due_notices(bundle, now):
        s, rota = n["shift"], n["rota"]
        person = bundle["people"].get(s.person)
        if person is None:
            continue
        lang = person["language"] if n["kind"] == "soon" else "fr"
        key = f"handoff:{s.rota}:{s.layer}:{s.person}:{int(s.start)}:{n['kind']}"
        if not first_time(key, now, keep_days=8):
            continue  # another run sent it
        words = {"rota": rota["name"], "layer": s.layer, "name": person["name"], "tz": rota["timezone"],
                 "start": _when(s.start, rota["timezone"], lang), "end": _when(s.end, rota["timezone"], lang)}
        if n["kind"] == "now":  # the team's channel: a Slack channel, not a person
            try:
                slack.post(n["channel"], text("fr", "handoff_now", **words))
                sent += 1
            except Exception as exc:  # noqa: BLE001 - one failed notice must not stop the others
                print(f"handoff notice {key} failed: {exc}")
            continue
        # The person's own channels first (those that read best at a desk first), else SMS.
        mine = [c for c in notify.READING if c in notify.channels_of(person)]
        record = notify.tell(person, Message(text(lang, "handoff_soon", **words),
                                             text(lang, "handoff_subject", **words)), first=mine)
        if record["ok"]:
            sent += 1
        else:
            print(f"handoff notice {key} failed: {record.get('error')}")
    return sent

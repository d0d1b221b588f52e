"""Handoff notices: before a shift, and "now on call" in the team channel at handoff."""
from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib import clock
from chalicelib.notices import handoffs
from chalicelib.rotas import directory
from chalicelib.rotas import load as rotas

PARIS = ZoneInfo("Europe/Paris")
TEAM = """
people:
  - {id: ann, name: Ann Lee, language: en, phone: "+33611111111", notify: [{channel: sms}]}
  - {id: zoe, name: Zoé Roy, language: fr, phone: "+33622222222", slack: U0ZOE,
     notify: [{channel: slack}, {channel: sms}]}
rotas:
  - id: desk
    name: Desk
    timezone: Europe/Paris
    handoff_notice: {before: 30m, slack_channel: C0DESK}
    layers:
      agent: {participants: [ann, zoe], shift: daily, handoff: "09:00", start: 2026-11-02}
"""


def _bundle(tmp_path: Path) -> dict:
    (tmp_path / "desk.yaml").write_text(TEAM)
    return rotas.load_dir(tmp_path)


def _at(*args: int) -> float:
    return datetime(*args, tzinfo=PARIS).timestamp()


def test_due_notices_warn_the_next_person_and_announce_the_handoff(tmp_path: Path) -> None:
    bundle = _bundle(tmp_path)
    # 2026-11-23 is 21 days after the start: zoe (odd days) takes over at 09:00, for a day.
    soon = handoffs.due_notices(bundle, _at(2026, 11, 23, 8, 40))
    assert [(n["kind"], n["shift"].person, n["shift"].start, n["shift"].end) for n in soon] == \
        [("soon", "zoe", _at(2026, 11, 23, 9, 0), _at(2026, 11, 24, 9, 0))]
    assert handoffs.due_notices(bundle, _at(2026, 11, 23, 8, 0)) == []  # more than 30 min ahead
    now = handoffs.due_notices(bundle, _at(2026, 11, 23, 9, 1))
    assert [(n["kind"], n["shift"].person, n["channel"]) for n in now] == [("now", "zoe", "C0DESK")]


def test_notices_are_sent_once_in_the_persons_language(fresh, tmp_path: Path) -> None:
    fake = fresh.fake
    directory.sync(_bundle(tmp_path))
    clock.advance(_at(2026, 11, 23, 8, 45) - time.time())  # zoe (French, Slack) is next
    assert handoffs.send_due() == 1
    assert handoffs.send_due() == 0  # the next minute's run sends nothing again
    dm = fake.wait_for(kind="slack", channel="U0ZOE")
    assert "vous êtes d'astreinte du 23/11 09:00 au 24/11 09:00" in dm["text"]

    clock.advance(20 * 60)  # 09:05: the team channel hears it once
    assert handoffs.send_due() == 1
    assert handoffs.send_due() == 0
    post = fake.wait_for(kind="slack", channel="C0DESK")
    assert "Zoé Roy est d'astreinte" in post["text"]

    clock.advance(23 * 3600 + 30 * 60)  # 08:35 the next day: ann (English, SMS) is warned
    handoffs.send_due()
    sms = fake.wait_for(kind="sms", to="+33611111111")
    assert "you are on call from Tue 24 Nov 09:00 to Wed 25 Nov 09:00" in sms["body"]
    assert "Desk — agent" in sms["body"]


@pytest.mark.parametrize("before", ["45", "2h"])
def test_handoff_notice_takes_durations(tmp_path: Path, before: str) -> None:
    (tmp_path / "desk.yaml").write_text(TEAM.replace("before: 30m", f"before: {before}"))
    assert rotas.load_dir(tmp_path)["rotas"]["desk"]["handoff_notice"]["before"] in (45 * 60, 7200)

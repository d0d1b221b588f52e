"""Maintenance windows and support hours: events kept, paging held back."""
from __future__ import annotations

import hashlib
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import ROOT, Api, kinds

from chalicelib import clock, incidents
from chalicelib.rotas import directory
from chalicelib.rotas import load as rotas

PARIS = ZoneInfo("Europe/Paris")
ALICE = "+33600000001"


def _sync(tmp_path: Path, service_yaml: str) -> None:
    shutil.copy(ROOT / "tests" / "rotas" / "team.yaml", tmp_path / "team.yaml")
    key_hash = hashlib.sha256(b"test-extra-key").hexdigest()
    (tmp_path / "extra.yaml").write_text(service_yaml.replace("KEYHASH", key_hash))
    directory.sync(rotas.load_dir(tmp_path))


def _at(*args: int) -> None:
    clock.advance(datetime(*args, tzinfo=PARIS).timestamp() - clock.now())


MAINTENANCE = """
services:
  - id: extra
    name: Extra
    policies: {default: standard}
    integrations: [{type: pagerduty, key_sha256: KEYHASH}]
    maintenance:
      - {start: "2027-02-01T22:00", end: "2027-02-02T02:00", reason: "DB upgrade"}
"""

SUPPORT_HOURS = """
services:
  - id: extra
    name: Extra
    policies: {default: standard}
    integrations: [{type: pagerduty, key_sha256: KEYHASH}]
    support_hours:
      timezone: Europe/Paris
      hours: [{days: [weekdays], from: "09:00", to: "18:00"}]
      defer: [moyen, faible]
"""


def test_in_a_maintenance_window_events_are_kept_and_nobody_is_paged(api: Api, fresh, tmp_path: Path) -> None:
    _sync(tmp_path, MAINTENANCE)
    _at(2027, 2, 1, 23, 0)
    number = api.trigger(key="test-extra-key", dedup="m1", severity="critical")["incident_number"]
    clock.advance(3600)
    incidents.sweep()
    assert fresh.fake.messages() == []
    inc = api.incident(number)
    assert "maintenance" in kinds(inc) and "paged" not in kinds(inc)
    _at(2027, 2, 2, 3, 0)  # after the window, the same service pages again
    api.trigger(key="test-extra-key", dedup="m2", severity="critical")
    fresh.fake.wait_for(kind="sms", to=ALICE)


def test_outside_support_hours_a_medium_incident_waits_and_a_critical_one_pages(
        api: Api, fresh, tmp_path: Path) -> None:
    _sync(tmp_path, SUPPORT_HOURS)
    _at(2027, 2, 5, 22, 0)  # a Friday evening
    waiting = api.trigger(key="test-extra-key", dedup="slow", severity="warning")["incident_number"]
    inc = api.incident(waiting)
    assert "deferred" in kinds(inc)
    deferred = next(e for e in inc["timeline"] if e["kind"] == "deferred")
    assert deferred["detail"]["until"] == "2027-02-08T08:00:00.000Z"  # Monday 09:00 Paris
    clock.advance(3600)
    incidents.sweep()
    assert fresh.fake.messages(kind="sms") == []

    api.trigger(key="test-extra-key", dedup="fast", severity="critical")  # pages at once
    fresh.fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: "CRITIQUE" in m["body"])

    _at(2027, 2, 8, 9, 0)
    incidents.sweep()
    fresh.fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{waiting} " in m["body"])

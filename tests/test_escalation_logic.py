"""Escalation decisions and rota math: pure functions, no server."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from chalicelib.incidents import escalation
from chalicelib.rotas import load as rotas
from chalicelib.rotas import shifts as rotation

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2026, 11, 23, 14, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp()


@pytest.fixture(scope="module")
def bundle() -> dict:
    return rotas.load_dir(ROOT / "tests" / "rotas")


def test_first_tick_pages_the_agent_on_each_of_their_channels(bundle: dict) -> None:
    d = escalation.tick(escalation.initial_state(), bundle["policies"]["standard"], "eleve", bundle, T0)
    assert sorted((p["to"], p["channel"]) for p in d.pages) == [("alice", "slack"), ("alice", "sms")]
    assert d.state["next_step_at"] == T0 + 300 and d.state["pending"] == []


def test_voice_is_planned_two_minutes_later_for_critical_only(bundle: dict) -> None:
    d = escalation.tick(escalation.initial_state(), bundle["policies"]["critical"], "critique", bundle, T0)
    assert ("slack:C0SUPPORT", "slack") in [(p["to"], p["channel"]) for p in d.pages]
    assert [(p["to"], p["channel"], p["at"]) for p in d.state["pending"]] == [("alice", "voice", T0 + 120)]
    later = escalation.tick(d.state, bundle["policies"]["critical"], "critique", bundle, T0 + 120)
    assert [(p["to"], p["channel"]) for p in later.pages] == [("alice", "voice")]
    assert later.events == []  # still step 1: the step's delay is 3 minutes


def test_policy_runs_out_after_its_repeats_and_is_unanswered(bundle: dict) -> None:
    policy = bundle["policies"]["standard"]  # 5m, 5m, 10m, repeat once
    state, t, steps = escalation.initial_state(), T0, []
    for _ in range(10):
        d = escalation.tick(state, policy, "moyen", bundle, t)
        steps += [(e[1]["step"], e[1]["loop"]) for e in d.events if e[0] == "escalated"]
        state = d.state
        if d.exhausted:
            break
        t = escalation.next_due(state)
    assert steps == [(1, 0), (2, 0), (3, 0), (1, 1), (2, 1), (3, 1)]
    assert d.exhausted and escalation.next_due(state) is None
    assert t - T0 == 2 * (5 + 5 + 10) * 60  # the last step's 10 minutes run out at 40 min


def test_stopped_state_has_nothing_due(bundle: dict) -> None:
    d = escalation.tick(escalation.initial_state(), bundle["policies"]["critical"], "critique", bundle, T0)
    assert escalation.next_due(escalation.stopped(d.state)) is None


def test_weekly_rotation_hands_over_at_nine_paris_time_across_dst() -> None:
    rota = {"timezone": "Europe/Paris", "layers": {"agent": {
        "participants": ["a", "b"], "days": 7, "handoff": "09:00", "start": "2026-03-23",
        "overrides": []}}}
    paris = ZoneInfo("Europe/Paris")
    # DST starts on Sunday 29 March 2026; the handoff stays at 09:00 local time.
    assert rotation.on_call(rota, "agent", datetime(2026, 3, 30, 8, 59, tzinfo=paris).timestamp()) == "a"
    assert rotation.on_call(rota, "agent", datetime(2026, 3, 30, 9, 0, tzinfo=paris).timestamp()) == "b"
    assert rotation.on_call(rota, "agent", datetime(2026, 4, 6, 9, 0, tzinfo=paris).timestamp()) == "a"


def test_override_replaces_the_scheduled_person() -> None:
    paris = ZoneInfo("Europe/Paris")
    start = datetime(2026, 5, 1, 18, 0, tzinfo=paris).timestamp()
    rota = {"timezone": "Europe/Paris", "layers": {"agent": {
        "participants": ["a"], "days": 7, "handoff": "09:00", "start": "2026-01-05",
        "overrides": [{"person": "z", "start": start, "end": start + 3600}]}}}
    assert rotation.on_call(rota, "agent", start + 10) == "z"
    assert rotation.on_call(rota, "agent", start + 3600) == "a"


def test_rota_problems_name_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text(
        "people:\n  - id: ann\n    phone: '0612'\n"
        "rotas:\n  - id: r\n    timezone: Mars/Base\n    layers:\n      agent: {participants: [zed]}\n"
        "policies:\n  - id: p\n    steps:\n      - targets: [{rota: r, layer: boss}]\n"
        "services:\n  - id: s\n    policies: {default: nope}\n")
    with pytest.raises(rotas.RotaError) as err:
        rotas.load_dir(tmp_path)
    text = str(err.value)
    assert "x.yaml:3: people[0].phone: '0612' is not an E.164 number" in text
    assert "unknown time zone 'Mars/Base'" in text
    assert "unknown person 'zed'" in text
    assert "rota 'r' has no layer 'boss'" in text
    assert "unknown escalation policy 'nope'" in text


def test_the_example_rotas_are_valid() -> None:
    bundle = rotas.load_dir(ROOT / "rotas")
    layers = set(bundle["rotas"]["support"]["layers"])
    assert {"permanence", "astreinte", "referent", "manager", "direction"} <= layers
    assert {p["language"] for p in bundle["people"].values()} == {"fr", "en"}


def test_a_step_may_name_a_person_and_override_their_channels(bundle: dict) -> None:
    policy = {"id": "p", "repeat": 0, "steps": [
        {"targets": [{"person": "carol"}], "delay": 60.0, "channels": ["voice", "sms"]}]}
    d = escalation.tick(escalation.initial_state(), policy, "faible", bundle, T0)
    assert sorted((p["to"], p["channel"]) for p in d.pages) == [("carol", "sms"), ("carol", "voice")]


def test_a_step_with_nobody_on_call_hands_over_at_once(bundle: dict) -> None:
    empty = {**bundle, "rotas": {"support": {**bundle["rotas"]["support"], "layers": {
        **bundle["rotas"]["support"]["layers"],
        "agent": {**bundle["rotas"]["support"]["layers"]["agent"], "participants": []}}}}}
    d = escalation.tick(escalation.initial_state(), bundle["policies"]["standard"], "eleve", empty, T0)
    assert [e[1]["step"] for e in d.events if e[0] == "escalated"] == [1, 2]
    assert [(p["to"], p["channel"]) for p in d.pages] == [("bob", "voice")]

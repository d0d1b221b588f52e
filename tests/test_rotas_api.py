"""Rotas through the API and the CLI: who is on call, shifts, overrides that page."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import Api

from chalicelib import clock

ROOT = Path(__file__).resolve().parent.parent


def _get(api: Api, path: str, token: str | None = None):  # noqa: ANN202
    return api.http.get(f"{api.base}{path}", timeout=10,
                        headers={"Authorization": f"Bearer {token or api.token}"})


def test_who_is_on_call_now_and_at_an_instant(api: Api) -> None:
    r = _get(api, "/v1/rotas")
    assert r.status_code == 200
    support = next(x for x in r.json()["rotas"] if x["rota"] == "support")
    holders = {layer["layer"]: layer["on_call"]["id"] for layer in support["layers"]}
    assert holders == {"agent": "alice", "referent": "bob", "manager": "carol", "direction": "dan"}
    r = _get(api, "/v1/rotas/support/oncall?at=2027-03-28T02:30:00%2B01:00")
    assert r.status_code == 200 and r.json()["layers"][0]["on_call"]["name"] == "Alice Martin"


def test_rota_queries_name_their_problems(api: Api) -> None:
    assert _get(api, "/v1/rotas/nope/oncall").status_code == 404
    bad = _get(api, "/v1/rotas/support/oncall?at=yesterday")
    assert bad.status_code == 400 and "'at' is not an ISO 8601" in bad.json()["message"]
    naive = _get(api, "/v1/rotas/support/oncall?at=2026-12-01T10:00:00")
    assert naive.status_code == 400 and "time zone" in naive.json()["message"]
    assert _get(api, "/v1/rotas", token="wrong").status_code == 401
    assert _get(api, "/v1/people/zed/shifts").status_code == 404


def test_an_override_swaps_who_is_paged_and_shows_in_shifts(api: Api, fresh) -> None:
    now = clock.now()
    start, end = clock.iso(now - 60), clock.iso(now + 3 * 3600)
    r = api.http.post(f"{api.base}/v1/rotas/support/overrides", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"},
                      json={"layer": "agent", "person": "carol", "replaces": "alice",
                            "start": start, "end": end})
    assert r.status_code == 201, r.text
    override = r.json()
    assert override["person"] == "carol" and override["created_by"] == "carol"

    layers = {x["layer"]: x for x in _get(api, "/v1/rotas/support/oncall").json()["layers"]}
    assert layers["agent"]["on_call"]["id"] == "carol"
    api.trigger(dedup="swap")
    fresh.fake.wait_for(kind="sms", to="+33600000003")  # Carol, not Alice
    assert fresh.fake.messages(to="+33600000001") == []

    shifts = _get(api, f"/v1/people/carol/shifts?from={clock.iso(now - 3600)}&to={clock.iso(now + 86400)}")
    agent = [s for s in shifts.json()["shifts"] if s["layer"] == "agent"]
    assert len(agent) == 1 and agent[0]["end"] == end

    gone = api.http.delete(f"{api.base}/v1/rotas/support/overrides/{override['id']}", timeout=10,
                           headers={"Authorization": f"Bearer {api.token}"})
    assert gone.status_code == 204
    layers = {x["layer"]: x for x in _get(api, "/v1/rotas/support/oncall").json()["layers"]}
    assert layers["agent"]["on_call"]["id"] == "alice"


def test_a_bad_override_is_refused_with_each_problem_named(api: Api) -> None:
    r = api.http.post(f"{api.base}/v1/rotas/support/overrides", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"},
                      json={"layer": "boss", "person": "zed", "start": "2026-12-24T18:00:00+01:00",
                            "end": "2026-12-24T09:00:00+01:00"})
    assert r.status_code == 400
    message = r.json()["message"]
    assert "'layer' must be one of agent" in message and "'person' is not a person" in message
    assert "'end' must be after 'start'" in message


def test_rotas_check_prints_file_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "team.yaml").write_text(
        "people:\n"
        "  - id: ann\n"
        "    phone: '+33600000001'\n"
        "rotas:\n"
        "  - id: r\n"
        "    timezone: Europe/Paris\n"
        "    around_the_clock: [day, night]\n"
        "    layers:\n"
        "      day: {participants: [ann], restrictions: [{days: [weekdays], from: '09:00', to: '18:00'}]}\n"
        "      night: {participants: [ann], restrictions: [{days: [weekdays], from: '18:00', to: '09:00'}]}\n"
        "      extra:\n"
        "        participants: [bob]\n")
    run = subprocess.run([sys.executable, "-m", "chalicelib.cli", "check", str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 1
    assert "team.yaml:12: rotas[0].layers.extra.participants: unknown person 'bob'" in run.stderr
    assert "team.yaml:7: rotas[0].around_the_clock: gap where nobody in day/night is on call" in run.stderr
    ok = subprocess.run([sys.executable, "-m", "chalicelib.cli", "check", "rotas"], cwd=ROOT,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "OK" in ok.stdout


def test_sync_is_idempotent_and_a_dry_run_shows_the_difference(fresh, tmp_path: Path) -> None:
    import shutil

    from chalicelib.rotas import directory
    from chalicelib.rotas import load as rotas

    assert directory.sync(rotas.load_dir(ROOT / "tests" / "rotas"))["changed"] is False
    shutil.copy(ROOT / "tests" / "rotas" / "team.yaml", tmp_path / "team.yaml")
    text = (tmp_path / "team.yaml").read_text().replace("participants: [alice]", "participants: [carol]")
    (tmp_path / "team.yaml").write_text(text)
    dry = directory.sync(rotas.load_dir(tmp_path), dry_run=True)
    assert dry["changed"] is True and dry["diff"]["rotas"]["changed"] == ["support"]
    assert directory.bundle()["rotas"]["support"]["layers"]["agent"]["participants"] == ["alice"]
    assert directory.sync(rotas.load_dir(tmp_path))["changed"] is True
    assert directory.bundle()["rotas"]["support"]["layers"]["agent"]["participants"] == ["carol"]
    assert directory.sync(rotas.load_dir(tmp_path))["changed"] is False

"""Least privilege over the local stack, as each person would notice it.

tests/rotas/team.yaml: Alice is an agent, Bob a référent, Carol the manager on call and the
admin (roles: [admin]), Dan the direction (roles: [direction]: a manager of the team, not an
admin).  Some tests add a second rota, `night` (Olga, agent; Paul, its manager), to see a
manager of one team stopped at the other's door.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import NIGHT_ROTA, Api

from chalicelib import clock, tokens
from chalicelib.rotas import directory
from chalicelib.rotas import load as rotas

ROOT = Path(__file__).resolve().parent.parent
TEAM = (ROOT / "tests" / "rotas" / "team.yaml").read_text()
NIGHT = NIGHT_ROTA


def call(api: Api, method: str, path: str, token: str | None, body: Any = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return api.http.request(method, f"{api.base}{path}", json=body, headers=headers, timeout=10)


def forbidden(r: requests.Response, role: str) -> bool:
    """A 403 that names the role needed, in English and French (`message`: the caller's)."""
    body = r.json()
    return (r.status_code == 403 and body["error"] == "forbidden" and body["role_needed"] == role
            and "this needs" in body["messages"]["en"] and "réservé à" in body["messages"]["fr"]
            and body["message"] in body["messages"].values())


def sync(folder: Path, team: str = TEAM, night: bool = True) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "team.yaml").write_text(team)
    if night:
        (folder / "night.yaml").write_text(NIGHT)
    directory.sync(rotas.load_dir(folder))


@pytest.fixture()
def who(api: Api) -> dict[str, str]:
    """An API token for each person of team.yaml."""
    return {p: tokens.create(p, "roles") for p in ("alice", "bob", "carol", "dan")}


def override(layer: str, person: str, replaces: str | None = None) -> dict[str, Any]:
    now = clock.now()
    return {"layer": layer, "person": person, "replaces": replaces, "start": clock.iso(now - 60),
            "end": clock.iso(now + 3600)}


def on_call(api: Api, token: str, rota: str = "support") -> dict[str, str]:
    r = call(api, "GET", f"/v1/rotas/{rota}/oncall", token)
    assert r.status_code == 200, r.text
    return {layer["layer"]: layer["on_call"]["id"] for layer in r.json()["layers"]}


# ---------------------------------------------------------------- integration keys

def test_integration_keys_are_for_admins_only(api: Api, who: dict[str, str]) -> None:
    path = "/v1/services/helpdesk/integrations"
    body = {"source": "pagerduty", "label": "roles"}
    for person in ("alice", "dan"):  # an agent, and a manager who is not an admin
        assert forbidden(call(api, "GET", path, who[person]), "admin")
        assert forbidden(call(api, "POST", path, who[person], body), "admin")
    made = call(api, "POST", path, who["carol"], body)
    assert made.status_code == 201, made.text
    [key] = call(api, "GET", path, who["carol"]).json()["integrations"]
    for person in ("alice", "dan"):
        assert forbidden(call(api, "POST", f"{path}/{key['id']}/rotate", who[person]), "admin")
        assert forbidden(call(api, "DELETE", f"{path}/{key['id']}", who[person]), "admin")
    assert call(api, "GET", path, who["carol"]).json()["integrations"] == [key]  # untouched
    assert call(api, "DELETE", f"{path}/{key['id']}", who["carol"]).status_code == 204


# ---------------------------------------------------------------- overrides

def test_an_agent_cannot_put_herself_in_the_manager_layer(api: Api, who: dict[str, str]) -> None:
    r = call(api, "POST", "/v1/rotas/support/overrides", who["alice"], override("manager", "alice", "carol"))
    assert forbidden(r, "manager") and "'manager'" in r.json()["messages"]["en"]
    assert on_call(api, who["alice"])["manager"] == "carol"
    # Nor put someone else on call, even in her own layer.
    assert forbidden(call(api, "POST", "/v1/rotas/support/overrides", who["alice"],
                          override("agent", "bob", "alice")), "manager")
    # In a layer she holds, for herself, she may.
    r = call(api, "POST", "/v1/rotas/support/overrides", who["alice"], override("agent", "alice"))
    assert r.status_code == 201, r.text


def test_a_manager_swaps_people_in_the_team_and_only_there(api: Api, who: dict[str, str],
                                                           tmp_path: Path) -> None:
    sync(tmp_path / "rotas")
    paul = tokens.create("paul", "roles")
    r = call(api, "POST", "/v1/rotas/support/overrides", who["dan"], override("manager", "bob", "carol"))
    assert r.status_code == 201, r.text
    assert on_call(api, who["alice"])["manager"] == "bob"
    r = call(api, "POST", "/v1/rotas/support/overrides", paul, override("agent", "olga", "alice"))
    assert forbidden(r, "manager")
    assert forbidden(call(api, "POST", "/v1/rotas/night/overrides", who["dan"], override("agent", "alice")),
                     "manager")
    r = call(api, "POST", "/v1/rotas/night/overrides", who["carol"], override("manager", "alice", "paul"))
    assert r.status_code == 201, r.text  # an admin, anywhere
    assert on_call(api, paul, "night")["manager"] == "alice"


def test_an_override_is_removed_by_its_author_its_person_or_a_manager(api: Api, who: dict[str, str]) -> None:
    def make() -> str:
        r = call(api, "POST", "/v1/rotas/support/overrides", who["dan"], override("agent", "bob", "alice"))
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    first = make()
    assert forbidden(call(api, "DELETE", f"/v1/rotas/support/overrides/{first}", who["alice"]), "manager")
    assert on_call(api, who["alice"])["agent"] == "bob"  # still there
    assert call(api, "DELETE", f"/v1/rotas/support/overrides/{first}", who["bob"]).status_code == 204
    assert on_call(api, who["alice"])["agent"] == "alice"
    assert call(api, "DELETE", f"/v1/rotas/support/overrides/{first}", who["bob"]).status_code == 404
    assert call(api, "DELETE", f"/v1/rotas/support/overrides/{make()}", who["dan"]).status_code == 204
    assert call(api, "DELETE", f"/v1/rotas/support/overrides/{make()}", who["carol"]).status_code == 204


# ---------------------------------------------------------------- feeds

def test_feeds_your_own_for_everyone_the_teams_for_managers(api: Api, who: dict[str, str],
                                                            tmp_path: Path) -> None:
    sync(tmp_path / "rotas")
    paul = tokens.create("paul", "roles")
    own = call(api, "POST", "/v1/feeds", who["alice"], {"person": "alice"})
    assert own.status_code == 201, own.text
    assert call(api, "POST", "/v1/feeds/rotate", who["alice"], {"person": "alice"}).status_code == 201
    for body in ({"person": "bob"}, {"rota": "support"}):
        assert forbidden(call(api, "POST", "/v1/feeds", who["alice"], body), "manager")
        assert forbidden(call(api, "POST", "/v1/feeds/rotate", who["alice"], body), "manager")
    made = call(api, "POST", "/v1/feeds", who["dan"], {"person": "bob"})
    assert made.status_code == 201, made.text
    assert call(api, "POST", "/v1/feeds", who["dan"], {"rota": "support"}).status_code == 201
    assert forbidden(call(api, "POST", "/v1/feeds", paul, {"rota": "support"}), "manager")
    assert forbidden(call(api, "POST", "/v1/feeds", who["dan"], {"person": "olga"}), "manager")
    assert call(api, "POST", "/v1/feeds", who["carol"], {"rota": "night"}).status_code == 201

    # Revoking: Alice may not revoke the feed Dan made for Bob; Bob may (it shows him).
    token = made.json()["token"]
    assert forbidden(call(api, "DELETE", f"/v1/feeds/{token}", who["alice"]), "manager")
    assert api.http.get(made.json()["url"], timeout=10).status_code == 200
    assert call(api, "DELETE", f"/v1/feeds/{token}", who["bob"]).status_code == 204
    assert api.http.get(made.json()["url"], timeout=10).status_code == 404


# ---------------------------------------------------------------- phone numbers

def test_phone_numbers_are_masked_outside_the_rota(api: Api, who: dict[str, str], tmp_path: Path) -> None:
    sync(tmp_path / "rotas")
    paul = tokens.create("paul", "roles")

    def phones(token: str) -> dict[str, str]:
        r = call(api, "GET", "/v1/rotas", token)
        assert r.status_code == 200, r.text
        return {layer["on_call"]["id"]: layer["on_call"]["phone"] for rota in r.json()["rotas"]
                for layer in rota["layers"] if layer["on_call"]}

    seen = phones(who["alice"])
    assert seen["carol"] == "+33600000003" and seen["bob"] == "+447700900002"  # her own rota
    assert seen["olga"] == "+33 6•• •• •• 11" and seen["paul"] == "+33 6•• •• •• 12"
    assert "+33611111111" not in call(api, "GET", "/v1/rotas/night/oncall", who["alice"]).text
    seen = phones(paul)
    assert seen["olga"] == "+33611111111" and seen["alice"] == "+33 6•• •• •• 01"
    assert seen["bob"] == "+44 7• •• •• •• 02"
    assert "+33611111111" in call(api, "GET", "/v1/rotas/night/oncall", who["carol"]).text  # the admin
    assert phones(who["carol"])["paul"] == "+33611111112"


# ---------------------------------------------------------------- API tokens

def test_tokens_are_listed_made_by_admins_and_revoked_by_id(api: Api, who: dict[str, str]) -> None:
    second = tokens.create("alice", "laptop")
    mine = call(api, "GET", "/v1/tokens", who["alice"])
    assert mine.status_code == 200, mine.text
    listed = mine.json()["tokens"]
    assert {t["person"] for t in listed} == {"alice"} and {t["label"] for t in listed} == {"roles", "laptop"}
    assert second not in mine.text and all(len(t["id"]) == 12 and not t["expired"] for t in listed)
    assert forbidden(call(api, "GET", "/v1/tokens?person=bob", who["alice"]), "admin")
    everyone = {t["person"] for t in call(api, "GET", "/v1/tokens", who["carol"]).json()["tokens"]}
    assert {"alice", "bob", "carol", "dan"} <= everyone
    bobs_tokens = call(api, "GET", "/v1/tokens?person=bob", who["carol"]).json()["tokens"]
    assert {t["person"] for t in bobs_tokens} == {"bob"}

    # Making one: admins only, 90 days by default, a year at most.
    body = {"person": "bob", "label": "script"}
    assert forbidden(call(api, "POST", "/v1/tokens", who["dan"], body), "admin")
    assert forbidden(call(api, "POST", "/v1/tokens", who["bob"], body), "admin")
    made = call(api, "POST", "/v1/tokens", who["carol"], body)
    assert made.status_code == 201, made.text
    days = (clock.parse_iso(made.json()["expires_at"]) - clock.now()) / 86400
    assert made.json()["person"] == "bob" and 89.9 < days <= 90
    assert made.json()["created_by"] == "carol"
    assert call(api, "GET", "/v1/rotas", made.json()["token"]).status_code == 200
    for bad in (0, 366, "30", True):
        r = call(api, "POST", "/v1/tokens", who["carol"], {**body, "expires_in_days": bad})
        assert r.status_code == 400 and "expires_in_days" in r.json()["message"], bad
    assert call(api, "POST", "/v1/tokens", who["carol"], {"person": "zed"}).status_code == 400

    # Revoking by id: your own, or anyone's for an admin.
    bobs = made.json()["id"]
    # Another's id is as unknown to Alice as an id that exists nowhere: no oracle.
    assert call(api, "DELETE", f"/v1/tokens/{bobs}", who["alice"]).status_code == 404
    assert call(api, "DELETE", f"/v1/tokens/{'f' * 12}", who["alice"]).status_code == 404
    assert call(api, "GET", "/v1/rotas", made.json()["token"]).status_code == 200
    assert call(api, "DELETE", f"/v1/tokens/{bobs[:8]}", who["carol"]).status_code == 200
    r = call(api, "GET", "/v1/rotas", made.json()["token"])
    assert r.status_code == 401 and r.json()["error"] == "unauthorised"
    assert call(api, "DELETE", f"/v1/tokens/{bobs}", who["carol"]).status_code == 404
    assert call(api, "DELETE", f"/v1/tokens/{bobs[:4]}", who["carol"]).status_code == 404  # too short
    laptop = next(t["id"] for t in listed if t["label"] == "laptop")
    gone = call(api, "DELETE", f"/v1/tokens/{laptop}", who["alice"])
    assert gone.status_code == 200 and gone.json()["revoked"]["label"] == "laptop"
    assert call(api, "GET", "/v1/rotas", second).status_code == 401
    assert call(api, "GET", "/v1/rotas", who["alice"]).status_code == 200  # her other one still works


def test_an_expired_token_is_refused_saying_so(api: Api, who: dict[str, str]) -> None:
    made = call(api, "POST", "/v1/tokens", who["carol"], {"person": "alice", "expires_in_days": 2})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert call(api, "GET", "/v1/rotas", token).status_code == 200
    clock.advance(2 * 86400 + 60)
    r = call(api, "GET", "/v1/rotas", token)
    assert r.status_code == 401 and r.json()["error"] == "token_expired"
    assert "expired" in r.json()["message"] and "expiré" in r.json()["message"]
    assert api.act(1, "acknowledge", token=token).status_code == 401  # every route, not only rotas
    entry = call(api, "GET", "/v1/tokens?person=alice", who["carol"]).json()["tokens"]
    assert [t["expired"] for t in entry if t["id"] == made.json()["id"]] == [True]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chalicelib.cli", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_tokens_from_the_cli(api: Api, who: dict[str, str]) -> None:
    made = cli("token", "bob", "--label", "cron", "--days", "7")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert call(api, "GET", "/v1/rotas", token).status_code == 200
    listed = cli("token", "list", "bob")
    assert listed.returncode == 0, listed.stderr
    [cron] = [t for t in json.loads(listed.stdout) if t["label"] == "cron"]
    assert cron["person"] == "bob" and cron["created_by"] == "cli"
    assert 6.9 < (clock.parse_iso(cron["expires_at"]) - clock.now()) / 86400 <= 7
    assert {t["person"] for t in json.loads(cli("token", "list").stdout)} >= {"alice", "bob", "carol", "dan"}
    assert cli("token", "bob", "--days", "400").returncode == 1
    assert cli("token", "zed").returncode == 1

    unused = cli("token", "bob", "--label", "unused").stdout.strip()
    [entry] = [t for t in json.loads(cli("token", "list", "bob").stdout) if t["label"] == "unused"]
    revoked = cli("token", "revoke", entry["id"])
    assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
    assert call(api, "GET", "/v1/rotas", unused).status_code == 401
    assert cli("token", "revoke", entry["id"]).returncode == 1


# ---------------------------------------------------------------- offboarding

def test_a_person_removed_from_the_rotas_loses_tokens_and_feeds_at_sync(api: Api, who: dict[str, str],
                                                                          tmp_path: Path) -> None:
    from chalicelib.store import ApiToken, FeedToken

    own = call(api, "POST", "/v1/feeds", who["bob"], {"person": "bob"}).json()
    made = call(api, "POST", "/v1/feeds", who["carol"], {"rota": "support"}).json()
    assert call(api, "GET", "/v1/rotas", who["bob"]).status_code == 200
    assert [t["person"] for t in tokens.listing("bob")] == ["bob"]

    # Bob leaves: his person entry goes, Carol takes his layer.
    start, end = TEAM.index("  - id: bob\n"), TEAM.index("  - id: carol\n")
    team = (TEAM[:start] + TEAM[end:]).replace("referent: {participants: [bob]",
                                               "referent: {participants: [carol]")
    sync(tmp_path / "rotas", team, night=False)
    assert "bob" not in directory.bundle()["people"]

    r = call(api, "GET", "/v1/rotas", who["bob"])
    assert r.status_code == 401 and r.json()["error"] == "unauthorised"
    assert tokens.listing("bob") == []
    assert list(ApiToken.query("TOKENS", ApiToken.sk.startswith("bob#"))) == []
    assert list(FeedToken.query("FEEDS#person#bob")) == []
    assert api.http.get(own["url"], timeout=10).status_code == 404
    assert api.http.get(made["url"], timeout=10).status_code == 200  # another's feed stays
    assert call(api, "GET", "/v1/rotas", who["alice"]).status_code == 200


def test_a_token_for_someone_not_in_the_rotas_does_not_work(api: Api) -> None:
    ghost = tokens.create("zed", "ghost")  # as a token left from before someone was removed
    r = call(api, "GET", "/v1/rotas", ghost)
    assert r.status_code == 401 and r.json()["error"] == "unauthorised"


def test_a_manager_reads_the_reports_of_their_own_teams_only(api: Api, who: dict[str, str],
                                                           tmp_path: Path) -> None:
    night_team = NIGHT + """teams:
  - {id: night, name: Night, rotas: [night], managers: [paul]}
  - {id: support, name: Support, rotas: [support], managers: [carol]}
"""
    sync(tmp_path / "rotas", night=False)
    (tmp_path / "rotas" / "night.yaml").write_text(night_team)
    directory.sync(rotas.load_dir(tmp_path / "rotas"))
    paul = tokens.create("paul", "reports")

    payroll = call(api, "GET", "/v1/reports/astreinte", paul)
    assert payroll.status_code == 200, payroll.text
    assert {p["person"] for p in payroll.json()["people"]} == {"olga", "paul"}  # no one of support
    everyone = call(api, "GET", "/v1/reports/astreinte", who["carol"]).json()["people"]  # an admin
    assert {"alice", "olga"} <= {p["person"] for p in everyone}
    for path in ("/v1/reports/fairness?team=support", "/v1/reports/coverage?team=support"):
        r = call(api, "GET", path, paul)
        assert r.status_code == 403 and "support" in r.json()["message"], (path, r.text)
    fairness = call(api, "GET", "/v1/reports/fairness", paul).json()
    assert [t["team"] for t in fairness["teams"]] == ["night"]
    assert call(api, "GET", "/v1/reports/coverage", paul).json()["team"] == "night"

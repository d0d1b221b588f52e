"""Who may do what (chalicelib.access), decided over rotas read from YAML: no server.

The example rotas of rotas/ (a support team managed by Fanny and Nora, Fanny also admin)
plus a second team, `night`, so that a manager of one team is seen not to manage the other.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import NIGHT_ROTA

from chalicelib import access
from chalicelib.model import Bundle
from chalicelib.rotas import load as rotas

ROOT = Path(__file__).resolve().parent.parent
NIGHT = NIGHT_ROTA + """teams:
  - {id: night, name: Night, rotas: [night], managers: [paul]}
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    folder = tmp_path_factory.mktemp("rotas")
    for f in (ROOT / "rotas").glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    (folder / "night.yaml").write_text(NIGHT)
    return rotas.load_dir(folder)


def refused(b: Bundle, person: str, action: str, target: access.Target | None = None) -> str | None:
    found = access.refusal(b, person, action, target)
    return None if found is None else found.needed


def test_roles_come_from_the_rotas(bundle: Bundle) -> None:
    assert access.role_of(bundle, "alice") == access.RESPONDER
    assert access.role_of(bundle, "nora") == access.MANAGER  # a team's `managers:`
    assert access.role_of(bundle, "fanny") == access.ADMIN  # roles: [manager, admin]
    assert access.role_of(bundle, "paul") == access.MANAGER
    assert access.role_of(bundle, "zed") is None
    assert access.managed_teams(bundle, "nora") == {"support"}
    assert access.managed_teams(bundle, "paul") == {"night"}
    assert access.managed_teams(bundle, "alice") == set()


def test_a_direction_role_manages_the_teams_its_person_is_in(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "rotas", tmp_path / "rotas")
    people = tmp_path / "rotas" / "people.yaml"
    people.write_text(people.read_text().replace("email: gilles.moreau@example.fr,",
                                                 "email: gilles.moreau@example.fr, roles: [direction],"))
    b = rotas.load_dir(tmp_path / "rotas")
    assert access.role_of(b, "gilles") == access.MANAGER
    assert access.managed_teams(b, "gilles") == {"support"}  # he is in its direction layer
    assert refused(b, "gilles", access.OVERRIDE_CREATE,
                   {"rota": "support", "layer": "manager", "person": "alice"}) is None


def test_everyone_acts_on_incidents_and_reads_rotas_but_reports_are_for_managers(bundle: Bundle) -> None:
    for person in ("alice", "nora", "fanny"):
        assert access.may(bundle, person, access.INCIDENT_ACT)
        assert access.may(bundle, person, access.ROTA_READ)
    assert refused(bundle, "alice", access.REPORT_READ) == access.MANAGER
    assert refused(bundle, "nora", access.REPORT_READ) is None
    assert refused(bundle, "fanny", access.REPORT_READ) is None
    assert refused(bundle, "zed", access.ROTA_READ) == access.RESPONDER  # not (or no longer) in rotas/


def test_integration_keys_and_making_tokens_are_for_admins(bundle: Bundle) -> None:
    for action in (access.INTEGRATION_MANAGE, access.TOKEN_CREATE):
        assert refused(bundle, "alice", action, {"person": "alice"}) == access.ADMIN
        assert refused(bundle, "nora", action, {"person": "nora"}) == access.ADMIN
        assert refused(bundle, "fanny", action, {"person": "alice"}) is None
    assert refused(bundle, "alice", access.TOKEN_MANAGE, {"person": "alice"}) is None  # list, revoke her own
    assert refused(bundle, "nora", access.TOKEN_MANAGE, {"person": "alice"}) == access.ADMIN
    assert refused(bundle, "fanny", access.TOKEN_MANAGE, {"person": "alice"}) is None


def test_an_agent_overrides_only_herself_and_only_in_a_layer_she_holds(bundle: Bundle) -> None:
    mine: access.Target = {"rota": "support", "layer": "permanence", "person": "alice"}
    assert refused(bundle, "alice", access.OVERRIDE_CREATE, mine) is None
    assert refused(bundle, "alice", access.OVERRIDE_CREATE, {**mine, "layer": "manager"}) == access.MANAGER
    assert refused(bundle, "alice", access.OVERRIDE_CREATE, {**mine, "person": "chloe"}) == access.MANAGER
    assert refused(bundle, "olga", access.OVERRIDE_CREATE, mine | {"person": "olga"}) == access.MANAGER
    # Managers put anyone in their team's rotas, not another team's; admins anywhere.
    assert refused(bundle, "nora", access.OVERRIDE_CREATE, {**mine, "layer": "manager"}) is None
    assert refused(bundle, "paul", access.OVERRIDE_CREATE, mine) == access.MANAGER
    assert refused(bundle, "fanny", access.OVERRIDE_CREATE,
                   {"rota": "night", "layer": "manager", "person": "alice"}) is None


def test_an_override_is_removed_by_its_author_its_person_or_a_manager(bundle: Bundle) -> None:
    override: access.Target = {"rota": "support", "person": "chloe", "created_by": "hugo"}
    assert refused(bundle, "hugo", access.OVERRIDE_DELETE, override) is None
    assert refused(bundle, "chloe", access.OVERRIDE_DELETE, override) is None
    assert refused(bundle, "alice", access.OVERRIDE_DELETE, override) == access.MANAGER
    assert refused(bundle, "nora", access.OVERRIDE_DELETE, override) is None
    assert refused(bundle, "paul", access.OVERRIDE_DELETE, override) == access.MANAGER
    assert refused(bundle, "fanny", access.OVERRIDE_DELETE, {**override, "rota": "night"}) is None


def test_feeds_own_for_everyone_the_teams_for_its_managers(bundle: Bundle) -> None:
    assert refused(bundle, "alice", access.FEED_MANAGE, {"person": "alice"}) is None
    assert refused(bundle, "alice", access.FEED_MANAGE, {"person": "bob"}) == access.MANAGER
    assert refused(bundle, "alice", access.FEED_MANAGE, {"rota": "support"}) == access.MANAGER
    assert refused(bundle, "nora", access.FEED_MANAGE, {"rota": "support"}) is None
    assert refused(bundle, "nora", access.FEED_MANAGE, {"person": "bob"}) is None
    assert refused(bundle, "nora", access.FEED_MANAGE, {"person": "olga"}) == access.MANAGER
    assert refused(bundle, "paul", access.FEED_MANAGE, {"rota": "support"}) == access.MANAGER
    assert refused(bundle, "fanny", access.FEED_MANAGE, {"rota": "night"}) is None
    # Revoking: also a feed you made, even of someone else.
    made: access.Target = {"person": "bob", "created_by": "alice"}
    assert refused(bundle, "alice", access.FEED_REVOKE, made) is None
    assert refused(bundle, "alice", access.FEED_MANAGE, made) == access.MANAGER
    assert refused(bundle, "hugo", access.FEED_REVOKE, made) == access.MANAGER


def test_phone_numbers_for_the_same_rota_its_managers_and_admins(bundle: Bundle) -> None:
    phone = "+33611111111"
    assert access.phone_for(bundle, "olga", "olga", phone) == phone
    assert access.phone_for(bundle, "paul", "olga", phone) == phone  # same rota, and her manager
    assert access.phone_for(bundle, "fanny", "olga", phone) == phone  # admin
    assert access.phone_for(bundle, "alice", "olga", phone) == "+33 6•• •• •• 11"
    assert access.phone_for(bundle, "nora", "olga", phone) == "+33 6•• •• •• 11"  # another team's manager
    assert access.phone_for(bundle, "alice", "bob", "+447700900002") == "+447700900002"
    assert access.phone_for(bundle, "alice", "olga", None) is None


@pytest.mark.parametrize("phone, masked", [
    ("+33600000001", "+33 6•• •• •• 01"),
    ("+447700900002", "+44 7• •• •• •• 02"),
    ("+1555123", "+15 5•• 23"),
    ("12345", "•••45"),
])
def test_a_masked_number_keeps_its_country_first_digit_and_last_two(phone: str, masked: str) -> None:
    assert access.mask_phone(phone) == masked


def test_a_refusal_names_the_role_in_english_and_french(bundle: Bundle) -> None:
    found = access.refusal(bundle, "alice", access.INTEGRATION_MANAGE)
    assert found is not None
    assert "this needs an admin" in found.message() and "réservé à un·e admin" in found.message()
    found = access.refusal(bundle, "alice", access.OVERRIDE_CREATE,
                           {"rota": "support", "layer": "manager", "person": "alice"})
    assert found is not None and "layer 'manager'" in found.message()
    assert "niveau « manager »" in found.message()

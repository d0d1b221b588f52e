"""The published JSON Schema (rotas/schema.json) accepts what the service accepts."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "rotas" / "schema.json").read_text())
FILES = sorted((ROOT / "rotas").glob("*.yaml")) + sorted((ROOT / "tests" / "rotas").glob("*.yaml"))


def _doc(text: str) -> dict:
    # As an editor sees YAML: dates and times are strings.
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_rota_file_in_the_repo_follows_the_schema(path: Path) -> None:
    errors = list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(_doc(path.read_text())))
    assert errors == [], [e.message for e in errors]
    assert "yaml-language-server: $schema=" in path.read_text().splitlines()[0] or "tests" in path.parts


@pytest.mark.parametrize("text,complaint", [
    ("people: [{id: ann, notify: [{channel: fax}]}]", "'fax' is not one of"),
    ("people: [{id: ann, phone: '0612'}]", "does not match"),
    ("rotas: [{id: r, layers: {agent: {participants: [ann], shift: fortnightly}}}]", "is not valid"),
    ("rotas: [{id: r, layers: {agent: {participants: [ann], handoff: '25:00'}}}]", "does not match"),
    ("policies: [{id: p, steps: [{targets: [{team: x}]}]}]", "is not valid"),
    ("services: [{id: s, policies: {critique: p}}]", "'default' is a required property"),
])
def test_mistakes_an_editor_flags(text: str, complaint: str) -> None:
    errors = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(_doc(text))]
    errors += [c.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(_doc(text))
               for c in (e.context or [])]
    assert any(complaint in m for m in errors), errors


def test_service_maintenance_and_support_hours_follow_the_schema() -> None:
    text = """
services:
  - id: s
    policies: {default: p}
    maintenance: [{start: "2027-02-01T22:00", end: "2027-02-02T02:00", reason: upgrade}]
    support_hours: {timezone: Europe/Paris, hours: [{days: [weekdays], from: "09:00", to: "18:00"}],
                    defer: [moyen, faible]}
"""
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(_doc(text))) == []


def test_the_schema_offers_exactly_the_channels_of_the_registry() -> None:
    """An editor completing `channel:` must offer what rotas-check accepts (the registry)."""
    from chalicelib.notify import channels

    assert sorted(SCHEMA["$defs"]["channel"]["enum"]) == sorted(channels.names())

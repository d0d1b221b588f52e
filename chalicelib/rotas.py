"""Rotas as code: read rotas/*.yaml into one validated bundle, and say who is on call.

The bundle is plain data (dicts and lists) so it can be stored as one DynamoDB item and
cached per container; `on_call` is a pure function of that data and an instant.
Minimal support for the paging loop: layers rotate participants daily, weekly or every
N days at a handoff time in the rota's time zone, with overrides.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

SEVERITIES = ("critique", "eleve", "moyen", "faible")
CHANNELS = ("sms", "voice", "slack")
LANGUAGES = ("fr", "en")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 60}


class RotaError(ValueError):
    """Every problem found in rotas/, each naming its file and field."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def parse_duration(value: Any) -> float:
    """'30s', '5m', '2h', '1d' or a bare number of minutes -> seconds."""
    m = _DURATION.match(str(value).strip())
    if not m:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 2h)")
    return float(m.group(1)) * _UNITS[m.group(2)]


def load_dir(path: str | Path) -> dict[str, Any]:
    """Read every *.yaml under path and return the validated bundle (or raise RotaError)."""
    merged: dict[str, dict[str, Any]] = {"people": {}, "rotas": {}, "policies": {}, "services": {}}
    origin: dict[str, str] = {}
    problems: list[str] = []
    for file in sorted(Path(path).glob("*.yaml")):
        try:
            doc = yaml.safe_load(file.read_text()) or {}
        except yaml.YAMLError as exc:
            problems.append(f"{file.name}: not valid YAML: {exc}")
            continue
        for section, items in doc.items():
            if section not in merged:
                problems.append(f"{file.name}: unknown section '{section}'")
                continue
            for i, item in enumerate(items or []):
                where = f"{file.name}: {section}[{i}]"
                if not isinstance(item, dict) or not _ID.match(str(item.get("id", ""))):
                    problems.append(f"{where}.id: missing or not a lowercase id")
                    continue
                if item["id"] in merged[section]:
                    problems.append(f"{where}.id: '{item['id']}' already defined in "
                                    f"{origin[section + item['id']]}")
                merged[section][item["id"]] = item
                origin[section + item["id"]] = where
    bundle = _validate(merged, origin, problems)
    if problems:
        raise RotaError(problems)
    return bundle


def digest(bundle: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(bundle, sort_keys=True).encode()).hexdigest()


def _validate(raw: dict[str, dict[str, Any]], origin: dict[str, str],
              problems: list[str]) -> dict[str, Any]:
    people: dict[str, Any] = {}
    for pid, p in raw["people"].items():
        where = origin["people" + pid]
        lang = p.get("language", "fr")
        if lang not in LANGUAGES:
            problems.append(f"{where}.language: '{lang}' is not one of fr, en")
        phone = p.get("phone")
        if phone is not None and not _E164.match(str(phone)):
            problems.append(f"{where}.phone: '{phone}' is not an E.164 number like +33612345678")
        rules = []
        for j, rule in enumerate(p.get("notify") or [{"channel": "sms"}]):
            ch = rule.get("channel")
            if ch not in CHANNELS:
                problems.append(f"{where}.notify[{j}].channel: '{ch}' is not one of "
                                + ", ".join(CHANNELS))
                continue
            if ch in ("sms", "voice") and not phone:
                problems.append(f"{where}.notify[{j}]: channel {ch} needs a phone number")
            if ch == "slack" and not p.get("slack"):
                problems.append(f"{where}.notify[{j}]: channel slack needs a slack user id")
            sevs = [_severity(s) for s in rule.get("severities", SEVERITIES)]
            if None in sevs:
                problems.append(f"{where}.notify[{j}].severities: unknown severity")
            rules.append({"channel": ch, "after": _duration(rule.get("after", 0), where, problems),
                          "severities": [s for s in sevs if s]})
        people[pid] = {"id": pid, "name": p.get("name", pid), "language": lang,
                       "timezone": p.get("timezone", "Europe/Paris"), "phone": phone,
                       "slack": p.get("slack"), "email": p.get("email"), "notify": rules}

    rotas: dict[str, Any] = {}
    for rid, r in raw["rotas"].items():
        where = origin["rotas" + rid]
        tz = r.get("timezone", "Europe/Paris")
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(f"{where}.timezone: unknown time zone '{tz}'")
            tz = "UTC"
        layers = {}
        for name, layer in (r.get("layers") or {}).items():
            lw = f"{where}.layers.{name}"
            members = layer.get("participants") or []
            if not members:
                problems.append(f"{lw}.participants: empty")
            for m in members:
                if m not in people:
                    problems.append(f"{lw}.participants: unknown person '{m}'")
            shift = str(layer.get("shift", "weekly"))
            days = {"daily": 1, "weekly": 7}.get(shift)
            if days is None:
                m = re.match(r"^(\d+)d$", shift)
                days = int(m.group(1)) if m else None
            if not days:
                problems.append(f"{lw}.shift: '{shift}' is not daily, weekly or Nd")
                days = 7
            try:
                handoff = time.fromisoformat(str(layer.get("handoff", "09:00")))
                start = date.fromisoformat(str(layer.get("start", "2026-01-05")))
            except ValueError as exc:
                problems.append(f"{lw}: {exc}")
                handoff, start = time(9), date(2026, 1, 5)
            overrides = []
            for k, o in enumerate(layer.get("overrides") or []):
                if o.get("person") not in people:
                    problems.append(f"{lw}.overrides[{k}].person: unknown person '{o.get('person')}'")
                try:
                    overrides.append({"person": o.get("person"),
                                      "start": _instant(o["start"], tz),
                                      "end": _instant(o["end"], tz)})
                except (KeyError, ValueError) as exc:
                    problems.append(f"{lw}.overrides[{k}]: needs start and end dates ({exc})")
            layers[name] = {"participants": members, "days": days, "handoff": handoff.isoformat(),
                            "start": start.isoformat(), "overrides": overrides}
        rotas[rid] = {"id": rid, "name": r.get("name", rid), "timezone": tz, "layers": layers}

    policies: dict[str, Any] = {}
    for pol_id, pol in raw["policies"].items():
        where = origin["policies" + pol_id]
        steps = []
        for i, step in enumerate(pol.get("steps") or []):
            sw = f"{where}.steps[{i}]"
            targets = []
            for t in step.get("targets") or []:
                target = _target(t, people, rotas, sw, problems)
                if target:
                    targets.append(target)
            if not targets:
                problems.append(f"{sw}.targets: no target")
            channels = step.get("channels")
            if channels and any(c not in CHANNELS for c in channels):
                problems.append(f"{sw}.channels: one of {channels} is not sms, voice or slack")
            steps.append({"targets": targets, "delay": _duration(step.get("delay", "5m"), sw, problems),
                          "channels": channels})
        if not steps:
            problems.append(f"{where}.steps: a policy needs at least one step")
        policies[pol_id] = {"id": pol_id, "name": pol.get("name", pol_id), "steps": steps,
                            "repeat": int(pol.get("repeat", 0))}

    services: dict[str, Any] = {}
    for sid, svc in raw["services"].items():
        where = origin["services" + sid]
        chosen = {}
        for sev, pol_id in (svc.get("policies") or {}).items():
            key = "default" if sev == "default" else _severity(sev)
            if key is None:
                problems.append(f"{where}.policies: unknown severity '{sev}'")
            elif pol_id not in raw["policies"]:
                problems.append(f"{where}.policies.{sev}: unknown escalation policy '{pol_id}'")
            else:
                chosen[key] = pol_id
        if "default" not in chosen:
            problems.append(f"{where}.policies.default: a service needs a default policy")
        keys = []
        for k, integ in enumerate(svc.get("integrations") or []):
            h = str(integ.get("key_sha256", ""))
            if not re.match(r"^[0-9a-f]{64}$", h):
                problems.append(f"{where}.integrations[{k}].key_sha256: not a sha256 hex digest")
            keys.append({"type": integ.get("type", "pagerduty"), "key_sha256": h})
        services[sid] = {"id": sid, "name": svc.get("name", sid), "policies": chosen,
                         "integrations": keys}
    return {"people": people, "rotas": rotas, "policies": policies, "services": services}


def _severity(value: Any) -> str | None:
    from .severity import normalise

    return normalise(str(value))


def _duration(value: Any, where: str, problems: list[str]) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
        return 0.0


def _instant(value: Any, tz: str) -> float:
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(tz))
    return dt.timestamp()


def _target(t: Any, people: dict, rotas: dict, where: str, problems: list[str]) -> dict | None:
    if isinstance(t, dict) and "rota" in t:
        rota = rotas.get(t["rota"])
        if rota is None:
            problems.append(f"{where}.targets: unknown rota '{t['rota']}'")
        elif t.get("layer") not in rota["layers"]:
            problems.append(f"{where}.targets: rota '{t['rota']}' has no layer '{t.get('layer')}'")
        else:
            return {"rota": t["rota"], "layer": t["layer"]}
    elif isinstance(t, dict) and "person" in t:
        if t["person"] not in people:
            problems.append(f"{where}.targets: unknown person '{t['person']}'")
        else:
            return {"person": t["person"]}
    elif isinstance(t, dict) and "slack_channel" in t:
        return {"slack_channel": str(t["slack_channel"])}
    else:
        problems.append(f"{where}.targets: {t!r} is not rota+layer, person or slack_channel")
    return None


def on_call(rota: dict[str, Any], layer_name: str, at: float) -> str | None:
    """Who holds layer `layer_name` of `rota` at instant `at` (epoch seconds)."""
    layer = rota["layers"].get(layer_name)
    if not layer or not layer["participants"]:
        return None
    for o in layer["overrides"]:
        if o["start"] <= at < o["end"]:
            return o["person"]
    tz = ZoneInfo(rota["timezone"])
    local = datetime.fromtimestamp(at, tz)
    handoff = time.fromisoformat(layer["handoff"])
    day = (local.date() - date.fromisoformat(layer["start"])).days
    if local.time() < handoff:
        day -= 1  # before today's handoff, yesterday's shift still runs
    shift = day // layer["days"]
    return layer["participants"][shift % len(layer["participants"])]


def shift_bounds(rota: dict[str, Any], layer_name: str, at: float) -> tuple[float, float]:
    """The current shift's start and end instants (for notices and the iCal feeds)."""
    layer = rota["layers"][layer_name]
    tz = ZoneInfo(rota["timezone"])
    local = datetime.fromtimestamp(at, tz)
    handoff = time.fromisoformat(layer["handoff"])
    start = date.fromisoformat(layer["start"])
    day = (local.date() - start).days - (1 if local.time() < handoff else 0)
    first = start + timedelta(days=(day // layer["days"]) * layer["days"])
    begin = datetime.combine(first, handoff, tz)
    end = datetime.combine(first + timedelta(days=layer["days"]), handoff, tz)
    return begin.timestamp(), end.timestamp()

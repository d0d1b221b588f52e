"""Rotas as code: read rotas/*.yaml and validate it into one bundle, naming each problem
with its file and line.

The bundle is plain data (dicts and lists, typed in chalicelib.rotas.model) so it can be
stored as one DynamoDB item and cached per container; chalicelib.rotas.shifts answers "who
is on call" from it.  No I/O but reading the directory given.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

import yaml

from .. import clock, hashing
from ..intake import options as option_rules
from ..model import Bundle
from ..notify import channels
from ..severity import normalise
from ..text import clean, clean_tree
from . import shifts
from .messages import MESSAGE_PLACEHOLDERS, template_problems

SEVERITIES = ("critique", "eleve", "moyen", "faible")
LANGUAGES = ("fr", "en")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


class RotaError(ValueError):
    """Every problem found in rotas/, each naming its file and field."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


parse_duration = clock.parse_duration


def load_dir(path: str | Path) -> Bundle:
    """Read every *.yaml under path and return the validated bundle (or raise RotaError)."""
    merged: dict[str, dict[str, Any]] = {"people": {}, "rotas": {}, "policies": {}, "services": {},
                                         "teams": {}}
    origin: dict[str, str] = {}
    problems: list[str] = []
    lines: dict[str, dict[str, int]] = {}
    for file in sorted(Path(path).glob("*.yaml")):
        try:
            text = file.read_text()
            doc = yaml.safe_load(text) or {}
            lines[file.name] = _line_index(yaml.compose(text))
        except yaml.YAMLError as exc:
            problems.append(f"{file.name}: not valid YAML: {exc}")
            continue
        if not isinstance(doc, dict):
            problems.append(f"{file.name}: expected sections people, rotas, policies, services")
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
                name = item.get("name")
                if name is not None and (not isinstance(name, str) or not name.strip()
                                         or clean(name) != name or "\n" in name or "\t" in name):
                    problems.append(f"{where}.name: one line of text, without control characters "
                                    f"(it is shown in pages, calendars and CSV) / une seule ligne de texte")
                item = clean_tree(item)
                if item["id"] in merged[section]:
                    problems.append(f"{where}.id: '{item['id']}' already defined in "
                                    f"{origin[section + item['id']]}")
                merged[section][item["id"]] = item
                origin[section + item["id"]] = where
    bundle = _validate(merged, origin, problems)
    _check_coverage(bundle, origin, problems)
    if problems:
        raise RotaError([_with_line(p, lines) for p in problems])
    return cast(Bundle, bundle)


def _line_index(node: Any, path: str = "", out: dict[str, int] | None = None) -> dict[str, int]:
    """'rotas[0].layers.agent.participants' -> its line number, for error messages."""
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = f"{path}.{key.value}" if path else str(key.value)
            out[sub] = key.start_mark.line + 1
            _line_index(value, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _line_index(value, f"{path}[{i}]", out)
    return out


def _with_line(problem: str, lines: dict[str, dict[str, int]]) -> str:
    """'x.yaml: people[0].phone: ...' -> 'x.yaml:12: people[0].phone: ...'."""
    file, _, rest = problem.partition(": ")
    index = lines.get(file)
    if not index:
        return problem
    path = rest.split(":", 1)[0].split(" ", 1)[0]
    while path and path not in index:  # the deepest part of the path the file has
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return f"{file}:{index[path]}: {rest}" if path else problem


def _check_coverage(bundle: dict[str, Any], origin: dict[str, str], problems: list[str],
                    days: int = 90) -> None:
    """A rota's `around_the_clock` layers must leave nobody-on-call gaps nowhere."""
    now = clock.now()
    for rid, rota in bundle["rotas"].items():
        names = rota.get("around_the_clock") or []
        if not names or any(n not in rota["layers"] for n in names):
            continue
        covered = sorted((s.start, s.end) for n in names
                         for s in shifts.shifts(rota, n, now, now + days * 86400))
        cursor = now
        for start, end in covered + [(now + days * 86400, now + days * 86400)]:
            if start > cursor + 1:
                problems.append(f"{origin['rotas' + rid]}.around_the_clock: gap where nobody in "
                                f"{'/'.join(names)} is on call from {clock.iso(cursor)} "
                                f"to {clock.iso(start)}")
                break
            cursor = max(cursor, end)


def digest(bundle: Mapping[str, Any]) -> str:
    return hashing.sha256_hex(json.dumps(bundle, sort_keys=True))


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
        email = p.get("email")
        if email is not None and not _EMAIL.match(str(email)):
            problems.append(f"{where}.email: '{email}' is not an email address like alice@example.org")
        rules = []
        for j, rule in enumerate(p.get("notify") or [{"channel": "sms"}]):
            ch = rule.get("channel")
            if ch not in channels.REGISTRY:
                problems.append(f"{where}.notify[{j}].channel: '{ch}' is not one of "
                                + ", ".join(channels.names()))
                continue
            channel = channels.REGISTRY[ch]
            if channel.address(p) is None:
                problems.append(f"{where}.notify[{j}]: channel {ch} needs {channel.needs_label}")
            sevs = [_severity(s) for s in rule.get("severities", SEVERITIES)]
            if None in sevs:
                problems.append(f"{where}.notify[{j}].severities: unknown severity")
            rules.append({"channel": ch, "after": _duration(rule.get("after", 0), where, problems),
                          "severities": [s for s in sevs if s]})
        zone = str(p.get("timezone", "Europe/Paris"))
        if not clock.known_zone(zone):  # their pages' and answers' times
            problems.append(f"{where}.timezone: unknown time zone '{zone}'")
            zone = "Europe/Paris"
        people[pid] = {"id": pid, "name": p.get("name", pid), "language": lang,
                       "timezone": zone, "phone": phone,
                       "slack": p.get("slack"), "email": p.get("email"), "notify": rules,
                       "roles": [str(r) for r in p.get("roles") or []]}

    rotas: dict[str, Any] = {}
    for rid, r in raw["rotas"].items():
        where = origin["rotas" + rid]
        tz = r.get("timezone", "Europe/Paris")
        if not clock.known_zone(tz):
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
            layers[name] = {"participants": members, **_layer_fields(layer, lw, tz, people, problems)}
        country = r.get("holidays", "FR")
        if country is False:  # YAML 1.1 reads an unquoted NO (Norway) as false
            country = "NO"
        if country not in (None, "none"):
            country = str(country).upper()
            try:
                shifts.holidays_of(str(country), 2026)
            except (NotImplementedError, KeyError):
                problems.append(f"{where}.holidays: unknown country code '{country}' (e.g. FR, BE, DE)")
        else:
            country = None
        around = [str(n) for n in r.get("around_the_clock") or []]
        for n in around:
            if n not in layers:
                problems.append(f"{where}.around_the_clock: no layer '{n}' in this rota")
        notice = r.get("handoff_notice") or {}
        handoff_notice = {"before": _duration(notice.get("before", 0), f"{where}.handoff_notice.before",
                                              problems),
                          "slack_channel": notice.get("slack_channel")}
        rotas[rid] = {"id": rid, "name": r.get("name", rid), "timezone": tz, "layers": layers,
                      "holidays": country, "around_the_clock": around, "handoff_notice": handoff_notice}

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
            chosen = step.get("channels")
            if chosen and any(c not in channels.REGISTRY for c in chosen):
                problems.append(f"{sw}.channels: one of {chosen} is not " + ", ".join(channels.names()))
            steps.append({"targets": targets, "delay": _duration(step.get("delay", "5m"), sw, problems),
                          "channels": chosen})
        if not steps:
            problems.append(f"{where}.steps: a policy needs at least one step")
        policies[pol_id] = {"id": pol_id, "name": pol.get("name", pol_id), "steps": steps,
                            "repeat": int(pol.get("repeat", 0)), "sla": _sla(pol, where, problems)}

    services: dict[str, Any] = {}
    hotline_numbers: dict[str, str] = {}
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
            kind = integ.get("type", "pagerduty")
            if kind not in option_rules.SOURCES:
                problems.append(f"{where}.integrations[{k}].type: '{kind}' is not one of "
                                f"{', '.join(option_rules.SOURCES)}")
            else:
                problems += [f"{where}.integrations[{k}].{p}"
                             for p in option_rules.problems(kind, integ.get("options"))]
            keys.append({"type": kind, "key_sha256": h, "options": integ.get("options") or {}})
        services[sid] = {"id": sid, "name": svc.get("name", sid), "policies": chosen,
                         "team": svc.get("team"),
                         "integrations": keys, "maintenance": _maintenance(svc, where, problems),
                         "support_hours": _support_hours(svc, where, people, problems),
                         "hotline": _hotline(svc, where, raw["policies"], hotline_numbers, problems),
                         "customer_messages": _customer_messages(svc, where, problems)}
    bundle = {"people": people, "rotas": rotas, "policies": policies, "services": services}
    bundle["teams"] = _teams(raw["teams"], origin, bundle, problems)
    return bundle


def _sla(pol: dict[str, Any], where: str, problems: list[str]) -> dict[str, dict[str, float]]:
    """Targets per severity, e.g. critique: {acknowledge: 5m, resolve: 4h}; reports count breaches."""
    out: dict[str, dict[str, float]] = {}
    for sev, targets in (pol.get("sla") or {}).items():
        key = _severity(sev)
        if key is None or not isinstance(targets, dict):
            problems.append(f"{where}.sla: '{sev}' is not a severity with acknowledge/resolve targets")
            continue
        for what, value in targets.items():
            if what not in ("acknowledge", "resolve"):
                problems.append(f"{where}.sla.{sev}.{what}: only acknowledge and resolve have targets")
                continue
            out.setdefault(key, {})[what] = _duration(value, f"{where}.sla.{sev}.{what}", problems)
    return out


def _teams(raw: dict[str, Any], origin: dict[str, str], bundle: dict[str, Any],
           problems: list[str]) -> dict[str, Any]:
    """Teams: whose rotas they staff, who manages them, and the working calendar reports use
    (office hours, night hours, rest).  Without a `teams` section each rota is a team whose
    managers are its `manager` layer."""
    people, rotas = bundle["people"], bundle["rotas"]
    if not raw:
        raw = {rid: {"id": rid, "name": r["name"], "rotas": [rid],
                     "managers": [p for p in r["layers"].get("manager", {}).get("participants", [])
                                  if p in people]}
               for rid, r in rotas.items()}
        origin = {**origin, **{"teams" + rid: f"rotas {rid}" for rid in raw}}
    teams: dict[str, Any] = {}
    for tid, t in raw.items():
        where = origin["teams" + tid]
        own = [str(r) for r in t.get("rotas") or ([tid] if tid in rotas else [])]
        for r in own:
            if r not in rotas:
                problems.append(f"{where}.rotas: unknown rota '{r}'")
        own = [r for r in own if r in rotas]
        for m in t.get("managers") or []:
            if m not in people:
                problems.append(f"{where}.managers: unknown person '{m}'")
        tz = str(t.get("timezone") or (rotas[own[0]]["timezone"] if own else "Europe/Paris"))
        if not clock.known_zone(tz):
            problems.append(f"{where}.timezone: unknown time zone '{tz}'")
            tz = "Europe/Paris"
        office = t.get("office_hours") or [{"days": ["weekdays"], "from": "09:00", "to": "18:00"}]
        night = t.get("night") or {}
        threshold = t.get("out_of_hours_threshold", 5)
        if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 100:
            problems.append(f"{where}.out_of_hours_threshold: '{threshold}' is not a percentage")
            threshold = 5
        members = sorted({p for r in own for layer in rotas[r]["layers"].values()
                          for p in [*layer["participants"], *(o["person"] for o in layer["overrides"])]})
        teams[tid] = {
            "id": tid, "name": t.get("name", tid), "rotas": own, "members": members,
            "managers": [str(m) for m in t.get("managers") or [] if m in people],
            "timezone": tz, "holidays": rotas[own[0]]["holidays"] if own else "FR",
            "office_hours": _windows(office, f"{where}.office_hours", problems),
            "night": {"from": _checked_hhmm(night.get("from", "22:00"), f"{where}.night.from", problems),
                      "to": _checked_hhmm(night.get("to", "07:00"), f"{where}.night.to", problems)},
            "rest": _duration(t.get("rest", "11h"), f"{where}.rest", problems),
            "intervention_cap": _duration(t.get("intervention_cap", "4h"), f"{where}.intervention_cap",
                                          problems),
            "out_of_hours_threshold": float(threshold) / 100,
            "slack_channel": t.get("slack_channel"),
        }
    for sid, svc in bundle["services"].items():
        if svc["team"] is not None and svc["team"] not in teams:
            problems.append(f"{origin['services' + sid]}.team: unknown team '{svc['team']}'")
        if svc["team"] not in teams:
            svc["team"] = _team_of_service(svc, bundle["policies"], teams)
    return teams


def _team_of_service(svc: dict[str, Any], policies: dict[str, Any], teams: dict[str, Any]) -> str | None:
    """The team whose rota the service's default policy pages first."""
    policy = policies.get(svc["policies"].get("default", ""))
    for step in (policy or {}).get("steps", []):
        for target in step["targets"]:
            for tid, team in teams.items():
                if target.get("rota") in team["rotas"]:
                    return tid
    return None


def _checked_hhmm(value: Any, where: str, problems: list[str]) -> str:
    text = _hhmm(value)
    if not _HHMM.match(text):
        problems.append(f"{where}: '{text}' is not a time like 22:00")
        return "00:00"
    return text


_PATTERN = re.compile(r"^(\d+)\s*on\s*/?\s*(\d+)\s*off$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
_FULL_DAYS = {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday",
              "fri": "friday", "sat": "saturday", "sun": "sunday"}
_DAY_GROUPS = {"weekdays": ["mon", "tue", "wed", "thu", "fri"], "weekend": ["sat", "sun"],
               "everyday": ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]}


def _hhmm(value: Any) -> str:
    """A time as written; YAML 1.1 reads an unquoted 18:00 as the number 1080 (base 60)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
        return f"{value // 60:02d}:{value % 60:02d}"
    return str(value)


def _pattern(shift: Any) -> list[int] | None:
    """weekly, daily, 3d, '4on3off' or [4, 3] -> shift lengths in days, cycling."""
    if isinstance(shift, list):
        return [int(n) for n in shift] if shift and all(isinstance(n, int) and n > 0 for n in shift) \
            else None
    text = str(shift).strip().lower()
    if text in ("daily", "weekly"):
        return [1 if text == "daily" else 7]
    m = re.match(r"^(\d+)d$", text) or _PATTERN.match(text)
    if not m:
        return None
    days = [int(g) for g in m.groups()]
    return days if all(days) else None


def _layer_fields(layer: dict[str, Any], lw: str, tz: str, people: dict[str, Any],
                  problems: list[str]) -> dict[str, Any]:
    pattern = _pattern(layer.get("shift", "weekly"))
    if pattern is None:
        problems.append(f"{lw}.shift: '{layer.get('shift')}' is not daily, weekly, Nd, "
                        "a pattern like 4on3off, or a list of days like [4, 3]")
        pattern = [7]
    handoff = _hhmm(layer.get("handoff", "09:00"))
    if not _HHMM.match(handoff) or handoff == "24:00":
        problems.append(f"{lw}.handoff: '{handoff}' is not a time like 09:00")
        handoff = "09:00"
    try:
        start = date.fromisoformat(str(layer.get("start", "2026-01-05"))).isoformat()
    except ValueError:
        problems.append(f"{lw}.start: '{layer.get('start')}' is not a date like 2026-01-05")
        start = "2026-01-05"
    restrictions = _windows(layer.get("restrictions") or [], f"{lw}.restrictions", problems)
    overrides: list[dict[str, Any]] = []
    for k, o in enumerate(layer.get("overrides") or []):
        ow = f"{lw}.overrides[{k}]"
        for role in ("person", "replaces"):
            if (o.get(role) is not None or role == "person") and o.get(role) not in people:
                problems.append(f"{ow}.{role}: unknown person '{o.get(role)}'")
        try:
            item = {"person": o.get("person"), "start": _instant(o["start"], tz),
                    "end": _instant(o["end"], tz), "replaces": o.get("replaces")}
        except (KeyError, ValueError) as exc:
            problems.append(f"{ow}: needs start and end dates like 2026-12-24T18:00 ({exc})")
            continue
        if item["end"] <= item["start"]:
            problems.append(f"{ow}: ends before it starts")
        for j, other in enumerate(overrides):
            if other["start"] < item["end"] and item["start"] < other["end"] \
                    and other["replaces"] == item["replaces"]:
                problems.append(f"{ow}: overlaps overrides[{j}] of the same layer")
        overrides.append(item)
    zone = str(layer.get("timezone", tz))  # follow-the-sun: a layer may keep its own hours
    if not clock.known_zone(zone):
        problems.append(f"{lw}.timezone: unknown time zone '{zone}'")
        zone = tz
    return {"timezone": zone, "pattern": pattern, "handoff": handoff, "start": start,
            "restrictions": restrictions,
            "overrides": overrides, "covered": bool(layer.get("covered", not restrictions))}



def _windows(rules: list[Any], where: str, problems: list[str]) -> list[dict[str, Any]]:
    """Day-of-week windows such as {days: [weekdays], from: "18:00", to: "09:00"}: layer
    restrictions and a team's office hours."""
    windows = []
    for k, rule in enumerate(rules):
        rw = f"{where}[{k}]"
        if not isinstance(rule, dict):
            problems.append(f"{rw}: expected days, from and to")
            continue
        days: list[str] = []
        for given in rule.get("days") or _DAY_GROUPS["everyday"]:
            word = str(given).lower()
            short = word if word in _DAY_GROUPS or word == "holiday" else word[:3]
            if short in _DAY_GROUPS:
                days += _DAY_GROUPS[short]
            elif short in _DAY_GROUPS["everyday"] and word in (short, _FULL_DAYS.get(short)):
                days.append(short)
            else:
                problems.append(f"{rw}.days: '{given}' is not a day (mon..sun, weekdays, weekend, holiday)")
        window: dict[str, Any] = {"days": sorted(set(days)), "from": _hhmm(rule.get("from", "00:00")),
                                  "to": _hhmm(rule.get("to", "24:00"))}
        for edge in ("from", "to"):
            if not _HHMM.match(window[edge]):
                problems.append(f"{rw}.{edge}: '{window[edge]}' is not a time like 18:00")
                window[edge] = "00:00"
        windows.append(window)
    return windows

def _maintenance(svc: dict[str, Any], where: str, problems: list[str]) -> list[dict[str, Any]]:
    """Windows when the service's events are kept but nobody is paged."""
    tz = str(svc.get("timezone", "Europe/Paris"))
    out = []
    for k, w in enumerate(svc.get("maintenance") or []):
        try:
            start, end = _instant(w["start"], tz), _instant(w["end"], tz)
        except (KeyError, TypeError, ValueError) as exc:
            problems.append(f"{where}.maintenance[{k}]: needs start and end like 2026-12-01T22:00 ({exc})")
            continue
        if end <= start:
            problems.append(f"{where}.maintenance[{k}]: ends before it starts")
        out.append({"start": start, "end": end, "reason": str(w.get("reason", ""))})
    return out


def _support_hours(svc: dict[str, Any], where: str, people: dict[str, Any],
                   problems: list[str]) -> dict[str, Any] | None:
    """As PagerDuty's support hours: outside them, the `defer` severities wait for them.

    Kept as a one-layer rota (the hours are its restrictions) so rotation answers
    "are we in support hours" and "when do they start" with the same rules as rotas."""
    hours = svc.get("support_hours")
    if not hours:
        return None
    sw = f"{where}.support_hours"
    tz = str(hours.get("timezone", "Europe/Paris"))
    if not clock.known_zone(tz):
        problems.append(f"{sw}.timezone: unknown time zone '{tz}'")
        tz = "Europe/Paris"
    defer = [_severity(x) for x in hours.get("defer", ["moyen", "faible"])]
    if None in defer:
        problems.append(f"{sw}.defer: unknown severity")
    layer = _layer_fields({"restrictions": hours.get("hours") or [], "shift": "daily", "handoff": "00:00"},
                          f"{sw}.hours", tz, people, problems)
    country = hours.get("holidays", "FR")
    return {"defer": [d for d in defer if d],
            "rota": {"id": "support-hours", "timezone": tz, "holidays": None if country in (None, "none")
                     else str(country).upper(), "layers": {"hours": {**layer, "participants": ["open"]}}}}


HOTLINE_KEYS = tuple("12345678")  # 9 switches the language; 0, * and # are not menu keys


def _hotline(svc: dict[str, Any], where: str, policies: dict[str, Any], numbers: dict[str, str],
             problems: list[str]) -> dict[str, Any] | None:
    """The service's support number (chalicelib.hotline): its menu of reasons, each ringing
    the people of a policy in order (or straight to voicemail), in one or more languages."""
    hotline = svc.get("hotline")
    if hotline is None:
        return None
    hw = f"{where}.hotline"
    if not isinstance(hotline, dict):
        problems.append(f"{hw}: expected number, languages and menu")
        return None
    number = str(hotline.get("number", ""))
    if not _E164.match(number):
        problems.append(f"{hw}.number: '{number}' is not an E.164 number like +33912345678")
    elif number in numbers:
        problems.append(f"{hw}.number: {number} is already the hotline of {numbers[number]}")
    else:
        numbers[number] = hw
    forward = hotline.get("office_forward")
    if forward is not None and not _E164.match(str(forward)):
        problems.append(f"{hw}.office_forward: '{forward}' is not an E.164 number like +33112345678")
    languages = hotline.get("languages") or ["fr", "en"]
    if not isinstance(languages, list) or any(lang not in LANGUAGES for lang in languages) \
            or len(set(languages)) != len(languages):
        problems.append(f"{hw}.languages: {languages!r} is not a list of distinct languages among fr, en")
        languages = ["fr"]
    ring_given = hotline.get("ring_seconds", 20)
    ring = float(ring_given) if isinstance(ring_given, (int, float)) and not isinstance(ring_given, bool) \
        else _duration(ring_given, f"{hw}.ring_seconds", problems)  # a bare number is seconds here
    if not 5 <= ring <= 120:
        problems.append(f"{hw}.ring_seconds: {ring:g} s; a phone rings between 5 and 120 seconds")
    transcription = hotline.get("voicemail_transcription", False)
    if not isinstance(transcription, bool):
        problems.append(f"{hw}.voicemail_transcription: true or false")
    menu: list[dict[str, Any]] = []
    raw_menu = hotline.get("menu")
    if not isinstance(raw_menu, list) or not raw_menu:
        problems.append(f"{hw}.menu: a hotline needs a menu of at least one reason")
        raw_menu = []
    for k, item in enumerate(raw_menu):
        mw = f"{hw}.menu[{k}]"
        if not isinstance(item, dict):
            problems.append(f"{mw}: expected key, label and policy (or voicemail: true)")
            continue
        key = str(item.get("key", ""))
        if key == "9":
            problems.append(f"{mw}.key: 9 is reserved for the language switch")
        elif key not in HOTLINE_KEYS:
            problems.append(f"{mw}.key: '{key}' is not a key from 1 to 8")
        elif any(m["key"] == key for m in menu):
            problems.append(f"{mw}.key: duplicate key {key}")
        label = item.get("label")
        if isinstance(label, str):
            label = {lang: label for lang in languages}
        if not isinstance(label, dict) or any(not isinstance(label.get(lang), str) or not label[lang].strip()
                                              for lang in languages):
            problems.append(f"{mw}.label: needs a text for each language ({', '.join(languages)})")
            label = {lang: key for lang in languages}
        policy, voicemail = item.get("policy"), item.get("voicemail", False)
        if voicemail is not True and policy is None:
            problems.append(f"{mw}: needs a policy (who is rung) or voicemail: true")
        elif voicemail is True and policy is not None:
            problems.append(f"{mw}: a policy or voicemail: true, not both")
        elif policy is not None and policy not in policies:
            problems.append(f"{mw}.policy: unknown escalation policy '{policy}'")
        menu.append({"key": key, "label": {str(lang): str(text) for lang, text in label.items()},
                     "policy": None if voicemail is True else policy, "voicemail": voicemail is True})
    return {"number": number, "languages": languages, "office_forward": forward, "ring_seconds": ring,
            "voicemail_transcription": transcription is True, "menu": menu}


def _customer_messages(svc: dict[str, Any], where: str, problems: list[str]) -> dict[str, Any] | None:
    """The service's customer message templates, French and English (chalicelib.ticketing);
    a message not given is the built-in one."""
    given = svc.get("customer_messages")
    if given is None:
        return None
    cw = f"{where}.customer_messages"
    if not isinstance(given, dict):
        problems.append(f"{cw}: expected {', '.join(MESSAGE_PLACEHOLDERS)}, each with fr and en")
        return None
    messages: dict[str, dict[str, str]] = {}
    for kind, texts in given.items():
        kw = f"{cw}.{kind}"
        if kind not in MESSAGE_PLACEHOLDERS:
            problems.append(f"{kw}: unknown message; one of {', '.join(MESSAGE_PLACEHOLDERS)}")
            continue
        if not isinstance(texts, dict):
            problems.append(f"{kw}: expected a text per language ({', '.join(LANGUAGES)})")
            continue
        for lang in texts:
            if lang not in LANGUAGES:
                problems.append(f"{kw}.{lang}: unknown language; one of {', '.join(LANGUAGES)}")
        for lang in LANGUAGES:
            if lang not in texts:
                problems.append(f"{kw}.{lang}: missing; every message needs {' and '.join(LANGUAGES)} "
                                f"/ texte manquant")
                continue
            problems += [f"{kw}.{lang}: {p}" for p in template_problems(kind, texts[lang])]
        messages[kind] = {lang: str(texts.get(lang) or "") for lang in LANGUAGES}
    return messages


def _severity(value: Any) -> str | None:
    return normalise(str(value))


def _duration(value: Any, where: str, problems: list[str]) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
        return 0.0


def _instant(value: Any, tz: str) -> float:
    return clock.parse_iso(value, ZoneInfo(tz))


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

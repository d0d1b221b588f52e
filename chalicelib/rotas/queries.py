"""Who is on call, and a person's shifts: the rota questions the API and the CLI answer.

Answers for a `viewer` (the API's caller) show phone numbers only to whom chalicelib.access
allows (the same rota, its managers, admins); others see them masked.  The CLI passes none."""
from __future__ import annotations

from typing import Any

from .. import access, clock, errors
from . import directory, shifts

MAX_RANGE_DAYS = 400


def parse_instant(value: str | None, default: float | None = None, name: str = "at") -> float:
    """A query's ISO 8601 instant (with its zone), or `default` when it is not given."""
    if not value:
        if default is None:
            raise errors.BadRequest(f"'{name}' is required (ISO 8601, e.g. 2026-12-24T18:00:00+01:00)")
        return default
    try:
        return clock.parse_iso(value)
    except ValueError as exc:
        raise errors.BadRequest(f"'{name}' is not an ISO 8601 date-time with a time zone "
                                f"(Z or +01:00): {value!r}") from exc


def _person(pid: str | None, viewer: str | None = None) -> dict[str, Any] | None:
    if pid is None:
        return None
    b = directory.bundle()
    p = b["people"].get(pid, {"id": pid, "name": pid})
    phone = p.get("phone")
    if viewer is not None:
        phone = access.phone_for(b, viewer, pid, phone)
    return {"id": p["id"], "name": p["name"], "phone": phone, "slack": p.get("slack")}


def on_call(rota_id: str, at: float, viewer: str | None = None) -> dict[str, Any]:
    """Every layer of a rota at an instant, with when the current holder's shift ends; phone
    numbers as `viewer` may see them (all of them without a viewer)."""
    rota = directory.bundle()["rotas"].get(rota_id)
    if rota is None:
        raise errors.NotFound(f"there is no rota '{rota_id}'")
    layers = []
    for name in rota["layers"]:
        current = shifts.shifts(rota, name, at, at + 31 * 86400)
        holder = current[0] if current and current[0].start <= at else None
        layers.append({"layer": name, "on_call": _person(holder.person if holder else None, viewer),
                       "until": clock.iso(holder.end) if holder else None})
    return {"rota": rota_id, "name": rota["name"], "timezone": rota["timezone"], "at": clock.iso(at),
            "layers": layers}


def all_on_call(at: float, viewer: str | None = None) -> list[dict[str, Any]]:
    return [on_call(rid, at, viewer) for rid in directory.bundle()["rotas"]]


def person_shifts(pid: str, start: float, end: float) -> dict[str, Any]:
    b = directory.bundle()
    if pid not in b["people"]:
        raise errors.NotFound(f"there is no person '{pid}'")
    if end <= start or end - start > MAX_RANGE_DAYS * 86400:
        raise errors.BadRequest(f"'to' must be after 'from', at most {MAX_RANGE_DAYS} days later")
    found = [s for rota in b["rotas"].values() for name, layer in rota["layers"].items()
             if pid in layer["participants"] or any(o["person"] == pid for o in layer["overrides"])
             for s in shifts.shifts(rota, name, start, end) if s.person == pid]
    found.sort(key=lambda s: s.start)
    return {"person": pid, "from": clock.iso(start), "to": clock.iso(end),
            "shifts": [{"rota": s.rota, "layer": s.layer, "start": clock.iso(s.start),
                        "end": clock.iso(s.end)} for s in found]}

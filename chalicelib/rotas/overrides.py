"""Overrides made through the API (a swap: X covers for Y from t1 to t2).

Those written in rotas/*.yaml travel with the bundle; these live in DynamoDB so a swap
at 3 a.m. needs no git push.  chalicelib.rotas.directory merges both into the bundle.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import DoesNotExist

from .. import access, clock, errors
from ..store import OverrideItem
from . import directory


class BadOverride(errors.BadRequest):
    """An override that does not fit its rota (layer, people, times)."""


Check = Callable[[access.Target], None]  # raises when the caller may not (chalicelib.routes.access)


def create(rota_id: str, body: dict[str, Any], by: str, check: Check | None = None) -> dict[str, Any]:
    """Store a valid override; `check` sees what it is about (rota, layer, person) before."""
    b = directory.bundle()
    rota = b["rotas"].get(rota_id)
    if rota is None:
        raise errors.NotFound(f"there is no rota '{rota_id}'")
    problems = []
    layer = body.get("layer")
    if not isinstance(layer, str) or layer not in rota["layers"]:
        problems.append(f"'layer' must be one of {', '.join(rota['layers'])}")
    for role in ("person", "replaces"):
        value = body.get(role)
        if (role == "person" or value is not None) and not (isinstance(value, str) and value in b["people"]):
            problems.append(f"'{role}' is not a person of the directory ({value!r})"[:200])
    try:
        start, end = _instant(body.get("start")), _instant(body.get("end"))
        if end <= start:
            problems.append("'end' must be after 'start'")
    except (TypeError, ValueError, OverflowError):
        problems.append("'start' and 'end' must be ISO 8601 date-times with a time zone, "
                        "e.g. 2026-12-24T18:00:00+01:00")
        start = end = 0.0
    if problems:
        raise BadOverride("; ".join(problems))
    if check is not None:
        check({"rota": rota_id, "layer": str(layer), "person": body["person"], "created_by": by})
    item = OverrideItem("OVERRIDES", f"{rota_id}#{secrets.token_hex(6)}", layer=layer,
                        person=body["person"], replaces=body.get("replaces"), start=start, end=end,
                        created_by=by, created_at=clock.now())
    item.save()
    directory.invalidate()
    return as_json(item)


def get(rota_id: str, override_id: str) -> OverrideItem | None:
    if not override_id or "#" in override_id:
        return None
    try:
        return OverrideItem.get("OVERRIDES", f"{rota_id}#{override_id}")
    except DoesNotExist:
        return None


def delete(rota_id: str, override_id: str, check: Check | None = None) -> bool:
    """False when there is no such override; `check` sees whose it is (rota, person,
    created_by) before it goes."""
    if check is not None:
        found = get(rota_id, override_id)
        if found is None:
            return False
        check({"rota": rota_id, "person": found.person, "created_by": found.created_by})
    try:
        OverrideItem("OVERRIDES", f"{rota_id}#{override_id}").delete(
            condition=OverrideItem.pk.exists())
    except Exception:  # noqa: BLE001 - a missing override is a 404 for the caller
        return False
    # A deletion leaves no override to date it: this marker tells the iCal feeds that the
    # rota changed, so their events' SEQUENCE rises (feeds.version).
    OverrideItem("OVERRIDES", "~changed", layer="-", person="-", start=0, end=0,
                 created_at=clock.now()).save()
    directory.invalidate()
    return True



def as_json(item: OverrideItem) -> dict[str, Any]:
    rota, _, oid = item.sk.partition("#")
    return {"id": oid, "rota": rota, "layer": item.layer,
            "person": item.person, "replaces": item.replaces, "start": clock.iso(item.start),
            "end": clock.iso(item.end), "created_by": item.created_by}


def _instant(value: Any) -> float:
    return clock.parse_iso(value)

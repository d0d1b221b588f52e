"""Overrides made through the API (a swap: X covers for Y from t1 to t2).

Those written in rotas/*.yaml travel with the bundle; these live in DynamoDB so a swap
at 3 a.m. needs no git push.  chalicelib.rotas.directory merges both into the bundle.
"""
from __future__ import annotations

import secrets
from typing import Any

from .. import clock, errors
from ..store import OverrideItem
from . import directory


class BadOverride(errors.BadRequest):
    """An override that does not fit its rota (layer, people, times)."""


def create(rota_id: str, body: dict[str, Any], by: str) -> dict[str, Any]:
    b = directory.bundle()
    rota = b["rotas"].get(rota_id)
    if rota is None:
        raise errors.NotFound(f"there is no rota '{rota_id}'")
    problems = []
    layer = body.get("layer")
    if layer not in rota["layers"]:
        problems.append(f"'layer' must be one of {', '.join(rota['layers'])}")
    for role in ("person", "replaces"):
        if (role == "person" or body.get(role) is not None) and body.get(role) not in b["people"]:
            problems.append(f"'{role}' is not a person of the directory ({body.get(role)!r})")
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
    item = OverrideItem("OVERRIDES", f"{rota_id}#{secrets.token_hex(6)}", layer=layer,
                        person=body["person"], replaces=body.get("replaces"), start=start, end=end,
                        created_by=by, created_at=clock.now())
    item.save()
    directory.invalidate()
    return as_json(item)


def delete(rota_id: str, override_id: str) -> bool:
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

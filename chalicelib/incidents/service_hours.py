"""When a service's incidents page: maintenance windows and support hours (pure)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..rotas import shifts


def maintenance_at(service: Mapping[str, Any], now: float) -> dict[str, Any] | None:
    """The maintenance window in force, if any: events are kept, nobody is paged."""
    return next((w for w in service.get("maintenance") or [] if w["start"] <= now < w["end"]), None)


def deferred_until(service: Mapping[str, Any], severity: str, now: float) -> float | None:
    """When support hours start, for a severity that waits for them outside hours; None
    when it pages now (in hours, a severity that never waits, or no support hours)."""
    hours = service.get("support_hours")
    if not hours or severity not in hours["defer"]:
        return None
    rota = hours["rota"]
    if shifts.on_call(rota, "hours", now) is not None:
        return None
    upcoming = shifts.shifts(rota, "hours", now, now + 15 * 86400)
    return upcoming[0].start if upcoming else None

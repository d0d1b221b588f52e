"""The synced rotas/ bundle, read from DynamoDB once per container and cached.

Rotas change by git push and sync, minutes apart; paging happens many times a minute.
So a warm Lambda reads the bundle at most once per ASTREINTE_CONFIG_TTL seconds, and the
lookups below (by integration key, phone number, Slack id) are dictionary reads.
"""
from __future__ import annotations

import hashlib
import time
from typing import Any

from pynamodb.exceptions import DoesNotExist

from . import clock, config, rotas
from .store import ConfigBundle

_cache: dict[str, Any] = {"bundle": None, "loaded": 0.0, "index": {}}


class NotConfigured(RuntimeError):
    """No rotas have been synced yet."""


def sync(bundle: dict[str, Any], dry_run: bool = False) -> dict[str, Any]:
    """Store the bundle if it changed; returns what differs (a dry run changes nothing)."""
    digest = rotas.digest(bundle)
    try:
        current = ConfigBundle.get("CONFIG", "bundle")
        old = current.body
        if current.digest == digest:
            return {"changed": False, "digest": digest, "diff": {}}
    except DoesNotExist:
        old = {"people": {}, "rotas": {}, "policies": {}, "services": {}}
    diff = {}
    for section in ("people", "rotas", "policies", "services"):
        before, after = old.get(section, {}), bundle[section]
        diff[section] = {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(k for k in set(after) & set(before) if after[k] != before[k]),
        }
    if not dry_run:
        ConfigBundle(digest=digest, body=bundle, synced_at=clock.now()).save()
        invalidate()
    return {"changed": True, "digest": digest, "diff": diff}


def invalidate() -> None:
    _cache.update(bundle=None, loaded=0.0, index={})


def bundle() -> dict[str, Any]:
    ttl = config.settings().config_ttl_seconds
    if _cache["bundle"] is None or time.monotonic() - _cache["loaded"] > ttl:
        try:
            body = ConfigBundle.get("CONFIG", "bundle").body
        except DoesNotExist as exc:
            raise NotConfigured("no rotas synced: run `make sync` (python -m chalicelib.cli sync)") from exc
        _merge_overrides(body)
        _cache.update(bundle=body, loaded=time.monotonic(), index=_index(body))
    return _cache["bundle"]


def _merge_overrides(body: dict[str, Any]) -> None:
    """Add the overrides made through the API to the layers they change."""
    from .overrides import all_items

    for item in all_items():
        rota_id = item.sk.partition("#")[0]
        layer = body["rotas"].get(rota_id, {}).get("layers", {}).get(item.layer)
        if layer is not None:
            layer["overrides"] = [*layer.get("overrides", []),
                                  {"person": item.person, "replaces": item.replaces,
                                   "start": float(item.start), "end": float(item.end)}]


def _index(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    idx: dict[str, dict[str, str]] = {"key": {}, "phone": {}, "slack": {}}
    for svc in body["services"].values():
        for integ in svc["integrations"]:
            idx["key"][integ["key_sha256"]] = svc["id"]
    for person in body["people"].values():
        if person.get("phone"):
            idx["phone"][person["phone"]] = person["id"]
        if person.get("slack"):
            idx["slack"][person["slack"]] = person["id"]
    return idx


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def service_for_key(routing_key: str) -> dict[str, Any] | None:
    b = bundle()
    sid = _cache["index"]["key"].get(hash_key(routing_key))
    return b["services"][sid] if sid else None


def person(pid: str) -> dict[str, Any] | None:
    return bundle()["people"].get(pid)


def name_of(pid: str) -> str:
    """The name people read (the id when the person is not, or no longer, in rotas/)."""
    found = person(pid)
    return found["name"] if found else pid


def person_by_phone(phone: str) -> dict[str, Any] | None:
    bundle()
    pid = _cache["index"]["phone"].get(phone)
    return person(pid) if pid else None


def person_by_slack(user_id: str) -> dict[str, Any] | None:
    bundle()
    pid = _cache["index"]["slack"].get(user_id)
    return person(pid) if pid else None


def policy_for(service: dict[str, Any], severity: str) -> dict[str, Any]:
    pol_id = service["policies"].get(severity) or service["policies"]["default"]
    return bundle()["policies"][pol_id]

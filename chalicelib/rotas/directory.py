"""The synced rotas/ bundle, read from DynamoDB once per container and cached.

Rotas change by git push and sync, minutes apart; paging happens many times a minute.
So a warm Lambda reads the bundle at most once per ASTREINTE_CONFIG_TTL seconds, with the
overrides made through the API merged in, and the lookups below (by integration key, phone
number, Slack id) are dictionary reads.
"""
from __future__ import annotations

import threading
from typing import Any

from cachetools import TTLCache
from pynamodb.exceptions import DoesNotExist

from .. import clock, config, errors, hashing
from ..model import Bundle, Person, Policy, Service
from ..store import ApiToken, ConfigBundle, FeedToken, OverrideItem

SECTIONS = ("people", "rotas", "policies", "services")
OVERRIDES_KEPT_DAYS = 90
_lock = threading.Lock()
_cache: TTLCache[str, tuple[Bundle, dict[str, dict[str, str]]]] = TTLCache(maxsize=1, ttl=30)


class NotConfigured(errors.Unavailable):
    """No rotas have been synced yet."""

    code = "not_configured"


def sync(bundle: Bundle, dry_run: bool = False) -> dict[str, Any]:
    """Store the bundle if it changed; returns what differs (a dry run changes nothing)."""
    from .load import digest  # (the loader and YAML: for syncs, not at every cold start)

    new_digest = digest(bundle)
    try:
        current = ConfigBundle.get("CONFIG", "bundle")
        old = current.body
        if current.digest == new_digest:
            return {"changed": False, "digest": new_digest, "diff": {}}
    except DoesNotExist:
        old = {section: {} for section in SECTIONS}
    diff = {}
    for section in SECTIONS:
        before, after = old.get(section, {}), bundle[section]  # type: ignore[literal-required]
        diff[section] = {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(k for k in set(after) & set(before) if after[k] != before[k]),
        }
    removed = diff["people"]["removed"]
    offboarded: dict[str, Any] = {"people": removed}
    if not dry_run:
        ConfigBundle(digest=new_digest, body=bundle, synced_at=clock.now()).save()
        invalidate()
        if removed:
            offboarded.update(_offboard(removed, [*old.get("people", {}), *bundle["people"]],
                                        [*old.get("rotas", {}), *bundle["rotas"]]))
    return {"changed": True, "digest": new_digest, "diff": diff, "offboarded": offboarded}


def _offboard(removed: list[str], people: list[str], rotas: list[str]) -> dict[str, int]:
    """Delete the API tokens and calendar feeds of people no longer in rotas/: their tokens,
    their person feeds, and every feed they made.  (Their tokens already stopped working when
    the bundle changed: chalicelib.tokens.person_for.)  The key layouts are those of
    chalicelib.tokens and chalicelib.rotas.feeds, which sit above or beside this module."""
    gone = set(removed)
    api_tokens = [item for pid in removed
                  for item in ApiToken.query("TOKENS", ApiToken.sk.startswith(f"{pid}#"))]
    targets = [f"FEEDS#person#{pid}" for pid in dict.fromkeys(people)] + \
              [f"FEEDS#rota#{rid}" for rid in dict.fromkeys(rotas)]
    feeds = [item for pk in targets for item in FeedToken.query(pk)
             if item.created_by in gone or (item.kind == "person" and item.target in gone)]
    with ApiToken.batch_write() as batch:  # batches of 25, retried until all are written
        for token in api_tokens:
            batch.delete(ApiToken("TOKEN#" + token.sk.partition("#")[2], "TOKEN"))
            batch.delete(token)
    with FeedToken.batch_write() as fbatch:
        for feed in feeds:
            fbatch.delete(FeedToken(f"FEED#{feed.sk}", "FEED"))
            fbatch.delete(feed)
    return {"api_tokens": len(api_tokens), "feeds": len(feeds)}


def invalidate() -> None:
    with _lock:
        _cache.clear()


def _loaded() -> tuple[Bundle, dict[str, dict[str, str]]]:
    ttl = config.settings().config_ttl_seconds
    with _lock:
        if _cache.ttl != ttl:  # tests and make run change it between stacks
            globals()["_cache"] = TTLCache(maxsize=1, ttl=ttl)
        hit = _cache.get("bundle")
    if hit is not None:
        return hit
    try:
        body: Bundle = ConfigBundle.get("CONFIG", "bundle").body
    except DoesNotExist as exc:
        raise NotConfigured("no rotas synced: run `make sync` (python -m chalicelib.cli sync) / "
                            "aucune astreinte synchronisée") from exc
    _merge_overrides(body)
    hit = (body, _index(body))
    with _lock:
        _cache["bundle"] = hit
    return hit


def bundle() -> Bundle:
    return _loaded()[0]


def _merge_overrides(body: Bundle) -> None:
    """Add the overrides made through the API (chalicelib.rotas.overrides) to their layers."""
    since = clock.now() - OVERRIDES_KEPT_DAYS * 86400
    for item in OverrideItem.query("OVERRIDES", filter_condition=OverrideItem.end > since):
        rota_id = item.sk.partition("#")[0]
        rota = body["rotas"].get(rota_id)
        layer = rota["layers"].get(item.layer) if rota else None
        if layer is not None:
            layer["overrides"] = [*layer.get("overrides", []),
                                  {"person": item.person, "replaces": item.replaces,
                                   "start": float(item.start), "end": float(item.end)}]


def _index(body: Bundle) -> dict[str, dict[str, str]]:
    idx: dict[str, dict[str, str]] = {"key": {}, "phone": {}, "slack": {}}
    for svc in body["services"].values():
        for integ in svc["integrations"]:
            idx["key"][integ["key_sha256"]] = svc["id"]
    for person in body["people"].values():
        for field in ("phone", "slack"):
            value = person.get(field)
            if isinstance(value, str) and value:
                idx[field][value] = person["id"]
    return idx


def service_for_key(routing_key: str) -> Service | None:
    return service_for_digest(hashing.sha256_hex(routing_key))


def service_for_digest(digest: str) -> Service | None:
    """The service whose integration key (declared in rotas/) hashes to `digest`."""
    b, idx = _loaded()
    sid = idx["key"].get(digest)
    return b["services"][sid] if sid else None


def person(pid: str) -> Person | None:
    return bundle()["people"].get(pid)


def name_of(pid: str) -> str:
    """The name people read (the id when the person is not, or no longer, in rotas/)."""
    found = person(pid)
    return found["name"] if found else pid


def language_of(pid: str) -> str | None:
    """The language the person reads (fr, en), None when they are not in rotas/."""
    found = person(pid)
    return found["language"] if found else None


def person_by(field: str, value: str) -> Person | None:
    """The person whose phone or slack id this is (how a reply is traced to someone)."""
    b, idx = _loaded()
    pid = idx.get(field, {}).get(value)
    return b["people"].get(pid) if pid else None


def person_by_phone(phone: str) -> Person | None:
    """The person of a phone number, as SMS gives it or WhatsApp (`whatsapp:+33…`)."""
    return person_by("phone", phone.removeprefix("whatsapp:"))


def person_by_slack(user_id: str) -> Person | None:
    return person_by("slack", user_id)


def policy_for(service: Service, severity: str) -> Policy:
    pol_id = service["policies"].get(severity) or service["policies"]["default"]
    return bundle()["policies"][pol_id]

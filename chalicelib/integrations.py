"""Integration keys (one per service and source) and the intake of every source.

A key is the credential a monitoring or ticketing tool puts in the URL it posts to:
POST /v1/integrations/<key>.  Keys are created, listed, rotated and revoked through the
API and the CLI and stored hashed; keys declared in rotas/ (services.integrations) work
too.  The key says which service the events are about and which format they come in.

Counted here, where the service decides (chalicelib.metrics): EventsAccepted, each event of
a post taken in; EventsRefused, each post refused (unknown key, invalid event, over the rate
limit).  A store that does not answer is not a refusal (503: the sender tries again).
"""
from __future__ import annotations

import contextlib
import importlib
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

from cachetools import TTLCache
from pynamodb.exceptions import DoesNotExist

from . import changes, clock, config, errors, hashing, incidents, metrics, ratelimit, ticketing
from .intake import Event, InvalidEvent, pagerduty
from .intake.options import problems as option_problems
from .intake.tickets import TOOLS
from .model import Service
from .rotas import directory
from .store import IntegrationKey, transaction

SOURCES = ("pagerduty", "alertmanager", "grafana", "cloudwatch", "zendesk", "jira", "freshdesk",
           "opsgenie", "generic", "heartbeat")
# The keys that may be a body's routing_key (/v2/enqueue, /v2/change/enqueue): PagerDuty's
# format.  A heartbeat key sits in every cron line and a ticketing key in a tool's webhook.
ROUTING_KEY_SOURCES = ("pagerduty", "generic")


class UnknownKey(errors.Forbidden):
    """The key in the URL is not (or no longer) an integration key."""

    code = "unknown_key"




def create(service: str, source: str, by: str | None = None, label: str = "",
           options: dict[str, Any] | None = None, check: bool = True) -> str:
    """A new key; its options are checked unless it replaces a key (rotate): a leaked key
    made before a check existed must still be replaceable."""
    if service not in directory.bundle()["services"]:
        raise InvalidEvent([f"there is no service '{service}'"])
    if source not in SOURCES:
        raise InvalidEvent([f"'source' must be one of {', '.join(SOURCES)}"])
    wrong = option_problems(source, options) if check else []
    if wrong:
        raise InvalidEvent(wrong)
    key = "ik_" + secrets.token_urlsafe(24)
    digest, now = hashing.sha256_hex(key), clock.now()
    fields: dict[str, Any] = dict(service=service, source=source, label=label or None,
                                  options=options or None, created_by=by, created_at=now)
    with transaction() as tx:
        tx.save(IntegrationKey(f"IKEY#{digest}", "IKEY", **fields),
                condition=IntegrationKey.pk.does_not_exist())
        tx.save(IntegrationKey(f"IKEYS#{service}", digest, **fields))
    return key


def listing(service: str) -> list[dict[str, Any]]:
    """The service's keys, by id (the first characters of the hash): never the key itself."""
    return [{"id": item.sk[:12], "source": item.source, "label": item.label,
             "created_at": clock.iso(item.created_at), "created_by": item.created_by}
            for item in IntegrationKey.query(f"IKEYS#{service}")]


def revoke(service: str, key_id: str) -> bool:
    found = find(service, key_id)
    if found is None:
        return False
    digest = found.sk
    with transaction() as tx:
        tx.delete(IntegrationKey(f"IKEY#{digest}", "IKEY"))
        tx.delete(IntegrationKey(f"IKEYS#{service}", digest))
    with _lock:
        _cache.pop(digest, None)
    return True


def find(service: str, key_id: str) -> IntegrationKey | None:
    """The one key of the service whose id (the first characters of its hash) this is."""
    found = [item for item in IntegrationKey.query(f"IKEYS#{service}") if item.sk.startswith(key_id)]
    return found[0] if len(found) == 1 and len(key_id) >= 8 else None


def rotate(service: str, key_id: str, by: str | None = None,
           before_revoke: Callable[[str, str], None] | None = None) -> str | None:
    """A new key with the same source and settings; the old one stops working.
    `before_revoke(old digest, new key)` runs while both work (a heartbeat moves its watch)."""
    old = find(service, key_id)
    if old is None:
        return None
    key = create(service, old.source, by, old.label or "", old.options, check=False)
    if before_revoke is not None:
        before_revoke(old.sk, key)
    revoke(service, old.sk)
    return key


CACHE_SECONDS = 10.0  # a revoked key stops working within this (per warm container)
Found = tuple[Service, str, dict[str, Any]]
_cache: TTLCache[str, Found | None] = TTLCache(maxsize=10_000, ttl=CACHE_SECONDS)
_lock = threading.Lock()  # cachetools caches are not thread-safe (the local server is threaded)
_UNKNOWN: Any = object()  # not looked up yet (None is a looked-up key that does not exist)


def lookup(key: str) -> Found:
    """(service, source, options) of a live key; UnknownKey otherwise."""
    digest = hashing.sha256_hex(key)
    with _lock:
        found = _cache.get(digest, _UNKNOWN)
    if found is _UNKNOWN:
        found = _find(key, digest)
        with _lock:
            _cache[digest] = found
    if found is None:
        raise UnknownKey("this integration key is unknown or revoked / "
                         "clé d'intégration inconnue ou révoquée")
    return found


def _find(key: str, digest: str) -> Found | None:
    service = directory.service_for_key(key)
    if service is not None:  # declared in rotas/
        integ = next(i for i in service["integrations"] if i["key_sha256"] == digest)
        return service, integ["type"], integ.get("options") or {}
    try:
        item = IntegrationKey.get(f"IKEY#{digest}", "IKEY")
    except DoesNotExist:
        return None
    svc = directory.bundle()["services"].get(item.service)
    return (svc, item.source, item.options or {}) if svc is not None else None


def accept(key: str, raw: bytes, headers: dict[str, str], source_only: str | None = None,
           parse: Callable[[dict[str, Any]], list[Event]] | None = None) -> dict[str, Any]:
    """Parse what a source posted, store and act on each event; the answer names them.

    source_only: refuse keys of any other source; parse: the route's own parser."""
    with _refusals_counted():
        service, source, options = lookup(key)
        if source_only is not None and source != source_only:
            raise UnknownKey(f"this is not the key of a {source_only} integration")
        if source == "heartbeat":
            raise InvalidEvent(["this key is a heartbeat: call /v1/heartbeats/<key>"])
        events: list[Event]
        if parse is not None:
            events = parse(options)
        else:
            module = importlib.import_module(f"chalicelib.intake.{source}")
            events = module.parse(raw, headers, options)
        # The limit counts events (one Alertmanager post may carry a whole group), so it is
        # taken once the post is read; a post that makes no event still counts as one.
        ratelimit.take(hashing.sha256_hex(key), options.get("rate_limit_per_minute"), max(1, len(events)))
    answer: dict[str, Any] = {"status": "accepted", "service": service["id"], "events": []}
    for event in events:
        action = event.pop("action")
        event.setdefault("via", source)
        if action == "trigger" and source in TOOLS and (ours := ticketing.own_echo(event)) is not None:
            # the ticketing tool telling us about the comment we just posted: nothing to page
            answer["events"].append({"action": action, "dedup_key": event["dedup_key"],
                                     "incident_number": ours, "new": False, "our_own_write": True})
        elif action == "trigger":
            inc, created = incidents.trigger(service, event)
            answer["events"].append({"action": action, "dedup_key": event["dedup_key"],
                                     "incident_number": inc.number, "new": created})
        else:
            outcome = incidents.source_event(service, event, action)
            answer["events"].append({"action": action, "dedup_key": event["dedup_key"],
                                     "incident_number": outcome.number if outcome else None})
        metrics.count("EventsAccepted")  # stored and acted on
    return answer


def live(digest: str) -> bool:
    """Whether a key (by its hash) still works, read now (no cache): the heartbeat sweeper
    asks before it pages anyone for a key that was revoked or rotated away."""
    if directory.service_for_digest(digest) is not None:  # declared in rotas/
        return True
    try:
        IntegrationKey.get(f"IKEY#{digest}", "IKEY", consistent_read=True)
    except DoesNotExist:
        return False
    return True


def enqueue(raw: bytes) -> dict[str, Any]:
    """PagerDuty's Events API v2 (POST /v2/enqueue): the key is in the body.  The answer is
    PagerDuty's 202 body; raises InvalidEvent naming each bad field."""
    with _refusals_counted():
        parsed = pagerduty.parse_event(raw)
        routing_key = parsed.pop("routing_key")
        event = cast(Event, parsed)
        service = _routing_key_service(routing_key)
        ratelimit.take(hashing.sha256_hex(routing_key))
    action = event.pop("action")
    answer: dict[str, Any] = {"status": "success", "message": "Event processed",
                              "dedup_key": event["dedup_key"]}
    if action == "trigger":
        inc, _ = incidents.trigger(service, event)
        answer["incident_number"] = inc.number  # ours, beyond PagerDuty's fields; clients ignore it
    else:
        outcome = incidents.source_event(service, event, action)
        if outcome is not None:
            answer["incident_number"] = outcome.number
    metrics.count("EventsAccepted")
    return answer


def change_event(raw: bytes) -> dict[str, Any]:
    """PagerDuty's change events (POST /v2/change/enqueue): the key in the body, as for
    enqueue; stored on the key's service (chalicelib.changes), paging nobody.  The answer is
    PagerDuty's 202 body (a retried delivery gets the same); InvalidEvent names each bad field."""
    with _refusals_counted():
        parsed = pagerduty.parse_change(raw)
        routing_key = parsed.pop("routing_key")
        service = _routing_key_service(routing_key)
        ratelimit.take(hashing.sha256_hex(routing_key))
    stored = changes.record(service["id"], parsed)
    if stored:
        metrics.count("EventsAccepted")
    return {"status": "success", "message": "Change event processed"}


def _routing_key_service(routing_key: str) -> Service:
    """The service of a body's routing_key: a key declared in rotas/ for PagerDuty's format
    (ROUTING_KEY_SOURCES); InvalidEvent naming the field otherwise."""
    service = directory.service_for_key(routing_key)
    if service is None:
        raise InvalidEvent(["'routing_key' is not the integration key of any service"])
    digest = hashing.sha256_hex(routing_key)
    source = next(i["type"] for i in service["integrations"] if i["key_sha256"] == digest)
    if source not in ROUTING_KEY_SOURCES:
        raise InvalidEvent([f"'routing_key' is the key of a {source} integration; this path takes "
                            f"the key of a {' or '.join(ROUTING_KEY_SOURCES)} integration"])
    return service


@contextlib.contextmanager
def _refusals_counted() -> Iterator[None]:
    """Count EventsRefused when what runs inside refuses the post (the error goes on up)."""
    try:
        yield
    except (errors.BadRequest, errors.Forbidden, errors.RateLimited):
        metrics.count("EventsRefused")
        raise


def url(key: str) -> str:
    return f"{config.settings().public_url}/v1/integrations/{key}"

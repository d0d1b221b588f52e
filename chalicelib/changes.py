"""Change events (PagerDuty's POST /v2/change/enqueue): what changed on a service, a deploy or
a configuration applied.  They page nobody; they are kept KEEP_DAYS per service (as PagerDuty
keeps them) and shown on the incidents of that service that open within the hour after
("what changed": GET /v1/incidents/{n}, key "changes").

A sender retrying (a timeout on our answer, a CI job run twice) stores nothing twice: the
same body for the same service within DEDUP_SECONDS is one change, claimed in the same
transaction that stores it (an expired claim DynamoDB has not deleted yet no longer counts).
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError

from . import clock, hashing, store
from .store import Idempotency, _Meta, _Table

KEEP_DAYS = 90
DEDUP_SECONDS = 3600.0
WINDOW_SECONDS = 3600.0  # an incident shows the changes of the hour before it opened
SHOWN = 20  # at most, newest first


class ChangeEvent(_Table):
    """One change event of a service: CHANGES#<service> / T#<iso>#<rand>, sorted by time."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # CHANGES#<service>
    sk = UnicodeAttribute(range_key=True)  # T#<iso of `at`>#<rand>
    at = NumberAttribute()  # the sender's timestamp (never later than received), else received
    received_at = NumberAttribute()
    summary = UnicodeAttribute()
    source = UnicodeAttribute(null=True)
    links = JSONAttribute(null=True)  # [{"href", "text"}], http(s) only
    custom_details = JSONAttribute(null=True)
    expires = NumberAttribute()  # the table's TTL attribute


store.register(ChangeEvent)


def record(service_id: str, change: dict[str, Any]) -> bool:
    """Store a parsed change (chalicelib.intake.pagerduty.parse_change, without its key);
    False when the same change was stored for this service within DEDUP_SECONDS."""
    now = clock.now()
    at = min(change["timestamp"], now) if change.get("timestamp") is not None else now
    digest = hashing.sha256_hex(json.dumps(change, sort_keys=True, ensure_ascii=False))
    claim = Idempotency(f"IDEM#change#{service_id}#{digest}", answer={"stored": True},
                        expires=int(now + DEDUP_SECONDS))
    item = ChangeEvent(f"CHANGES#{service_id}", f"T#{clock.iso(at)}#{secrets.token_hex(4)}",
                       at=at, received_at=now, summary=change["summary"], source=change.get("source"),
                       links=change.get("links") or None, custom_details=change.get("custom_details"),
                       expires=int(now + KEEP_DAYS * 86400))
    try:
        with store.transaction() as tx:
            tx.save(claim, condition=Idempotency.pk.does_not_exist() | (Idempotency.expires < int(now)))
            tx.save(item)
    except TransactWriteError as exc:
        if store.conflict(exc):  # the claim is held: a retried delivery
            return False
        raise
    return True


def before(service_id: str, opened_at: float) -> list[dict[str, Any]]:
    """The service's changes in the WINDOW_SECONDS before `opened_at` (up to it), newest first."""
    low = f"T#{clock.iso(opened_at - WINDOW_SECONDS)}"
    high = f"T#{clock.iso(opened_at)}#~"
    now = clock.now()
    found = ChangeEvent.query(f"CHANGES#{service_id}", ChangeEvent.sk.between(low, high),
                              scan_index_forward=False, limit=SHOWN)
    return [as_json(c) for c in found if c.expires > now]


def as_json(c: ChangeEvent) -> dict[str, Any]:
    return {"at": clock.iso(c.at), "summary": c.summary, "source": c.source, "links": c.links or [],
            "custom_details": c.custom_details}

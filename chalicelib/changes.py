"""Change events (PagerDuty's POST /v2/change/enqueue): what changed on a service, a deploy or
a configuration applied.  They page nobody; they are kept KEEP_DAYS per service (as PagerDuty
keeps them) and shown on the incidents of that service that open within the hour after
("what changed": GET /v1/incidents/{n}, key "changes").

PagerDuty's change events carry no dedup key, so a retried delivery is told from a new change
by its body: the same body for the same service is one change when it comes again within
RETRY_SECONDS (a sender's retries: a timeout on our answer), or at any time while the change is
kept when it names its `payload.timestamp` (the same deploy at the same instant).  The same
body minutes later without a timestamp is a new change: a redeploy after a rollback is what
the incident page must show.  The claim is written in the same transaction that stores the
change (an expired claim DynamoDB has not deleted yet no longer counts).

What GET /v1/incidents/{n} shows is bounded: SHOWN changes at most, each one's custom_details
whole up to MAX_DETAILS once serialised (the intake refuses bigger ones), else cut.
"""
from __future__ import annotations

import json
import secrets
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import TransactWriteError

from . import clock, hashing, store
from .intake.pagerduty import MAX_CHANGE_DETAILS
from .store import Idempotency, _Meta, _Table

KEEP_DAYS = 90
RETRY_SECONDS = 300.0  # the same body without a timestamp within this: a retried delivery
WINDOW_SECONDS = 3600.0  # an incident shows the changes of the hour before it opened
SHOWN = 20  # at most, newest first
MAX_DETAILS = MAX_CHANGE_DETAILS  # custom_details as stored (json.dumps, escaped): the intake's limit
SHOWN_CUT = 4096  # characters of the details shown when they are bigger (stored before the limit)


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
    False when it is a retried delivery of a change already stored (see the module's doc)."""
    now = clock.now()
    stamped = change.get("timestamp") is not None
    at = min(change["timestamp"], now) if stamped else now
    digest = hashing.sha256_hex(json.dumps(change, sort_keys=True, ensure_ascii=False))
    claim = Idempotency(f"IDEM#change#{service_id}#{digest}", answer={"stored": True},
                        expires=int(now + (KEEP_DAYS * 86400 if stamped else RETRY_SECONDS)))
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
            "custom_details": shown_details(c.custom_details)}


def details_size(details: Any) -> int:
    """The size of custom_details as stored (pynamodb's JSONAttribute: json.dumps, non-ASCII
    escaped, so "é" counts 6)."""
    return len(json.dumps(details))


def shown_details(details: Any) -> Any:
    """custom_details whole when within MAX_DETAILS, else its first SHOWN_CUT characters as
    JSON text under "_truncated" (a change stored before the intake's limit must not make
    the incident's answer too big for Lambda)."""
    if details is None or details_size(details) <= MAX_DETAILS:
        return details
    return {"_truncated": json.dumps(details, ensure_ascii=False)[:SHOWN_CUT] + "…"}

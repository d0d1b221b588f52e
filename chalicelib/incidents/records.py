"""Incident records: the item, its timeline, idempotency records, and the one way to change
an incident (read, change, write under its version, again if someone wrote first).

Every change is a DynamoDB transaction guarded by the incident's version (pynamodb's
VersionAttribute), so two writers racing produce exactly one winner; the loser re-reads
and decides again.  Inbound webhooks pass an idempotency key written in the same
transaction, so a retried delivery changes nothing twice.
"""
from __future__ import annotations

import hashlib
import itertools
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.models import Model

from .. import clock, config
from ..store import DUE_SHARD, Idempotency, Incident, TimelineEntry, conflict, transaction

IDEMPOTENCY_DAYS = 7
ATTEMPTS = 8
_seq = itertools.count()


def pk(number: int) -> str:
    return f"INC#{number}"


def dedup_pk(service_id: str, dedup_key: str) -> str:
    """The pointer to a service's open incident for a dedup_key (deleted when it is resolved).
    A key too long for DynamoDB's 2,048-byte partition keys (512 emoji are) is hashed."""
    if len(dedup_key.encode("utf-8", "replace")) > 1024:
        dedup_key = "sha256:" + hashlib.sha256(dedup_key.encode("utf-8", "replace")).hexdigest()
    return f"DEDUP#{service_id}#{dedup_key}"


# (service, dedup_key) -> open incident, per container, for POINTER_SECONDS: a storm's repeats
# are one write each, without reading the pointer first.  A container that still remembers
# the pointer of an incident resolved elsewhere stores repeats on it for up to that long:
# LATE_REPEATS_SECONDS after a resolution the sweeper looks for them, and the first one opens
# the next incident (chalicelib.incidents.dedup.reopen_late_repeats).
POINTER_SECONDS = 10
LATE_REPEATS_SECONDS = POINTER_SECONDS + 30  # and the 10 s a write may take, twice, with room
# A container remembers a pointer only after reading it for a repeat, which it then stores:
# an incident with no repeat in this long before its resolution is in no container's memory.
RECENT_REPEATS_SECONDS = POINTER_SECONDS + 15
_pointers: TTLCache[tuple[str, str], int] = TTLCache(maxsize=50_000, ttl=POINTER_SECONDS, timer=clock.now)
_pointers_lock = threading.Lock()  # cachetools caches are not thread-safe (the local server is)


def known_pointer(service_id: str, dedup_key: str) -> int | None:
    with _pointers_lock:
        return _pointers.get((service_id, dedup_key))


def remember_pointer(service_id: str, dedup_key: str, number: int | None) -> None:
    """Remember the open incident of a dedup_key here, or forget it (None)."""
    with _pointers_lock:
        if number is None:
            _pointers.pop((service_id, dedup_key), None)
        else:
            _pointers[(service_id, dedup_key)] = number


def forget_pointers() -> None:
    """As a new container: every dedup_key's open incident is read from the store again."""
    with _pointers_lock:
        _pointers.clear()


config.on_reload(forget_pointers)


def entry(number: int, kind: str, at: float, actor: str | None = None, channel: str | None = None,
          detail: dict[str, Any] | None = None) -> TimelineEntry:
    """A timeline item; the key sorts by time, then by write order within a millisecond."""
    sk = f"T#{clock.iso(at)}#{next(_seq) % 1_000_000:06d}{secrets.token_hex(2)}"
    return TimelineEntry(pk(number), sk, at=at, kind=kind, actor=actor, channel=channel,
                         detail=detail or None)


def record_notices(number: int, notices: list[dict[str, Any]]) -> None:
    """What people were told about an incident (notify.tell's records): one `notified` entry
    each, written together (by 100, a transaction's most)."""
    now = clock.now()
    for start in range(0, len(notices), 100):
        with transaction() as tx:
            for n in notices[start:start + 100]:
                tx.save(entry(number, "notified", now, actor="astreinte", channel=n.get("channel"), detail=n))


def get(number: int) -> Incident | None:
    try:
        return Incident.get(pk(number), "META", consistent_read=True)
    except DoesNotExist:
        return None


def timeline(number: int) -> list[TimelineEntry]:
    return list(TimelineEntry.query(pk(number), TimelineEntry.sk.startswith("T#"),
                                    consistent_read=True))


def timeline_since(number: int, at: float) -> list[TimelineEntry]:
    """The entries from `at` on (the sort key starts with the time)."""
    return list(TimelineEntry.query(pk(number), TimelineEntry.sk >= f"T#{clock.iso(at)}",
                                    consistent_read=True))


def set_due(inc: Incident, due: float | None) -> None:
    """Put the incident on the sparse `due` index (the sweeper's work), or take it off."""
    inc.due_at = due
    inc.due_shard = DUE_SHARD if due is not None else None


def idempotency(key: str, answer: dict[str, Any]) -> Idempotency:
    return Idempotency(f"IDEM#{key}", answer=answer, expires=int(clock.now() + IDEMPOTENCY_DAYS * 86400))


def seen(key: str | None) -> dict[str, Any] | None:
    """The answer a webhook with this idempotency key already got, or None."""
    if not key:
        return None
    try:
        return Idempotency.get(f"IDEM#{key}", "IDEM", consistent_read=True).answer or {}
    except DoesNotExist:
        return None


@dataclass
class Change:
    """What one attempt writes with the incident: timeline entries, items to delete, and an
    idempotency record that makes it once-only."""

    entries: list[TimelineEntry] = field(default_factory=list)
    deletes: list[Model] = field(default_factory=list)
    once: tuple[str, dict[str, Any]] | None = None  # (idempotency key, the answer to remember)
    save_incident: bool = True


class Gone(Exception):
    """The incident does not exist (any more)."""


class AlreadyDone(Exception):
    """The idempotency key was written by an earlier delivery: `answer` is what it got."""

    def __init__(self, answer: dict[str, Any]):
        super().__init__("already handled")
        self.answer = answer


def mutate(number: int, change: Callable[[Incident], Change | None],
           first: Incident | None = None) -> tuple[Incident, Change] | None:
    """Read, change, write under the version guard; again when someone else wrote first.

    `change` edits the incident in memory and says what else to write, or returns None to
    write nothing (the incident is not in a state for it).  `first` is a copy already in
    hand (saves a read when nobody wrote meanwhile).  Returns the incident as written and
    the change, None when nothing was to be done; raises Gone, or AlreadyDone when the
    change's idempotency key had been written by another delivery.
    """
    for _ in range(ATTEMPTS):
        inc, first = (first, None) if first is not None else (get(number), None)
        if inc is None:
            raise Gone(number)
        done = change(inc)
        if done is None:
            return None
        try:
            with transaction() as tx:
                if done.save_incident:
                    tx.save(inc)
                for timeline_entry in done.entries:
                    tx.save(timeline_entry)
                for gone in done.deletes:
                    tx.delete(gone)
                if done.once is not None:
                    tx.save(idempotency(*done.once), condition=Idempotency.pk.does_not_exist())
        except TransactWriteError as exc:
            if not conflict(exc):
                raise  # the store did not answer: the caller's request fails (503), nothing half-done
            answer = seen(done.once[0]) if done.once else None
            if answer is not None:
                raise AlreadyDone(answer) from None
            continue  # someone else changed the incident first: read it again
        return inc, done
    raise RuntimeError(f"incident {number} kept changing under us / l'incident {number} change sans cesse")

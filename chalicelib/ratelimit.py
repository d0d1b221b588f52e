"""Per-key rate limit: a fixed one-minute window counted in DynamoDB.

Each container reserves allowance in chunks (one conditional UpdateItem per chunk, not
per event), so an alert storm costs the store a write per few dozen events while
concurrent Lambdas still share one budget: a reservation only succeeds while the
window's total stays within the limit.  Windows expire by TTL.
"""
from __future__ import annotations

import threading

from pynamodb.exceptions import UpdateError

from . import clock, errors
from .store import RateWindow

DEFAULT_PER_MINUTE = 6000  # a storm of 5,000 events a minute on one key still gets through
_local: dict[str, list[int]] = {}  # key hash -> [minute, units left]
_lock = threading.Lock()


class Limited(errors.RateLimited):
    """Over the limit; `retry_after` seconds until the next window."""

    def __init__(self, limit: int, retry_after: int):
        super().__init__(f"more than {limit} events a minute on this key: retry in {retry_after} s / "
                         f"plus de {limit} événements par minute sur cette clé", retry_after)


def take(key_hash: str, per_minute: int | None = None, units: int = 1) -> None:
    """Count `units` events against the key's minute, or raise Limited."""
    limit = int(per_minute or DEFAULT_PER_MINUTE)
    units = min(units, limit)  # a post bigger than a whole minute's budget gets in on a fresh one
    now = clock.now()
    minute = int(now // 60)
    with _lock:
        mine = _local.get(key_hash)
        if mine and mine[0] == minute and mine[1] >= units:
            mine[1] -= units
            return
    chunk = max(units, min(50, limit // 100))
    for size in dict.fromkeys((chunk, units)):  # near the limit, a whole chunk may no longer fit
        try:
            RateWindow(f"RATE#{key_hash}", str(minute)).update(
                actions=[RateWindow.count.add(size), RateWindow.expires.set(minute * 60 + 180)],
                condition=RateWindow.count.does_not_exist() | (RateWindow.count <= limit - size))
        except UpdateError as exc:
            if "ConditionalCheckFailed" not in str(exc):
                raise
            continue
        with _lock:  # add to what other threads reserved meanwhile, never overwrite it
            mine = _local.get(key_hash)
            left = mine[1] if mine and mine[0] == minute else 0
            _local[key_hash] = [minute, left + size - units]
        return
    raise Limited(limit, max(1, int((minute + 1) * 60 - now + 0.999)))

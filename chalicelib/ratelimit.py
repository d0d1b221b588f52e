"""Per-key rate limit: a fixed one-minute window counted in DynamoDB.

One conditional UpdateItem per event: the count goes up only while under the limit, so
concurrent Lambdas share the same budget exactly.  Windows expire by TTL.
"""
from __future__ import annotations

from pynamodb.exceptions import UpdateError

from . import clock
from .store import RateWindow

DEFAULT_PER_MINUTE = 6000  # a storm of 5,000 events a minute on one key still gets through


class Limited(Exception):
    """Over the limit; `retry_after` seconds until the next window."""

    def __init__(self, limit: int, retry_after: int):
        super().__init__(f"more than {limit} events a minute on this key: retry in {retry_after} s")
        self.retry_after = retry_after


def take(key_hash: str, per_minute: int | None = None) -> None:
    limit = int(per_minute or DEFAULT_PER_MINUTE)
    now = clock.now()
    minute = int(now // 60)
    window = RateWindow(f"RATE#{key_hash}", str(minute))
    try:
        window.update(actions=[RateWindow.count.add(1), RateWindow.expires.set(minute * 60 + 180)],
                      condition=RateWindow.count.does_not_exist() | (RateWindow.count < limit))
    except UpdateError as exc:
        if "ConditionalCheckFailed" not in str(exc):
            raise
        raise Limited(limit, max(1, int((minute + 1) * 60 - now + 0.999))) from exc

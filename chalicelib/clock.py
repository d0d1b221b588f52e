"""The service's notion of "now".

Every time-dependent decision reads this clock rather than time.time(), so that tests can
move time forward (escalation delays, link expiry) without sleeping.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime

_offset = 0.0


def now() -> float:
    """Seconds since the epoch, UTC."""
    return time.time() + _offset


def advance(seconds: float) -> None:
    """Move the clock forward (tests and the local demo only)."""
    global _offset
    _offset += seconds


def reset() -> None:
    global _offset
    _offset = 0.0


def iso(ts: float) -> str:
    """UTC ISO-8601 with milliseconds, the format of every timestamp we publish."""
    return datetime.fromtimestamp(ts, tz=UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )

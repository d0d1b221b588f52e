"""The service's notion of "now", and the one way we read times and durations people write.

Every time-dependent decision reads this clock rather than time.time(), so that tests can
move time forward (escalation delays, link expiry) without sleeping.  Parsing lives here
too, so that an ISO date-time or a "5m" means the same in rotas/, the API and the CLI.
"""
from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_offset = 0.0
_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d)?$")
# The years a date people give may fall in: every date and a year either side stays
# representable (9999-12-31 plus a day overflows Python's dates).
FIRST_YEAR, LAST_YEAR = 1970, 2999
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 60}


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


def known_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone ("Europe/Paris"; not "Europe", a folder of the
    database, nor "Europe/Pariss")."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        return False
    return True


def zone(name: str) -> tzinfo:
    """The time zone of that name, or UTC: what people read is never a reason to fail (the
    rotas' loader names a zone it cannot read)."""
    return ZoneInfo(name) if known_zone(name) else UTC


def hm(ts: float, zone_name: str, seconds: bool = False) -> str:
    """'HH:MM' (or 'HH:MM:SS') of an instant in a time zone (an IANA name: a person's or a
    team's); in UTC when the zone is unknown."""
    return datetime.fromtimestamp(ts, tz=zone(zone_name)).strftime("%H:%M:%S" if seconds else "%H:%M")


def check_year(d: date) -> date:
    """The date, or ValueError when it is outside FIRST_YEAR..LAST_YEAR."""
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise ValueError(f"the year {d.year} is outside {FIRST_YEAR}-{LAST_YEAR}")
    return d


def parse_iso(value: object, zone: tzinfo | None = None) -> float:
    """An ISO 8601 date-time ('Z' or an offset; a '+' that a query string turned into a
    space) -> epoch seconds.  Without a zone in the text, `zone` is assumed; with neither,
    ValueError: a time without a zone means a different instant to every reader."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = str(value).strip().replace("Z", "+00:00").replace(" ", "+")
        dt = datetime.fromisoformat(text)
    check_year(dt)
    if dt.tzinfo is None:
        if zone is None:
            raise ValueError(f"no time zone in {value!r} (add Z or +01:00)")
        dt = dt.replace(tzinfo=zone)
    check_year(dt.astimezone(UTC))  # in UTC too: 1970-01-01T00:00+14:00 is in 1969
    return dt.timestamp()


def parse_duration(value: object) -> float:
    """'30s', '5m', '2h', '1d' or a bare number of minutes -> seconds."""
    m = _DURATION.match(str(value).strip())
    if not m:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 5m, 2h)")
    return float(m.group(1)) * _UNITS[m.group(2)]

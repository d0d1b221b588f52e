"""Time to render one person's iCal feed: 90 days back and a year ahead (goal: under 50 ms).

The example rotas (rotas/): Alice's shifts in the support rota, office-hours permanence
by day and astreinte by night and weekend, each event with its escalation contacts.
Rendering is pure (chalicelib.rotas.ical), so no stack is started: the figure is what a
warm Lambda spends after reading the token and the cached bundle.  The first render,
which also parses the layers and builds the VTIMEZONE, is reported apart.
Usage: python bench/ical_feed.py [N]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.rotas import ical as calendars  # noqa: E402
from chalicelib.rotas import load as rotas  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main(n: int = 50, person: str = "alice") -> None:
    bundle = rotas.load_dir(ROOT / "rotas")
    now = time.time()
    sequence = int(now // 60)
    t0 = time.perf_counter()
    feed = calendars.person_feed(bundle, person, now, sequence)
    first = (time.perf_counter() - t0) * 1000
    timings = []
    for _ in range(n):
        t0 = time.perf_counter()
        calendars.person_feed(bundle, person, now, sequence)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
    events = feed.count(b"BEGIN:VEVENT")
    print(f"one person's iCal feed ({person}, {events} events, {len(feed) // 1024} KiB), {n} renders: "
          f"median {p50:.1f} ms, p95 {p95:.1f} ms, first {first:.1f} ms (goal: under 50 ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)

"""Soak: 20 events a second for 30 minutes against the local stack, then count.

Goal (issue 10): no event answered 202 lost, no page sent twice, memory flat.  200 dedup
keys cycle through four rounds of triggers and one of resolves, so incidents open, repeat
and close all along.  The service (API, handlers) runs in this process: its resident
memory is read at the start and at the end.

Usage: python bench/soak.py [--rate 20] [--minutes 30]
"""
from __future__ import annotations

import argparse
import collections
import multiprocessing
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AGENT_PHONE, KEY, in_threads, local_stack, trigger  # noqa: E402

KEYS = 200
PAGE = re.compile(r"#(\d+) (CRITIQUE|ÉLEVÉ|MOYEN|FAIBLE|CRITICAL|HIGH|MEDIUM|LOW) ")


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _event(i: int) -> dict[str, Any]:
    key = f"soak-{i % KEYS}"
    if (i // KEYS) % 5 == 4:
        return {"routing_key": KEY, "event_action": "resolve", "dedup_key": key}
    return trigger(key, f"soak on host {i % KEYS}")


def _send(api_url: str, rate: float, seconds: float, out: multiprocessing.Queue) -> None:
    """The monitoring tools, paced at `rate` events a second, in another process."""
    answers: list[tuple[int, str, int, int | None]] = []  # (i, action, status, incident number)
    lock = threading.Lock()
    total = int(rate * seconds)
    t0 = time.monotonic()

    def worker(w: int, step: int) -> None:
        http = requests.Session()
        for i in range(w, total, step):
            delay = t0 + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            body = _event(i)
            try:
                r = http.post(f"{api_url}/v2/enqueue", json=body, timeout=30)
                status, number = r.status_code, r.json().get("incident_number")
            except requests.RequestException:
                status, number = 0, None
            with lock:
                answers.append((i, body["event_action"], status, number))

    in_threads(lambda w: worker(w, 4), 4)
    out.put((time.monotonic() - t0, answers))


def main(rate: float, minutes: float) -> None:
    from chalicelib.incidents import timeline

    with local_stack() as stack:
        requests.post(f"{stack.api_url}/v2/enqueue", json=trigger("warm-up", "warm-up"), timeout=30)
        rss_start = _rss_mb()
        spawn = multiprocessing.get_context("spawn")
        out = spawn.Queue()
        proc = spawn.Process(target=_send, args=(stack.api_url, rate, minutes * 60, out))
        proc.start()
        elapsed, answers = out.get(timeout=minutes * 60 + 600)
        proc.join()
        rss_end = _rss_mb()

        statuses = collections.Counter(status for _, _, status, _ in answers)
        triggers = [(i, n) for i, action, status, n in answers if action == "trigger" and status == 202]
        stored: collections.Counter[int] = collections.Counter()
        for number in {n for _, n in triggers}:
            stored[number] = sum(1 for e in timeline(number) if e.kind in ("triggered", "repeated"))
        sent: collections.Counter[int] = collections.Counter(n for _, n in triggers)
        lost = sum(max(0, sent[n] - stored[n]) for n in sent)
        pages: collections.Counter[int] = collections.Counter()
        for sms in stack.fake.messages(kind="sms", to=AGENT_PHONE):
            m = PAGE.search(sms["body"])  # a page, not the "closed by" notice that follows a resolve
            if m:
                pages[int(m.group(1))] += 1
        doubled = sum(1 for n in sent if pages[n] > 1)
        unpaged = sum(1 for n in sent if pages[n] == 0)
        print(f"soak: {len(answers)} events in {elapsed / 60:.1f} min ({len(answers) / elapsed:.1f}/s; "
              f"answers {dict(statuses)}), {len(sent)} incidents: {lost} events answered 202 and not "
              f"stored (goal 0), {doubled} incidents paged twice (goal 0), {unpaged} never paged; "
              f"memory of the service {rss_start:.0f} MB at the start, {rss_end:.0f} MB at the end "
              f"({rss_end / rss_start:.2f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20)
    parser.add_argument("--minutes", type=float, default=30)
    args = parser.parse_args()
    main(args.rate, args.minutes)

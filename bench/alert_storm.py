"""An alert storm: 5,000 events over 50 dedup keys from 8 concurrent senders.

Goal (issue 4): exactly 50 incidents and 50 first pages, no 5xx, and at least 300 events
per second on this machine.  Everything on loopback, as in the other benchmarks.
Usage: python bench/alert_storm.py [EVENTS] [KEYS] [SENDERS]
"""
from __future__ import annotations

import collections
import multiprocessing
import sys
import threading
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AGENT_PHONE, in_threads, local_stack, trigger  # noqa: E402


def _get_all(url: str, requests_: int, senders: int, out: multiprocessing.Queue) -> None:
    """The same senders asking a route that touches nothing: the local HTTP server's ceiling."""
    def get(worker: int) -> None:
        http = requests.Session()
        for _ in range(worker, requests_, senders):
            http.get(url, timeout=30)

    elapsed = in_threads(get, senders)
    out.put(requests_ / elapsed)


def _send_all(api_url: str, events: int, keys: int, senders: int, out: multiprocessing.Queue) -> None:
    """The monitoring tools: another process, so their threads do not share the API's
    interpreter lock (in AWS each Lambda has its own)."""
    statuses: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def send(worker: int) -> None:
        http = requests.Session()
        for i in range(worker, events, senders):
            body = trigger(f"storm-{i % keys}", f"storm on host {i % keys}")
            r = http.post(f"{api_url}/v2/enqueue", json=body, timeout=30)
            with lock:
                statuses[r.status_code] += 1

    elapsed = in_threads(send, senders)
    out.put((elapsed, dict(statuses)))


def main(events: int = 5000, keys: int = 50, senders: int = 8) -> None:
    with local_stack() as stack:
        spawn = multiprocessing.get_context("spawn")
        out = spawn.Queue()
        proc = spawn.Process(
            target=_send_all, args=(stack.api_url, events, keys, senders, out))
        proc.start()
        elapsed, statuses = out.get(timeout=600)
        proc.join()

        from chalicelib import clock
        from chalicelib.reports import review

        now = clock.now()  # the incidents opened during the storm, read back from the store
        incidents = len(review.report_lines(now - 3600, now + 1))
        ceiling = store_ceiling(senders)
        pages = len(stack.fake.messages(kind="sms", to=AGENT_PHONE))
        server_errors = sum(n for code, n in statuses.items() if code >= 500)
        print(f"alert storm: {events} events over {keys} dedup keys from {senders} senders in "
              f"{elapsed:.1f} s = {events / elapsed:.0f} events/s (as a ratio below); "
              f"{incidents} incidents, {pages} first SMS pages (goal: {keys} and {keys}); "
              f"answers {statuses}, {server_errors} 5xx (goal: 0)")
        print(f"the store's own ceiling here: {ceiling:.0f} writes/s (one PutItem of such an event "
              f"from {senders} threads straight to DynamoDB Local, no API in between)")
        # The figure that does not depend on the machine's day: both measured in this run.
        print(f"storm ratio: {events / elapsed / ceiling:.2f} (storm events/s over the store's plain "
              f"PutItem/s; goal: >= 0.7; {incidents} incidents, {server_errors} 5xx)")
        proc = spawn.Process(target=_get_all, args=(f"{stack.api_url}/dashboard", 3000, senders, out))
        proc.start()
        http = out.get(timeout=600)
        proc.join()
        print(f"the local API's own ceiling here: {http:.0f} requests/s to a route that touches nothing "
              f"(same senders); the storm runs at {events / elapsed / http:.2f} of it")


def store_ceiling(threads: int, writes: int = 2000) -> float:
    """What DynamoDB Local takes on this machine when nothing else runs but its client:
    the bound for any design that stores each event as one write before answering."""
    from chalicelib import clock
    from chalicelib.incidents import entry

    event = trigger("ceiling", "storm on host 1")

    def write(worker: int) -> None:
        for i in range(worker, writes, threads):
            entry(10_000_000 + i % 50, "repeated", clock.now(), actor="source", channel="events-api",
                  detail={"event": event}).save()

    elapsed = in_threads(write, threads)
    return writes / elapsed


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))

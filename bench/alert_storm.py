"""An alert storm: 5,000 events over 50 dedup keys from 8 concurrent senders.

Goals (issues 4 and 10): exactly 50 incidents and 50 first pages, no 5xx; storm events/s
at least 0.7 of the store's plain PutItem/s measured in the same run.  Everything on
loopback: the senders (another process, plain keep-alive HTTP so that they take as little
of the 2 cores as they can), the API, and DynamoDB Local.

Besides that ratio, the store's side alone: DynamoDB Local's CPU seconds per storm event
against per plain PutItem (read from /proc for its process), and its requests per event.
In AWS the API scales out with Lambdas and the table is what a storm shares, so that is
the figure that says "at the store's speed" whatever the senders and the API cost here.
Usage: python bench/alert_storm.py [EVENTS] [KEYS] [SENDERS]
"""
from __future__ import annotations

import collections
import http.client
import json
import multiprocessing
import os
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AGENT_PHONE, KEY, OTHER_KEY, in_threads, local_stack, trigger  # noqa: E402
from bench.ddb_counter import count_requests  # noqa: E402


def _connection(url: str) -> http.client.HTTPConnection:
    """One keep-alive connection, as a monitoring tool's HTTP client keeps (lighter than
    requests: the senders share this machine's 2 cores with what they measure)."""
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)


def _get_all(url: str, requests_: int, senders: int, out: multiprocessing.Queue) -> None:
    """The same senders asking a route that touches nothing: the local HTTP server's ceiling."""
    def get(worker: int) -> None:
        conn = _connection(url)
        for _ in range(worker, requests_, senders):
            conn.request("GET", urlsplit(url).path)
            conn.getresponse().read()

    elapsed = in_threads(get, senders)
    out.put(requests_ / elapsed)


def _send_all(api_url: str, events: int, keys: int, senders: int, out: multiprocessing.Queue,
              name: str, key: str) -> None:
    """The monitoring tools, each posting its events one after another."""
    statuses: collections.Counter[int] = collections.Counter()
    lock = threading.Lock()

    def send(worker: int) -> None:
        conn = _connection(api_url)
        for i in range(worker, events, senders):
            body = json.dumps(trigger(f"{name}-{i % keys}", f"{name} on host {i % keys}", key))
            conn.request("POST", "/v2/enqueue", body, {"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            with lock:
                statuses[r.status] += 1

    elapsed = in_threads(send, senders)
    out.put((elapsed, dict(statuses)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (DynamoDB Local's JVM here)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def storm(url: str, events: int, keys: int, senders: int,
          name: str = "storm", key: str = KEY) -> tuple[float, dict[int, int]]:
    """The senders in another process: their threads do not share the API's interpreter lock
    (in AWS each Lambda has its own)."""
    spawn = multiprocessing.get_context("spawn")
    out = spawn.Queue()
    proc = spawn.Process(target=_send_all, args=(url, events, keys, senders, out, name, key))
    proc.start()
    elapsed, statuses = out.get(timeout=600)
    proc.join()
    return elapsed, statuses


def main(events: int = 5000, keys: int = 50, senders: int = 8) -> None:
    with local_stack() as stack:
        # Both sides warmed first (DynamoDB Local's JIT, the API's imports): measured cold, the
        # storm would pay for what the ceiling, measured after it, gets for free.
        store_ceiling(senders)
        storm(stack.api_url, events // 5, keys, senders, name="warm-up", key=OTHER_KEY)
        from chalicelib import clock
        from chalicelib.reports import review

        started = clock.now()
        db = stack.db.proc.pid
        cpu = cpu_seconds(db)
        elapsed, statuses = storm(stack.api_url, events, keys, senders)
        storm_cpu = cpu_seconds(db) - cpu
        # the incidents opened during the storm, read back from the store
        incidents = len(review.report_lines(started, clock.now() + 1))
        cpu = cpu_seconds(db)
        ceiling, writes = store_ceiling(senders)
        ceiling_cpu = cpu_seconds(db) - cpu
        pages = len([m for m in stack.fake.messages(kind="sms", to=AGENT_PHONE)
                     if "storm on host" in m["body"]])
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

        spawn = multiprocessing.get_context("spawn")
        out = spawn.Queue()
        proc = spawn.Process(target=_get_all, args=(f"{stack.api_url}/dashboard", 3000, senders, out))
        proc.start()
        ceiling_http = out.get(timeout=600)
        proc.join()
        print(f"the local API's own ceiling here: {ceiling_http:.0f} requests/s to a route that touches "
              f"nothing (same senders); the storm runs at {events / elapsed / ceiling_http:.2f} of it")

        # The store's side: what one storm event costs DynamoDB against one plain PutItem.
        per_event, per_write = storm_cpu / events, ceiling_cpu / writes
        proxy = count_requests(stack.db.port)  # on the wire, for a second, shorter storm
        again = events // 5
        storm(stack.api_url, again, keys, senders, name="warm-up", key=OTHER_KEY)
        spent = proxy.snapshot()
        ops = ", ".join(f"{op} {n / again:.3f}" for op, n in spent.most_common())
        print(f"the store's side: DynamoDB Local's CPU {per_event * 1000:.2f} ms per storm event against "
              f"{per_write * 1000:.2f} ms per plain PutItem: store ratio {per_write / per_event:.2f} "
              f"(goal: >= 0.7; what bounds a storm in AWS, where the API scales out); "
              f"requests per event {sum(spent.values()) / again:.3f} ({ops}; "
              f"a second storm of {again} events on open incidents, counted on the wire)")


def store_ceiling(threads: int, writes: int = 2000) -> tuple[float, int]:
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
    return writes / elapsed, writes


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))

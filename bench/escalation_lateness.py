"""Escalation lateness: 1,000 timers due over 10 minutes, run by the local timer runner.

Goal (issue 10): p99 under 2 s between the moment an escalation step is due and the moment
its page reaches the provider (GoAlert's engine cycles every 5 s).  Each incident of the
test team is opened, then its next step (the référent's call) is set due at its own instant,
spread evenly over the window; the runner (the sweeper's handler every 0.25 s, as in
`make run`) must page each one on time.  Lateness is read from the fake Twilio's clock.

Usage: python bench/escalation_lateness.py [--timers 1000] [--minutes 10]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, trigger  # noqa: E402
from devstack.stack import Stack  # noqa: E402

REFERENT_PHONE = "+447700900002"  # Bob, the référent of tests/rotas: step 2 calls him


def _due_at(number: int, when: float) -> None:
    """Make this incident's next step due at `when` (as its policy's delay would)."""
    from chalicelib.incidents import escalation
    from chalicelib.incidents.records import Change, mutate, set_due

    def change(inc):  # noqa: ANN001, ANN202
        state = {**inc.escalation, "next_step_at": when}
        inc.escalation = state
        set_due(inc, escalation.next_due(state))
        return Change()

    mutate(number, change)


def main(timers: int, minutes: float) -> None:
    stack = Stack(rotas_dir=ROOT / "tests" / "rotas", timer_interval=None).start()
    try:
        http = requests.Session()

        def open_one(i: int) -> int:
            r = http.post(f"{stack.api_url}/v2/enqueue", json=trigger(f"late-{i}", f"timer {i}"), timeout=30)
            return int(r.json()["incident_number"])

        with ThreadPoolExecutor(max_workers=4) as pool:
            numbers = list(pool.map(open_one, range(timers)))
        window = minutes * 60
        start = time.time() + 15
        due = {n: start + i * window / timers for i, n in enumerate(numbers)}
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda n: _due_at(n, due[n]), numbers))
        stack.start_timer_runner(0.25)  # from here on, the runner alone pages
        time.sleep(max(0.0, start + window + 10 - time.time()))

        called = {}
        for call in stack.fake.messages(kind="call", to=REFERENT_PHONE):
            number = int(call["url"].rsplit("/", 1)[1].split(".")[0])  # …/voice/<number>.bob
            called.setdefault(number, call["received_at"])
        late = sorted(called[n] - due[n] for n in numbers if n in called)
        missed = len(numbers) - len(late)
        p50 = statistics.median(late) if late else float("nan")
        p99 = late[min(len(late) - 1, int(0.99 * len(late)))] if late else float("nan")
        print(f"escalation lateness, {timers} timers due over {minutes:g} min on the local runner "
              f"(0.25 s sweeps): p50 {p50:.2f} s, p99 {p99:.2f} s, max {late[-1] if late else 0:.2f} s, "
              f"{missed} never paged (goal: p99 < 2 s, 0 never paged; GoAlert's engine cycles every 5 s)")
    finally:
        stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timers", type=int, default=1000)
    parser.add_argument("--minutes", type=float, default=10)
    args = parser.parse_args()
    main(args.timers, args.minutes)

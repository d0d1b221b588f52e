"""Latency from POST /v2/enqueue to the fake Twilio receiving the agent's first SMS.

Goal (issue 2): p99 under 150 ms on a 2-core machine, over at least 500 incidents.
Everything runs on loopback: DynamoDB Local, the API (Chalice's local server), the fake.
Usage: python bench/paging_latency.py [N]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AGENT_PHONE, local_stack, trigger  # noqa: E402


def main(n: int = 500, warmup: int = 20) -> None:
    with local_stack() as stack:
        http = requests.Session()
        latencies = []
        for i in range(warmup + n):
            summary = f"bench incident {i}"
            t0 = time.time()
            r = http.post(f"{stack.api_url}/v2/enqueue", json=trigger(f"bench-{i}", summary), timeout=10)
            assert r.status_code == 202, r.text
            sms = stack.fake.wait_for(lambda m, s=summary: s in m["body"], kind="sms", to=AGENT_PHONE)
            if i >= warmup:
                latencies.append((sms["received_at"] - t0) * 1000)
            if i % 50 == 0:
                stack.fake.reset()
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(f"enqueue -> first SMS at the fake Twilio, {len(latencies)} incidents: "
              f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms (goal: p99 < 150 ms)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)

"""DynamoDB requests per incident lifecycle: trigger, first page, acknowledge, resolve.

Goal (issue 2): 12 or fewer.  Requests are counted on the wire by a proxy in front of
DynamoDB Local, with a warm container (the rotas bundle already cached).
Usage: python bench/requests_per_incident.py [N]
"""
from __future__ import annotations

import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AGENT_PHONE, local_stack, trigger  # noqa: E402
from bench.ddb_counter import count_requests  # noqa: E402
from devstack.stack import Stack  # noqa: E402


def lifecycle(stack: Stack, http: requests.Session, token: str, i: int) -> None:
    r = http.post(f"{stack.api_url}/v2/enqueue", json=trigger(f"life-{i}", f"lifecycle {i}"), timeout=10)
    number = r.json()["incident_number"]
    stack.fake.wait_for(lambda m: f"#{number} " in m["body"], kind="sms", to=AGENT_PHONE)
    status, reply = stack.fake.reply_sms(AGENT_PHONE, f"4 {number}")
    assert status == 200 and str(number) in reply, reply
    r = http.post(f"{stack.api_url}/v1/incidents/{number}/resolve", timeout=10,
                  headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text


def main(n: int = 50) -> None:
    with local_stack() as stack:
        from chalicelib import tokens

        proxy = count_requests(stack.db.port)
        token = tokens.create("carol", "bench")
        http = requests.Session()
        lifecycle(stack, http, token, -1)  # warm: rotas bundle and API token path loaded
        before = proxy.snapshot()
        for i in range(n):
            lifecycle(stack, http, token, i)
        spent = proxy.snapshot() - before
        total = sum(spent.values())
        ops = ", ".join(f"{op} {c / n:.1f}" for op, c in spent.most_common())
        print(f"DynamoDB requests per incident lifecycle (trigger, page, SMS ack, API resolve), "
              f"{n} incidents: {total / n:.1f} (goal: <= 12) — {ops}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)

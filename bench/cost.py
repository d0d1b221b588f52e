"""What a month of Astreinte costs in AWS, from what one incident measurably uses here.

One incident's lifecycle (trigger, the agent's SMS page, her SMS reply "4 n", resolve by the
API) runs N times on the local stack: DynamoDB requests and their billed capacity units are
counted on the wire (bench/ddb_counter.py), API calls (each one a Lambda invocation behind
API Gateway) are counted and timed, SMS are counted at the fake Twilio.  What the local run
cannot show is added as stated estimates: Twilio's status callbacks (2 per SMS), the step
timer (1 SQS message and 1 invocation per incident), and the schedules that run whatever
happens (sweeper and handoff notices every minute, two hourly jobs).  Prices are AWS list
prices (us-east-1, on demand, 2025; eu-west-3 Paris is about 10 % higher), without the free
tier; seat prices are PagerDuty's and Opsgenie's list prices for annual plans, 2025.
Usage: python bench/cost.py [N]
"""
from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import AGENT_PHONE, local_stack, trigger  # noqa: E402
from bench.ddb_counter import count_requests  # noqa: E402

PRICE = {  # USD
    "lambda_request": 0.20 / 1e6, "lambda_gb_second": 0.0000166667, "api_request": 3.50 / 1e6,
    "ddb_write_unit": 0.625 / 1e6, "ddb_read_unit": 0.125 / 1e6, "sqs_request": 0.40 / 1e6,
    "secret_month": 0.40, "secret_call": 0.05 / 1e4, "metric_month": 0.30, "alarm_month": 0.10,
    "log_gb": 0.50,
}
LAMBDA_GB = 0.5  # .chalice/config.json: 512 MB
METRICS, ALARMS = 9, 17  # chalicelib.metrics' names; infra/template.json's alarms (6 functions)
LOG_BYTES_PER_INVOCATION = 1500  # Lambda's START/END/REPORT lines and one or two of ours
MINUTES_A_MONTH, HOURS_A_MONTH = 43_800, 730
SEATS = {"PagerDuty Professional": 21.0, "PagerDuty Business": 41.0, "Opsgenie Standard": 19.95,
         "Opsgenie Enterprise": 31.95}
TEAM = 20
SECRET_READS = 6 * 12 * 24 * 30  # six warm containers, each reading the secret every 5 minutes


def lifecycle(stack, http: requests.Session, token: str, i: int, timings: list[float]) -> None:  # noqa: ANN001
    t0 = time.perf_counter()
    r = http.post(f"{stack.api_url}/v2/enqueue", json=trigger(f"cost-{i}", f"cost {i}"), timeout=10)
    timings.append(time.perf_counter() - t0)
    number = r.json()["incident_number"]
    stack.fake.wait_for(lambda m: f"#{number} " in m["body"], kind="sms", to=AGENT_PHONE)
    t0 = time.perf_counter()
    status, _ = stack.fake.reply_sms(AGENT_PHONE, f"4 {number}")
    timings.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    r = http.post(f"{stack.api_url}/v1/incidents/{number}/resolve", timeout=10,
                  headers={"Authorization": f"Bearer {token}"})
    timings.append(time.perf_counter() - t0)
    assert status == 200 and r.status_code == 200, r.text


def main(n: int = 50) -> None:
    with local_stack() as stack:
        from chalicelib import incidents, tokens

        proxy = count_requests(stack.db.port)
        token = tokens.create("carol", "bench")
        http = requests.Session()
        lifecycle(stack, http, token, -1, [])  # warm, as a Lambda container is after its first call
        before, units_before = proxy.snapshot(), dict(proxy.units)
        sms_before = len(stack.fake.messages(kind="sms"))
        timings: list[float] = []
        for i in range(n):
            lifecycle(stack, http, token, i, timings)
        requests_ = sum((proxy.snapshot() - before).values()) / n
        writes = (proxy.units["write"] - units_before.get("write", 0)) / n
        reads = (proxy.units["read"] - units_before.get("read", 0)) / n
        sms = (len(stack.fake.messages(kind="sms")) - sms_before) / n
        t0 = time.perf_counter()
        for _ in range(20):
            incidents.sweep()
        sweep_seconds = (time.perf_counter() - t0) / 20

    api_calls = len(timings) / n
    invocation_seconds = statistics.mean(timings)
    invocations = api_calls + 2 * sms + 1  # + Twilio status callbacks, + the step timer's run
    per_incident = (invocations * PRICE["lambda_request"]
                    + invocations * invocation_seconds * LAMBDA_GB * PRICE["lambda_gb_second"]
                    + (api_calls + 2 * sms) * PRICE["api_request"]
                    + writes * PRICE["ddb_write_unit"] + reads * PRICE["ddb_read_unit"]
                    + 3 * PRICE["sqs_request"]  # send, receive, delete of the step timer
                    + invocations * LOG_BYTES_PER_INVOCATION / 1e9 * PRICE["log_gb"])
    scheduled = 2 * MINUTES_A_MONTH + 2 * HOURS_A_MONTH
    fixed = (scheduled * (PRICE["lambda_request"] + sweep_seconds * LAMBDA_GB * PRICE["lambda_gb_second"]
                          + PRICE["ddb_read_unit"] + LOG_BYTES_PER_INVOCATION / 1e9 * PRICE["log_gb"])
             + PRICE["secret_month"] + SECRET_READS * PRICE["secret_call"]
             + METRICS * PRICE["metric_month"] + ALARMS * PRICE["alarm_month"])
    print(f"one incident, measured over {n} (trigger, SMS page, SMS ack, API resolve): {api_calls:.0f} API "
          f"calls of {invocation_seconds * 1000:.0f} ms on average here, {sms:.1f} SMS, {requests_:.1f} "
          f"DynamoDB requests = {writes:.1f} write units + {reads:.1f} read units; "
          f"a sweep {sweep_seconds * 1000:.0f} ms")
    print(f"AWS per incident: ${per_incident * 1000:.3f} per thousand; fixed: ${fixed:.2f} a month "
          f"(schedules, the secret, {METRICS} metrics, {ALARMS} alarms)")
    for month in (1_000, 100_000):
        print(f"  {month:>7,} incidents a month: ${fixed + month * per_incident:,.2f} a month in AWS "
              f"(Twilio bills its SMS and calls on top, as with any pager: ~{month * sms:,.0f} SMS)")
    seats = ", ".join(f"{name} ${price * TEAM:,.0f}" for name, price in SEATS.items())
    print(f"  a {TEAM}-person team on seat prices: {seats} a month")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)

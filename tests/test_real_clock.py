"""One end-to-end run on the real clock: the timer runner escalates by itself."""
from __future__ import annotations

from conftest import QUICK_KEY, Api, kinds


def test_escalation_runs_on_the_real_clock_with_the_local_timer_runner(api: Api, fresh) -> None:
    fake = fresh.fake
    stop = fresh.start_timer_runner(0.2)
    try:
        number = api.trigger(key=QUICK_KEY, dedup="real-clock", severity="warning")["incident_number"]
        fake.wait_for(kind="sms", to="+33600000001", timeout=5)
        call = fake.wait_for(kind="call", to="+447700900002", timeout=10)  # step 2 after 2 s
        fake.answer_call(call["sid"])
        fake.press_keys(call["sid"], "4")
        inc = api.incident(number)
        assert inc["state"] == "acknowledged" and inc["acknowledged_by"] == "bob"
    finally:
        stop.set()
    assert fake.messages(to="+33600000003") == []  # the manager was never paged
    assert kinds(inc).count("escalated") == 2

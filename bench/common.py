"""What the benchmarks share: the local stack with the test team, and one PagerDuty event."""
from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.stack import Stack  # noqa: E402

KEY = "test-helpdesk-key"  # the helpdesk service of tests/rotas
OTHER_KEY = "test-quick-key"  # another service: a warm-up that does not eat KEY's rate limit
AGENT_PHONE = "+33600000001"  # its agent on call, Alice


@contextlib.contextmanager
def local_stack() -> Iterator[Stack]:
    """DynamoDB Local, the API and the fake providers, no timer runner (nothing escalates)."""
    stack = Stack(rotas_dir=ROOT / "tests" / "rotas", timer_interval=None).start()
    try:
        yield stack
    finally:
        stack.stop()


def trigger(dedup_key: str, summary: str, key: str = KEY) -> dict[str, Any]:
    return {"routing_key": key, "event_action": "trigger", "dedup_key": dedup_key,
            "payload": {"summary": summary, "source": "bench", "severity": "error"}}


def in_threads(work: Callable[[int], None], threads: int) -> float:
    """work(0) … work(threads - 1), each in its own thread, all at once; the seconds it took."""
    pool = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    t0 = time.perf_counter()
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - t0

"""What the benchmarks share: the local stack with the test team, and one PagerDuty event."""
from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from devstack.stack import Stack  # noqa: E402

KEY = "test-helpdesk-key"  # the helpdesk service of tests/rotas
AGENT_PHONE = "+33600000001"  # its agent on call, Alice


@contextlib.contextmanager
def local_stack() -> Iterator[Stack]:
    """DynamoDB Local, the API and the fake providers, no timer runner (nothing escalates)."""
    stack = Stack(rotas_dir=ROOT / "tests" / "rotas", timer_interval=None).start()
    try:
        yield stack
    finally:
        stack.stop()


def trigger(dedup_key: str, summary: str) -> dict[str, Any]:
    return {"routing_key": KEY, "event_action": "trigger", "dedup_key": dedup_key,
            "payload": {"summary": summary, "source": "bench", "severity": "error"}}

"""Per-step timers: wake the escalation for one incident when its next step is due.

In AWS the timer is an SQS message with DelaySeconds (at most 15 minutes, so a longer wait
is a chain of messages); the one-minute sweeper over the `due` index is the backstop if a
message or a Lambda is lost.  Locally (no queue configured) the local runner sweeps every
few hundred milliseconds instead, calling the same handler.
"""
from __future__ import annotations

import functools
import json
import math

from .. import clock, config

SQS_MAX_DELAY = 900


@functools.lru_cache(maxsize=1)
def _queue_url(name: str) -> str:
    return config.sqs_client().get_queue_url(QueueName=name)["QueueUrl"]


def schedule(number: int, due_at: float | None) -> None:
    name = config.settings().timer_queue
    if due_at is None or not name:
        return
    url = name if name.startswith("https://") else _queue_url(name)
    # Rounded up: a timer that fires early finds nothing due and would leave the step to
    # the sweeper, up to a minute late.
    delay = max(0, min(SQS_MAX_DELAY, math.ceil(due_at - clock.now())))
    config.sqs_client().send_message(
        QueueUrl=url, DelaySeconds=delay,
        MessageBody=json.dumps({"incident": number, "due_at": due_at}),
    )


def read_message(body: str) -> tuple[int, float]:
    """(incident number, when it is due) of a timer message."""
    msg = json.loads(body)
    return int(msg["incident"]), float(msg["due_at"])

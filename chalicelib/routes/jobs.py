"""Scheduled jobs (EventBridge) and the SQS timer queue: the engine's clock in AWS.

Locally devstack's timer runner calls the same functions."""
from __future__ import annotations

import os
from typing import Any

from chalice import Blueprint, Rate

from .. import heartbeats, incidents, log, metrics
from ..incidents import sweeper as incident_sweeper
from ..notices import handoffs, managers

bp = Blueprint(__name__)


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="escalation-sweeper")
def sweeper(event: Any) -> None:
    """Backstop: run every escalation step or page whose timer was lost; missed heartbeats."""
    incidents.sweep()
    heartbeats.sweep()


@bp.schedule(Rate(1, unit=Rate.MINUTES), name="handoff-notices")
def handoff_notices(event: Any) -> None:
    """Tell people before their shift, and the team channel at handoff."""
    handoffs.send_due()


@bp.schedule(Rate(1, unit=Rate.HOURS), name="manager-notices")
def manager_notices(event: Any) -> None:
    """Rest warnings in the morning, the monthly summary on the first days of a month."""
    managers.send_rest_notices()
    managers.send_monthly_summaries()


# The stage's queue (astreinte-{stage}-timers): `chalice package --stage` sets the stage's env first.
@bp.on_sqs_message(queue=os.environ.get("ASTREINTE_TIMER_QUEUE") or "astreinte-dev-timers", batch_size=10,
                   name="escalation-timer")
def escalation_timer(event: Any) -> dict[str, list[dict[str, str]]]:
    """Up to 10 timer messages: one that fails is reported alone (the function reports batch
    item failures), logged, and comes back after the queue's visibility timeout; the others
    are done and deleted, not run again with it."""
    failed: list[dict[str, str]] = []
    for record in event.to_dict().get("Records", []):
        try:
            incident_sweeper.on_timer(record["body"])
        except Exception as exc:  # noqa: BLE001 - said, and retried by SQS: the others must not be
            log.error("timer_failed", message_id=record.get("messageId"), body=str(record.get("body"))[:200],
                      error=f"{type(exc).__name__}: {exc}"[:300])
            failed.append({"itemIdentifier": str(record.get("messageId", ""))})
            metrics.count("HandlerErrors")
    return {"batchItemFailures": failed}

"""Scheduled jobs (EventBridge) and the SQS timer queue: the engine's clock in AWS.

Locally devstack's timer runner calls the same functions."""
from __future__ import annotations

from typing import Any

from chalice import Blueprint, Rate

from .. import heartbeats, incidents
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


@bp.on_sqs_message(queue="astreinte-timers", batch_size=10, name="escalation-timer")
def escalation_timer(event: Any) -> None:
    for record in event:
        incident_sweeper.on_timer(record.body)

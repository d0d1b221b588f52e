"""Incidents: one problem, deduplicated, with its state, its escalation and its timeline.

  records     the item, its timeline, idempotency; `mutate`, the one way to change one
  dedup       events from sources: open, count repeats, acknowledge/resolve by dedup_key
  lifecycle   the state machine: acknowledge, resolve, escalate (Outcome)
  actions     responders' other actions: note, reassign, snooze, add responders, merge
  escalation  who is paged when (pure decisions)
  engine      runs what is due: steps, pages and their retries
  sweeper     what wakes incidents: the one-minute sweeper, SQS timers
  followups   after a change is stored: pages updated, others told, ticket notes
  delivery    providers' delivery callbacks
  views       the template fields and the API's JSON
  timers      SQS per-step timers; service_hours: maintenance and support hours (pure)
"""
from __future__ import annotations

from .actions import add_responders, merge, note, reassign, snooze
from .dedup import source_event, trigger
from .engine import process_due
from .lifecycle import Outcome, acknowledge, escalate, resolve
from .records import entry, get, timeline
from .sweeper import sweep
from .views import as_json

__all__ = ["Outcome", "acknowledge", "add_responders", "as_json", "entry", "escalate", "get", "merge", "note",
           "process_due", "reassign", "resolve", "snooze", "source_event", "sweep", "timeline", "trigger"]

"""What wakes incidents up: the one-minute sweeper over the `due` index (the backstop, and
the local timer runner) and the SQS per-step timers.

An incident is due for its next escalation step or page (chalicelib.incidents.engine), or,
once resolved, for the look at repeats stored on it after its resolution
(chalicelib.incidents.dedup.reopen_late_repeats).
"""
from __future__ import annotations

from .. import clock, log, metrics, store
from ..rotas import directory
from ..store import DUE_SHARD, Incident
from . import dedup, engine, flood, timers
from .records import get


def sweep(limit: int = 200) -> int:
    """Run everything due now; returns how many incidents it ran.  `SweeperRuns` counts the
    runs that reached the end (a sweep the store stopped is silence: its alarm)."""
    now = clock.now()
    done = 0
    for inc in Incident.due_index.query(DUE_SHARD, Incident.due_at <= now, limit=limit):
        try:
            wake(inc)
        except Exception as exc:
            if store.unavailable(exc):
                raise  # nothing will work until it answers: the next run catches up
            log.error("incident_not_run", incident=inc.number, error=f"{type(exc).__name__}: {exc}"[:300])
            continue  # one incident that fails must not hold up every other escalation
        done += 1
    flood.send_due(directory.bundle(), now)
    metrics.count("SweeperRuns")
    return done


def on_timer(body: str) -> None:
    """One SQS timer message: run the incident if due, else wait again (long delays)."""
    number, due_at = timers.read_message(body)
    if due_at > clock.now():
        timers.schedule(number, due_at)
        return
    inc = get(number)
    if inc is not None:
        wake(inc)


def wake(inc: Incident) -> int:
    """Run what is due on one incident (a full copy, read or from the index); returns the
    pages sent."""
    if inc.state == "resolved" and inc.due_at is not None and inc.due_at <= clock.now():
        dedup.reopen_late_repeats(inc)  # before the due time is cleared: a retry looks again
    return engine.process_due(inc.number, first=inc)

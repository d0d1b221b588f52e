"""Escalation decisions: which step runs, who gets paged on which channel, and when.

Pure functions over plain data (the policy, the rota bundle, the incident's escalation
state and an instant); chalicelib.incidents.engine does the I/O around them.  The state is a
small dict stored on the incident:

  step          index of the step that last ran (-1 before the first)
  loop          how many times the policy has already been repeated
  next_step_at  when the next step runs, or None once the policy has run out
  pending       pages planned for later (a voice call 2 minutes after the SMS, say)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

from ..model import Bundle, Policy, Step
from ..rotas.shifts import on_call


class PlannedPage(TypedDict):
    """A page the engine decided: who, on which channel, when, for which step (0-based)."""

    to: str  # a person id, or slack:<channel>
    channel: str
    at: float
    step: int
    leased: NotRequired[bool]  # being sent now; due again if the sender dies (engine.claim)
    attempt: NotRequired[int]  # how many times it already failed (engine sends it again)
    fallback_for: NotRequired[str]  # the channel that failed, when this page replaces it
    added: NotRequired[bool]  # an extra responder's (actions.add_responders): goes on while not resolved
    why: NotRequired[dict[str, Any]]  # why they are paged: {kind: reassigned|added, by, note?, note_by?}


class State(TypedDict):
    step: int
    loop: int
    next_step_at: float | None
    pending: list[PlannedPage]


@dataclass
class Decision:
    state: State
    pages: list[PlannedPage] = field(default_factory=list)  # to send now
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # for the timeline
    exhausted: bool = False  # the policy ran out: incident unanswered


def initial_state() -> State:
    return {"step": -1, "loop": 0, "next_step_at": None, "pending": []}


def recipients(step: Step, bundle: Bundle, at: float) -> list[str]:
    """Person ids (and slack:<channel> for channel targets) a step reaches at instant `at`."""
    out: list[str] = []
    for target in step["targets"]:
        if "rota" in target:
            who = on_call(bundle["rotas"][target["rota"]], target["layer"], at)
        elif "person" in target:
            who = target["person"]
        else:
            who = "slack:" + target["slack_channel"]
        if who and who not in out:
            out.append(who)
    return out


def plan_pages(who: list[str], step_index: int, step: Step, severity: str,
               bundle: Bundle, now: float) -> list[PlannedPage]:
    """Each recipient's notification rules (or the step's channels) turned into timed pages."""
    pages: list[PlannedPage] = []
    for rcpt in who:
        if rcpt.startswith("slack:"):
            pages.append({"to": rcpt, "channel": "slack", "at": now, "step": step_index})
            continue
        rules = bundle["people"][rcpt]["notify"]
        if step.get("channels"):
            rules = [{"channel": c, "after": 0, "severities": [severity]} for c in step["channels"] or []]
        for rule in rules:
            if severity in rule["severities"]:
                pages.append({"to": rcpt, "channel": rule["channel"], "at": now + rule["after"],
                              "step": step_index})
    return pages


def tick(state: State, policy: Policy, severity: str, bundle: Bundle, now: float) -> Decision:
    """Everything due at `now` for a triggered incident: pages to send, steps to run."""
    state = {**state, "pending": list(state["pending"])}
    decision = Decision(state=state)
    guard = len(policy["steps"]) * (policy["repeat"] + 1) + 1
    while state["step"] < 0 or (state["next_step_at"] is not None and state["next_step_at"] <= now):
        guard -= 1
        if guard < 0:
            break
        nxt, loop = state["step"] + 1, state["loop"]
        if nxt >= len(policy["steps"]):
            nxt, loop = 0, loop + 1
            if loop > policy["repeat"]:
                state["next_step_at"] = None
                decision.exhausted = True
                decision.events.append(("unanswered", {"steps": len(policy["steps"]),
                                                       "repeats": policy["repeat"]}))
                break
        step = policy["steps"][nxt]
        who = recipients(step, bundle, now)
        state["step"], state["loop"] = nxt, loop
        # A step with nobody on call hands over at once rather than waiting out its delay.
        state["next_step_at"] = now + step["delay"] if who else now
        decision.events.append(("escalated", {"step": nxt + 1, "loop": loop, "to": who,
                                              "targets": step["targets"]}))
        state["pending"].extend(plan_pages(who, nxt, step, severity, bundle, now))
    due = [p for p in state["pending"] if p["at"] <= now]
    state["pending"] = [p for p in state["pending"] if p["at"] > now]
    decision.pages = due
    return decision


def escalate_now(state: State, now: float) -> State:
    """Someone pressed Escalate: the next step is due immediately."""
    return {**state, "next_step_at": now}


def stopped(state: State) -> State:
    """Acknowledged or resolved: nothing more to run."""
    return {**state, "next_step_at": None, "pending": []}


def next_due(state: State) -> float | None:
    times = [p["at"] for p in state["pending"]]
    if state["next_step_at"] is not None:
        times.append(state["next_step_at"])
    return min(times) if times else None

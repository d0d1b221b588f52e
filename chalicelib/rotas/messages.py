"""The support team's messages to a ticket's requester (chalicelib.ticketing), set per service
in rotas/ (`customer_messages`), and what a template may hold: checked by the loader and
`rotas-check`.  Pure, and light: the ticketing write-back imports it at every cold start.
"""
from __future__ import annotations

import string
from typing import Any

# The support team's messages to a ticket's requester (chalicelib.ticketing), per service, and
# the placeholders each may use: the ticket's number, the requester's name, the agent's first
# name (agent) or full name (agent_name), the time (at); a first answer also says what we
# need from the customer and when we call back (delay).
MESSAGE_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "acknowledgement": ("ticket", "name", "agent", "agent_name", "at"),
    "first_answer": ("ticket", "name", "agent", "agent_name", "at", "need", "delay"),
    "closure": ("ticket", "name", "agent", "agent_name", "at"),
}
MESSAGE_MAX_CHARS = 2000


def template_problems(kind: str, template: Any) -> list[str]:
    """What is wrong with one customer message template (empty when it is fine): a
    placeholder the kind does not have, `{}`, `{x.y}`, a format spec, an unpaired brace."""
    if not isinstance(template, str) or not template.strip():
        return ["needs a text"]
    if len(template) > MESSAGE_MAX_CHARS:
        return [f"longer than {MESSAGE_MAX_CHARS} characters"]
    allowed = MESSAGE_PLACEHOLDERS[kind]
    try:
        fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return [f"not a valid template ({exc}); write a brace as {{{{ or }}}}"]
    problems = []
    for field, spec, conversion in fields:
        if field not in allowed:
            problems.append(f"unknown placeholder {{{field}}}; {kind} may use "
                            + ", ".join(f"{{{p}}}" for p in allowed) + " / variable inconnue")
        elif spec or conversion:
            problems.append(f"{{{field}}}: a placeholder takes no format (write {{{field}}})")
    return problems

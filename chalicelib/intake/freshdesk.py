"""Freshdesk: the "Trigger webhook" action of an automation rule, with this JSON body
(Advanced content, placeholders inserted from the rule editor):

    {"ticket": {"id": {{ticket.id}}, "subject": "{{ticket.subject}}",
                "priority": "{{ticket.priority}}", "status": "{{ticket.status}}",
                "url": "{{ticket.url}}",
                "requester": {"name": "{{ticket.requester.name}}",
                              "email": "{{ticket.requester.email}}",
                              "locale": "{{ticket.requester.language}}"}}}

Placeholders render names (Urgent, Resolved); the REST API's numbers are accepted too:
priority 1 low, 2 medium, 3 high, 4 urgent; status 2 open, 3 pending, 4 resolved,
5 closed.  Use one rule "on ticket creation" and one "on ticket update" (priority or
status changed).  Options: priority_map ({"urgent": "critique", "high": "eleve"} by
default), closed_statuses, default_language, and for the acknowledgement note api_base
(https://<domain>.freshdesk.com) and api_token (the API key).
"""
from __future__ import annotations

from typing import Any

from . import Event, InvalidEvent, load_object, obj
from . import tickets as ticketing

PRIORITIES = {"1": "low", "2": "medium", "3": "high", "4": "urgent"}
STATUSES = {"2": "open", "3": "pending", "4": "resolved", "5": "closed"}
CLOSED = ("resolved", "closed", "résolu", "fermé")


def parse(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Event]:
    doc = load_object(raw)
    ticket = doc.get("ticket")
    if not isinstance(ticket, dict):
        raise InvalidEvent(["'ticket' is missing or not an object (see the body template we expect)"])
    errors = []
    tid = ticketing.text_field(ticket.get("id"))
    if tid is None:
        errors.append("'ticket.id' is missing or empty")
    subject = ticketing.text_field(ticket.get("subject"))
    if subject is None:
        errors.append("'ticket.subject' is missing or empty")
    if errors:
        raise InvalidEvent(errors)
    priority = ticketing.text_field(ticket.get("priority"))
    priority = PRIORITIES.get(priority or "", priority)
    status = ticketing.text_field(ticket.get("status"))
    status = STATUSES.get(status or "", status)
    requester = obj(ticket, "requester")
    return ticketing.ticket_events("freshdesk", str(tid), subject, priority,
                                   ticketing.is_closed(status, CLOSED, options),
                                   ticketing.text_field(ticket.get("url")), requester, options, status)

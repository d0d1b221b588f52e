"""Zendesk: a webhook called by a trigger, with a JSON body built from placeholders.

Zendesk's own ticket events carry no priority or requester, so the trigger action
"Notify active webhook" sends this body (copy it as is into the trigger):

    {"ticket": {"id": "{{ticket.id}}", "subject": "{{ticket.title}}",
                "priority": "{{ticket.priority}}", "status": "{{ticket.status}}",
                "url": "{{ticket.link}}",
                "requester": {"name": "{{ticket.requester.name}}",
                              "email": "{{ticket.requester.email}}",
                              "locale": "{{ticket.requester.language}}"}}}

Fire it on ticket creation and on updates (priority or status changed).  Options:
priority_map ({"urgent": "critique", "high": "eleve"} by default; other priorities do not
page), closed_statuses (solved, closed), default_language, and for the acknowledgement
note api_base (https://<subdomain>.zendesk.com), api_user (an agent's email), api_token.
"""
from __future__ import annotations

from typing import Any

from . import Event, InvalidEvent, load_object, obj
from . import tickets as ticketing

CLOSED = ("solved", "closed", "résolu", "clos")


def parse(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Event]:
    doc = load_object(raw)
    ticket = doc.get("ticket")
    if not isinstance(ticket, dict):
        raise InvalidEvent(["'ticket' is missing or not an object (see the body template we expect)"])
    errors = []
    tid = ticketing.text_field(ticket.get("id"))
    if tid is None:
        errors.append("'ticket.id' is missing or empty")
    subject = ticketing.text_field(ticket.get("subject", ticket.get("title")))
    if subject is None:
        errors.append("'ticket.subject' is missing or empty")
    requester = obj(ticket, "requester")
    if errors:
        raise InvalidEvent(errors)
    closed = ticketing.is_closed(ticket.get("status"), CLOSED, options)
    return ticketing.ticket_events("zendesk", str(tid), subject, ticket.get("priority"), closed,
                                   ticketing.text_field(ticket.get("url")), requester, options,
                                   ticket.get("status"))

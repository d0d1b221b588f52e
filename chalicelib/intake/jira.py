"""Jira Service Management: Jira's own webhook (System > WebHooks, or an automation rule's
"Send web request" with the issue data), events jira:issue_created, jira:issue_updated
and jira:issue_deleted, as Jira posts them: webhookEvent, issue.key, issue.self,
issue.fields.summary, priority.name, status.name and status.statusCategory.key
("done" resolves), reporter (displayName, emailAddress, locale when Jira sends it).

The issue key (HELP-42) is the dedup key.  Options: priority_map ({"highest":
"critique", "high": "eleve", ...} by default), closed_statuses (status names that resolve
besides the done category), default_language (Jira rarely sends the reporter's locale),
and for the acknowledgement note api_base (https://<site>.atlassian.net), api_user (an
agent's email), api_token, jira_api ("servicedesk" by default, or "platform").
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from . import Event, InvalidEvent, load_object, obj
from . import tickets as ticketing

EVENTS = ("jira:issue_created", "jira:issue_updated", "jira:issue_deleted")


def _name(value: Any) -> str | None:
    return ticketing.text_field(value.get("name")) if isinstance(value, dict) else None


def parse(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Event]:
    doc = load_object(raw)
    errors = []
    kind = doc.get("webhookEvent")
    if kind not in EVENTS:
        errors.append(f"'webhookEvent' must be one of {', '.join(EVENTS)} (got {kind!r})")
    issue = obj(doc, "issue")
    fields = obj(issue, "fields")
    key = ticketing.text_field(issue.get("key"))
    if key is None:
        errors.append("'issue.key' is missing or empty")
    summary = ticketing.text_field(fields.get("summary"))
    if summary is None:
        errors.append("'issue.fields.summary' is missing or empty")
    if errors:
        raise InvalidEvent(errors)
    status = obj(fields, "status")
    category = obj(status, "statusCategory")
    closed = (kind == "jira:issue_deleted" or category.get("key") == "done"
              or ticketing.is_closed(status.get("name"), (), options))
    reporter = obj(fields, "reporter")
    requester = {"name": reporter.get("displayName"), "email": reporter.get("emailAddress"),
                 "locale": reporter.get("locale")}
    site = urlsplit(  # a link for people only: the API base comes from the options
        str(issue.get("self") or ""))
    url = f"{site.scheme}://{site.netloc}/browse/{key}" if site.scheme and site.netloc else None
    return ticketing.ticket_events("jira", str(key), summary, _name(fields.get("priority")), closed,
                                   url, requester, options, _name(status))

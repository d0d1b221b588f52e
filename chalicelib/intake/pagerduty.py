"""PagerDuty Events API v2, accepted as PagerDuty documents it, so that any tool able to
page PagerDuty pages us by changing one URL (POST /v2/enqueue)."""
from __future__ import annotations

import json
import urllib.parse
import uuid
from typing import Any, cast

from .. import clock, text
from ..severity import PAGERDUTY
from . import Event, InvalidEvent, load_object

ACTIONS = ("trigger", "acknowledge", "resolve")


def parse(raw: bytes, headers: dict[str, str] | None = None,
          options: dict[str, Any] | None = None) -> list[Event]:
    """The same format posted to an integration URL (the key in the URL, not the body)."""
    body = raw
    try:
        doc = text.parse_json(raw)
        if isinstance(doc, dict) and "routing_key" not in doc:
            body = json.dumps({**doc, "routing_key": "-"}).encode()
    except text.BadJson:
        pass  # parse_event names what is wrong
    event = parse_event(body)
    event.pop("routing_key")
    return [cast(Event, event)]


def parse_event(raw: bytes) -> dict[str, Any]:
    """Validate the body; every problem is named, field by field."""
    body = load_object(raw)
    errors = []
    key = body.get("routing_key")
    if not isinstance(key, str) or not key:
        errors.append("'routing_key' is missing or not a string")
    action = body.get("event_action")
    if not isinstance(action, str) or action not in ACTIONS:
        errors.append(f"'event_action' must be one of trigger, acknowledge, resolve (got {action!r})")
    dedup = body.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not dedup or len(dedup) > 255):
        errors.append("'dedup_key' must be a non-empty string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append(f"'dedup_key' is required to {action}")
    event: dict[str, Any] = {}
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
            payload = {}
        for field in ("summary", "source"):
            value = payload.get(field)
            if not isinstance(value, str) or not value.strip():
                errors.append(f"'payload.{field}' is missing or empty")
        if isinstance(payload.get("summary"), str) and len(payload["summary"]) > 1024:
            errors.append("'payload.summary' is longer than 1024 characters")
        severity = payload.get("severity")
        if not isinstance(severity, str) or severity not in PAGERDUTY:
            errors.append(f"'payload.severity' must be one of critical, error, warning, info "
                          f"(got {severity!r})")
        details = payload.get("custom_details")
        if details is not None and not isinstance(details, (dict, str)):
            errors.append("'payload.custom_details' must be an object")
        event = {
            "summary": str(payload.get("summary", "")).strip(),
            "source": payload.get("source"),
            "severity": PAGERDUTY.get(str(severity), "moyen"),
            "details": {k: payload[k] for k in ("custom_details", "component", "group", "class",
                                                "timestamp") if k in payload}
                       | {k: body[k] for k in ("client", "client_url", "links", "images") if k in body}
                       or None,
        }
    if errors:
        raise InvalidEvent(errors)
    event.update(action=action, dedup_key=dedup or uuid.uuid4().hex, via="events-api",
                 routing_key=key)
    return event


MAX_LINKS = 10
# custom_details of a change, serialised as stored (json.dumps: non-ASCII escaped, "é" is 6
# characters): up to 20 changes are shown with each incident of the service, whose answer
# must stay far under Lambda's 6 MB.
MAX_CHANGE_DETAILS = 16 * 1024


def parse_change(raw: bytes) -> dict[str, Any]:
    """A change event (POST /v2/change/enqueue): a deploy, a configuration applied; it pages
    nobody.  -> {routing_key, summary, source, timestamp (epoch seconds or None), links
    [{href, text}] (http(s) only), custom_details}; every problem named, field by field."""
    body = load_object(raw)  # strings already cleaned (text.parse_json)
    errors = []
    key = body.get("routing_key")
    if not isinstance(key, str) or not key:
        errors.append("'routing_key' is missing or not a string")
    payload = body.get("payload")
    if not isinstance(payload, dict):
        errors.append("'payload' is missing or not an object")
        payload = {}
    summary = payload.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        errors.append("'payload.summary' is missing or empty")
    elif len(summary) > 1024:
        errors.append("'payload.summary' is longer than 1024 characters")
    source = payload.get("source")
    if source is not None and not isinstance(source, str):
        errors.append("'payload.source' must be a string")
    elif isinstance(source, str) and len(source) > 255:
        errors.append("'payload.source' is longer than 255 characters")
    timestamp = None
    given = payload.get("timestamp")
    if given is not None:
        try:
            timestamp = clock.parse_iso(given) if isinstance(given, str) else None
        except ValueError:
            timestamp = None
        if timestamp is None:
            errors.append("'payload.timestamp' must be an ISO 8601 date-time with its zone "
                          "(2026-07-17T08:42:58.315+0000)")
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, dict):
        errors.append("'payload.custom_details' must be an object")
        details = None
    elif details is not None and (size := len(json.dumps(details))) > MAX_CHANGE_DETAILS:
        errors.append(f"'payload.custom_details' is {size} characters as JSON (non-ASCII escaped), "
                      f"over the {MAX_CHANGE_DETAILS} allowed: send a link to the rest")
        details = None
    links: list[dict[str, str]] = []
    raw_links = body.get("links")
    if raw_links is not None and not isinstance(raw_links, list):
        errors.append("'links' must be an array of {href, text}")
        raw_links = []
    for i, link in enumerate(raw_links or []):
        href = link.get("href") if isinstance(link, dict) else None
        if not isinstance(href, str) or not _web_url(href):
            errors.append(f"'links[{i}].href' must be an http(s) URL")
            continue
        label = link.get("text") if isinstance(link.get("text"), str) else None
        links.append({"href": href.strip(), "text": (label or href).strip()[:255]})
    if len(links) > MAX_LINKS:
        errors.append(f"'links' has more than {MAX_LINKS} links")
    if errors:
        raise InvalidEvent(errors)
    return {"routing_key": key, "summary": str(summary).strip(),
            "source": (source.strip() or None) if isinstance(source, str) else None,
            "timestamp": timestamp, "links": links, "custom_details": details or None}


def _web_url(value: str) -> bool:
    """An absolute http(s) URL with a host, no spaces: what may become a link people click."""
    parts = urllib.parse.urlsplit(value.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc) and not any(
        c.isspace() for c in value.strip()) and len(value) <= 2048

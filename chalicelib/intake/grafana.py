"""Grafana Alerting's webhook contact point (unified alerting, payload version "1").

Grafana's notifier is derived from Alertmanager's, so the payload is Alertmanager's plus
orgId, each alert's values, silenceURL, imageURL (dashboardURL and panelURL, deprecated)
and title, state and message at the top (deprecated).  The options and their meaning
are Alertmanager's (see chalicelib.intake.alertmanager): group_by, severity_label,
severity_map, default_severity.

Dedup keys carry the organisation, because Grafana's group keys ("{}:{}" when a policy
groups by nothing) and fingerprints repeat from one organisation to the next.
The contact point's "Test" button sends a firing TestAlert: it opens an incident and
pages, which is what a test of the whole path should do.
"""
from __future__ import annotations

from typing import Any

from . import Event
from .alertmanager import Flavour, parse_webhook


class Grafana(Flavour):
    name = "grafana"
    alert_extras = ("values", "valueString", "silenceURL", "dashboardURL", "panelURL", "imageURL")
    body_extras = ("orgId", "title", "state")

    def dedup_prefix(self, doc: dict[str, Any]) -> str:
        org = doc.get("orgId")
        return f"org{org}/" if isinstance(org, (int, str)) and str(org) else ""

    def group_title(self, doc: dict[str, Any]) -> str | None:
        title = doc.get("title")
        return title if isinstance(title, str) else None


def parse(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Event]:
    return parse_webhook(raw, options, Grafana())

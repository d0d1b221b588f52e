"""The event's most useful details for a page: its links, a few fields, its images (pure).

From an incident's stored `details` (what each intake parser keeps: PagerDuty's custom_details,
links, images, client_url; Alertmanager's and Grafana's annotations, labels and URLs;
CloudWatch's alarm; a generic webhook's body; a ticket's URL; Opsgenie's fields), derive

    {"links": [{"label", "url"}], "fields": [{"label", "value"}], "images": [{"label", "url"}]}

the runbook first, then the dashboard, then the rest, each list bounded.  The details are the
source's words, hostile until proven otherwise: only http(s) URLs are kept (no javascript:,
data:, file:), without the credentials some carry (https://user:password@host), with the
characters that could end a link in Slack's mrkdwn, an HTML attribute or a text message
percent-encoded; labels and values lose control and bidi
characters and are cut.  Each exit still escapes them for its format (chalicelib.escape,
html.escape).
"""
from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

from ..text import clean

MAX_LINKS = 8
MAX_FIELDS = 12
MAX_IMAGES = 4
MAX_LABEL = 60
MAX_VALUE = 200
MAX_URL = 2000
_DEPTH = 3
_WIDTH = 50  # keys of an object walked
_MAX_LEAVES = 300  # leaves of the details walked for fields in all: a huge event costs no more
# Kept as they are in a URL (RFC 3986's reserved and unreserved characters, and '%'); every
# other character (<, >, |, ", ', `, \, spaces, non-ASCII) is percent-encoded.
_URL_SAFE = "/:?#[]@!$&()*+,;=%-._~"
_RUNBOOK = ("runbook", "playbook", "procedure", "wiki")
_DASHBOARD = ("dashboard", "grafana", "panel", "graph")
_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'|]+", re.I)
_SKIPPED = {"summary", "__name__"}  # already the page's summary, or noise
# A ticket's link as some tools' templates render it, without its scheme (Zendesk's
# {{ticket.link}}: "acme.zendesk.com/agent/tickets/12"): the host of a known ticketing tool.
_TICKET_HOST = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:zendesk\.com|freshdesk\.com|freshservice\.com"
                          r"|atlassian\.net)", re.I)

Item = dict[str, str]
Highlights = dict[str, list[Item]]


def empty() -> Highlights:
    return {"links": [], "fields": [], "images": []}


def safe_url(value: Any) -> str | None:
    """An absolute http(s) URL fit to be a link anywhere, or None."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > MAX_URL or any(c.isspace() or unicodedata.category(c)[0] == "C" for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced [ in the host
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "\\" in parts.netloc:
        return None
    if "@" in parts.netloc:  # credentials (user:password@): never shown, the host alone kept
        url = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    return quote(url, safe=_URL_SAFE)


def _plain(value: Any, limit: int) -> str:
    """Text on one line: control, format (bidi) characters gone, spaces collapsed, cut with '…'."""
    words = "".join(c for c in clean(str(value)) if unicodedata.category(c) not in ("Cf", "Cc", "Co", "Cs"))
    one = " ".join(words.split())
    return one if len(one) <= limit else one[:limit - 1].rstrip() + "…"


def label(value: Any) -> str:
    return _plain(value, MAX_LABEL)


def _scalar(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, dict):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        items = [s for s in (_scalar(v) for v in value[:20] if not isinstance(v, (dict, list))) if s]
        return ", ".join(items) or None
    return str(value)


def _leaves(doc: Any, prefix: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of the leaves of a JSON object, in order, a few levels deep; lazily,
    so that the walk ends where its reader stops."""
    if isinstance(doc, dict) and depth < _DEPTH:
        for k, v in itertools.islice(doc.items(), _WIDTH):
            yield from _leaves(v, f"{prefix}.{k}" if prefix else str(k), depth + 1)
    else:
        yield prefix or "details", doc


def _link_name(key: str) -> str:
    """A field's key as a link's label: 'runbook_url' -> 'runbook', 'links.dashboardURL' ->
    'links.dashboard'."""
    name = re.sub(r"[_.\- ]?url$", "", key, flags=re.I).replace("_", " ").strip()
    return name or key


def _kind(key: str) -> int:
    """0 a runbook, 1 a dashboard, 2 anything else: the order of links."""
    low = key.lower()
    if any(w in low for w in _RUNBOOK):
        return 0
    if any(w in low for w in _DASHBOARD):
        return 1
    return 2


class _Builder:
    def __init__(self) -> None:
        self.links: list[tuple[int, int, Item]] = []
        self.fields: list[Item] = []
        self.images: list[Item] = []
        self._urls: set[str] = set()
        self._leaves_left = _MAX_LEAVES

    def link(self, name: Any, url: Any, kind: int | None = None) -> bool:
        safe = safe_url(url)
        if safe is None or safe in self._urls:
            return safe is not None
        self._urls.add(safe)
        text = label(name) or (urlsplit(safe).hostname or "link")
        rank = _kind(str(name)) if kind is None else kind
        self.links.append((rank, len(self.links), {"label": text, "url": safe}))
        return True

    def field(self, name: Any, value: Any) -> None:
        shown = _scalar(value)
        key = label(name)
        if shown is None or not key or key.lower() in _SKIPPED:
            return
        if self.link(_link_name(key), shown.strip()):  # a URL in a field is a link
            return
        if len(self.fields) < MAX_FIELDS:
            self.fields.append({"label": key, "value": _plain(shown, MAX_VALUE)})

    def image(self, name: Any, url: Any) -> None:
        safe = safe_url(url)
        if safe is not None and all(i["url"] != safe for i in self.images):
            self.images.append({"label": label(name) or "image", "url": safe})

    def full(self) -> bool:
        """Enough fields and links for any page (a link found later could only be a runbook
        ranked before those found)."""
        return len(self.fields) >= MAX_FIELDS and len(self.links) >= MAX_LINKS

    def fields_of(self, doc: Any, prefix: str = "") -> None:
        """The leaves of an object as fields (or links), until enough are found or
        _MAX_LEAVES were read."""
        for key, value in _leaves(doc, prefix):
            if self.full() or self._leaves_left <= 0:
                return
            self._leaves_left -= 1
            self.field(key, value)

    def urls_in(self, name: str, value: Any) -> None:
        """The URLs written in a free text (a description): links named after it."""
        if isinstance(value, str):
            for found in _URL_IN_TEXT.findall(value)[:3]:
                self.link(name, found.rstrip(".,;:)]"))

    def result(self) -> Highlights:
        links = [item for _, _, item in sorted(self.links, key=lambda t: (t[0], t[1]))]
        return {"links": links[:MAX_LINKS], "fields": self.fields[:MAX_FIELDS],
                "images": self.images[:MAX_IMAGES]}


def _obj(doc: Any, key: str) -> dict[str, Any]:
    value = doc.get(key) if isinstance(doc, dict) else None
    return value if isinstance(value, dict) else {}


def _objects(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """The objects of the list doc[key] (the first 50), whatever else the list holds."""
    value = doc.get(key)
    return [v for v in value[:50] if isinstance(v, dict)] if isinstance(value, list) else []


def _pagerduty(b: _Builder, d: dict[str, Any]) -> None:
    custom = d.get("custom_details")
    for item in _objects(d, "links"):
        b.link(item.get("text") or "", item.get("href"))
    for item in _objects(d, "images"):
        b.image(item.get("alt") or "image", item.get("src"))
        b.link(item.get("alt") or "", item.get("href"))
    b.link(d.get("client") or "Source", d.get("client_url"), kind=2)
    if isinstance(custom, dict):
        b.fields_of(custom)
    elif isinstance(custom, str):
        b.field("details", custom)
    for key in ("component", "group", "class"):
        b.field(key, d.get(key))


_ANNOTATION_LINKS = {"runbook_url": "Runbook", "runbook": "Runbook", "playbook": "Runbook",
                     "dashboard": "Dashboard", "dashboard_url": "Dashboard", "grafana_url": "Dashboard"}
_ALERT_LINKS = (("dashboardURL", "Dashboard", 1), ("panelURL", "Panel", 1), ("generatorURL", "Source", 2),
                ("silenceURL", "Silence", 3))


def _alert(b: _Builder, alert: dict[str, Any], with_labels: bool = True) -> None:
    annotations = _obj(alert, "annotations")
    for key, value in annotations.items():
        name = _ANNOTATION_LINKS.get(str(key).lower())
        if name:
            b.link(name, value, kind=_kind(name))
    for key, name, kind in _ALERT_LINKS:
        b.link(name, alert.get(key), kind=kind)
    b.image("image", alert.get("imageURL"))
    for key, value in annotations.items():
        if str(key).lower() not in _ANNOTATION_LINKS:
            b.field(key, value)
            b.urls_in(str(key), value)
    if alert.get("valueString"):
        b.field("values", alert.get("valueString"))
    if with_labels:
        b.fields_of(_obj(alert, "labels"))


def _alertmanager(b: _Builder, d: dict[str, Any]) -> None:
    if isinstance(d.get("alert"), dict):
        _alert(b, d["alert"])
    else:  # a group: its common labels, and each alert's links
        alerts = _objects(d, "alerts")
        if alerts:
            _alert(b, alerts[0], with_labels=False)
        for a in alerts[1:]:
            for key, value in _obj(a, "annotations").items():
                name = _ANNOTATION_LINKS.get(str(key).lower())
                if name:
                    b.link(name, value, kind=_kind(name))
        if d.get("alerts_total"):
            b.field("alerts", d.get("alerts_total"))
        b.fields_of(_obj(d, "commonLabels"))
    b.link("Alertmanager", d.get("externalURL"), kind=3)


def _cloudwatch(b: _Builder, d: dict[str, Any]) -> None:
    arn, region = str(d.get("AlarmArn") or ""), str(d.get("Region") or "")
    parts = arn.split(":")
    code = parts[3] if len(parts) > 6 and parts[2] == "cloudwatch" else ""
    if code and re.fullmatch(r"[a-z0-9-]{1,30}", code):
        name = quote(":".join(parts[6:]), safe="")
        b.link("AWS Console", f"https://{code}.console.aws.amazon.com/cloudwatch/home?region={code}"
                              f"#alarmsV2:alarm/{name}", kind=1)
    b.urls_in("Runbook", d.get("AlarmDescription"))
    b.field("description", d.get("AlarmDescription"))
    trigger = _obj(d, "Trigger")
    for key in ("MetricName", "Namespace", "Statistic", "ComparisonOperator", "Threshold", "Period"):
        b.field(key, trigger.get(key))
    b.field("region", region)
    b.field("account", d.get("AWSAccountId"))
    b.field("changed at", d.get("StateChangeTime"))


def _ticket_url(value: Any) -> Any:
    """A ticket's link, with https:// added when it is a known ticketing tool's host and path
    without a scheme."""
    if isinstance(value, str) and _TICKET_HOST.fullmatch(value.strip().split("/", 1)[0]):
        return "https://" + value.strip()
    return value


def _ticket(b: _Builder, t: dict[str, Any]) -> None:
    tool = str(t.get("tool") or "ticket")
    b.link(f"{tool.capitalize()} #{t.get('id', '')}", _ticket_url(t.get("url")), kind=2)
    for key in ("priority", "status"):
        b.field(key, t.get(key))
    b.field("requester", _obj(t, "requester").get("name"))


def highlights(details: Any) -> Highlights:
    """What a person needs from the event's details, whatever its source (see the module)."""
    if not isinstance(details, dict) or not details:
        return empty()
    b = _Builder()
    if isinstance(details.get("ticket"), dict):
        _ticket(b, details["ticket"])
    elif "alert" in details or "alerts" in details or "commonLabels" in details:
        _alertmanager(b, details)
    elif "AlarmArn" in details or "NewStateValue" in details:
        _cloudwatch(b, details)
    elif isinstance(details.get("opsgenie"), dict):
        og = details["opsgenie"]
        b.urls_in("description", og.get("description"))
        b.fields_of({k: v for k, v in og.items() if k in ("description", "entity", "priority", "tags")})
        b.fields_of(_obj(og, "details"))
    elif "body" in details and len(details) == 1:  # a generic webhook: the whole body
        b.fields_of(details["body"])
    else:  # PagerDuty's Events API, and any other shape: its fields
        _pagerduty(b, details)
        b.fields_of({k: v for k, v in details.items()
                     if k not in ("custom_details", "links", "images", "client", "client_url", "component",
                                  "group", "class", "timestamp")})
    return b.result()

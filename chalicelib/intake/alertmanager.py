"""Prometheus Alertmanager's webhook (payload version 4), accepted as Alertmanager sends it.

Point a `webhook_configs` receiver at the integration URL, with `send_resolved: true` so
that incidents resolve themselves.  Alertmanager retries 5xx answers and drops 4xx ones,
so a payload we refuse (400) is not sent again: validation only refuses what can never
become an incident, and an unknown severity falls back instead of being refused.

Options (set when the key is created):
  group_by:         "alert" (default): one incident per alert, dedup on its fingerprint,
                    each alert's own status;  "group": one incident per alert group, dedup
                    on groupKey, resolved when the group's status is resolved
  severity_label:   label holding the severity (default "severity")
  severity_map:     {"page": "critique", ...}, applied before our own words
  default_severity: when the label is absent or unknown (default "moyen")

Grafana's webhook contact point sends the same shape; chalicelib.intake.grafana reuses
this module with its own fields.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from ..severity import ORDER, normalise
from . import Event, InvalidEvent, load_object

STATUSES = ("firing", "resolved")
MODES = ("alert", "group")
MAX_DEDUP = 255           # as PagerDuty's dedup_key; longer group keys are hashed
MAX_TEXT = 2000           # per label or annotation value kept in the details
MAX_ALERTS_IN_DETAILS = 20
MAX_DETAILS = 64_000      # bytes of JSON: the incident and its timeline entry each hold the details,
                          # a DynamoDB item is 400 KB at most, and a body may be 512 KiB
ALERT_FIELDS = ("status", "startsAt", "endsAt", "generatorURL", "fingerprint")


def parse(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Event]:
    return parse_webhook(raw, options, Flavour())


class Flavour:
    """What differs between Alertmanager and the formats derived from it (Grafana)."""

    name = "alertmanager"
    alert_extras: tuple[str, ...] = ()  # alert fields kept in the details beyond ALERT_FIELDS
    body_extras: tuple[str, ...] = ()   # top-level fields kept in the details

    def dedup_prefix(self, doc: dict[str, Any]) -> str:
        return ""

    def group_title(self, doc: dict[str, Any]) -> str | None:
        """A summary for a group when no annotation gives one."""
        return None


def parse_webhook(raw: bytes, options: dict[str, Any], flavour: Flavour) -> list[Event]:
    """Validate the whole payload first (nothing is stored when any field is wrong), then
    make one event per alert or one for the group."""
    mode = options.get("group_by", "alert")
    if mode not in MODES:
        raise InvalidEvent([f"options.group_by must be 'alert' or 'group' (got {mode!r})"], status=409)
    if options.get("severity_map") is not None and not isinstance(options["severity_map"], dict):
        raise InvalidEvent(["options.severity_map must be an object"], status=409)
    doc = load_object(raw)
    errors = _validate(doc, mode)
    if errors:
        raise InvalidEvent(errors)
    if mode == "group":
        return [_group_event(doc, options, flavour)]
    return [_alert_event(doc, alert, options, flavour) for alert in doc["alerts"]]



def _is_str_map(value: Any) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


def _validate(doc: dict[str, Any], mode: str) -> list[str]:
    """Every problem, field by field (Alertmanager logs our answer: it should say it all)."""
    errors = []
    alerts = doc.get("alerts")
    if alerts is None:
        errors.append("'alerts' is missing")
    elif not isinstance(alerts, list):
        errors.append("'alerts' must be a list")
    elif not alerts:
        errors.append("'alerts' is empty")
    if mode == "group":
        if doc.get("status") not in STATUSES:
            errors.append(f"'status' must be firing or resolved (got {doc.get('status')!r})")
        if not isinstance(doc.get("groupKey"), str) or not doc["groupKey"]:
            errors.append("'groupKey' is missing or not a string (needed to group alerts)")
    for field in ("groupLabels", "commonLabels", "commonAnnotations"):
        if doc.get(field) is not None and not _is_str_map(doc[field]):
            errors.append(f"'{field}' must be an object of strings")
    for i, alert in enumerate(alerts if isinstance(alerts, list) else []):
        where = f"alerts[{i}]"
        if not isinstance(alert, dict):
            errors.append(f"'{where}' must be an object")
            continue
        labels = alert.get("labels")
        if labels is None:
            errors.append(f"'{where}.labels' is missing")
        elif not _is_str_map(labels) or not labels:
            errors.append(f"'{where}.labels' must be a non-empty object of strings")
        if alert.get("annotations") is not None and not _is_str_map(alert["annotations"]):
            errors.append(f"'{where}.annotations' must be an object of strings")
        if mode == "alert" and alert.get("status") not in STATUSES:
            errors.append(f"'{where}.status' must be firing or resolved (got {alert.get('status')!r})")
        if alert.get("fingerprint") is not None and (not isinstance(alert["fingerprint"], str)
                                                     or not alert["fingerprint"]):
            errors.append(f"'{where}.fingerprint' must be a non-empty string")
    return errors


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's own fingerprint of a label set (FNV-1a 64 over sorted name/value
    pairs), for senders older than 0.19 that do not put it in the payload."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name.encode(), b"\xff", labels[name].encode(), b"\xff"):
            for byte in part:
                h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def _dedup(prefix: str, key: str) -> str:
    key = prefix + key
    return key if len(key) <= MAX_DEDUP else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _severity(value: str | None, options: dict[str, Any]) -> str | None:
    if value is None:
        return None
    mapped = (options.get("severity_map") or {}).get(value, value)
    return normalise(str(mapped))


def _default_severity(options: dict[str, Any]) -> str:
    return normalise(str(options.get("default_severity", "moyen"))) or "moyen"


def _describe(labels: dict[str, str]) -> str:
    """alertname, then the other labels: the summary when no annotation gives one."""
    rest = ", ".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "alertname")
    name = labels.get("alertname", "")
    return f"{name}: {rest}" if name and rest else name or rest


def _summary(annotations: dict[str, str], labels: dict[str, str], fallback: str | None = None) -> str:
    for text in (annotations.get("summary"), annotations.get("description"), fallback):
        if text and text.strip():
            return text.strip()[:1024]
    return (_describe(labels) or "alert")[:1024]


def _source(labels: dict[str, str], default: str) -> str:
    return labels.get("instance") or labels.get("job") or default


def _clip(value: Any) -> Any:
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, dict):
        return {str(k)[:200]: _clip(v) for k, v in list(value.items())[:100]}
    return value


def _alert_details(alert: dict[str, Any], flavour: Flavour) -> dict[str, Any]:
    fields = ALERT_FIELDS + flavour.alert_extras
    return {"labels": _clip(alert["labels"]), "annotations": _clip(alert.get("annotations") or {})} | {
        k: _clip(alert[k]) for k in fields if alert.get(k) not in (None, "")}


def _common(doc: dict[str, Any], flavour: Flavour) -> dict[str, Any]:
    fields = ("receiver", "externalURL", "groupKey", "version", "truncatedAlerts") + flavour.body_extras
    return {k: _clip(doc[k]) for k in fields if doc.get(k) not in (None, "")}


def _bounded(details: dict[str, Any]) -> dict[str, Any]:
    """Details small enough to store: drop listed alerts, then shorten every text."""
    def size() -> int:
        return len(json.dumps(details, ensure_ascii=False).encode())
    while size() > MAX_DETAILS and details.get("alerts"):
        details["alerts"].pop()
    if size() > MAX_DETAILS:
        details = {k: _short(v) for k, v in details.items()}
    return details


def _short(value: Any) -> Any:
    if isinstance(value, str):
        return value[:100]
    if isinstance(value, dict):
        return {str(k)[:100]: _short(v) for k, v in list(value.items())[:20]}
    return value


def _alert_event(doc: dict[str, Any], alert: dict[str, Any], options: dict[str, Any],
                 flavour: Flavour) -> Event:
    labels, annotations = alert["labels"], alert.get("annotations") or {}
    raw_sev = labels.get(options.get("severity_label", "severity"))
    return {
        "action": "trigger" if alert["status"] == "firing" else "resolve",
        "dedup_key": _dedup(flavour.dedup_prefix(doc), alert.get("fingerprint") or fingerprint(labels)),
        "summary": _summary(annotations, labels),
        "source": _source(labels, flavour.name),
        "severity": _severity(raw_sev, options) or _default_severity(options),
        "details": _bounded({"alert": _alert_details(alert, flavour), **_common(doc, flavour)}),
    }


def _group_event(doc: dict[str, Any], options: dict[str, Any], flavour: Flavour) -> Event:
    """One event for the whole group: the most severe of its firing alerts decides."""
    alerts = doc["alerts"]
    common = doc.get("commonLabels") or {}
    label = options.get("severity_label", "severity")
    firing = [a for a in alerts if a.get("status") != "resolved"] or alerts
    found = [s for s in (_severity(a["labels"].get(label), options) for a in firing) if s]
    severity = min(found, key=ORDER.index) if found else _default_severity(options)
    labels = common or doc.get("groupLabels") or alerts[0]["labels"]
    one = alerts[0] if len(alerts) == 1 else None
    summary = _summary(doc.get("commonAnnotations") or {}, labels,
                       fallback=_summary(one.get("annotations") or {}, one["labels"]) if one
                       else flavour.group_title(doc))
    if len(firing) > 1 and not summary.startswith("["):
        summary = f"[{len(firing)} alerts] {summary}"[:1024]
    kept = [_alert_details(a, flavour) for a in alerts[:MAX_ALERTS_IN_DETAILS]]
    return {
        "action": "resolve" if doc["status"] == "resolved" else "trigger",
        "dedup_key": _dedup(flavour.dedup_prefix(doc), doc["groupKey"]),
        "summary": summary,
        "source": _source(common, flavour.name),
        "severity": severity,
        "details": _bounded({"groupLabels": _clip(doc.get("groupLabels") or {}),
                             "commonLabels": _clip(common), "alerts": kept, "alerts_total": len(alerts),
                             **_common(doc, flavour)}),
    }

"""What each source's integration options may say, checked when a key is created (API,
CLI) and when rotas/ is validated: a typo in a mapping is found by whoever sets it up,
not by the monitoring tool at three in the morning (its events would be refused 409).

Pure: options in, the problems out, each naming the option and what it expects.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..clock import parse_duration
from ..severity import normalise

Check = Callable[[Any], str | None]  # None when the value is fine, else what it should be


def _severity(v: Any) -> str | None:
    return None if isinstance(v, str) and normalise(v) else "a severity (critique, eleve, moyen, faible)"


def _severity_map(v: Any) -> str | None:
    if not isinstance(v, dict):
        return "an object mapping the source's values to severities"
    bad = [str(k) for k, sev in v.items() if sev is not None and _severity(sev)]
    return f"severities as values (not for {', '.join(bad)})" if bad else None


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) and v.strip() else "a non-empty string"


def _texts(v: Any) -> str | None:
    return None if isinstance(v, list) and all(isinstance(x, str) for x in v) else "a list of strings"


def _count(v: Any) -> str | None:
    return None if isinstance(v, int) and not isinstance(v, bool) and v > 0 else "a whole number above 0"


def _number(v: Any) -> str | None:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and v > 0
    return None if ok else "a number of seconds above 0"


def _flag(v: Any) -> str | None:
    return None if isinstance(v, bool) else "true or false"


def _url(v: Any) -> str | None:
    return None if isinstance(v, str) and v.startswith(("https://", "http://")) else "an http(s) URL"


def _duration(v: Any, least: float = 1) -> str | None:
    try:
        return None if parse_duration(v) >= least else f"a duration of at least {least:g} s"
    except ValueError:
        return "a duration such as 30s, 5m, 2h"


def _grace(v: Any) -> str | None:
    return _duration(v, least=0)


def _one_of(*choices: str) -> Check:
    return lambda v: None if v in choices else " or ".join(repr(c) for c in choices)


def _rule(v: Any) -> str | None:
    ok = isinstance(v, dict) and isinstance(v.get("path"), str) and set(v) == {"path", "equals"}
    return None if ok else 'an object {"path": "state", "equals": "ok"}'


COMMON: dict[str, Check] = {"rate_limit_per_minute": _count}
ALERTS = {"group_by": _one_of("alert", "group"), "severity_label": _text, "severity_map": _severity_map,
          "default_severity": _severity}
TICKETS: dict[str, Check] = {
           "priority_map": _severity_map, "closed_statuses": _texts, "api_base": _url, "api_user": _text,
           "api_token": _text, "api_token_env": _text, "language": _text, "default_language": _text,
           "reply_to_requester": _flag, "timeout": _number}
SOURCES: dict[str, dict[str, Check]] = {
    "pagerduty": {}, "opsgenie": {},
    "alertmanager": ALERTS, "grafana": ALERTS,
    "cloudwatch": {"topic_arns": _texts, "severity": _severity},
    "zendesk": TICKETS, "freshdesk": TICKETS,
    "jira": {**TICKETS, "jira_api": _one_of("servicedesk", "platform")},
    "generic": {"summary": _text, "dedup_key": _text, "severity": _text, "severity_map": _severity_map,
                "default_severity": _severity, "source": _text, "resolve_when": _rule,
                "acknowledge_when": _rule},
    "heartbeat": {"interval": _duration, "grace": _grace, "name": _text, "severity": _severity},
}
REQUIRED = {"generic": ("summary",)}


def problems(source: str, options: Any) -> list[str]:
    """Everything wrong with a source's options; [] when they can be used as they are."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        return ["'options' must be an object"]
    checks = {**COMMON, **SOURCES.get(source, {})}
    out = []
    for name in REQUIRED.get(source, ()):
        if name not in options:
            out.append(f"options.{name} is required for {source} integrations")
    for name, value in options.items():
        check = checks.get(name)
        if check is None:
            out.append(f"options.{name} is not an option of {source} integrations "
                       f"(known: {', '.join(sorted(checks))})")
        elif (expected := check(value)) is not None:
            out.append(f"options.{name} must be {expected}, not {value!r}")
    return out

"""Structured log lines, one JSON object each, through Powertools for AWS Lambda's Logger:
what CloudWatch Logs keeps (and Logs Insights queries) and `make run` shows.

    log.error("page_failed", incident=12, channel="sms", address="+33600000001", error="…")

gives {"level": "ERROR", "location": …, "message": "page_failed", "timestamp": …,
"service": "astreinte-<stage>", "event": "page_failed", "incident": 12, "channel": "sms",
"address": "+33 6•• •• •• 01", "error": "…"}.  Phone numbers (E.164) anywhere in the fields
are masked (`mask_phone`): a log line is read by more people than may call the on-call.
A field named like one of the line's own keys (service, message, level…) gets a trailing
underscore rather than overwriting it.

A failure that stops a page must be loud: it is said here as well as on the timeline.
"""
from __future__ import annotations

import json
import logging
import os
import re
import sys
from typing import Any

from aws_lambda_powertools.logging import Logger

from .access import mask_phone

__all__ = ["error", "warning", "info", "mask_phone", "mask_secrets", "masked", "service_name", "invocation"]

# Paths whose last part is a credential: a calendar feed, a one-click link, an integration or
# heartbeat key, a feed to revoke.  Access logs keep the path, never the secret.
_SECRET_PATHS = re.compile(r"(/(?:ical|l|v1/integrations|v1/heartbeats|v1/feeds)/)([^/?\s]{4})[^/?\s]*")
# A details link (/d/<number>.<person>.<expiry>.<signature>): its signature, the part after the
# last '.', is the secret (none of it kept); a token without a '.' is masked whole.
_DETAILS_PATH = re.compile(r"(/d/(?:[^/?\s]*\.)?)[^/?\s.]+")
# A phone number as we store and send them (E.164), alone or inside a provider's message.
_PHONE = re.compile(r"(?<![\w+])\+[1-9][0-9]{6,14}(?![0-9])")
# The line's own keys (Powertools' and the logging module's): a field of that name is renamed.
_OWN_KEYS = frozenset({
    "level", "location", "message", "timestamp", "service", "sampling_rate", "xray_trace_id",
    "exception", "exception_name", "exception_notes", "stack_trace", "event", "request_id", "cold_start",
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info", "exc_text",
    "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread", "threadName",
    "processName", "process", "asctime", "taskName",
})


def service_name() -> str:
    """`astreinte-<stage>` (ASTREINTE_STAGE, `local` by default): the logs' `service` and the
    metrics' `service` dimension."""
    return f"astreinte-{os.environ.get('ASTREINTE_STAGE') or 'local'}"


def _build() -> Logger:
    name = service_name()
    built = Logger(service=name, level=os.environ.get("ASTREINTE_LOG_LEVEL", "INFO"), stream=sys.stderr,
                   utc=True, use_rfc3339=True,
                   json_serializer=lambda line: json.dumps(line, default=str, ensure_ascii=False))
    logging.getLogger(name).propagate = False  # one line each, also where the root logger has a handler
    return built


_logger = _build()


def mask_secrets(text: str) -> str:
    """A request line or URL with the credentials in its path cut to their first 4 characters
    (a details link's signature cut whole)."""
    return _DETAILS_PATH.sub(r"\1…", _SECRET_PATHS.sub(r"\1\2…", text))


def masked(value: Any) -> Any:
    """`value` with every phone number in it masked (strings, and inside dicts, lists, tuples)."""
    if isinstance(value, str):
        return _PHONE.sub(lambda m: mask_phone(m.group(0)), value)
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [masked(v) for v in value]
    return value


def _fields(event: str, fields: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"event": event}
    for key, value in fields.items():
        if value is None:
            continue
        out[f"{key}_" if key in _OWN_KEYS else key] = masked(value)
    return out


def invocation(request_id: str | None) -> None:
    """Tag every line of this Lambda invocation with its request id (None: untag)."""
    if request_id:
        _logger.append_keys(request_id=request_id)
    else:
        _logger.remove_keys(["request_id"])


# stacklevel 3: the line's `location` is the caller of log.error, not this module.
def error(event: str, **fields: Any) -> None:
    _logger.error(event, stacklevel=3, extra=_fields(event, fields))


def warning(event: str, **fields: Any) -> None:
    _logger.warning(event, stacklevel=3, extra=_fields(event, fields))


def info(event: str, **fields: Any) -> None:
    _logger.info(event, stacklevel=3, extra=_fields(event, fields))

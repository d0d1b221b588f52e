"""Structured log lines, one JSON object each: what CloudWatch Logs keeps and `make run` shows.

A failure that stops a page must be loud: it is said here as well as on the timeline.
"""
from __future__ import annotations

import json
import logging
import re
from typing import Any

# Paths whose last part is a credential: a calendar feed, a one-click link, an integration or
# heartbeat key, a feed to revoke.  Access logs keep the path, never the secret.
_SECRET_PATHS = re.compile(r"(/(?:ical|l|v1/integrations|v1/heartbeats|v1/feeds)/)([^/?\s]{4})[^/?\s]*")

_logger = logging.getLogger("astreinte")
if not _logger.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _logger.addHandler(_handler)
    _logger.setLevel(logging.INFO)
    _logger.propagate = False  # one line each, also where the root logger has a handler (Lambda)


def mask_secrets(text: str) -> str:
    """A request line or URL with the credentials in its path cut to their first 4 characters."""
    return _SECRET_PATHS.sub(r"\1\2…", text)


def _line(level: str, event: str, fields: dict[str, Any]) -> str:
    return json.dumps({"level": level, "event": event, **fields}, default=str, ensure_ascii=False)


def error(event: str, **fields: Any) -> None:
    _logger.error(_line("ERROR", event, fields))


def warning(event: str, **fields: Any) -> None:
    _logger.warning(_line("WARNING", event, fields))


def info(event: str, **fields: Any) -> None:
    _logger.info(_line("INFO", event, fields))

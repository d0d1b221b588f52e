"""Structured log lines, one JSON object each: what CloudWatch Logs keeps and `make run` shows.

A failure that stops a page must be loud: it is said here as well as on the timeline.
"""
from __future__ import annotations

import json
import logging
from typing import Any

_logger = logging.getLogger("astreinte")
if not _logger.handlers:
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _logger.addHandler(_handler)
    _logger.setLevel(logging.INFO)
    _logger.propagate = False  # one line each, also where the root logger has a handler (Lambda)


def _line(level: str, event: str, fields: dict[str, Any]) -> str:
    return json.dumps({"level": level, "event": event, **fields}, default=str, ensure_ascii=False)


def error(event: str, **fields: Any) -> None:
    _logger.error(_line("ERROR", event, fields))


def warning(event: str, **fields: Any) -> None:
    _logger.warning(_line("WARNING", event, fields))


def info(event: str, **fields: Any) -> None:
    _logger.info(_line("INFO", event, fields))

"""Intake: turn each source's format into one normalised event, or name what is wrong."""
from __future__ import annotations


class InvalidEvent(ValueError):
    """The event cannot be accepted; `errors` names each problem, field by field."""

    def __init__(self, errors: list[str], status: int = 400):
        super().__init__("; ".join(errors))
        self.errors = errors
        self.status = status

"""Slack pages: chat.postMessage with Acknowledge / Resolve / Escalate buttons."""
from __future__ import annotations

from typing import Any

from .. import config
from .templates import text


def page_blocks(lang: str, view: dict[str, Any], state: str = "triggered",
                footer: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """The message text and Block Kit blocks for an incident, as its state now stands."""
    headline = text(lang, "slack_page", **view)
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": text(lang, "slack_source", **view)}]},
    ]
    if footer:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": footer}})
    buttons = []
    if state == "triggered":
        buttons.append(("ack", "btn_ack", "primary"))
    if state in ("triggered", "acknowledged"):
        buttons.append(("resolve", "btn_resolve", None))
    if state == "triggered":
        buttons.append(("escalate", "btn_escalate", "danger"))
    if buttons:
        elements = []
        for action, label, style in buttons:
            el: dict[str, Any] = {"type": "button", "action_id": action, "value": str(view["number"]),
                                  "text": {"type": "plain_text", "text": text(lang, label)}}
            if style:
                el["style"] = style
            elements.append(el)
        blocks.append({"type": "actions", "block_id": f"incident-{view['number']}", "elements": elements})
    return headline, blocks


def post(channel: str, message: str, blocks: list[dict[str, Any]] | None = None) -> tuple[str, str]:
    """Post to a channel or a user's DM (channel = user id); returns (channel, ts)."""
    resp = config.slack_client().chat_postMessage(channel=channel, text=message, blocks=blocks)
    return resp["channel"], resp["ts"]


def update(channel: str, ts: str, message: str, blocks: list[dict[str, Any]]) -> None:
    config.slack_client().chat_update(channel=channel, ts=ts, text=message, blocks=blocks)


def ephemeral(channel: str, user: str, message: str) -> None:
    config.slack_client().chat_postEphemeral(channel=channel, user=user, text=message)

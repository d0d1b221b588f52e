"""Send one page on one channel, whatever the provider; report what happened.

The escalation engine decides *who* and *which channel*; this module turns that into an
SMS, a call or a Slack message in the person's language, retries transient provider
errors (5xx, 429, timeouts) twice, and returns a delivery record for the timeline.
"""
from __future__ import annotations

import os
import time
from typing import Any

from .. import config, links
from . import slack, twilio_sms, twilio_voice
from .templates import text

__all__ = ["deliver", "tell", "text", "default_language"]

RETRY_DELAYS = (0.2, 0.6)


def default_language() -> str:
    return os.environ.get("ASTREINTE_DEFAULT_LANGUAGE", "fr")


def callback_url(kind: str, ref: str) -> str:
    return f"{config.settings().public_url}/webhooks/twilio/{kind}/{ref}"


def deliver(page: dict[str, Any], view: dict[str, Any], bundle: dict[str, Any]) -> dict[str, Any]:
    """Send `page` about the incident described by `view`; never raises."""
    record: dict[str, Any] = {"to": page["to"], "channel": page["channel"], "step": page["step"] + 1}
    try:
        record.update(ok=True, **_with_retries(lambda: _send(page, view, bundle)))
    except Exception as exc:  # noqa: BLE001 - any provider failure is recorded, not raised
        record.update(ok=False, error=_describe(exc))
    return record


def _send(page: dict[str, Any], view: dict[str, Any], bundle: dict[str, Any]) -> dict[str, Any]:
    s = config.settings()
    channel, to = page["channel"], page["to"]
    if to.startswith("slack:"):
        if not s.slack_enabled:
            raise RuntimeError("Slack is not configured (SLACK_BOT_TOKEN)")
        lang = default_language()
        msg, blocks = slack.page_blocks(lang, view)
        ch, ts = slack.post(to[len("slack:"):], msg, blocks)
        return {"ref": ts, "slack": [ch, ts, lang]}
    person = bundle["people"][to]
    lang = person["language"]
    ref = f"{view['number']}.{to}"
    if channel == "sms":
        if not s.twilio_enabled:
            raise RuntimeError("Twilio is not configured (TWILIO_ACCOUNT_SID/AUTH_TOKEN/FROM_NUMBER)")
        link = links.make(view["number"], to, "ack") if s.signing_secret else ""
        body = text(lang, "sms_page", link=link, **view).strip()
        return {"ref": twilio_sms.send(person["phone"], body, callback_url("status", ref + ".sms"))}
    if channel == "voice":
        if not s.twilio_enabled:
            raise RuntimeError("Twilio is not configured (TWILIO_ACCOUNT_SID/AUTH_TOKEN/FROM_NUMBER)")
        sid = twilio_voice.call(person["phone"], callback_url("voice", ref),
                                callback_url("status", ref + ".voice"))
        return {"ref": sid}
    if channel == "slack":
        if not s.slack_enabled:
            raise RuntimeError("Slack is not configured (SLACK_BOT_TOKEN)")
        msg, blocks = slack.page_blocks(lang, view)
        ch, ts = slack.post(person["slack"], msg, blocks)
        return {"ref": ts, "slack": [ch, ts, lang]}
    raise ValueError(f"unknown channel {channel}")


def _transient(exc: Exception) -> bool:
    status = getattr(exc, "status", None)  # TwilioRestException
    response = getattr(exc, "response", None)  # SlackApiError
    if status is None and response is not None:
        status = getattr(response, "status_code", None)
    if status is None:
        return not isinstance(exc, (ValueError, RuntimeError)) or "timed out" in str(exc)
    return status == 429 or status >= 500


def _with_retries(send):  # noqa: ANN001, ANN202
    for delay in (*RETRY_DELAYS, None):
        try:
            return send()
        except Exception as exc:
            if delay is None or not _transient(exc):
                raise
            time.sleep(delay)
    return None


def _describe(exc: Exception) -> str:
    msg = getattr(exc, "msg", None) or str(exc)
    status = getattr(exc, "status", None)
    return f"{type(exc).__name__}{f' {status}' if status else ''}: {msg}"[:300]


def tell(person: dict[str, Any], key: str, view: dict[str, Any]) -> dict[str, Any]:
    """Tell someone already paged who took the incident or closed it.

    A person paged on Slack sees their message updated in place; anyone else gets an SMS
    (voice-only people too: a call just to say "taken" would wake them for nothing).
    """
    channels = {r["channel"] for r in person["notify"]}
    record: dict[str, Any] = {"to": person["id"], "notice": key}
    if "slack" in channels and person.get("slack") and "sms" not in channels:
        record.update(channel="slack", ok=True, skipped="Slack page updated in place")
        return record
    msg = text(person["language"], key, **view)
    try:
        if person.get("phone"):
            record.update(channel="sms", ok=True,
                          ref=_with_retries(lambda: twilio_sms.send(person["phone"], msg)))
        elif person.get("slack"):
            record.update(channel="slack", ok=True,
                          ref=_with_retries(lambda: slack.post(person["slack"], msg))[1])
        else:
            record.update(channel=None, ok=False, error="no phone and no Slack id to tell them")
    except Exception as exc:  # noqa: BLE001
        record.update(ok=False, error=_describe(exc))
    return record

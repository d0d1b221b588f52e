"""AWS CloudWatch alarms, delivered by an SNS topic subscribed to the integration URL (HTTPS).

Every delivery is checked as SNS signs it (chalicelib.intake.sns) before anything else.  A
SubscriptionConfirmation is confirmed at once (nothing to click in the console); an alarm
going to ALARM opens an incident, back to OK resolves it, INSUFFICIENT_DATA changes nothing
(missing data is not an outage, and paging on it wakes people for a broken agent).  The alarm
ARN is the dedup key, so the repeated ALARM notifications of one alarm count on one incident.

Options (set when the key is created, or in rotas/ services.integrations[].options):
  severity:    of the incidents opened (default "eleve"; our words or critical/high/…)
  topic_arns:  the SNS topics allowed to post here; others get 403 (default: any topic, the
               secret key in the URL being the credential)
"""
from __future__ import annotations

from typing import Any

from .. import text
from ..severity import normalise
from . import Event, InvalidEvent, sns

ACTIONS = {"ALARM": "trigger", "OK": "resolve", "INSUFFICIENT_DATA": None}
DETAILS = ("AlarmArn", "AlarmDescription", "AWSAccountId", "Region", "OldStateValue", "NewStateValue",
           "StateChangeTime", "Trigger", "AlarmRule")


def parse(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Event]:
    message = sns.receive(raw, headers)
    topics = options.get("topic_arns")
    if topics and message["TopicArn"] not in topics:
        raise sns.BadSignature(f"topic {message['TopicArn']} may not post to this integration")
    if message["Type"] == "SubscriptionConfirmation":
        sns.confirm(message)
        return []
    if message["Type"] == "UnsubscribeConfirmation":
        return []  # visiting its SubscribeURL would subscribe again: nothing to do
    return _alarm_events(message, options)


def _alarm_events(message: dict[str, Any], options: dict[str, Any]) -> list[Event]:
    try:
        alarm = text.parse_json(message["Message"])
    except text.BadJson as exc:
        raise InvalidEvent([f"the SNS Message is not a CloudWatch alarm: {exc}"]) from exc
    if not isinstance(alarm, dict):
        raise InvalidEvent(["the SNS Message is not a CloudWatch alarm (not a JSON object)"])
    errors = []
    name, state = alarm.get("AlarmName"), alarm.get("NewStateValue")
    if not isinstance(name, str) or not name.strip():
        errors.append("'AlarmName' is missing or empty")
    if not isinstance(state, str) or state not in ACTIONS:
        errors.append(f"'NewStateValue' must be one of ALARM, OK, INSUFFICIENT_DATA (got {state!r})")
    if errors or not isinstance(name, str) or not isinstance(state, str):
        raise InvalidEvent(errors)
    action = ACTIONS[state]
    if action is None:
        return []
    reason = alarm.get("NewStateReason")
    summary = f"{name.strip()}: {reason.strip()}" if isinstance(reason, str) and reason.strip() else name
    arn = alarm.get("AlarmArn")
    severity = normalise(str(options.get("severity") or "eleve")) or "eleve"
    source = "/".join(str(alarm[k]) for k in ("Region", "AWSAccountId") if alarm.get(k)) or "cloudwatch"
    details = {k: alarm[k] for k in DETAILS if alarm.get(k) is not None}
    details |= {"TopicArn": message["TopicArn"], "MessageId": message["MessageId"]}
    return [{"action": action, "dedup_key": arn if isinstance(arn, str) and arn else name,
             "summary": summary.strip()[:1024], "severity": severity, "source": source,
             "details": details}]

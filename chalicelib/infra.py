"""What Chalice does not create, per stage: infra/template.json and the functions' IAM policies.

Every name derives from the stage (ASTREINTE_STAGE): table `astreinte-{stage}`, timer queue
`astreinte-{stage}-timers` and its dead-letter queue `astreinte-{stage}-timers-dlq`, secret
`astreinte/{stage}`, alarm topic `astreinte-{stage}-alarms`, Lambda functions `astreinte-{stage}`
(the API) and `astreinte-{stage}-<job>`.  So two stages live side by side in one account and
never consume each other's timers.

`template()` is the infra stack (`astreinte-{stage}-infra`, deployed before the app stack by
scripts/deploy.py): the table (from the store's one definition), the queues, the secret, the
alarm topic and the alarms that make a broken pager loud.  `policies(stage)` are the
.chalice/policy-{stage}-{function}.json files, one per function, scoped to the stage's
resources.  `make infra` writes both; tests/test_deploy.py fails when they drift.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .store import cloudformation_table

APP = "astreinte"
STAGES = ("dev", "prod")
METRICS_NAMESPACE = "Astreinte"
# The Chalice functions of a stage: "" is the API handler (`astreinte-{stage}`), the others are
# `astreinte-{stage}-<name>` (the jobs of chalicelib/routes/jobs.py and routes/health.py).
# Chalice's config names the API handler `api_handler`.
FUNCTIONS = ("", "escalation-sweeper", "escalation-timer", "handoff-notices", "manager-notices", "self-check")
# The functions that page (and so schedule escalation timers); the timer also consumes the queue.
PAGING = ("", "escalation-sweeper", "escalation-timer")
# The functions that run chalicelib.doctor's checks (GET /health, the hourly self-check): it
# lists the EventBridge rules to find the stage's schedules.
CHECKING = ("", "self-check")
SECRET_KEYS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "SLACK_BOT_TOKEN",
               "SLACK_SIGNING_SECRET", "ASTREINTE_PUBLIC_URL")
GENERATED_SECRET = "ASTREINTE_SIGNING_SECRET"


def names(stage: str) -> dict[str, str]:
    """The names of a stage's resources (the contract the app, the deploy script and the
    alarms share)."""
    return {"service": f"{APP}-{stage}", "table": f"{APP}-{stage}", "queue": f"{APP}-{stage}-timers",
            "dlq": f"{APP}-{stage}-timers-dlq", "secret": f"{APP}/{stage}",
            "topic": f"{APP}-{stage}-alarms"}


def function_name(stage: str, function: str) -> str:
    return f"{APP}-{stage}-{function}" if function else f"{APP}-{stage}"


def chalice_name(function: str) -> str:
    """The key of a function in .chalice/config.json's `lambda_functions`."""
    return function or "api_handler"


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _alarm(name: str, description: str, metric: dict[str, Any], *, threshold: float, comparison: str,
           period: int = 300, missing: str = "notBreaching") -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": _sub(f"astreinte-${{Stage}}-{name}"),
            "AlarmDescription": _sub(description),
            **metric,
            "Period": period, "EvaluationPeriods": 1, "DatapointsToAlarm": 1,
            "Threshold": threshold, "ComparisonOperator": comparison, "TreatMissingData": missing,
            "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}],
        },
    }


def _custom(metric: str) -> dict[str, Any]:
    """A metric the service emits (Powertools Metrics, namespace Astreinte, dimension service)."""
    return {"Namespace": METRICS_NAMESPACE, "MetricName": metric, "Statistic": "Sum",
            "Dimensions": [{"Name": "service", "Value": _sub("astreinte-${Stage}")}]}


def _lambda_alarms() -> dict[str, Any]:
    alarms: dict[str, Any] = {}
    for function in FUNCTIONS:
        suffix = f"-{function}" if function else ""
        logical = "".join(part.title() for part in function.split("-")) or "Api"
        for metric in ("Errors", "Throttles"):
            alarms[f"{logical}{metric}Alarm"] = _alarm(
                f"{function or 'api'}-{metric.lower()}",
                f"Lambda astreinte-${{Stage}}{suffix}: {metric.lower()} (see its log group "
                f"/aws/lambda/astreinte-${{Stage}}{suffix})",
                {"Namespace": "AWS/Lambda", "MetricName": metric, "Statistic": "Sum",
                 "Dimensions": [{"Name": "FunctionName", "Value": _sub(f"astreinte-${{Stage}}{suffix}")}]},
                threshold=1, comparison="GreaterThanOrEqualToThreshold")
    return alarms


def _table() -> dict[str, Any]:
    (logical, table), = cloudformation_table().items()
    props = dict(table["Properties"])
    props["TableName"] = _sub("astreinte-${Stage}")
    props["DeletionProtectionEnabled"] = True
    return {logical: {**table, "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
                      "Properties": props}}


def template() -> dict[str, Any]:
    secret_template = json.dumps(dict.fromkeys(SECRET_KEYS, ""))
    resources: dict[str, Any] = {
        **_table(),
        "TimerDeadLetters": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": _sub("astreinte-${Stage}-timers-dlq"),
                           "MessageRetentionPeriod": 1209600},
        },
        "TimerQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": _sub("astreinte-${Stage}-timers"),
                # Longer than the Lambda timeout (60 s), as SQS event sources require.
                "VisibilityTimeout": 360,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["TimerDeadLetters", "Arn"]},
                                  "maxReceiveCount": 5},
            },
        },
        "Secrets": {
            "Type": "AWS::SecretsManager::Secret",
            # Kept when the stack goes (make destroy): it holds the providers' credentials.  Never
            # change GenerateSecretString (its template included): CloudFormation would generate
            # the whole value again, wiping every key set since (tests/test_deploy.py pins it).
            "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
            "Properties": {
                "Name": _sub("astreinte/${Stage}"),
                "Description": _sub("Astreinte ${Stage}: " + ", ".join(SECRET_KEYS) + " (set them; the "
                                    "deploy step writes ASTREINTE_PUBLIC_URL) and " + GENERATED_SECRET
                                    + " (generated)"),
                "GenerateSecretString": {
                    "SecretStringTemplate": secret_template,
                    "GenerateStringKey": GENERATED_SECRET,
                    "PasswordLength": 48,
                    "ExcludePunctuation": True,
                },
            },
        },
        "AlarmTopic": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": _sub("astreinte-${Stage}-alarms"),
                           "DisplayName": _sub("Astreinte ${Stage}")},
        },
        "AlarmEmailSubscription": {
            "Type": "AWS::SNS::Subscription", "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email",
                           "Endpoint": {"Ref": "AlarmEmail"}},
        },
        "AlarmSmsSubscription": {
            "Type": "AWS::SNS::Subscription", "Condition": "HasAlarmPhone",
            "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "sms",
                           "Endpoint": {"Ref": "AlarmPhone"}},
        },
        "TimerDeadLettersAlarm": _alarm(
            "timers-dead-letters",
            "Escalation timers are failing: messages in astreinte-${Stage}-timers-dlq",
            {"Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
             "Statistic": "Maximum",
             "Dimensions": [{"Name": "QueueName", "Value": _sub("astreinte-${Stage}-timers-dlq")}]},
            threshold=0, comparison="GreaterThanThreshold"),
        "PagesFailedAlarm": _alarm(
            "pages-failed", "Pages failed to go out (astreinte-${Stage}): see the incidents' timelines",
            _custom("PagesFailed"), threshold=1, comparison="GreaterThanOrEqualToThreshold"),
        # Hourly, 0 on a pass: an hour with no data is a self-check that did not run.
        "SelfCheckFailedAlarm": _alarm(
            "self-check-failed", "The self-check of astreinte-${Stage} failed, or did not run for an hour",
            _custom("SelfCheckFailed"), threshold=1, comparison="GreaterThanOrEqualToThreshold",
            period=3600, missing="breaching"),
        # Chalice answers a route's exception with a 500, so Lambda's Errors stay at 0: the
        # service counts what it did not expect (routes, timer messages) itself.
        "HandlerErrorsAlarm": _alarm(
            "handler-errors", "astreinte-${Stage} answered an error it did not expect (500, failed timer)",
            _custom("HandlerErrors"), threshold=1, comparison="GreaterThanOrEqualToThreshold"),
        "SweeperSilentAlarm": _alarm(
            "sweeper-silent",
            "The escalation sweeper of astreinte-${Stage} has not run for 10 minutes: escalations stall",
            _custom("SweeperRuns"), threshold=1, comparison="LessThanThreshold", period=600,
            missing="breaching"),
        **_lambda_alarms(),
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Astreinte, one stage: storage, timers, secret and alarms (deploy before the app)",
        "Parameters": {
            "Stage": {"Type": "String", "AllowedPattern": "^[a-z][a-z0-9]{0,15}$",
                      "Description": "The stage: every name derives from it (astreinte-<stage>...)"},
            "AlarmEmail": {"Type": "String", "Default": "",
                           "Description": "Where alarms are emailed (optional; confirm the subscription)"},
            "AlarmPhone": {"Type": "String", "Default": "", "AllowedPattern": "^(\\+[1-9][0-9]{6,14})?$",
                           "Description": "An E.164 number alarms are sent to by SMS (optional)"},
        },
        "Conditions": {
            "HasAlarmEmail": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]},
            "HasAlarmPhone": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmPhone"}, ""]}]},
        },
        "Resources": resources,
        "Outputs": {
            "TableName": {"Value": {"Ref": "AstreinteTable"}},
            "TimerQueueUrl": {"Value": {"Ref": "TimerQueue"}},
            "TimerQueueArn": {"Value": {"Fn::GetAtt": ["TimerQueue", "Arn"]}},
            "SecretArn": {"Value": {"Ref": "Secrets"}},
            "AlarmTopicArn": {"Value": {"Ref": "AlarmTopic"}},
        },
    }


def _statement(sid: str, actions: list[str], resources: list[str] | str, **extra: Any) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources, **extra}


def policy(stage: str, function: str) -> dict[str, Any]:
    """The IAM policy of one function of a stage: its own log group, the stage's table, queue
    and secret, SES, and metrics in the Astreinte namespace only."""
    n = names(stage)
    log_group = f"arn:aws:logs:*:*:log-group:/aws/lambda/{function_name(stage, function)}"
    table = f"arn:aws:dynamodb:*:*:table/{n['table']}"
    statements = [
        _statement("Logs", ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                   [log_group, f"{log_group}:*"]),
        _statement("Store", ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                             "dynamodb:DeleteItem", "dynamodb:Query", "dynamodb:BatchWriteItem",
                             "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem",
                             "dynamodb:DescribeTable"],
                   [table, f"{table}/index/*"]),
    ]
    if function in PAGING:
        actions = ["sqs:SendMessage", "sqs:GetQueueUrl", "sqs:GetQueueAttributes"]
        if function == "escalation-timer":  # the event source mapping polls with the function's role
            actions += ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"]
        statements.append(_statement("Timers", actions, f"arn:aws:sqs:*:*:{n['queue']}"))
    if function in CHECKING:
        statements += [_statement("Schedules", ["events:ListRules"], "*"),
                       _statement("ScheduleTargets", ["events:ListTargetsByRule"],
                                  "arn:aws:events:*:*:rule/*")]
    statements += [
        _statement("Secrets", ["secretsmanager:GetSecretValue"],
                   f"arn:aws:secretsmanager:*:*:secret:{n['secret']}-??????"),
        _statement("Email", ["ses:SendEmail"], "arn:aws:ses:*:*:identity/*"),
        _statement("Metrics", ["cloudwatch:PutMetricData"], "*",
                   Condition={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}}),
        # X-Ray, used when ASTREINTE_TRACING=1 (chalicelib.metrics).
        _statement("Tracing", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], "*"),
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def policy_file(stage: str, function: str) -> str:
    return f"policy-{stage}-{function or 'api'}.json"


def policies() -> dict[str, dict[str, Any]]:
    """Every stage's policy files (.chalice/), by file name."""
    return {policy_file(stage, f): policy(stage, f) for stage in STAGES for f in FUNCTIONS}


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2) + "\n"


def write_policies(directory: Path) -> None:
    for name, document in policies().items():
        (directory / name).write_text(dump(document))


if __name__ == "__main__":  # make infra: python -m chalicelib.infra policies .chalice
    if sys.argv[1:2] != ["policies"] or len(sys.argv) != 3:
        sys.exit("usage: python -m chalicelib.infra policies DIRECTORY")
    write_policies(Path(sys.argv[2]))

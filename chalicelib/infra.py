"""infra/template.json: what Chalice does not create, generated from the store's models.

Deploy it first (table, timer queue and its dead-letter queue, secret), then
`chalice deploy` or the `chalice package` template.  tests/test_deploy.py fails when
infra/template.json no longer matches this function.
"""
from __future__ import annotations

from typing import Any

from .store import cloudformation_table


def template() -> dict[str, Any]:
    resources: dict[str, Any] = {
        **cloudformation_table(),
        "TimerDeadLetters": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": "astreinte-timers-dlq", "MessageRetentionPeriod": 1209600},
        },
        "TimerQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": "astreinte-timers",
                # Longer than the Lambda timeout (60 s), as SQS event sources require.
                "VisibilityTimeout": 360,
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["TimerDeadLetters", "Arn"]},
                                  "maxReceiveCount": 5},
            },
        },
        "Secrets": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "Name": "astreinte/secrets",
                "Description": "TWILIO_AUTH_TOKEN, SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, "
                               "ASTREINTE_SIGNING_SECRET (JSON keys); set the values after creation",
                "GenerateSecretString": {
                    "SecretStringTemplate": '{"TWILIO_AUTH_TOKEN": "", "SLACK_BOT_TOKEN": "", '
                                            '"SLACK_SIGNING_SECRET": ""}',
                    "GenerateStringKey": "ASTREINTE_SIGNING_SECRET",
                    "PasswordLength": 48,
                    "ExcludePunctuation": True,
                },
            },
        },
        "TimerBacklogAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmDescription": "Escalation timers are failing (messages in the dead-letter queue)",
                "Namespace": "AWS/SQS", "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": "astreinte-timers-dlq"}],
                "Statistic": "Maximum", "Period": 300, "EvaluationPeriods": 1,
                "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
            },
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "Astreinte: storage, timers and secrets (deploy before the Chalice app)",
        "Parameters": {"TableName": {"Type": "String", "Default": "astreinte"}},
        "Resources": resources,
        "Outputs": {
            "TableName": {"Value": {"Ref": "AstreinteTable"}},
            "TimerQueueUrl": {"Value": {"Ref": "TimerQueue"}},
            "SecretArn": {"Value": {"Ref": "Secrets"}},
        },
    }

"""Finish the SAM template `chalice package --stage STAGE` wrote, for that stage (idempotent).

    python scripts/finish_template.py build/package/sam.json STAGE

- names each function as the alarms of infra/template.json expect: `astreinte-{stage}` (the
  API handler) and `astreinte-{stage}-<name>` (the jobs);
- gives each function its log group, `/aws/lambda/<function>`, kept LogRetentionDays (a
  parameter, 90 by default) and created before the function (so Lambda never creates one
  that keeps logs forever);
- names the REST API `astreinte-{stage}` and gives it our JSON for what API Gateway answers
  itself (a path or a method no route takes: 404 `no_route` naming the method, as the local
  server's chalicelib.routes.http.no_route; its other refusals as `{"error", "message"}`);
- makes the SQS timer source report partial batch failures (`ReportBatchItemFailures`: the
  handler returns `{"batchItemFailures": [...]}`), so one bad message is retried alone;
- checks that the package is the stage's: its functions' environment and the timer queue
  name the stage's table, queue and secret (a package built for another stage fails here,
  not in production).
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

APP = "astreinte"
RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                  2922, 3288, 3653]


_JSON = "application/json"
# API Gateway answers these without calling the app.  A path or a method no route takes is its
# 403 "Missing Authentication Token" (MISSING_AUTHENTICATION_TOKEN), or, when the request
# carries an Authorization header that is not AWS SigV4 (every call's `Bearer <token>`), its
# 403 "… not a valid key=value pair … in Authorization header" (INCOMPLETE_SIGNATURE): both
# our 404.  Gateway responses fill $context variables in as they are, escaping nothing, so
# none a caller chooses (the path) goes into the JSON; the method is one of a few words.
_NO_ROUTE = {"statusCode": 404, "responseTemplates": {_JSON: (
    '{"error": "no_route", "message": "there is no route $context.httpMethod for this path: the API\'s '
    'routes and their methods are in /openapi.json / aucune route $context.httpMethod pour ce chemin : '
    'les routes de l\'API et leurs méthodes sont dans /openapi.json"}')}}
GATEWAY_RESPONSES: dict[str, Any] = {
    "MISSING_AUTHENTICATION_TOKEN": _NO_ROUTE,
    "INCOMPLETE_SIGNATURE": _NO_ROUTE,
    "DEFAULT_4XX": {"responseTemplates": {_JSON: '{"error": "refused_by_gateway", "message": '
                                                 '$context.error.messageString}'}},
    "DEFAULT_5XX": {"responseTemplates": {_JSON: '{"error": "gateway_error", "message": '
                                                 '$context.error.messageString}'}},
}


def function_name(logical_id: str, handler: str, stage: str) -> str:
    """Chalice's name for a function: the API handler is the app, the others are the name given
    to their decorator, which Chalice turned into the logical id (escalation-sweeper ->
    EscalationSweeper)."""
    if handler == "app.app":
        return f"{APP}-{stage}"
    words = re.findall(r"[A-Z][a-z0-9]*", logical_id)
    return "-".join([APP, stage, *(w.lower() for w in words)])


def _expect_env(logical_id: str, variables: dict[str, Any], stage: str) -> None:
    want = {"ASTREINTE_STAGE": stage, "ASTREINTE_TABLE": f"{APP}-{stage}",
            "ASTREINTE_TIMER_QUEUE": f"{APP}-{stage}-timers", "ASTREINTE_SECRETS_ID": f"{APP}/{stage}"}
    wrong = {k: variables.get(k) for k, v in want.items() if variables.get(k) != v}
    if wrong:
        raise SystemExit(f"{logical_id}: not packaged for stage {stage!r}: {wrong} "
                         "(.chalice/config.json's stage environment)")


def finish(sam: dict[str, Any], stage: str) -> dict[str, Any]:
    if not re.fullmatch(r"[a-z][a-z0-9]{0,15}", stage):
        raise SystemExit(f"stage {stage!r}: lowercase letters and digits, starting with a letter")
    resources = sam["Resources"]
    sam.setdefault("Parameters", {})["LogRetentionDays"] = {
        "Type": "Number", "Default": 90, "AllowedValues": RETENTION_DAYS,
        "Description": "Days the functions' logs are kept"}
    queue = f"{APP}-{stage}-timers"
    functions = [(k, r) for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"]
    for logical_id, resource in functions:
        props = resource["Properties"]
        _expect_env(logical_id, props.get("Environment", {}).get("Variables", {}), stage)
        name = function_name(logical_id, props["Handler"], stage)
        props["FunctionName"] = name
        log_group = f"{logical_id}LogGroup"
        resources[log_group] = {
            "Type": "AWS::Logs::LogGroup",
            # Logs go with the stack (make destroy), so that deploying the stage again can
            # create the group again.
            "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": f"/aws/lambda/{name}",
                           "RetentionInDays": {"Ref": "LogRetentionDays"}},
        }
        resource["DependsOn"] = sorted({*_depends_on(resource), log_group})
        for event in props.get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            arn = json.dumps(event["Properties"]["Queue"])
            if not arn.endswith(f':{queue}"}}'):
                raise SystemExit(f"{logical_id}: its SQS source is {arn}, not {queue} "
                                 "(ASTREINTE_TIMER_QUEUE when chalice packaged)")
            event["Properties"]["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
    for resource in resources.values():
        if resource["Type"] == "AWS::Serverless::Api":  # named per stage, not after the app only
            resource["Properties"]["Name"] = f"{APP}-{stage}"
            swagger = resource["Properties"]["DefinitionBody"]
            swagger["x-amazon-apigateway-gateway-responses"] = GATEWAY_RESPONSES
    sam["Description"] = f"Astreinte {stage}: the Chalice app (API, jobs, timer consumer)"
    return sam


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: finish_template.py build/package/sam.json STAGE", file=sys.stderr)
        return 2
    path, stage = Path(argv[0]), argv[1]
    sam = finish(json.loads(path.read_text()), stage)
    path.write_text(json.dumps(sam, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

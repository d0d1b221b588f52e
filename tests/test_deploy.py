"""Deployability: `chalice package` yields a template finished per stage, infra/ matches the store
models, both templates pass cfn-lint, and a stage deploys (scripts/deploy.py) onto moto's server:
two stages' infra side by side, the app stack translated from SAM with its functions, schedules
and SQS mapping, then the handlers driven in-process with API Gateway and EventBridge events
against the table, queue and secret moto holds.

moto's CloudFormation has two gaps this file fills, and only these: it does not create an
AWS::SecretsManager::Secret (the test creates it as the template describes it), and it ignores a
RestApi's Body, so the API's Deployment and Stage are left out of the app stack here (the
routes are exercised in-process instead).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import finish_template  # noqa: E402  (scripts/finish_template.py)

import deploy  # noqa: E402  (scripts/deploy.py)
from chalicelib import infra  # noqa: E402

REGION = "eu-west-3"
JOBS = "chalicelib.routes.jobs"  # the scheduled jobs' Blueprint
SECRET_TEMPLATE_KEYS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "SLACK_BOT_TOKEN",
                        "SLACK_SIGNING_SECRET", "ASTREINTE_PUBLIC_URL")


def _quiet_env() -> dict[str, str]:
    env = {**os.environ, "AWS_DEFAULT_REGION": REGION}
    for var in ("DYNAMODB_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"):
        env.pop(var, None)
    return env


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make package STAGE=prod` without the slimming: chalice package, then the template finished."""
    out = tmp_path_factory.mktemp("package") / "out"
    chalice = Path(sys.executable).parent / "chalice"
    run = subprocess.run([str(chalice), "package", "--stage", "prod", str(out)],
                         cwd=ROOT, env=_quiet_env(), capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    finish = subprocess.run([sys.executable, str(ROOT / "scripts" / "finish_template.py"),
                             str(out / "sam.json"), "prod"], capture_output=True, text=True, timeout=60)
    assert finish.returncode == 0, finish.stderr[-3000:]
    return out


def test_infra_template_is_generated_from_the_store_models() -> None:
    from chalicelib.infra import template
    from chalicelib.store import TABLE_DEFINITION

    on_disk = json.loads((ROOT / "infra" / "template.json").read_text())
    assert on_disk == template(), "infra/template.json is stale: run `make infra`"
    table = on_disk["Resources"]["AstreinteTable"]["Properties"]
    assert table["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "due"
    queue = on_disk["Resources"]["TimerQueue"]["Properties"]["QueueName"]
    assert queue == {"Fn::Sub": "astreinte-${Stage}-timers"}
    # The table outlives the stack and a replacement; every alarm says something to someone.
    assert table["DeletionProtectionEnabled"] is True
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert {on_disk["Resources"]["AstreinteTable"][k] for k in ("DeletionPolicy", "UpdateReplacePolicy")} == {
        "Retain"}
    alarms = [r["Properties"] for r in on_disk["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert alarms and all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
    metrics = {a["MetricName"] for a in alarms}
    assert {"PagesFailed", "SelfCheckFailed", "SweeperRuns", "Errors", "Throttles",
            "ApproximateNumberOfMessagesVisible"} <= metrics
    generate = on_disk["Resources"]["Secrets"]["Properties"]["GenerateSecretString"]
    # Pinned: a change makes CloudFormation generate the whole secret again on every deployed
    # stage, wiping the Twilio and Slack credentials set since.
    assert generate == {"SecretStringTemplate": json.dumps(dict.fromkeys(SECRET_TEMPLATE_KEYS, "")),
                        "GenerateStringKey": "ASTREINTE_SIGNING_SECRET", "PasswordLength": 48,
                        "ExcludePunctuation": True}
    secret = json.loads(generate["SecretStringTemplate"])
    from chalicelib import config

    assert set(secret) | {infra.GENERATED_SECRET} == set(config.SECRET_KEYS)


def test_each_function_has_its_policy_on_its_stage() -> None:
    """.chalice/: one policy per function and stage (generated), the stage's names in config.json."""
    on_disk = {p.name: json.loads(p.read_text()) for p in (ROOT / ".chalice").glob("policy-*.json")}
    assert on_disk == infra.policies(), "the .chalice policies are stale: run `make infra`"
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for stage in infra.STAGES:
        settings = config["stages"][stage]
        env = {**config.get("environment_variables", {}), **settings["environment_variables"]}
        n = infra.names(stage)
        assert env["ASTREINTE_STAGE"] == stage and env["ASTREINTE_TABLE"] == n["table"]
        assert env["ASTREINTE_TIMER_QUEUE"] == n["queue"] and env["ASTREINTE_SECRETS_ID"] == n["secret"]
        assert "ASTREINTE_PUBLIC_URL" not in env  # learnt from the request and the secret
        assert settings["lambda_functions"] == {
            infra.chalice_name(f): {"iam_policy_file": infra.policy_file(stage, f)} for f in infra.FUNCTIONS}
    for name, document in infra.policies().items():
        stage = name.split("-")[1]
        other = next(s for s in infra.STAGES if s != stage)
        assert f"astreinte-{other}" not in json.dumps(document) and f"astreinte/{other}" not in json.dumps(
            document), name
    assert '"arn:aws:logs:*:*:*"' not in json.dumps(infra.policies())


def test_chalice_package_produces_a_deployable_template(package: Path) -> None:
    sam = json.loads((package / "sam.json").read_text())
    resources = sam["Resources"]
    functions = {k: r for k, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    handlers = {r["Properties"]["Handler"] for r in functions.values()}
    assert {"app.app", f"{JOBS}.sweeper", f"{JOBS}.escalation_timer", f"{JOBS}.handoff_notices",
            f"{JOBS}.manager_notices"} <= handlers
    sweeper = next(r for r in resources.values() if r["Properties"].get("Handler") == f"{JOBS}.sweeper")
    schedule = next(iter(sweeper["Properties"]["Events"].values()))
    assert schedule["Properties"]["Schedule"] == "rate(1 minute)"
    timer = next(r for r in functions.values() if r["Properties"]["Handler"] == f"{JOBS}.escalation_timer")
    source = next(iter(timer["Properties"]["Events"].values()))
    assert source["Type"] == "SQS" and "astreinte-prod-timers" in json.dumps(source)
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert (package / "deployment.zip").stat().st_size > 0
    # Finished for the stage: the names the alarms watch, a log group each with its retention.
    names = {r["Properties"]["FunctionName"] for r in functions.values()}
    assert names == {infra.function_name("prod", f) for f in infra.FUNCTIONS}, "a function without a policy?"
    for logical, function in functions.items():
        group = resources[f"{logical}LogGroup"]["Properties"]
        assert group == {"LogGroupName": f"/aws/lambda/{function['Properties']['FunctionName']}",
                         "RetentionInDays": {"Ref": "LogRetentionDays"}}
        assert f"{logical}LogGroup" in function["DependsOn"]
        env = function["Properties"]["Environment"]["Variables"]
        assert env["ASTREINTE_TABLE"] == "astreinte-prod" and env["ASTREINTE_SECRETS_ID"] == "astreinte/prod"
    assert finish_template.finish(json.loads(json.dumps(sam)), "prod") == sam  # idempotent
    with pytest.raises(SystemExit):
        finish_template.finish(json.loads(json.dumps(sam)), "dev")  # a prod package is not dev's


def test_templates_pass_cfn_lint_without_a_warning(package: Path) -> None:
    run = subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(package / "sam.json"),
                          str(ROOT / "infra" / "template.json")],
                         env=_quiet_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and not run.stdout.strip(), run.stdout + run.stderr


class MotoDeployer(deploy.Deployer):
    """scripts/deploy.py's Deployer, with moto's two CloudFormation gaps filled (see the top)."""

    def deploy_infra(self, alarm_email: str = "", alarm_phone: str = "") -> dict[str, str]:
        outputs = super().deploy_infra(alarm_email, alarm_phone)
        resources = infra.template()["Resources"]
        spec = resources["Secrets"]["Properties"]["GenerateSecretString"]
        value = {**json.loads(spec["SecretStringTemplate"]), spec["GenerateStringKey"]: uuid.uuid4().hex}
        secrets, name = self.client("secretsmanager"), f"astreinte/{self.stage}"
        if not secrets.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]:
            secrets.create_secret(Name=name, SecretString=json.dumps(value))
        # The alarms, through CloudWatch's API with the template's properties as they are: an
        # unknown or misspelt property fails here.
        refs = {"AlarmTopic": outputs["AlarmTopicArn"], "Stage": self.stage}
        for resource in resources.values():
            if resource["Type"] == "AWS::CloudWatch::Alarm":
                self.client("cloudwatch").put_metric_alarm(**_resolve(resource["Properties"], refs))
        return outputs

    def app_template(self, package: Path, bucket: str) -> dict[str, Any]:
        template = super().app_template(package, bucket)
        left_out = ("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage")
        template["Resources"] = {k: r for k, r in template["Resources"].items() if r["Type"] not in left_out}
        return template


def _resolve(value: Any, refs: dict[str, str]) -> Any:
    """The template's Fn::Sub and Ref, for the names of this file's templates."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        text = value["Fn::Sub"]
        for name, resolved in refs.items():
            text = text.replace("${" + name + "}", resolved)
        return text
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return refs[value["Ref"]]
    if isinstance(value, dict):
        return {k: _resolve(v, refs) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, refs) for v in value]
    return value


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    from devstack.dynamodb import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    # moto keeps its state per process, not per server: start from an empty account.
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset",
                                                  method="POST"), timeout=5)
    with pytest.MonkeyPatch.context() as mp:
        for var, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                           "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION}.items():
            mp.setenv(var, value)
        for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
            mp.delenv(var, raising=False)
        yield f"http://localhost:{port}"  # localhost: moto reads a TemplateURL on it path-style
    server.stop()


@pytest.fixture(scope="module")
def deployed(moto_url: str, package: Path) -> dict[str, Any]:
    """prod deployed whole (infra, package, app, URL into the secret); dev's infra beside it."""
    prod = MotoDeployer("prod", endpoint_url=moto_url, out=open(os.devnull, "w"))  # noqa: SIM115
    url = prod.deploy(package, alarm_email="ops@example.org", alarm_phone="+33612345678")
    dev = MotoDeployer("dev", endpoint_url=moto_url, out=prod.out)
    dev.deploy_infra()
    return {"prod": prod, "dev": dev, "url": url}


def test_two_stages_infra_side_by_side_on_moto(deployed: dict[str, Any]) -> None:
    prod, dev = deployed["prod"], deployed["dev"]
    for d in (prod, dev):
        assert d.status(f"astreinte-{d.stage}-infra") in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
    tables = set(prod.client("dynamodb").list_tables()["TableNames"])
    assert {"astreinte-prod", "astreinte-dev"} <= tables
    sqs = prod.client("sqs")
    queues = {u.rsplit("/", 1)[1] for u in sqs.list_queues()["QueueUrls"]}
    assert {"astreinte-prod-timers", "astreinte-prod-timers-dlq", "astreinte-dev-timers",
            "astreinte-dev-timers-dlq"} <= queues
    dev_queue = sqs.get_queue_url(QueueName="astreinte-dev-timers")["QueueUrl"]
    redrive = sqs.get_queue_attributes(QueueUrl=dev_queue, AttributeNames=["RedrivePolicy"])["Attributes"][
        "RedrivePolicy"]
    assert json.loads(redrive)["deadLetterTargetArn"].endswith(":astreinte-dev-timers-dlq")
    alarms = prod.client("cloudwatch").describe_alarms()["MetricAlarms"]
    expected = sum(r["Type"] == "AWS::CloudWatch::Alarm" for r in infra.template()["Resources"].values())
    for stage in ("prod", "dev"):
        mine = [a for a in alarms if a["AlarmName"].startswith(f"astreinte-{stage}-")]
        assert len(mine) == expected
        topic = f"arn:aws:sns:{REGION}:123456789012:astreinte-{stage}-alarms"
        assert all(a["AlarmActions"] == [topic] for a in mine), mine
    silent = next(a for a in alarms if a["AlarmName"] == "astreinte-prod-sweeper-silent")
    assert (silent["MetricName"], silent["TreatMissingData"], silent["Period"]) == (
        "SweeperRuns", "breaching", 600)
    assert silent["Dimensions"] == [{"Name": "service", "Value": "astreinte-prod"}]


def test_app_stack_on_moto(deployed: dict[str, Any]) -> None:
    prod = deployed["prod"]
    assert prod.status("astreinte-prod") == "CREATE_COMPLETE"
    summaries = prod.client("cloudformation").list_stack_resources(StackName="astreinte-prod")[
        "StackResourceSummaries"]
    by_type: dict[str, set[str]] = {}
    for r in summaries:
        assert r["ResourceStatus"] == "CREATE_COMPLETE", r
        by_type.setdefault(r["ResourceType"], set()).add(r["PhysicalResourceId"])
    functions = {infra.function_name("prod", f) for f in infra.FUNCTIONS}
    assert by_type["AWS::Lambda::Function"] == functions
    assert by_type["AWS::Logs::LogGroup"] == {f"/aws/lambda/{f}" for f in functions}
    assert "AWS::ApiGateway::RestApi" in by_type
    events = prod.client("events")
    rules = {r["Name"]: r for r in events.list_rules()["Rules"] if r["Name"] in by_type["AWS::Events::Rule"]}
    targets = {t["Arn"].rsplit(":", 1)[1]: rules[name]["ScheduleExpression"] for name in rules
               for t in events.list_targets_by_rule(Rule=name)["Targets"]}
    assert targets["astreinte-prod-escalation-sweeper"] == "rate(1 minute)"
    assert targets["astreinte-prod-self-check"] == "rate(1 hour)"
    (mapping,) = prod.client("lambda").list_event_source_mappings(
        FunctionName="astreinte-prod-escalation-timer")["EventSourceMappings"]
    assert mapping["EventSourceArn"].endswith(":astreinte-prod-timers")
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    groups = prod.client("logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/astreinte-prod")[
        "logGroups"]
    assert {g["retentionInDays"] for g in groups} == {90}
    assert deployed["url"].startswith("https://") and deployed["url"].endswith("/api")
    assert prod.secret_value("ASTREINTE_PUBLIC_URL") == deployed["url"]
    assert prod.secret_value("ASTREINTE_SIGNING_SECRET")


class _Context:
    """The Lambda context the runtime passes (what Chalice and Powertools read of it)."""

    function_name = "astreinte-prod"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = f"arn:aws:lambda:{REGION}:123456789012:function:astreinte-prod"
    log_group_name = "/aws/lambda/astreinte-prod"
    log_stream_name = "2026/12/01/[$LATEST]0"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def _api_event(method: str, path: str, body: dict[str, Any], host: str) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Host": host, "X-Forwarded-Proto": "https"}
    return {
        "resource": path, "path": path, "httpMethod": method, "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "isBase64Encoded": False,
        "body": json.dumps(body),
        "requestContext": {"resourcePath": path, "httpMethod": method, "path": f"/api{path}", "stage": "api",
                           "domainName": host, "requestId": str(uuid.uuid4()), "accountId": "123456789012",
                           "identity": {"sourceIp": "203.0.113.9", "userAgent": "test"}},
    }


def _scheduled_event(rule: str) -> dict[str, Any]:
    return {"version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
            "account": "123456789012", "time": "2026-12-01T09:00:00Z", "region": REGION,
            "resources": [f"arn:aws:events:{REGION}:123456789012:rule/{rule}"], "detail": {}}


@pytest.fixture()
def on_prod(deployed: dict[str, Any], moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process as a Lambda of stage prod: its environment (as .chalice/config.json sets it),
    every AWS call to moto, the test rotas synced into astreinte-prod."""
    from chalicelib import clock, config, store
    from chalicelib.incidents import timers
    from chalicelib.rotas import directory
    from chalicelib.rotas import load as rotas

    settings = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for var, value in {**settings["environment_variables"],
                       **settings["stages"]["prod"]["environment_variables"]}.items():
        monkeypatch.setenv(var, value)
    for var in ("ASTREINTE_PUBLIC_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER",
                "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "ASTREINTE_SIGNING_SECRET", "AWS_ENDPOINT_URL_SQS",
                "AWS_ENDPOINT_URL_SESV2"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("DYNAMODB_ENDPOINT", moto_url)
    monkeypatch.setenv("TWILIO_API_BASE", "http://127.0.0.1:9")  # nothing leaves this machine
    monkeypatch.setenv("SLACK_API_BASE", "http://127.0.0.1:9/")

    def fresh() -> None:
        config.reload()
        store.configure()
        timers._queue_url.cache_clear()
        directory.invalidate()
        clock.reset()

    fresh()
    directory.sync(rotas.load_dir(ROOT / "tests" / "rotas"))
    yield
    monkeypatch.undo()
    fresh()


def test_handlers_run_against_the_deployed_stage(deployed: dict[str, Any], on_prod: None) -> None:
    import app as app_module
    from chalicelib import clock
    from chalicelib.routes import jobs

    prod = deployed["prod"]
    host = deployed["url"].split("/")[2]
    event = _api_event("POST", "/v2/enqueue", {
        "routing_key": "test-quick-key", "event_action": "trigger", "dedup_key": "deploy-check",
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "error"}}, host)
    answer = app_module.app(event, _Context())
    assert answer["statusCode"] == 202, answer
    assert json.loads(answer["body"])["dedup_key"] == "deploy-check"

    dynamodb = prod.client("dynamodb")
    (item,) = [i for i in dynamodb.scan(TableName="astreinte-prod")["Items"]
               if i["pk"]["S"].startswith("INC#") and i["sk"]["S"] == "META"]
    assert item["dedup_key"]["S"] == "deploy-check" and item["state"]["S"] == "triggered"
    number = int(item["pk"]["S"][4:])
    assert json.loads(item["escalation"]["S"])["step"] == 0
    assert not dynamodb.scan(TableName="astreinte-dev")["Items"]  # the other stage's table

    sqs = prod.client("sqs")  # the next step's timer, on this stage's queue
    url = sqs.get_queue_url(QueueName="astreinte-prod-timers")["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert int(attrs["ApproximateNumberOfMessagesDelayed"]) + int(attrs["ApproximateNumberOfMessages"]) >= 1

    clock.advance(5)  # past the quick policy's 2 s: the sweeper's minute finds step 2 due
    jobs.sweeper(_scheduled_event("astreinte-prod-EscalationSweeper"), _Context())
    item = dynamodb.get_item(TableName="astreinte-prod", Key={"pk": {"S": f"INC#{number}"},
                                                                "sk": {"S": "META"}})["Item"]
    assert json.loads(item["escalation"]["S"])["step"] == 1

    # The timer consumer, with the event SQS sends it: nothing due now, nothing failed.
    record = {"messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": json.dumps(
        {"incident": number, "due_at": clock.now() - 1}), "attributes": {}, "messageAttributes": {},
        "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:"
        "astreinte-prod-timers", "awsRegion": REGION}
    result = jobs.escalation_timer({"Records": [record]}, _Context())
    assert not (result or {}).get("batchItemFailures")


def test_destroy_leaves_the_data_unless_purged(deployed: dict[str, Any]) -> None:
    prod, dev = deployed["prod"], deployed["dev"]
    dev.destroy()
    assert dev.status("astreinte-dev-infra") is None
    assert "astreinte-dev" in dev.client("dynamodb").list_tables()["TableNames"]  # retained
    prod.destroy(purge=True)
    dev.destroy(purge=True)
    assert prod.status("astreinte-prod") is None and prod.status("astreinte-prod-infra") is None
    assert not {"astreinte-prod", "astreinte-dev"} & set(prod.client("dynamodb").list_tables()["TableNames"])
    assert not prod.client("secretsmanager").list_secrets()["SecretList"]


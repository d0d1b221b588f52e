"""Deploy one stage of Astreinte into an AWS account, or take it down (boto3: CloudFormation + S3).

    python scripts/deploy.py deploy --stage prod [--alarm-email ops@example.org]
        [--alarm-phone +336…] [--log-retention-days 90] [--public-url https://…] [--package build/package]
    python scripts/deploy.py destroy --stage prod [--purge]

`make deploy STAGE=prod AlarmEmail=…` packages first (`make package`: chalice package, slimmed,
template finished for the stage) and runs the first; `make destroy STAGE=…` the second.

deploy:
 1. the infra stack `astreinte-{stage}-infra` from infra/template.json (table, timer queue and
    its dead-letter queue, secret `astreinte/{stage}`, alarm topic and alarms);
 2. the package to the deploy bucket (`astreinte-deploy-{account}-{region}`, created once),
    the SAM template translated to plain CloudFormation here (aws-sam-translator: what
    CloudFormation's transform does, so what the tests deploy onto moto is what goes to AWS);
 3. the app stack `astreinte-{stage}` (API, jobs, timer consumer, log groups);
 4. the table's backfills, once the new code is live (chalicelib.store.backfill_open_index: the
    incidents still open that a version before the `open` index wrote; once per table);
 5. the API's URL into the secret's ASTREINTE_PUBLIC_URL (or --public-url, a custom domain);
 6. prints the Slack app manifest and the Twilio number's settings for that URL, and what is
    left to do by hand.

destroy deletes the app stack, then the infra stack.  The table (deletion protection) and the
secret (credentials) are retained; --purge deletes them too, and the stage's package files.

--endpoint-url sends every AWS call elsewhere (moto's server in tests/test_deploy.py).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError, WaiterError

ROOT = Path(__file__).resolve().parent.parent
INFRA_TEMPLATE = ROOT / "infra" / "template.json"
SLACK_MANIFEST = ROOT / "deploy" / "slack-manifest.json"
TWILIO_SETTINGS = ROOT / "deploy" / "twilio-number.txt"
STAGE_PATTERN = r"[a-z][a-z0-9]{0,15}"
WAIT = {"Delay": 5, "MaxAttempts": 360}  # up to 30 minutes (a new CloudFront-backed API takes a few)


def stack_names(stage: str) -> tuple[str, str]:
    """(infra stack, app stack) of a stage."""
    return f"astreinte-{stage}-infra", f"astreinte-{stage}"


def translate(sam: dict[str, Any], region: str, partition: str = "aws", iam: Any = None) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, as CloudFormation's transform would make it."""
    from samtranslator.public.translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform

    loader = ManagedPolicyLoader(iam if iam is not None else _NoManagedPolicies())
    params = {"AWS::Region": region, "AWS::Partition": partition}
    return transform(json.loads(json.dumps(sam)), params, loader)


class _NoManagedPolicies:
    """Our functions name their own roles: the translator never needs AWS's managed policies."""

    def get_paginator(self, name: str) -> Any:
        raise RuntimeError("the template refers to a managed policy by name; pass an IAM client")


class StackFailed(Exception):
    pass


class Deployer:
    def __init__(self, stage: str, region: str | None = None, endpoint_url: str | None = None,
                 out: Any = None):
        if not re.fullmatch(STAGE_PATTERN, stage):
            raise SystemExit(f"stage {stage!r}: lowercase letters and digits, starting with a letter")
        self.stage = stage
        self.endpoint_url = endpoint_url
        self.session = boto3.Session(region_name=region)
        self.region = self.session.region_name
        if not self.region:
            raise SystemExit("no AWS region: set AWS_REGION (e.g. eu-west-3) or pass --region")
        self.out = out or sys.stdout
        self.infra_stack, self.app_stack = stack_names(stage)
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, endpoint_url=self.endpoint_url)
        return self._clients[service]

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    # -- stacks --------------------------------------------------------------------------

    def status(self, stack: str) -> str | None:
        try:
            return self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise

    def outputs(self, stack: str) -> dict[str, str]:
        described = self.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}

    def apply(self, stack: str, parameters: dict[str, str], *, template_url: str | None = None,
              body: str | None = None) -> dict[str, str]:
        """Create or update `stack` and wait for it; its outputs."""
        cfn = self.client("cloudformation")
        status = self.status(stack)
        if status in ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"):
            self.say(f"{stack}: {status} (a first creation that failed): deleting it to start again")
            self.delete(stack)
            status = None
        args: dict[str, Any] = {
            "StackName": stack,
            "Parameters": [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
            "Tags": [{"Key": "astreinte:stage", "Value": self.stage}],
            **({"TemplateURL": template_url} if template_url else {"TemplateBody": body}),
        }
        if status is None:
            self.say(f"{stack}: creating")
            cfn.create_stack(**args)
            waiter = "stack_create_complete"
        else:
            self.say(f"{stack}: updating ({status})")
            try:
                cfn.update_stack(**args)
            except ClientError as exc:
                if "No updates are to be performed" not in str(exc):
                    raise
                self.say(f"{stack}: up to date")
                return self.outputs(stack)
            waiter = "stack_update_complete"
        try:
            cfn.get_waiter(waiter).wait(StackName=stack, WaiterConfig=WAIT)
        except WaiterError as exc:
            raise StackFailed(f"{stack}: {self.status(stack)}\n" + self.failures(stack)) from exc
        self.say(f"{stack}: {self.status(stack)}")
        return self.outputs(stack)

    def failures(self, stack: str) -> str:
        """The reasons CloudFormation gave, oldest first: what to read when a stack fails."""
        events = self.client("cloudformation").describe_stack_events(StackName=stack)["StackEvents"]
        failed = [e for e in events if str(e.get("ResourceStatus", "")).endswith("FAILED")]
        return "\n".join(f"  {e['LogicalResourceId']}: {e['ResourceStatus']}: "
                         f"{e.get('ResourceStatusReason', '')}" for e in reversed(failed[:20]))

    def delete(self, stack: str) -> None:
        if self.status(stack) is None:
            self.say(f"{stack}: not there")
            return
        cfn = self.client("cloudformation")
        self.say(f"{stack}: deleting")
        cfn.delete_stack(StackName=stack)
        try:
            cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)
        except WaiterError as exc:
            raise StackFailed(f"{stack}: {self.status(stack)}\n" + self.failures(stack)) from exc
        self.say(f"{stack}: deleted")

    # -- the package -----------------------------------------------------------------------

    def bucket(self) -> str:
        """The deploy bucket of this account and region (package and templates), created once."""
        account = self.client("sts").get_caller_identity()["Account"]
        name = f"astreinte-deploy-{account}-{self.region}"
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=name)
        except ClientError:
            self.say(f"s3://{name}: creating")
            where = {} if self.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": self.region}}
            s3.create_bucket(Bucket=name, **where)
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})
        return name

    def upload(self, bucket: str, key: str, data: bytes) -> str:
        self.client("s3").put_object(Bucket=bucket, Key=key, Body=data)
        if self.endpoint_url:  # path style, as moto reads a TemplateURL
            return f"{self.endpoint_url.rstrip('/')}/{bucket}/{key}"
        return f"https://{bucket}.s3.{self.region}.amazonaws.com/{key}"

    def app_template(self, package: Path, bucket: str) -> dict[str, Any]:
        """The finished SAM template with its code in S3, as plain CloudFormation."""
        sam = json.loads((package / "sam.json").read_text())
        tags = {json.dumps(r["Properties"].get("Environment", {}).get("Variables", {}).get("ASTREINTE_STAGE"))
                for r in sam["Resources"].values() if r["Type"] == "AWS::Serverless::Function"}
        if tags != {json.dumps(self.stage)} or "LogRetentionDays" not in sam.get("Parameters", {}):
            raise SystemExit(f"{package}/sam.json is not a finished package of stage {self.stage}: "
                             f"run make package STAGE={self.stage}")
        code = (package / "deployment.zip").read_bytes()
        key = f"{self.stage}/deployment-{hashlib.sha256(code).hexdigest()[:20]}.zip"
        self.upload(bucket, key, code)
        for resource in sam["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": key}
        return translate(sam, self.region, self.session.get_partition_for_region(self.region))

    # -- the steps ---------------------------------------------------------------------------

    def deploy_infra(self, alarm_email: str = "", alarm_phone: str = "") -> dict[str, str]:
        return self.apply(self.infra_stack, {"Stage": self.stage, "AlarmEmail": alarm_email,
                                             "AlarmPhone": alarm_phone},
                          body=INFRA_TEMPLATE.read_text())

    def deploy_app(self, package: Path, log_retention_days: int = 90) -> dict[str, str]:
        bucket = self.bucket()
        template = json.dumps(self.app_template(package, bucket))
        digest = hashlib.sha256(template.encode()).hexdigest()[:20]
        url = self.upload(bucket, f"{self.stage}/template-{digest}.json", template.encode())
        return self.apply(self.app_stack, {"LogRetentionDays": str(log_retention_days)}, template_url=url)

    def backfill(self) -> None:
        """What this version's indexes need of items an older version wrote: after the app
        stack, so that the code writing it is live (the infra stack made the index; CloudFormation
        waits until it is ACTIVE)."""
        if str(ROOT) not in sys.path:  # run as scripts/deploy.py: chalicelib is beside scripts/
            sys.path.insert(0, str(ROOT))
        from chalicelib import store

        table = f"astreinte-{self.stage}"
        count = store.backfill_open_index(self.client("dynamodb"), table)
        if count:
            self.say(f"{table}: {count} open incidents put on the open index")

    def write_public_url(self, url: str) -> None:
        """ASTREINTE_PUBLIC_URL in the stage's secret: the URL Twilio signs and links point to."""
        secrets = self.client("secretsmanager")
        secret_id = f"astreinte/{self.stage}"
        value = json.loads(secrets.get_secret_value(SecretId=secret_id)["SecretString"] or "{}")
        if value.get("ASTREINTE_PUBLIC_URL") == url:
            return
        value["ASTREINTE_PUBLIC_URL"] = url
        secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))
        self.say(f"{secret_id}: ASTREINTE_PUBLIC_URL = {url}")

    def secret_value(self, key: str) -> str:
        value = self.client("secretsmanager").get_secret_value(SecretId=f"astreinte/{self.stage}")
        return str(json.loads(value["SecretString"] or "{}").get(key) or "")

    def deploy(self, package: Path, alarm_email: str = "", alarm_phone: str = "",
               log_retention_days: int = 90, public_url: str | None = None) -> str:
        """Both stacks; the public URL."""
        self.deploy_infra(alarm_email, alarm_phone)
        outputs = self.deploy_app(package, log_retention_days)
        self.backfill()
        kept = self.secret_value("ASTREINTE_PUBLIC_URL")
        custom = kept and ".execute-api." not in kept  # a custom domain set before: a redeploy keeps it
        url = (public_url or (kept if custom else outputs["EndpointURL"])).rstrip("/")
        self.write_public_url(url)
        self.say(instructions(self.stage, url, self.secret_value("TWILIO_FROM_NUMBER"), self.region,
                              alarm_email))
        return url

    def destroy(self, purge: bool = False) -> None:
        self.delete(self.app_stack)
        self.delete(self.infra_stack)
        table, secret = f"astreinte-{self.stage}", f"astreinte/{self.stage}"
        if not purge:
            self.say(f"Kept: the table {table} (deletion protection) and the secret {secret}.  "
                     f"Deploying stage {self.stage} again needs them gone: make destroy STAGE={self.stage} "
                     "PURGE=1 deletes them, with every incident.")
            return
        dynamodb, secrets = self.client("dynamodb"), self.client("secretsmanager")
        try:
            dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
            dynamodb.delete_table(TableName=table)
            self.say(f"{table}: deleted")
        except dynamodb.exceptions.ResourceNotFoundException:
            self.say(f"{table}: not there")
        try:
            secrets.delete_secret(SecretId=secret, ForceDeleteWithoutRecovery=True)
            self.say(f"{secret}: deleted")
        except secrets.exceptions.ResourceNotFoundException:
            self.say(f"{secret}: not there")
        bucket = self.bucket()
        s3 = self.client("s3")
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{self.stage}/"):
            for item in page.get("Contents", []):
                s3.delete_object(Bucket=bucket, Key=item["Key"])


def instructions(stage: str, url: str, from_number: str, region: str, alarm_email: str = "") -> str:
    """What to do by hand after a deploy: the Slack app, the Twilio number, secrets, rotas."""
    secret = f"astreinte/{stage}"
    manifest = SLACK_MANIFEST.read_text().replace("{url}", url)
    twilio = (TWILIO_SETTINGS.read_text().replace("{url}", url).replace("{secret}", secret)
              .replace("{from_number}", from_number or "(your number)"))
    env = (f"export AWS_REGION={region} ASTREINTE_STAGE={stage} ASTREINTE_TABLE=astreinte-{stage} "
           f"ASTREINTE_TIMER_QUEUE=astreinte-{stage}-timers ASTREINTE_SECRETS_ID={secret}")
    alarms = (f"\n  Alarms go to {alarm_email}: confirm the subscription AWS emailed.\n" if alarm_email
              else "\n")
    return f"""
Astreinte {stage} is at {url}

== Slack: api.slack.com/apps > Create New App > From a manifest (then install it to the workspace)
{manifest}
== Twilio
{twilio}
== Then, from this repository (the CLI talks to the stage's table and secret):
  {env}
  .venv/bin/python -m chalicelib.cli secrets set SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=…
  .venv/bin/python -m chalicelib.cli sync rotas
  .venv/bin/python -m chalicelib.cli doctor
  .venv/bin/python -m chalicelib.cli integration create <service> pagerduty     # prints a routing key
  curl -X POST {url}/v2/enqueue -H 'Content-Type: application/json' -d '{{"routing_key": "<key>", \
"event_action": "trigger", "payload": {{"summary": "Test page", "source": "deploy", "severity": "info"}}}}'
{alarms}"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["deploy", "destroy"])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--region", help="default: AWS_REGION / the profile's region")
    parser.add_argument("--endpoint-url", help="send every AWS call there (moto's server)")
    parser.add_argument("--package", type=Path, default=ROOT / "build" / "package",
                        help="what make package STAGE=… built (sam.json, deployment.zip)")
    parser.add_argument("--alarm-email", default="")
    parser.add_argument("--alarm-phone", default="", help="E.164, e.g. +33612345678")
    parser.add_argument("--log-retention-days", type=int, default=90)
    parser.add_argument("--public-url", help="a custom domain in front of the API (default: the API's URL)")
    parser.add_argument("--purge", action="store_true", help="destroy: the table and the secret too")
    args = parser.parse_args(argv)
    deployer = Deployer(args.stage, args.region, args.endpoint_url)
    try:
        if args.action == "deploy":
            deployer.deploy(args.package, args.alarm_email, args.alarm_phone, args.log_retention_days,
                            args.public_url)
        else:
            deployer.destroy(args.purge)
    except StackFailed as exc:
        print(f"FAILED {exc}", file=sys.stderr)
        return 1
    except ClientError as exc:
        print(f"FAILED {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

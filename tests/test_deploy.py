"""Deployability: `chalice package` yields a template, and infra/ matches the store models."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_infra_template_is_generated_from_the_store_models() -> None:
    from chalicelib.infra import template
    from chalicelib.store import TABLE_DEFINITION

    on_disk = json.loads((ROOT / "infra" / "template.json").read_text())
    assert on_disk == template(), "infra/template.json is stale: run `make infra`"
    table = on_disk["Resources"]["AstreinteTable"]["Properties"]
    assert table["KeySchema"] == TABLE_DEFINITION["KeySchema"]
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "due"
    assert on_disk["Resources"]["TimerQueue"]["Properties"]["QueueName"] == "astreinte-timers"


def test_chalice_package_produces_a_deployable_template(tmp_path: Path) -> None:
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3"}
    for var in ("DYNAMODB_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(var, None)
    chalice = Path(sys.executable).parent / "chalice"
    run = subprocess.run([str(chalice), "package", "--stage", "prod", str(tmp_path / "out")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    sam = json.loads((tmp_path / "out" / "sam.json").read_text())
    resources = sam["Resources"]
    handlers = {r["Properties"]["Handler"] for r in resources.values()
                if r["Type"] == "AWS::Serverless::Function"}
    jobs = "chalicelib.routes.jobs"  # the scheduled jobs' Blueprint
    assert {"app.app", f"{jobs}.sweeper", f"{jobs}.escalation_timer", f"{jobs}.handoff_notices",
            f"{jobs}.manager_notices"} <= handlers
    sweeper = next(r for r in resources.values() if r["Properties"].get("Handler") == f"{jobs}.sweeper")
    schedule = next(iter(sweeper["Properties"]["Events"].values()))
    assert schedule["Properties"]["Schedule"] == "rate(1 minute)"
    timer = next(r for r in resources.values()
                 if r["Properties"].get("Handler") == f"{jobs}.escalation_timer")
    source = next(iter(timer["Properties"]["Events"].values()))
    assert source["Type"] == "SQS" and "astreinte-timers" in json.dumps(source)
    assert (tmp_path / "out" / "deployment.zip").stat().st_size > 0

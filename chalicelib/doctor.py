"""Self-check: is every part paging needs there and answering?  One list of checks, each
with the fix for its failure, for `cli doctor`, `GET /health` and the hourly self-check
(which logs, counts `SelfCheckFailed` and so alarms when one fails).

A pager that cannot page says nothing by itself: a Twilio token rotated away, a secret
left half-filled or a schedule disabled are found here before an incident finds them.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

from . import config, log, metrics
from .rotas import directory
from .store import Counter

# The scheduled functions (chalicelib/routes/jobs.py, routes/health.py), as Chalice names them.
SCHEDULES = ("escalation-sweeper", "handoff-notices", "manager-notices", "self-check")
_FAKE_MESSAGE = "SM" + "0" * 32  # fetching it: 404 when the credentials are accepted, 401 when not


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _table() -> Check:
    try:
        status = Counter.describe_table().get("TableStatus", "?")
    except Exception as exc:
        return Check("table", False, f"{config.settings().table_name}: {type(exc).__name__}: "
                     f"{str(exc)[:200]}",
                     "deploy infra/ for this stage (make deploy) and check the function's role / "
                     "déployez infra/ pour ce stage")
    return Check("table", status == "ACTIVE", f"{config.settings().table_name}: {status}",
                 "" if status == "ACTIVE" else "wait until it is ACTIVE / attendez qu'elle soit ACTIVE")


def _secret() -> Check:
    uses_slack = _uses_slack()
    needed = [k for k in config.SECRET_KEYS if uses_slack or not k.startswith("SLACK_")]
    try:
        missing = [k for k in needed if not config.secret(k)]
    except Exception as exc:
        return Check("secret", False, f"the stage's secret cannot be read: {type(exc).__name__}: "
                     f"{str(exc)[:200]}", "check ASTREINTE_SECRETS_ID and the function's role / "
                     "vérifiez le secret et le rôle")
    if missing:
        return Check("secret", False, "missing: " + ", ".join(missing),
                     "python -m chalicelib.cli secrets set " + " ".join(f"{k}=…" for k in missing))
    return Check("secret", True, f"{len(needed)} settings present")


def _uses_slack() -> bool:
    bundle = directory.bundle()
    return any(p.get("slack") for p in bundle["people"].values()) or any(
        t.get("slack_channel") for t in bundle["teams"].values())


def _twilio() -> Check:
    if not config.settings().twilio_enabled:
        return Check("twilio", False, "Twilio is not configured",
                     "python -m chalicelib.cli secrets set TWILIO_ACCOUNT_SID=… TWILIO_AUTH_TOKEN=… "
                     "TWILIO_FROM_NUMBER=+…")
    from twilio.base.exceptions import TwilioRestException

    try:
        config.twilio_client().messages(_FAKE_MESSAGE).fetch()
    except TwilioRestException as exc:
        if exc.status == 404:
            return Check("twilio", True, "credentials accepted")
        return Check("twilio", False, f"Twilio answered {exc.status}: {str(exc.msg)[:200]}",
                     "set the account SID and auth token of the Twilio console (cli secrets set) / "
                     "reprenez le SID et le jeton de la console Twilio")
    except Exception as exc:
        return Check("twilio", False, f"Twilio did not answer: {type(exc).__name__}: {str(exc)[:200]}",
                     "check the network and status.twilio.com / vérifiez le réseau")
    return Check("twilio", True, "credentials accepted")


def _slack() -> Check:
    if not _uses_slack():
        return Check("slack", True, "not used by the rotas")
    if not config.settings().slack_enabled:
        return Check("slack", False, "SLACK_BOT_TOKEN is not set",
                     "python -m chalicelib.cli secrets set SLACK_BOT_TOKEN=xoxb-…")
    try:
        answer = config.slack_client().auth_test()
    except Exception as exc:
        return Check("slack", False, f"auth.test failed: {type(exc).__name__}: {str(exc)[:200]}",
                     "reinstall the Slack app and set its bot token (deploy/slack-manifest.json) / "
                     "réinstallez l'app Slack")
    return Check("slack", True, f"auth.test ok as {answer.get('user', '?')} in {answer.get('team', '?')}")


def _public_url() -> Check:
    import requests

    url = config.settings().public_url
    try:
        status = requests.get(f"{url}/openapi.json", timeout=5).status_code
    except requests.RequestException as exc:
        status, why = 0, f"{type(exc).__name__}"
    else:
        why = f"HTTP {status}"
    ok = status == 200
    return Check("public_url", ok, f"{url}: {why}", "" if ok else (
        "the URL Twilio, Slack and links use does not answer: set ASTREINTE_PUBLIC_URL "
        "(python -m chalicelib.cli secrets set ASTREINTE_PUBLIC_URL=https://…) / "
        "l'URL publique ne répond pas"))


def _schedules() -> Check:
    stage = config.settings().stage
    if stage == "local":
        return Check("schedules", True, "local: the timer runner of `make run` sweeps")
    import boto3

    events = boto3.client("events", region_name=config.settings().region)
    found: dict[str, str] = {}
    for page in events.get_paginator("list_rules").paginate(NamePrefix=f"astreinte-{stage}-"):
        for rule in page["Rules"]:
            for target in events.list_targets_by_rule(Rule=rule["Name"]).get("Targets", []):
                for name in SCHEDULES:
                    if target["Arn"].endswith(f":function:astreinte-{stage}-{name}"):
                        found[name] = rule.get("State", "?")
    wrong = [f"{n}: {found.get(n, 'missing')}" for n in SCHEDULES if found.get(n) != "ENABLED"]
    if wrong:
        return Check("schedules", False, "; ".join(wrong),
                     "redeploy the stage (make deploy) or enable the rules in EventBridge / "
                     "redéployez ou réactivez les règles EventBridge")
    return Check("schedules", True, f"{len(SCHEDULES)} schedules enabled")


CHECKS: tuple[Callable[[], Check], ...] = (_table, _secret, _twilio, _slack, _public_url, _schedules)


def run() -> list[Check]:
    """Every check; one that raises is a failed check, not a crash."""
    results = []
    for check in CHECKS:
        try:
            results.append(check())
        except Exception as exc:
            results.append(Check(check.__name__.strip("_"), False, f"{type(exc).__name__}: {str(exc)[:200]}"))
    return results


def self_check() -> list[Check]:
    """The hourly run: each failure logged and counted (SelfCheckFailed raises the alarm)."""
    results = run()
    failed = [c for c in results if not c.ok]
    for c in failed:
        log.error("self_check_failed", check=c.name, detail=c.detail, fix=c.fix)
    metrics.count("SelfCheckFailed", len(failed))  # 0 too: the alarm tells a pass from silence
    return results

"""Settings from the environment, and the clients built from them once per container.

Provider settings and secrets (Twilio SID, from-number and auth token; Slack tokens; the
link-signing key; the public URL the deploy step learnt) come from an environment variable
when one is set (local runs, tests), else from the stage's Secrets Manager secret
(ASTREINTE_SECRETS_ID), re-read every SECRETS_SECONDS so that a rotated token reaches warm
containers.  Clients are built lazily (a Lambda that never sends SMS never imports twilio)
and again when the credentials they were built with change.
"""
from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from . import clock

SECRETS_SECONDS = 300.0
# Every key of the stage's secret (infra/ creates it with these; `cli secrets set` fills it).
SECRET_KEYS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER", "SLACK_BOT_TOKEN",
               "SLACK_SIGNING_SECRET", "ASTREINTE_SIGNING_SECRET", "ASTREINTE_PUBLIC_URL")
OPTIONAL_KEYS = ("ASTREINTE_EMAIL_FROM", "TWILIO_WHATSAPP_FROM")  # `cli secrets set` takes them; none needed
LOCAL_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Settings:
    table_name: str
    dynamodb_endpoint: str | None
    region: str
    stage: str
    twilio_api_base: str
    slack_api_base: str
    timer_queue: str  # SQS queue name (or URL) of the per-step timers; empty locally
    config_ttl_seconds: float
    max_body_bytes: int
    http_timeout_seconds: float
    store_timeout_seconds: float  # one DynamoDB call's read timeout (connect: half of it)
    store_attempts: int  # tries of one DynamoDB call, throttling included

    # Secrets are read on first use, so importing the app (chalice package, cold start of a
    # route that needs none) never calls Secrets Manager.
    @property
    def public_url(self) -> str:
        """Where people and providers reach us: ASTREINTE_PUBLIC_URL (a custom domain, or the
        local API), else the URL the deploy step wrote into the secret, else the URL API
        Gateway gave the last request this container served."""
        return (secret("ASTREINTE_PUBLIC_URL") or _learnt.get("url") or LOCAL_URL).rstrip("/")

    @property
    def twilio_account_sid(self) -> str:
        return secret("TWILIO_ACCOUNT_SID")

    @property
    def twilio_from(self) -> str:
        return secret("TWILIO_FROM_NUMBER")

    @property
    def signing_secret(self) -> str:
        return secret("ASTREINTE_SIGNING_SECRET")

    @property
    def twilio_auth_token(self) -> str:
        return secret("TWILIO_AUTH_TOKEN")

    @property
    def slack_bot_token(self) -> str:
        return secret("SLACK_BOT_TOKEN")

    @property
    def slack_signing_secret(self) -> str:
        return secret("SLACK_SIGNING_SECRET")

    @property
    def twilio_enabled(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.twilio_from)

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token)


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def secret(name: str) -> str:
    """An environment variable, else the same key in the Secrets Manager secret (AWS)."""
    return os.environ.get(name) or str(_secrets().get(name) or "")


_secret_cache: dict[str, tuple[float, dict[str, str]]] = {}
_learnt: dict[str, str] = {}  # what this container learnt of itself: its public URL


def _secrets() -> dict[str, str]:
    """The stage's secret (JSON keys), read at most every SECRETS_SECONDS per container."""
    secret_id = os.environ.get("ASTREINTE_SECRETS_ID")
    if not secret_id:
        return {}
    cached = _secret_cache.get(secret_id)
    if cached is not None and clock.now() - cached[0] < SECRETS_SECONDS:
        return cached[1]
    try:
        value = json.loads(secrets_client().get_secret_value(SecretId=secret_id)["SecretString"] or "{}")
    except Exception:
        if cached is None:
            raise  # nothing to page with: the caller's failure is loud (503, logged, alarmed)
        # A refresh that fails keeps the last good values, and is tried again in 30 s: a
        # Secrets Manager hiccup must not stop pages that worked a minute ago.
        _secret_cache[secret_id] = (clock.now() - SECRETS_SECONDS + 30, cached[1])
        return cached[1]
    _secret_cache[secret_id] = (clock.now(), value if isinstance(value, dict) else {})
    return _secret_cache[secret_id][1]


def learn_public_url(url: str) -> None:
    """The URL API Gateway says this request came to (https://domain/stage): the public URL
    until the secret or the environment names one."""
    _learnt["url"] = url.rstrip("/")


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        table_name=_env("ASTREINTE_TABLE", "astreinte"),
        dynamodb_endpoint=_env("DYNAMODB_ENDPOINT") or None,
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "eu-west-3")),
        stage=_env("ASTREINTE_STAGE", "local"),
        twilio_api_base=_env("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/"),
        slack_api_base=_env("SLACK_API_BASE", "https://slack.com/api/"),
        timer_queue=_env("ASTREINTE_TIMER_QUEUE"),
        config_ttl_seconds=float(_env("ASTREINTE_CONFIG_TTL", "30")),
        # PagerDuty takes 512 KiB, but an event is stored whole in one DynamoDB item (400 KB).
        max_body_bytes=int(_env("ASTREINTE_MAX_BODY_BYTES", str(360 * 1024))),
        http_timeout_seconds=float(_env("ASTREINTE_HTTP_TIMEOUT", "5")),
        store_timeout_seconds=float(_env("ASTREINTE_STORE_TIMEOUT", "3")),
        store_attempts=int(_env("ASTREINTE_STORE_ATTEMPTS", "2")),
    )


def reload() -> None:
    """Forget cached settings and clients (tests change the environment between stacks)."""
    settings.cache_clear()
    _secret_cache.clear()
    _learnt.clear()
    _twilio_client.cache_clear()
    _slack_client.cache_clear()
    sqs_client.cache_clear()
    secrets_client.cache_clear()
    for clear in _reloaded:
        clear()


_reloaded: list[Callable[[], None]] = []
T = TypeVar("T")


def on_reload(clear: Callable[[], None]) -> None:
    """Run `clear` at reload(): a per-container cache of what the table holds (a new table
    in tests is a new deployment)."""
    _reloaded.append(clear)


def client(build: Callable[[], T]) -> Callable[[], T]:
    """A client built once per container on first use, and again after reload(): what a
    channel module uses for its own provider (chalicelib.notify.email's SES client)."""
    cached = functools.lru_cache(maxsize=1)(build)
    on_reload(cached.cache_clear)
    return cached


def twilio_client():  # noqa: ANN201 - twilio is imported lazily, so no annotation
    """The real twilio Client, for the credentials of now; TWILIO_API_BASE points it at a
    fake on loopback in tests."""
    s = settings()
    return _twilio_client(s.twilio_account_sid, s.twilio_auth_token)


@functools.lru_cache(maxsize=2)
def _twilio_client(account_sid: str, auth_token: str):  # noqa: ANN202
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    s = settings()

    class _BaseUrlHttpClient(TwilioHttpClient):
        """Twilio's own HTTP client, sending to another base URL when one is configured."""

        def request(self, method, url, *args, **kwargs):  # noqa: ANN001, ANN202 - twilio's signature
            if s.twilio_api_base != "https://api.twilio.com":
                url = url.replace("https://api.twilio.com", s.twilio_api_base, 1)
            return super().request(method, url, *args, **kwargs)

    http = _BaseUrlHttpClient(timeout=s.http_timeout_seconds)
    return Client(account_sid, auth_token, http_client=http)


def slack_client():  # noqa: ANN201
    """The real slack-sdk WebClient, for the bot token of now."""
    return _slack_client(settings().slack_bot_token)


@functools.lru_cache(maxsize=2)
def _slack_client(token: str):  # noqa: ANN202
    from slack_sdk import WebClient

    s = settings()
    return WebClient(token=token, base_url=s.slack_api_base, timeout=int(max(1, s.http_timeout_seconds)))


def _aws_config():  # noqa: ANN202
    """Short timeouts for the AWS calls on a request's path (botocore waits 60 s by default)."""
    from botocore.config import Config

    return Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2, "mode": "standard"})


@functools.lru_cache(maxsize=1)
def sqs_client():  # noqa: ANN201
    import boto3

    return boto3.client("sqs", region_name=settings().region, config=_aws_config())


@functools.lru_cache(maxsize=1)
def secrets_client():  # noqa: ANN201
    import boto3

    return boto3.client("secretsmanager", region_name=settings().region, config=_aws_config())

"""Settings from the environment, and the clients built from them once per container.

Secrets (Twilio auth token, Slack tokens, the link-signing key) come from environment
variables; in AWS they are set from Secrets Manager/SSM by infra/ (see README).
Clients are built lazily so a Lambda that never sends SMS never imports twilio.
"""
from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar


@dataclass(frozen=True)
class Settings:
    table_name: str
    dynamodb_endpoint: str | None
    region: str
    public_url: str
    twilio_account_sid: str
    twilio_from: str
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
    return os.environ.get(name) or _secrets().get(name, "")


@functools.lru_cache(maxsize=1)
def _secrets() -> dict[str, str]:
    """Twilio/Slack/link secrets, read once per container from ASTREINTE_SECRETS_ID."""
    secret_id = os.environ.get("ASTREINTE_SECRETS_ID")
    if not secret_id:
        return {}
    import boto3

    value = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    return json.loads(value)


@functools.lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings(
        table_name=_env("ASTREINTE_TABLE", "astreinte"),
        dynamodb_endpoint=_env("DYNAMODB_ENDPOINT") or None,
        region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "eu-west-3")),
        public_url=_env("ASTREINTE_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"),
        twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
        twilio_from=_env("TWILIO_FROM_NUMBER"),
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
    _secrets.cache_clear()
    twilio_client.cache_clear()
    slack_client.cache_clear()
    sqs_client.cache_clear()
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


@functools.lru_cache(maxsize=1)
def twilio_client():  # noqa: ANN201 - twilio is imported lazily, so no annotation
    """The real twilio Client; TWILIO_API_BASE points it at a fake on loopback in tests."""
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
    return Client(s.twilio_account_sid, s.twilio_auth_token, http_client=http)


@functools.lru_cache(maxsize=1)
def slack_client():  # noqa: ANN201
    from slack_sdk import WebClient

    s = settings()
    return WebClient(token=s.slack_bot_token, base_url=s.slack_api_base,
                     timeout=int(max(1, s.http_timeout_seconds)))


@functools.lru_cache(maxsize=1)
def sqs_client():  # noqa: ANN201
    import boto3

    return boto3.client("sqs", region_name=settings().region)

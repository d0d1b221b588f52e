"""Start the whole service on loopback: store, fake providers, API server, timer runner."""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from .dynamodb import ROOT, DynamoDBLocal, free_port

EXAMPLE_ROUTING_KEY = "R0UT1NGKEYHELPDESKEXAMPLE0000001"
LISTEN_BACKLOG = 128  # the local API's and the outbox's listen queue


def local_env(ddb_endpoint: str, api_port: int, fake_url: str) -> dict[str, str]:
    """Environment of a local run: real clients, pointed at loopback."""
    return {
        "DYNAMODB_ENDPOINT": ddb_endpoint,
        "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "eu-west-3", "AWS_REGION": "eu-west-3",
        "ASTREINTE_TABLE": "astreinte",
        "ASTREINTE_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
        "ASTREINTE_SIGNING_SECRET": "local-link-signing-secret",
        "ASTREINTE_TIMER_QUEUE": "",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "local-twilio-auth-token",
        "TWILIO_FROM_NUMBER": "+33900000000",
        "TWILIO_API_BASE": fake_url,
        "TWILIO_WHATSAPP_FROM": "whatsapp:+33900000009",  # the Twilio WhatsApp sender
        "SLACK_BOT_TOKEN": "xoxb-local",
        "SLACK_SIGNING_SECRET": "local-slack-signing-secret",
        "SLACK_API_BASE": fake_url + "/api/",
        # Email: SES v2 through boto3, pointed at the outbox (boto3 reads this variable itself).
        "ASTREINTE_EMAIL_FROM": "Astreinte <astreinte@example.org>",
        "AWS_ENDPOINT_URL_SESV2": fake_url,
    }


class Stack:
    """The local stack in this process (threads); `make run` and the tests both use it."""

    def __init__(self, rotas_dir: str | Path = ROOT / "rotas", api_port: int = 0,
                 fake_port: int = 0, db_path: str | None = None, ddb_port: int = 0,
                 timer_interval: float | None = 0.25, auto_status: bool = False,
                 quiet: bool = True):
        self.rotas_dir = Path(rotas_dir)
        self.api_port = api_port or free_port()
        self.fake_port = fake_port or free_port()
        self.db = DynamoDBLocal(port=ddb_port, db_path=db_path)
        self.timer_interval = timer_interval
        self.auto_status = auto_status
        self.quiet = quiet  # no access log (tests, benchmarks); make run shows it
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.fake: Any = None
        self.server: Any = None

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> Stack:
        self.db.start()
        fake_url = f"http://127.0.0.1:{self.fake_port}"
        env = local_env(self.db.endpoint, self.api_port, fake_url)
        if os.environ.get("ASTREINTE_PROVIDERS") == "real":
            # Real Twilio/Slack from the caller's environment (reachable through a tunnel
            # set as ASTREINTE_PUBLIC_URL); the outbox then records nothing.
            env = {k: v for k, v in env.items()
                   if not k.startswith(("TWILIO_", "SLACK_", "ASTREINTE_EMAIL_")) or k not in os.environ}
            env.pop("TWILIO_API_BASE", None)
            env.pop("SLACK_API_BASE", None)
            env.pop("AWS_ENDPOINT_URL_SESV2", None)
            if os.environ.get("ASTREINTE_PUBLIC_URL"):
                env.pop("ASTREINTE_PUBLIC_URL")
        os.environ.update(env)
        from chalicelib import config, store
        from chalicelib.notify import email
        from chalicelib.rotas import directory, load

        config.reload()
        store.configure()
        store.create_table()
        # Warm, as a Lambda container would be.
        config.twilio_client(), config.slack_client()
        email.ses()
        directory.sync(load.load_dir(self.rotas_dir))
        from tests.fakes.providers import FakeProviders

        env = dict(os.environ)
        self.fake = FakeProviders(
            port=self.fake_port, twilio_account_sid=env["TWILIO_ACCOUNT_SID"],
            twilio_auth_token=env["TWILIO_AUTH_TOKEN"], slack_bot_token=env["SLACK_BOT_TOKEN"],
            slack_signing_secret=env["SLACK_SIGNING_SECRET"],
            sms_webhook_url=f"{self.api_url}/webhooks/twilio/sms",
            slack_interactivity_url=f"{self.api_url}/webhooks/slack/interactivity",
            auto_message_status=self.auto_status,
            # The services' support numbers: the outbox's "call the hotline" form offers them.
            hotline_numbers=[s["hotline"]["number"] for s in directory.bundle()["services"].values()
                             if s.get("hotline")],
        )
        self.fake.start()
        self._start_api()
        if self.timer_interval:
            self.start_timer_runner(self.timer_interval, handoff_notices=True)
        return self

    def _start_api(self) -> None:
        from chalice.app import CaseInsensitiveMapping
        from chalice.config import Config
        from chalice.local import (
            ChaliceRequestHandler,
            LocalDevServer,
            ThreadedHTTPServer,
            create_local_server,
        )

        import app as app_module
        from chalicelib import log
        from chalicelib.routes import http

        quiet = self.quiet

        class Handler(ChaliceRequestHandler):
            # Headers and body go out in separate writes: without TCP_NODELAY a keep-alive
            # client waits for the delayed ACK, 40 ms a request.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
                if not quiet:  # the request line's tokens (feeds, links, keys) masked
                    super().log_message(format, *(log.mask_secrets(str(a)) for a in args))

            def _generic_handle(self) -> None:
                """A path no route takes, or a method its route does not: our JSON, as API
                Gateway's gateway responses answer, decided from the routes as Chalice matches
                them (chalice.local would answer a 403, one that echoes the Authorization header)."""
                routes = app_module.app.routes
                if http.routed(self.command, self.path, routes):
                    super()._generic_handle()
                    return
                headers, _ = self._parse_payload()  # its body read: the next request here starts clean
                lang = http.request_language(CaseInsensitiveMapping(headers))
                code, answer, extra = http.no_route(self.command, self.path, routes, lang)
                self._send_http_response(code, {"Content-Type": "application/json; charset=utf-8", **extra},
                                         json.dumps(answer, ensure_ascii=False).encode())

            # (chalice.local binds its own _generic_handle to each method)
            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

            def _send_http_response(self, code: int, headers: Any, body: Any) -> None:
                """A HEAD's answer has no body: the client reads none, so one written would be read
                as the start of the next answer on a kept-alive connection."""
                super()._send_http_response(code, headers, None if self.command == "HEAD" else body)

        class Server(ThreadedHTTPServer):
            request_queue_size = LISTEN_BACKLOG  # a burst of senders waits, not reset (5 by default)
            daemon_threads = True

        create_local_server(app_module.app, Config.create(chalice_app=app_module.app), "127.0.0.1", 0) \
            .server.server_close()  # only for what it sets up on the app object
        server = LocalDevServer(app_module.app, Config.create(chalice_app=app_module.app),
                                "127.0.0.1", self.api_port, handler_cls=Handler, server_cls=Server)
        server.server.daemon_threads = True
        self.server = server
        t = threading.Thread(target=server.server.serve_forever, name="api", daemon=True)
        t.start()
        self._threads.append(t)

    def start_timer_runner(self, interval: float, handoff_notices: bool = False) -> threading.Event:
        """The local stand-in for SQS timers and the EventBridge schedules: same handlers.

        Returns an event that stops this runner when set (the stack's stop stops all).
        """
        from chalicelib import heartbeats, incidents
        from chalicelib.notices import handoffs, managers

        stop = threading.Event()
        every = max(1, int(30 / interval))  # handoff notices every 30 s, as EventBridge would

        def loop() -> None:
            ticks = 0
            while not stop.wait(interval) and not self._stop.is_set():
                ticks += 1
                try:
                    incidents.sweep()
                    heartbeats.sweep()
                    if handoff_notices and ticks % every == 1:
                        handoffs.send_due()
                    if handoff_notices and ticks % (10 * every) == 1:  # hourly in AWS; idempotent
                        managers.send_rest_notices()
                        managers.send_monthly_summaries()
                except Exception as exc:  # noqa: BLE001 - keep the runner alive, say why
                    print(f"timer runner: {type(exc).__name__}: {exc}", flush=True)

        t = threading.Thread(target=loop, name="timers", daemon=True)
        t.start()
        self._threads.append(t)
        return stop

    def stop(self) -> None:
        self._stop.set()
        if self.server is not None:
            self.server.server.shutdown()
            self.server.server.server_close()
        if self.fake is not None:
            self.fake.stop()
        self.db.stop()

"""The fake providers must fool the real twilio and slack_sdk clients.

Why: every other test trusts this fake, so it is checked against the real
client libraries and the real signature validators, not against itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from tests.fakes.providers import FakeProviders

TWILIO_API = "https://api.twilio.com"
ONCALL, TWILIO_NUMBER = "+33612345678", "+15005550006"


class FakeTwilioHttpClient(TwilioHttpClient):
    """Send the real client's requests to the fake, same paths."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_API):
            url = self.base_url + url[len(TWILIO_API) :]
        return super().request(method, url, *args, **kwargs)


class App:
    """A tiny stand-in for the app's webhooks: records requests, answers canned bodies."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.replies: dict[str, str] = {}
        app = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                app.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                reply = app.replies.get(self.path, "<Response/>").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        serve = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05})
        serve.daemon = True
        serve.start()


@pytest.fixture
def app() -> Iterator[App]:
    a = App()
    yield a
    a.server.shutdown()
    a.server.server_close()


@pytest.fixture
def fake(app: App) -> Iterator[FakeProviders]:
    with FakeProviders(sms_webhook_url=app.url + "/sms", slack_interactivity_url=app.url + "/slack") as f:
        yield f


def form_params(body: str) -> dict[str, str]:
    """Webhook params as Twilio's validator wants them: blank values kept (FinishedOnKey=)."""
    return {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}


def post_json(url: str, body: dict[str, Any]) -> Any:
    headers = {"Content-Type": "application/json"}
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.load(resp)


def twilio_client(fake: FakeProviders, token: str | None = None) -> Client:
    http = FakeTwilioHttpClient(fake.url)
    return Client(fake.twilio_account_sid, token or fake.twilio_auth_token, http_client=http)


def slack_client(fake: FakeProviders, token: str | None = None) -> WebClient:
    return WebClient(token=token or fake.slack_bot_token, base_url=fake.url + "/api/")


def test_sms_is_recorded_and_resource_parses(fake: FakeProviders) -> None:
    msg = twilio_client(fake).messages.create(
        to=ONCALL, from_=TWILIO_NUMBER, body="DB down", status_callback="http://127.0.0.1:1/status"
    )
    assert msg.sid.startswith("SM") and len(msg.sid) == 34
    assert msg.status == "queued" and msg.date_created is not None
    [sent] = fake.messages(kind="sms", to=ONCALL)
    assert sent["sid"] == msg.sid and sent["body"] == "DB down" and sent["from"] == TWILIO_NUMBER
    assert sent["status_callback"] == "http://127.0.0.1:1/status"
    assert twilio_client(fake).messages(msg.sid).fetch().body == "DB down"


def test_twilio_wrong_token_is_401(fake: FakeProviders) -> None:
    with pytest.raises(TwilioRestException) as err:
        twilio_client(fake, token="wrong").messages.create(to=ONCALL, from_=TWILIO_NUMBER, body="x")
    assert err.value.status == 401 and err.value.code == 20003
    assert fake.messages() == []


def test_injected_failures(fake: FakeProviders) -> None:
    client = twilio_client(fake)
    fake.fail_next(status=500, service="twilio")
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to=ONCALL, from_=TWILIO_NUMBER, body="1")
    assert err.value.status == 500
    assert client.messages.create(to=ONCALL, from_=TWILIO_NUMBER, body="2").status == "queued"
    fake.fail_numbers.add("+33600000000")
    with pytest.raises(TwilioRestException) as err:
        client.calls.create(to="+33600000000", from_=TWILIO_NUMBER, url="http://127.0.0.1:1/voice")
    assert (err.value.status, err.value.code) == (400, 21211)
    with pytest.raises(TwilioRestException) as err:
        client.messages.create(to=ONCALL, from_=TWILIO_NUMBER, body="")
    assert err.value.code == 21602
    assert [c["status"] for c in fake.api_calls("twilio")] == [500, 201, 400, 400]


def test_sms_reply_is_signed_like_twilio(fake: FakeProviders, app: App) -> None:
    twilio_client(fake).messages.create(to=ONCALL, from_=TWILIO_NUMBER, body="ack?")
    status, _ = fake.reply_sms(ONCALL, "ACK")
    assert status == 200
    [req] = app.requests
    params = form_params(req["body"])
    assert params["Body"] == "ACK" and params["From"] == ONCALL and params["To"] == TWILIO_NUMBER
    validator = RequestValidator(fake.twilio_auth_token)
    assert validator.validate(app.url + "/sms", params, req["headers"]["X-Twilio-Signature"])
    fake.reply_sms(ONCALL, "ACK", message_sid=params["MessageSid"], bad_signature=True)
    retry = form_params(app.requests[1]["body"])
    assert retry["MessageSid"] == params["MessageSid"]
    assert not validator.validate(app.url + "/sms", retry, app.requests[1]["headers"]["X-Twilio-Signature"])
    assert fake.wait_for(kind="sms_in", body="ACK")["status_code"] == 200


def test_call_answer_and_gather(fake: FakeProviders, app: App) -> None:
    app.replies["/voice"] = (
        '<Response><Gather action="/voice/key" numDigits="1"><Say>Press 1</Say></Gather></Response>'
    )
    app.replies["/voice/key"] = "<Response><Say>Acknowledged</Say></Response>"
    call = twilio_client(fake).calls.create(
        to=ONCALL, from_=TWILIO_NUMBER, url=app.url + "/voice", status_callback=app.url + "/status"
    )
    assert call.sid.startswith("CA") and call.status == "queued"
    assert "Press 1" in fake.answer_call(call.sid)
    assert "Acknowledged" in fake.press_keys(call.sid, "1")
    with pytest.raises(LookupError):
        fake.press_keys(call.sid, "1")
    assert fake.call_status(call.sid) == 200
    keys = form_params(app.requests[1]["body"])
    assert app.requests[1]["path"] == "/voice/key" and keys["Digits"] == "1"
    assert RequestValidator(fake.twilio_auth_token).validate(
        app.url + "/voice/key", keys, app.requests[1]["headers"]["X-Twilio-Signature"]
    )
    done = fake.messages(kind="call")[0]
    assert done["status"] == "completed" and len(done["twiml"]) == 2


def test_slack_post_update_and_bad_token(fake: FakeProviders) -> None:
    client = slack_client(fake)
    assert client.auth_test()["user_id"]
    resp = client.chat_postMessage(channel="C0ONCALL", text="Incident #1")
    assert resp["ok"] and resp["ts"]
    client.chat_update(channel="C0ONCALL", ts=resp["ts"], text="Incident #1 (acked)")
    [msg] = fake.messages(kind="slack", channel="C0ONCALL")
    assert msg["text"] == "Incident #1 (acked)" and len(msg["updates"]) == 1
    assert client.conversations_open(users="U123")["channel"]["id"] == "DU123"
    with pytest.raises(SlackApiError) as err:
        slack_client(fake, token="xoxb-wrong").chat_postMessage(channel="C0ONCALL", text="x")
    assert err.value.response["error"] == "invalid_auth"
    fake.fail_next(status=429, service="slack")
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C0ONCALL", text="y")
    assert err.value.response.status_code == 429 and err.value.response.headers["Retry-After"] == "1"


def test_slack_click_is_signed_like_slack(fake: FakeProviders, app: App) -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "DB down"}},
        {"type": "actions", "elements": [{
            "type": "button", "action_id": "ack", "value": "inc-1",
            "text": {"type": "plain_text", "text": "Ack"},
        }]},
    ]
    ts = slack_client(fake).chat_postMessage(channel="C0ONCALL", text="DB down", blocks=blocks)["ts"]
    status, _ = fake.click(ts, "ack", "U42", "alice")
    assert status == 200
    [req] = app.requests
    headers = req["headers"]
    verifier = SignatureVerifier(fake.slack_signing_secret)
    assert verifier.is_valid(req["body"], headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"])
    payload = json.loads(urllib.parse.parse_qs(req["body"])["payload"][0])
    assert payload["type"] == "block_actions" and payload["user"]["id"] == "U42"
    assert payload["actions"][0]["value"] == "inc-1" and payload["container"]["message_ts"] == ts
    fake.click(ts, "ack", "U42", bad_signature=True)
    forged = app.requests[1]["headers"]
    stamp, signature = forged["X-Slack-Request-Timestamp"], forged["X-Slack-Signature"]
    assert not verifier.is_valid(app.requests[1]["body"], stamp, signature)
    with pytest.raises(LookupError):
        fake.click(ts, "nope", "U42")
    # The app answers through response_url, which the fake applies to the message.
    answer = {"replace_original": True, "text": "Acked by alice"}
    assert post_json(payload["response_url"], answer) == {"ok": True}
    assert fake.wait_for(lambda m: m["kind"] == "slack" and m["text"] == "Acked by alice")


def test_control_endpoints_and_pages(fake: FakeProviders, app: App) -> None:
    twilio_client(fake).messages.create(to=ONCALL, from_=TWILIO_NUMBER, body="<b>hi</b>")
    form = urllib.parse.urlencode({"from_number": ONCALL, "body": "ACK"}).encode()
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(urllib.request.Request(fake.url + "/_control/reply_sms", data=form))
    assert redirect.value.code == 303 and redirect.value.headers["Location"] == "/"
    assert len(app.requests) == 1
    assert post_json(fake.url + "/_control/fail_next", {"service": "slack"})["ok"] is True
    page = urllib.request.urlopen(fake.url + "/").read().decode()
    assert "Astreinte — outbox (what would have been sent)" in page and "&lt;b&gt;hi&lt;/b&gt;" in page
    outbox = json.load(urllib.request.urlopen(fake.url + "/outbox.json"))
    assert [r["kind"] for r in outbox] == ["sms", "sms_in"]
    fake.reset()
    assert fake.messages() == [] and json.load(urllib.request.urlopen(fake.url + "/healthz")) == {"ok": True}


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def test_cli_prints_its_url() -> None:
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "tests.fakes.providers", "--port", "0"], cwd=root,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert line.startswith("fake providers on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        assert json.load(urllib.request.urlopen(url + "/healthz", timeout=5)) == {"ok": True}
    finally:
        proc.terminate()
        proc.wait(timeout=5)

"""One local HTTP server that stands in for Twilio, Slack and Amazon SES (v2).

Why: the app must be exercised end to end (real `twilio`, `slack_sdk` and
boto3 `sesv2` clients, real signed webhooks) without any network. Tests drive
it in-process; `make run` starts it as a process and a person uses its outbox
page at `/` to play the recipient of SMS, calls, Slack messages and emails.
"""

from __future__ import annotations

import argparse
import base64
import copy
import email
import email.policy
import email.utils
import hashlib
import hmac
import html
import json
import math
import re
import secrets
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from twilio.request_validator import RequestValidator

Record = dict[str, Any]
Response = tuple[int, dict[str, str], bytes]

API_VERSION = "2010-04-01"
DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_TWILIO_NUMBER = "+15005550006"  # Twilio's documented "valid" test number
EXAMPLE_HOTLINE = "+33900000100"  # rotas/policies.yaml's support number: the outbox form's default
EXAMPLE_CALLER = "+33611223301"  # a customer, for the outbox's "call the hotline" form
TEAM_ID, TEAM_DOMAIN, APP_ID, BOT_USER, BOT_ID = "T0FAKE", "astreinte-test", "A0FAKE", "U0FAKEBOT", "B0FAKE"
TERMINAL_CALL = {"completed", "busy", "failed", "no-answer", "canceled"}
TWILIO_PATH = re.compile(r"^/2010-04-01/Accounts/([^/]+)/(Messages|Calls)(?:/([^/]+))?\.json$")
TWILIO_ERRORS = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    21205: "Url parameter is required.",
    21211: "Invalid 'To' Phone Number",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
}
SES_SEND_PATH = "/v2/email/outbound-emails"  # sesv2 SendEmail (REST-JSON, SigV4 signing name "ses")
SES_MAX_RECIPIENTS = 50
# The x-amzn-ErrorType botocore turns into ClientError.response["Error"]["Code"], by HTTP status.
SES_ERRORS = {
    400: "BadRequestException", 403: "AccessDeniedException", 404: "NotFoundException",
    429: "TooManyRequestsException", 500: "InternalServiceErrorException", 503: "ServiceUnavailable",
}
URL_IN_TEXT = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
# Callbacks must reach the app on loopback even if the environment sets a proxy.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class CallbackError(RuntimeError):
    """The app answered a voice webhook with an error, so there is no TwiML to follow."""

    def __init__(self, url: str, status: int, body: str) -> None:
        super().__init__(f"POST {url} answered {status}: {body[:500]}")
        self.url, self.status, self.body = url, status, body


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _rfc2822(t: float) -> str:
    return time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime(t))


def _truthy(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in ("1", "true", "yes", "on")


def _json_arg(value: Any) -> Any:
    """Slack form bodies carry blocks as a JSON string; JSON bodies carry a list."""
    if isinstance(value, str) and value.strip().startswith(("[", "{")):
        return json.loads(value)
    return value


def _parse_body(content_type: str, body: bytes) -> dict[str, Any]:
    """JSON or urlencoded into a dict; repeated form keys become lists."""
    if content_type.startswith("application/json"):
        data = json.loads(body or b"{}")
        return data if isinstance(data, dict) else {}
    pairs = urllib.parse.parse_qs(body.decode("utf-8"), keep_blank_values=True)
    return {k: v if len(v) > 1 else v[0] for k, v in pairs.items()}


def _http(method: str, url: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, str]:
    """Deliver a webhook the way the provider would; HTTP errors are results, not exceptions."""
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with _OPENER.open(request, timeout=10) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


VIEW_TRIGGER_SECONDS = 3  # Slack: "a trigger_id expires 3 seconds after it's sent to your app"
VIEW_TITLE_MAX, VIEW_BLOCKS_MAX, VIEW_METADATA_MAX = 24, 100, 3000


def _modal_problems(view: Any) -> list[str]:
    """What Slack's views.open would refuse in a modal (a few of its documented limits)."""
    if not isinstance(view, dict):
        return ["view must be a JSON object [json-pointer:/view]"]
    problems = []
    if view.get("type") != "modal":
        problems.append("must be modal [json-pointer:/view/type]")
    for key, required in (("title", True), ("submit", False), ("close", False)):
        label = view.get(key)
        if label is None and not required:
            continue
        if not isinstance(label, dict) or label.get("type") != "plain_text" or not label.get("text"):
            problems.append(f"must provide a plain_text object [json-pointer:/view/{key}]")
        elif len(label["text"]) > VIEW_TITLE_MAX:
            problems.append(f"must be less than {VIEW_TITLE_MAX + 1} characters "
                            f"[json-pointer:/view/{key}/text]")
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or len(blocks) > VIEW_BLOCKS_MAX:
        problems.append(f"must provide an array of at most {VIEW_BLOCKS_MAX} blocks "
                        "[json-pointer:/view/blocks]")
    elif any(b.get("type") == "input" for b in blocks) and view.get("submit") is None:
        problems.append("must provide submit when the view has input blocks [json-pointer:/view/submit]")
    if len(str(view.get("private_metadata", ""))) > VIEW_METADATA_MAX:
        problems.append(f"must be at most {VIEW_METADATA_MAX} characters "
                        "[json-pointer:/view/private_metadata]")
    return problems


def _buttons(blocks: Any) -> list[tuple[dict, dict]]:
    """(block, button) pairs from `actions` blocks and section accessories."""
    found = []
    for block in blocks if isinstance(blocks, list) else []:
        is_actions = block.get("type") == "actions"
        elements = block.get("elements", []) if is_actions else [block.get("accessory") or {}]
        found += [(block, el) for el in elements if el.get("type") == "button"]
    return found


class _Links(HTMLParser):
    """The http(s) hrefs of an HTML body, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") or ""
        if tag == "a" and href.startswith(("http://", "https://")):
            self.hrefs.append(href)


def _html_links(body: str | None) -> list[str]:
    parser = _Links()
    parser.feed(body or "")
    parser.close()
    return parser.hrefs


def _linkify(text: str) -> str:
    """Escape text, making its http(s) URLs clickable (the acknowledge/resolve links of emails)."""
    out, end = [], 0
    for m in URL_IN_TEXT.finditer(text):
        url = html.escape(m.group(0))
        out += [html.escape(text[end:m.start()]), f'<a href="{url}" target=_blank rel=noopener>{url}</a>']
        end = m.end()
    return "".join(out) + html.escape(text[end:])


class _BurstServer(ThreadingHTTPServer):
    """The outbox takes a burst (200 senders at once) without resetting connections."""

    request_queue_size = 128
    daemon_threads = True


class FakeProviders:
    """Twilio REST + Slack Web API + SES v2 SendEmail impersonation that records everything it is sent."""

    def __init__(
        self,
        port: int = 0,
        twilio_account_sid: str = DEFAULT_ACCOUNT_SID,
        twilio_auth_token: str = "test-auth-token",
        slack_bot_token: str = "xoxb-test",
        slack_signing_secret: str = "test-signing-secret",
        sms_webhook_url: str | None = None,
        slack_interactivity_url: str | None = None,
        auto_message_status: bool = False,
        hotline_webhook_url: str | None = None,
        fail_numbers: set[str] | frozenset[str] | list[str] = frozenset(),
        log_requests: bool = False,
        hotline_numbers: list[str] | tuple[str, ...] = (),
    ) -> None:
        self.port = port
        self.twilio_account_sid = twilio_account_sid
        self.twilio_auth_token = twilio_auth_token
        self.slack_bot_token = slack_bot_token
        self.slack_signing_secret = slack_signing_secret
        self.sms_webhook_url = sms_webhook_url
        self.slack_interactivity_url = slack_interactivity_url
        self.auto_message_status = auto_message_status
        # The voice URL of the support number (inbound calls); by default beside the SMS webhook.
        self.hotline_webhook_url = hotline_webhook_url
        self.hotline_numbers = list(hotline_numbers)  # the services' support numbers, for the outbox form
        self.log_requests = log_requests
        self._initial_fail_numbers = set(fail_numbers)
        self.fail_numbers: set[str] = set(fail_numbers)
        self._lock = threading.RLock()  # re-entrant: a wait_for predicate may call messages()
        self._cond = threading.Condition(self._lock)
        self._records: list[Record] = []
        self._hotline_calls: dict[str, HotlineCall] = {}  # by CallSid: the control endpoints go on with them
        self._api_calls: list[Record] = []
        self._failures: list[dict[str, Any]] = []
        self._slow: list[dict[str, Any]] = []
        self._holding = 0  # API calls slow_next is holding now
        self._releases = 0  # release() count: a held call goes on when it changes
        self._ts_counter = 0
        self._triggers: dict[str, dict[str, Any]] = {}  # trigger_id -> {user, issued, used}: views.open
        self._flash = ""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeProviders:
        server = _BurstServer(("127.0.0.1", self.port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server, self.port = server, server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget records and injected failures; fail_numbers go back to the constructor's."""
        with self._cond:
            self._records.clear()
            self._hotline_calls.clear()
            self._triggers.clear()
            self._api_calls.clear()
            self._failures.clear()
            self.fail_numbers = set(self._initial_fail_numbers)
            self._slow.clear()
            self._releases += 1  # a call still held from the last test goes on
            self._cond.notify_all()

    # ------------------------------------------------------------------- records
    def _record(self, record: Record) -> Record:
        record.setdefault("received_at", time.time())
        with self._cond:
            self._records.append(record)
            self._cond.notify_all()
        return record

    def _mutate(self, kind: str, key: str, value: str, change: Callable[[Record], None]) -> Record:
        """Apply `change` to a live record under the lock; return a copy."""
        with self._cond:
            for rec in reversed(self._records):
                if rec["kind"] == kind and rec.get(key) == value:
                    change(rec)
                    self._cond.notify_all()
                    return copy.deepcopy(rec)
        raise LookupError(f"no recorded {kind} with {key}={value!r}")

    def _get(self, kind: str, key: str, value: str) -> Record:
        return self._mutate(kind, key, value, lambda rec: None)

    def messages(
        self, kind: str | None = None, to: str | None = None, channel: str | None = None
    ) -> list[Record]:
        """Copies of recorded items (sms, call, sms_in, slack, email, ...), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(r)
                for r in self._records
                if (kind is None or r["kind"] == kind)
                and (to is None or r.get("to") == to)
                and (channel is None or r.get("channel") == channel)
            ]

    def api_calls(self, service: str | None = None) -> list[Record]:
        """Every API request with the status answered, to assert retries and injected failures."""
        with self._lock:
            return [copy.deepcopy(c) for c in self._api_calls if service in (None, c["service"])]

    def wait_for(
        self, predicate: Callable[[Record], bool] | None = None, timeout: float = 5.0, **fields: Any
    ) -> Record:
        """Block until a recorded item matches `predicate` and equals every `fields` value.

        A predicate raising KeyError/TypeError/IndexError counts as "no match",
        because records of different kinds have different keys.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for rec in self._records:
                    snap = copy.deepcopy(rec)
                    try:
                        if all(snap.get(k) == v for k, v in fields.items()) and (
                            predicate is None or predicate(snap)
                        ):
                            return snap
                    except (KeyError, TypeError, IndexError):
                        pass
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = "\n".join(f"  {json.dumps(r, default=str)[:300]}" for r in self._records)
                    raise TimeoutError(
                        f"nothing matched {fields or ''} {predicate or ''} in {timeout}s; "
                        f"recorded:\n{seen or '  (nothing)'}"
                    )
                self._cond.wait(remaining)

    # ------------------------------------------------------------------ failures
    def fail_next(self, n: int = 1, status: int = 500, service: str = "any", kind: str | None = None) -> None:
        """Make the next n API calls of `service` ("twilio", "slack", "ses", "any") answer `status`.

        `kind` narrows it: "sms"/"call" for Twilio, a method name such as
        "chat.postMessage" for Slack, "email" for SES. For SES the error type
        follows the status (400 BadRequestException, 429 TooManyRequestsException,
        500 InternalServiceErrorException, see SES_ERRORS); a status below 400
        answers 200 with a MessageId but records nothing: an email lost on the way.
        """
        if service not in ("twilio", "slack", "ses", "any"):
            raise ValueError(f"service must be twilio, slack, ses or any, not {service!r}")
        with self._lock:
            rule = {"remaining": int(n), "status": int(status), "service": service, "kind": kind}
            self._failures.append(rule)

    def recover(self, service: str = "any") -> None:
        """The provider is back: forget the failures still pending for `service` ("any": all)."""
        with self._lock:
            self._failures = [r for r in self._failures if service != "any" and r["service"] != service]

    def _take_failure(self, service: str, kind: str) -> int | None:
        with self._lock:
            for rule in self._failures:
                if rule["service"] in (service, "any") and rule["kind"] in (None, kind):
                    rule["remaining"] -= 1
                    if rule["remaining"] <= 0:
                        self._failures.remove(rule)
                    return rule["status"]
        return None

    # ------------------------------------------------------------------ slowness
    def slow_next(self, seconds: float, service: str = "any", kind: str | None = None, n: int = 1) -> None:
        """Make the next n API calls of `service` ("twilio", "slack", "ses", "any") wait `seconds`
        before they are handled, or until release(): a slow provider.  `kind` narrows it as for
        fail_next.  A held call is then handled as usual (recorded), even if its client gave up."""
        if service not in ("twilio", "slack", "ses", "any"):
            raise ValueError(f"service must be twilio, slack, ses or any, not {service!r}")
        with self._lock:
            self._slow.append({"remaining": int(n), "seconds": float(seconds), "service": service,
                               "kind": kind})

    def release(self) -> None:
        """Let every call slow_next holds go on now, and forget the slowness still pending."""
        with self._cond:
            self._slow.clear()
            self._releases += 1
            self._cond.notify_all()

    def held(self) -> int:
        """How many API calls slow_next is holding now."""
        with self._lock:
            return self._holding

    def _hold(self, service: str, kind: str) -> None:
        with self._cond:
            rule = next((r for r in self._slow
                         if r["service"] in (service, "any") and r["kind"] in (None, kind)), None)
            if rule is None:
                return
            rule["remaining"] -= 1
            if rule["remaining"] <= 0:
                self._slow.remove(rule)
            generation = self._releases
            self._holding += 1
            self._cond.notify_all()
            try:
                self._cond.wait_for(lambda: self._releases != generation, timeout=rule["seconds"])
            finally:
                self._holding -= 1
                self._cond.notify_all()

    # ------------------------------------------------------------ twilio: API
    def _twilio_error(self, status: int, code: int, message: str | None = None) -> Response:
        body = {
            "code": code,
            "message": message or TWILIO_ERRORS.get(code, f"Injected failure (HTTP {status})"),
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        headers = {"Retry-After": "1"} if status == 429 else {}
        return _json_response(status, body, headers)

    def _twilio_api(self, method: str, match: re.Match[str], headers: Any, args: dict[str, Any]) -> Response:
        account, resource, sid = match.groups()
        kind = "sms" if resource == "Messages" else "call"
        if kind == "sms" and str(args.get("To") or "").startswith("whatsapp:"):
            kind = "whatsapp"  # the same Messages API, to a WhatsApp address
        expected = "Basic " + _b64(f"{self.twilio_account_sid}:{self.twilio_auth_token}")
        if not hmac.compare_digest(headers.get("Authorization", "").encode(), expected.encode()):
            return self._twilio_error(401, 20003)
        if account != self.twilio_account_sid:
            return self._twilio_error(404, 20404)
        self._hold("twilio", kind)
        failure = self._take_failure("twilio", kind)
        if failure is not None:
            code = {401: 20003, 404: 20404, 429: 20429}.get(failure, 20000 + failure)
            return self._twilio_error(failure, code)
        if sid is not None or method == "GET":  # fetch, or update (e.g. Status=completed to hang up)
            change = (lambda r: r.update(status=args["Status"])) if args.get("Status") else (lambda r: None)
            try:
                rec = self._mutate(kind, "sid", sid or "", change)
            except LookupError:
                return self._twilio_error(404, 20404)
            return _json_response(200, self._resource_json(rec))
        to, from_ = args.get("To"), args.get("From")
        if not to:
            return self._twilio_error(400, 21604)
        if to in self.fail_numbers:
            return self._twilio_error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if not from_ and not args.get("MessagingServiceSid"):
            return self._twilio_error(400, 21603)
        common = {"to": to, "from": from_, "status": "queued", "callbacks": [],
                  "status_callback": args.get("StatusCallback")}
        if kind != "call":
            if not args.get("Body") and not args.get("MediaUrl"):
                return self._twilio_error(400, 21602)
            if kind == "whatsapp" and not str(from_ or "").startswith("whatsapp:"):
                return self._twilio_error(400, 63007)  # no WhatsApp sender with this From
            rec = {"kind": kind, "sid": _sid("SM"), "body": args.get("Body", ""),
                   "messaging_service_sid": args.get("MessagingServiceSid"), **common}
        else:
            if not args.get("Url") and not args.get("Twiml"):
                return self._twilio_error(400, 21205)
            events = args.get("StatusCallbackEvent", [])
            rec = {"kind": "call", "sid": _sid("CA"), "url": args.get("Url"),
                   "method": args.get("Method", "POST"),
                   "status_callback_event": events if isinstance(events, list) else [events],
                   "status_callback_method": args.get("StatusCallbackMethod", "POST"),
                   "twiml": [args["Twiml"]] if args.get("Twiml") else [],
                   "twiml_urls": [args.get("Url")], **common}
        self._record(rec)
        if kind == "sms" and self.auto_message_status and rec["status_callback"]:
            threading.Thread(target=self._auto_status, args=(rec["sid"],), daemon=True).start()
        return _json_response(201, self._resource_json(rec))

    def _resource_json(self, rec: Record) -> dict[str, Any]:
        """The Message or Call resource as Twilio serialises it."""
        created = _rfc2822(rec["received_at"])
        name = "Calls" if rec["kind"] == "call" else "Messages"
        uri = f"/{API_VERSION}/Accounts/{self.twilio_account_sid}/{name}/{rec['sid']}.json"
        base = {
            "account_sid": self.twilio_account_sid, "api_version": API_VERSION, "sid": rec["sid"],
            "to": rec["to"], "from": rec["from"], "status": rec["status"], "direction": "outbound-api",
            "date_created": created, "date_updated": created, "price": None, "price_unit": "USD", "uri": uri,
        }
        if rec["kind"] != "call":
            return {**base, "body": rec["body"], "date_sent": None, "error_code": None, "error_message": None,
                    "messaging_service_sid": rec["messaging_service_sid"],
                    "num_media": "0", "num_segments": "1",
                    "subresource_uris": {"media": uri[:-5] + "/Media.json"}}
        return {**base, "annotation": None, "answered_by": None, "caller_name": None, "duration": None,
                "start_time": None, "end_time": None, "forwarded_from": None, "from_formatted": rec["from"],
                "to_formatted": rec["to"], "group_sid": None, "parent_call_sid": None,
                "phone_number_sid": None, "queue_time": "0", "trunk_sid": None,
                "subresource_uris": {"notifications": uri[:-5] + "/Notifications.json"}}

    # ------------------------------------------------------- twilio: webhooks
    def _twilio_webhook(self, url: str, params: dict[str, str], method: str = "POST", *,
                        sign: bool = True, bad_signature: bool = False) -> tuple[int, str, str]:
        """Send params signed like Twilio (HMAC-SHA1 of URL + sorted params); GET signs the full URL."""
        is_get = method.upper() == "GET"
        target = f"{url}{'&' if '?' in url else '?'}{urllib.parse.urlencode(params)}" if is_get else url
        token = "forged-auth-token" if bad_signature else self.twilio_auth_token
        signature = RequestValidator(token).compute_signature(target, {} if is_get else params)
        headers = {"User-Agent": "TwilioProxy/1.1", "I-Twilio-Idempotency-Token": secrets.token_hex(16)}
        if sign:
            headers["X-Twilio-Signature"] = signature
        data = None
        if not is_get:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urllib.parse.urlencode(params).encode()
        status, text = _http("GET" if is_get else "POST", target, data, headers)
        return status, text, signature

    def _callback(
        self, kind: str, sid: str, url: str, params: dict[str, str], method: str = "POST"
    ) -> tuple[int, str]:
        status, text, _ = self._twilio_webhook(url, params, method)
        entry = {"url": url, "params": params, "status_code": status, "response": text, "at": time.time()}
        self._mutate(kind, "sid", sid, lambda rec: rec["callbacks"].append(entry))
        return status, text

    def reply_sms(self, from_number: str, body: str, to: str | None = None, *, message_sid: str | None = None,
                  sign: bool = True, bad_signature: bool = False) -> tuple[int, str]:
        """Play a person answering by SMS: Twilio's inbound webhook to sms_webhook_url."""
        url = _need(self.sms_webhook_url, "sms_webhook_url")
        if to is None:
            sent = [r for r in self.messages() if r["kind"] in ("sms", "call") and r["to"] == from_number]
            to = sent[-1]["from"] if sent and sent[-1]["from"] else DEFAULT_TWILIO_NUMBER
        sid = message_sid or _sid("SM")
        params = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid,
                  "AccountSid": self.twilio_account_sid, "From": from_number, "To": to, "Body": body,
                  "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": API_VERSION}
        status, text, signature = self._twilio_webhook(url, params, sign=sign, bad_signature=bad_signature)
        self._record({"kind": "sms_in", "sid": sid, "from": from_number, "to": to, "body": body, "url": url,
                      "params": params, "signature": signature if sign else None, "status_code": status,
                      "response": text})
        return status, text

    def whatsapp_status(self, message_sid: str, status: str = "delivered",
                        error_code: str | None = None) -> int:
        """Send a WhatsApp message's StatusCallback (Twilio's MessageStatus fields, `whatsapp:`
        addresses); failed/undelivered carry an ErrorCode (63016: outside the 24-hour window)."""
        msg = self._get("whatsapp", "sid", message_sid)
        url = _need(msg["status_callback"], f"StatusCallback of {message_sid}")
        params = {"MessageSid": message_sid, "SmsSid": message_sid,
                  "MessageStatus": status, "SmsStatus": status, "AccountSid": self.twilio_account_sid,
                  "From": msg["from"] or "", "To": msg["to"],
                  "ChannelPrefix": "whatsapp", "ApiVersion": API_VERSION}
        if status in ("failed", "undelivered"):
            params["ErrorCode"] = str(error_code or 63016)
        code, _ = self._callback("whatsapp", message_sid, url, params)
        self._mutate("whatsapp", "sid", message_sid, lambda rec: rec.update(status=status))
        return code

    def reply_whatsapp(self, from_number: str, body: str, to: str | None = None, *,
                       message_sid: str | None = None, bad_signature: bool = False) -> tuple[int, str]:
        """Play a person answering on WhatsApp: Twilio posts it, signed, to the SMS webhook with
        `whatsapp:` addresses (`from_number` is a phone number, with or without the prefix)."""
        url = _need(self.sms_webhook_url, "sms_webhook_url")
        sender = from_number if from_number.startswith("whatsapp:") else "whatsapp:" + from_number
        if to is None:
            sent = [r for r in self.messages(kind="whatsapp") if r["to"] == sender]
            to = sent[-1]["from"] if sent and sent[-1]["from"] else "whatsapp:" + DEFAULT_TWILIO_NUMBER
        sid = message_sid or _sid("SM")
        params = {"MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid,
                  "AccountSid": self.twilio_account_sid, "From": sender, "To": to, "Body": body,
                  "NumMedia": "0", "NumSegments": "1",
                  "SmsStatus": "received", "MessageType": "text", "ProfileName": "",
                  "WaId": sender.removeprefix("whatsapp:+"), "ApiVersion": API_VERSION}
        status, text, signature = self._twilio_webhook(url, params, bad_signature=bad_signature)
        self._record({"kind": "whatsapp_in", "sid": sid, "from": sender, "to": to, "body": body, "url": url,
                      "params": params, "signature": signature, "status_code": status, "response": text})
        return status, text

    # ------------------------------------------------- twilio: inbound calls
    def hotline_url(self) -> str:
        if self.hotline_webhook_url:
            return self.hotline_webhook_url
        sms = _need(self.sms_webhook_url, "hotline_webhook_url (or sms_webhook_url)")
        return sms.rsplit("/", 1)[0] + "/hotline"

    def call_hotline(self, from_: str, to: str, digits: list[str] | tuple[str, ...] = (), *,
                     bad_signature: bool = False) -> HotlineCall:
        """Play a customer calling a Twilio number: the signed voice webhook to the hotline URL,
        then the TwiML followed (Say heard, `digits` typed into Gathers one each) until it
        rings someone (<Dial>), records (<Record>), hangs up, or waits for a key the caller has
        not typed.  The returned call goes on with answer()/no_answer()/record()/press()/hang_up().
        From a staff phone (an agent calling a customer back), `digits` such as ["12#"] type the
        incident number into the <Gather finishOnKey="#">; `dialing["caller_id"]` is what the
        customer's phone shows."""
        call = HotlineCall(self, _sid("CA"), from_, to, list(digits))
        with self._lock:
            self._hotline_calls[call.sid] = call
        self._record({"kind": "hotline_call", "sid": call.sid, "from": from_, "to": to})
        call._post(self.hotline_url(), call._params("ringing"), bad_signature=bad_signature)
        return call

    def _call_params(self, call: Record, status: str) -> dict[str, str]:
        return {"CallSid": call["sid"], "AccountSid": self.twilio_account_sid,
                "From": call["from"], "To": call["to"], "Called": call["to"], "Caller": call["from"],
                "CallStatus": status, "Direction": "outbound-api", "ApiVersion": API_VERSION}

    def _twiml_step(self, call: Record, url: str | None, params: dict[str, str], method: str) -> str:
        if url is None:  # call created with inline Twiml: nothing to fetch
            return call["twiml"][-1]
        status, text = self._callback("call", call["sid"], url, params, method)
        if status >= 400:
            raise CallbackError(url, status, text)

        def store(rec: Record) -> None:
            rec["twiml"].append(text)
            rec["twiml_urls"].append(url)
            rec["status"] = "in-progress"

        self._mutate("call", "sid", call["sid"], store)
        return text

    def answer_call(self, call_sid: str) -> str:
        """Play the callee picking up: fetch the call's Url signed, keep and return its TwiML."""
        call = self._get("call", "sid", call_sid)
        return self._twiml_step(call, call["url"], self._call_params(call, "in-progress"), call["method"])

    def press_keys(self, call_sid: str, digits: str) -> str:
        """Play the callee typing digits into the last TwiML's <Gather>."""
        call = self._get("call", "sid", call_sid)
        if not call["twiml"]:
            raise RuntimeError(f"call {call_sid} has no TwiML yet: answer_call() first")
        try:
            gather = ET.fromstring(call["twiml"][-1]).find(".//Gather")
        except ET.ParseError as exc:
            raise ValueError(f"last TwiML of {call_sid} is not XML ({exc}):\n{call['twiml'][-1]}") from exc
        if gather is None:
            raise LookupError(f"no <Gather> in the last TwiML of {call_sid}:\n{call['twiml'][-1]}")
        # Without an action Twilio posts back to the document that held the <Gather>.
        action = urllib.parse.urljoin(call["twiml_urls"][-1] or "", gather.get("action") or "")
        params = {**self._call_params(call, "in-progress"), "Digits": str(digits), "FinishedOnKey": ""}
        return self._twiml_step(call, action, params, gather.get("method", "POST"))

    def call_status(self, call_sid: str, status: str = "completed", duration: int = 30) -> int:
        """Send the call's StatusCallback (e.g. completed, busy, no-answer)."""
        call = self._get("call", "sid", call_sid)
        url = _need(call["status_callback"], f"StatusCallback of {call_sid}")
        params = {**self._call_params(call, status), "Timestamp": _rfc2822(time.time()),
                  "CallbackSource": "call-progress-events",
                  "SequenceNumber": str(sum(c["url"] == url for c in call["callbacks"]))}
        if status in TERMINAL_CALL:
            seconds = int(duration) if status == "completed" else 0
            params.update(CallDuration=str(seconds), Duration=str(math.ceil(seconds / 60)))
        code, _ = self._callback("call", call_sid, url, params, call["status_callback_method"])
        self._mutate("call", "sid", call_sid, lambda rec: rec.update(status=status))
        return code

    def message_status(
        self, message_sid: str, status: str = "delivered", error_code: str | None = None
    ) -> int:
        """Send the message's StatusCallback; failed/undelivered carry an ErrorCode."""
        msg = self._get("sms", "sid", message_sid)
        url = _need(msg["status_callback"], f"StatusCallback of {message_sid}")
        params = {"MessageSid": message_sid, "SmsSid": message_sid,
                  "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": self.twilio_account_sid, "From": msg["from"] or "", "To": msg["to"],
                  "ApiVersion": API_VERSION}
        if status in ("failed", "undelivered"):
            params["ErrorCode"] = str(error_code or 30003)
        code, _ = self._callback("sms", message_sid, url, params)
        self._mutate("sms", "sid", message_sid, lambda rec: rec.update(status=status))
        return code

    def _auto_status(self, sid: str) -> None:
        for status in ("sent", "delivered"):
            time.sleep(0.05)
            try:
                self.message_status(sid, status)
            except (OSError, LookupError):  # app down or fake reset: nothing to deliver to
                return

    # ---------------------------------------------------------------- ses: API
    def _ses_api(self, method: str, path: str, headers: Any, body: bytes) -> tuple[Response, dict[str, Any]]:
        """sesv2 SendEmail; answers (response, parsed request) so the call can be logged."""
        try:
            args = json.loads(body or b"{}")
        except ValueError:
            args = None
        params = args if isinstance(args, dict) else {}
        if not headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 Credential="):
            denied = _ses_error(403, "Missing Authentication Token", "MissingAuthenticationTokenException")
            return denied, params
        if (method, path) != ("POST", SES_SEND_PATH):
            return _ses_error(404, f"fake providers: only SendEmail (POST {SES_SEND_PATH}) is implemented, "
                                   f"not {method} {path}"), params
        if not isinstance(args, dict):
            return _ses_error(400, "Request body is not a JSON object"), params
        self._hold("ses", "email")
        failure = self._take_failure("ses", "email")
        if failure is not None and failure >= 400:
            return _ses_error(failure, f"Injected failure (HTTP {failure})"), params
        try:
            rec = _email_record(args)
        except _SesError as exc:
            return _ses_error(exc.status, str(exc), exc.code), params
        if failure is None:
            self._record(rec)
        request_id = {"x-amzn-RequestId": str(uuid.uuid4())}
        return _json_response(200, {"MessageId": rec["message_id"]}, request_id), params

    # ------------------------------------------------------------- slack: API
    def _slack_api(self, method: str, headers: Any, args: dict[str, Any]) -> Response:
        auth = headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else args.get("token")
        handler = {"chat.postMessage": self._slack_post, "chat.postEphemeral": self._slack_post,
                   "chat.update": self._slack_update, "conversations.open": self._slack_open,
                   "auth.test": self._slack_auth_test, "views.open": self._slack_views_open}.get(method)
        if not token:
            return _json_response(200, {"ok": False, "error": "not_authed"})
        if not hmac.compare_digest(str(token).encode(), self.slack_bot_token.encode()):
            return _json_response(200, {"ok": False, "error": "invalid_auth"})
        self._hold("slack", method)
        failure = self._take_failure("slack", method)
        if failure == 200:
            return _json_response(200, {"ok": False, "error": "fatal_error"})
        if failure is not None:
            if failure == 429:
                return _json_response(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            return _json_response(failure, {"ok": False, "error": "fatal_error"})
        if handler is None:
            return _json_response(404, {"ok": False, "error": "unknown_method"})
        return _json_response(200, handler(method, args))

    def _next_ts(self) -> str:
        with self._lock:
            self._ts_counter += 1
            return f"{1700000000 + self._ts_counter}.000100"

    @staticmethod
    def _slack_message(rec: Record) -> dict[str, Any]:
        msg = {"type": "message", "text": rec["text"] or "", "user": BOT_USER, "bot_id": BOT_ID,
               "app_id": APP_ID, "team": TEAM_ID, "ts": rec["ts"]}
        if rec.get("blocks"):
            msg["blocks"] = rec["blocks"]
        if rec.get("thread_ts"):
            msg["thread_ts"] = rec["thread_ts"]
        return msg

    def _slack_post(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel, text, blocks = args.get("channel"), args.get("text"), _json_arg(args.get("blocks"))
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not text and not blocks and not args.get("attachments"):
            return {"ok": False, "error": "no_text"}
        ephemeral = method == "chat.postEphemeral"
        if ephemeral and not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        rec = self._record({"kind": "slack_ephemeral" if ephemeral else "slack", "channel": channel,
                            "text": text, "blocks": blocks, "ts": self._next_ts(),
                            "thread_ts": args.get("thread_ts"), "user": args.get("user"), "updates": []})
        if ephemeral:
            return {"ok": True, "message_ts": rec["ts"]}
        return {"ok": True, "channel": channel, "ts": rec["ts"], "message": self._slack_message(rec)}

    def _apply_update(self, rec: Record, text: Any, blocks: Any) -> None:
        """Current text/blocks stay top level; every change is appended to rec["updates"]."""
        rec["updates"].append({"text": text, "blocks": blocks, "received_at": time.time()})
        if text is not None:
            rec["text"] = text
        if blocks is not None:  # like Slack, omitted blocks are kept
            rec["blocks"] = blocks

    def _slack_update(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        channel, ts = args.get("channel"), args.get("ts")
        text, blocks = args.get("text"), _json_arg(args.get("blocks"))
        if text is None and blocks is None:
            return {"ok": False, "error": "no_text"}
        with self._cond:
            hits = [r for r in self._records
                    if r["kind"] == "slack" and r["ts"] == ts and r["channel"] == channel]
            if not hits:
                return {"ok": False, "error": "message_not_found"}
            self._apply_update(hits[0], text, blocks)
            self._cond.notify_all()
            message = self._slack_message(hits[0])
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}

    def _slack_open(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        return {"ok": True, "channel": {"id": ("D" if len(users) == 1 else "G") + "".join(users)}}

    def _slack_auth_test(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": f"https://{TEAM_DOMAIN}.slack.com/", "team": "Astreinte Test",
                "user": "astreinte", "team_id": TEAM_ID, "user_id": BOT_USER, "bot_id": BOT_ID,
                "is_enterprise_install": False}

    def _trigger(self, user_id: str, now: float) -> str:
        """A trigger_id as Slack gives with an interaction: good for one views.open, 3 seconds."""
        trigger_id = f"{int(now)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
        with self._lock:
            self._triggers[trigger_id] = {"user": user_id, "issued": now, "used": False}
        return trigger_id

    def _slack_views_open(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """Open a modal for the user whose interaction gave the trigger_id; Slack's refusals:
        a trigger it never gave (invalid_trigger_id), older than 3 s (expired_trigger_id) or
        already used (exchanged_trigger_id), and a view it would not draw (invalid_arguments)."""
        view, trigger_id = _json_arg(args.get("view")), str(args.get("trigger_id") or "")
        if not trigger_id:
            return {"ok": False, "error": "invalid_arguments",
                    "response_metadata": {"messages": ["[ERROR] missing required field: trigger_id"]}}
        with self._lock:
            trigger = self._triggers.get(trigger_id)
            if trigger is None:
                return {"ok": False, "error": "invalid_trigger_id"}
            if time.time() - trigger["issued"] > VIEW_TRIGGER_SECONDS:
                return {"ok": False, "error": "expired_trigger_id"}
            if trigger["used"]:
                return {"ok": False, "error": "exchanged_trigger_id"}
            problems = _modal_problems(view)
            if problems:
                return {"ok": False, "error": "invalid_arguments",
                        "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]}}
            trigger["used"] = True
        view_id = "V" + secrets.token_hex(5).upper()
        opened = {**view, "id": view_id, "team_id": TEAM_ID, "state": {"values": {}},
                  "hash": f"{int(time.time())}.{secrets.token_hex(4)}", "private_metadata":
                  view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
                  "root_view_id": view_id, "previous_view_id": None, "app_id": APP_ID, "bot_id": BOT_ID}
        self._record({"kind": "slack_view", "view_id": view_id, "trigger_id": trigger_id,
                      "user": trigger["user"], "view": opened, "title": view["title"]["text"],
                      "open": True, "errors": None, "submissions": 0})
        return {"ok": True, "view": opened}

    def _slack_response_url(self, ts: str, body: dict[str, Any]) -> Response:
        """What an app posts to a click's response_url; replace_original edits the message."""
        replace = _truthy(body.get("replace_original", False))
        delete = _truthy(body.get("delete_original", False))
        self._record({"kind": "slack_response", "ts": ts, "body": body, "text": body.get("text"),
                      "blocks": body.get("blocks"), "replace_original": replace, "delete_original": delete})
        if replace or delete:
            def change(rec: Record) -> None:
                self._apply_update(rec, body.get("text"), body.get("blocks"))
                rec["deleted"] = delete
            try:
                self._mutate("slack", "ts", ts, change)
            except LookupError:
                return _json_response(404, {"ok": False, "error": "message_not_found"})
        return _json_response(200, {"ok": True})

    # ------------------------------------------------------- slack: webhooks
    def click(self, message_ts: str, action_id: str, user_id: str, user_name: str | None = None, *,
              bad_signature: bool = False, timestamp: int | None = None,
              raw_body: str | bytes | None = None) -> tuple[int, str]:
        """Play a person clicking a button: a signed block_actions POST to slack_interactivity_url.

        `raw_body` resends an earlier body verbatim (a retried delivery);
        `timestamp` forces X-Slack-Request-Timestamp (stale or replayed requests).
        """
        url = _need(self.slack_interactivity_url, "slack_interactivity_url")
        payload = None
        if raw_body is None:
            msg = [r for r in self.messages()
                   if r["kind"] in ("slack", "slack_ephemeral") and r["ts"] == message_ts]
            if not msg:
                raise LookupError(f"no recorded Slack message with ts={message_ts!r}")
            payload = self._block_actions(msg[-1], action_id, user_id, user_name or user_id)
            raw_body = urllib.parse.urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
        body, ts, signature, status, text = self._post_signed(url, raw_body, bad_signature, timestamp)
        if payload is None:
            payload = json.loads(urllib.parse.parse_qs(body).get("payload", ["{}"])[0])
        self._record({"kind": "slack_interaction", "message_ts": message_ts, "action_id": action_id,
                      "user_id": user_id, "payload": payload, "raw_body": body, "timestamp": ts,
                      "signature": signature, "status_code": status, "response": text})
        return status, text

    def _post_signed(self, url: str, raw_body: str | bytes, bad_signature: bool = False,
                     timestamp: int | None = None) -> tuple[str, str, str, int, str]:
        """POST an interaction as Slack does (form-encoded `payload`, signed with the signing
        secret, or a forged one); -> (body, timestamp, signature, status, answer)."""
        body = raw_body.decode() if isinstance(raw_body, bytes) else raw_body
        ts = str(int(time.time() if timestamp is None else timestamp))
        secret = "forged-signing-secret" if bad_signature else self.slack_signing_secret
        signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
        status, text = _http("POST", url, body.encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature})
        return body, ts, signature, status, text

    def _block_actions(self, msg: Record, action_id: str, user_id: str, user_name: str) -> dict[str, Any]:
        blocks = copy.deepcopy(msg["blocks"]) or []
        for i, block in enumerate(blocks):  # Slack gives every block an id when it stores the message
            block.setdefault("block_id", f"blk{i}")
        found = [(b, el) for b, el in _buttons(blocks) if el.get("action_id") == action_id]
        if not found:
            known = [el.get("action_id") for _, el in _buttons(blocks)]
            raise LookupError(f"message {msg['ts']} has no button {action_id!r}; buttons: {known}")
        block, button = found[0]
        now = time.time()
        message = self._slack_message({**msg, "blocks": blocks})
        trigger_id = self._trigger(user_id, now)
        return {
            "type": "block_actions",
            "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": TEAM_ID},
            "api_app_id": APP_ID, "token": "fake-verification-token",
            "container": {"type": "message", "message_ts": msg["ts"], "channel_id": msg["channel"],
                          "is_ephemeral": msg["kind"] == "slack_ephemeral"},
            "trigger_id": trigger_id,
            "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "enterprise": None, "is_enterprise_install": False,
            "channel": {"id": msg["channel"], "name": str(msg["channel"]).lstrip("#")},
            "message": message, "state": {"values": {}},
            "response_url": f"{self.url}/_slack/response/{msg['ts']}",
            "actions": [{"action_id": action_id, "block_id": block["block_id"], "value": button.get("value"),
                         "type": "button", "action_ts": f"{now:.6f}", "text": button.get("text")}],
        }

    def submit_view(self, view_id: str, user_id: str, values: dict[str, Any] | None = None, *,
                    bad_signature: bool = False, raw_body: str | bytes | None = None) -> tuple[int, str]:
        """Play a person pressing a modal's submit button: a signed view_submission POST to
        slack_interactivity_url, then what Slack does with the answer: an empty 200 closes the
        modal; {"response_action": "errors", "errors": {block_id: text}} keeps it open with the
        texts under those fields (record "errors"); anything else leaves it open, as Slack's
        "We had some trouble connecting".  `values`: {block_id: text} for a block's single input,
        or {block_id: {action_id: text}}.  Slack lets only the one it was opened for submit;
        the fake lets a test play anyone, to check the app trusts the payload's user.
        `raw_body` resends an earlier body verbatim (a retried delivery)."""
        url = _need(self.slack_interactivity_url, "slack_interactivity_url")
        opened = self._get("slack_view", "view_id", view_id)
        payload = None
        if raw_body is None:
            if not opened["open"]:
                raise LookupError(f"view {view_id} is closed: there is no submit button to press")
            payload = self._view_submission(opened["view"], user_id, values or {})
            raw_body = urllib.parse.urlencode({"payload": json.dumps(payload, separators=(",", ":"))})
        body, ts, signature, status, text = self._post_signed(url, raw_body, bad_signature)
        if payload is None:
            payload = json.loads(urllib.parse.parse_qs(body).get("payload", ["{}"])[0])
        answer: Any = None
        if status == 200 and text.strip():
            try:
                answer = json.loads(text)
            except ValueError:
                answer = None
        action = answer.get("response_action") if isinstance(answer, dict) else None
        closed = status == 200 and (not text.strip() or action == "clear")
        errors = answer.get("errors") if action == "errors" and isinstance(answer, dict) else None

        def change(rec: Record) -> None:
            rec["submissions"] += 1
            rec["open"] = rec["open"] and not closed
            rec["errors"] = errors

        self._mutate("slack_view", "view_id", view_id, change)
        self._record({"kind": "slack_view_submission", "view_id": view_id, "user_id": user_id,
                      "payload": payload, "raw_body": body, "timestamp": ts, "signature": signature,
                      "status_code": status, "response": text, "response_action": action,
                      "errors": errors, "closed": closed})
        return status, text

    def _view_submission(self, view: dict[str, Any], user_id: str, values: dict[str, Any]) -> dict[str, Any]:
        inputs = {b.get("block_id"): b for b in view.get("blocks", []) if b.get("type") == "input"}
        state: dict[str, Any] = {}
        for block_id, value in values.items():
            if block_id not in inputs:
                raise LookupError(f"view {view['id']} has no input block {block_id!r}; "
                                  f"inputs: {list(inputs)}")
            element = inputs[block_id]["element"]
            typed = value if isinstance(value, dict) else {element["action_id"]: value}
            state[block_id] = {action_id: {"type": element["type"], "value": v}
                               for action_id, v in typed.items()}
        submitted = {**view, "state": {"values": state}}
        return {
            "type": "view_submission", "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
            "user": {"id": user_id, "username": user_id, "name": user_id, "team_id": TEAM_ID},
            "api_app_id": APP_ID, "token": "fake-verification-token",
            "trigger_id": self._trigger(user_id, time.time()), "view": submitted,
            "response_urls": [], "enterprise": None, "is_enterprise_install": False,
        }

    # ------------------------------------------------------------ HTTP routing
    def _dispatch(self, method: str, raw_path: str, headers: Any, body: bytes) -> Response:
        split = urllib.parse.urlsplit(raw_path)
        path, content_type = split.path, headers.get("Content-Type", "")
        args = {k: v[-1] for k, v in urllib.parse.parse_qs(split.query).items()}
        if method == "POST" and not path.startswith("/v2/"):
            args.update(_parse_body(content_type, body))
        if method == "GET" and path == "/":
            return 200, {"Content-Type": "text/html; charset=utf-8"}, self._outbox_html().encode()
        if method == "GET" and path == "/outbox.json":
            return _json_response(200, self.messages())
        if method == "GET" and path == "/healthz":
            return _json_response(200, {"ok": True})
        if match := TWILIO_PATH.match(path):
            response = self._twilio_api(method, match, headers, args)
            self._log_api("twilio", path, response[0], args)
        elif path.startswith("/v2/"):
            response, params = self._ses_api(method, path, headers, body)
            self._log_api("ses", path, response[0], params)
        elif method == "POST" and path.startswith("/api/"):
            response = self._slack_api(path[len("/api/"):], headers, args)
            self._log_api("slack", path, response[0], args)
        elif method == "POST" and path.startswith("/_slack/response/"):
            response = self._slack_response_url(path.rsplit("/", 1)[1], args)
        elif method == "POST" and path.startswith("/_control/"):
            name = path[len("/_control/"):]
            response = self._control_http(name, args, content_type, headers.get("Accept", ""))
        else:
            response = _json_response(404, {"error": f"fake providers: no route for {method} {path}"})
        return response

    def _log_api(self, service: str, path: str, status: int, args: dict[str, Any]) -> None:
        with self._lock:
            self._api_calls.append({"service": service, "path": path, "status": status, "params": args,
                                    "received_at": time.time()})

    def _control_http(self, name: str, args: dict[str, Any], content_type: str, accept: str) -> Response:
        """Control endpoints: JSON in, JSON out; a browser form gets a 303 back to the outbox."""
        from_form = not content_type.startswith("application/json") and "application/json" not in accept
        try:
            result, error = self.control(name, args), None
        except Exception as exc:  # noqa: BLE001 - reported to the caller, not fatal to the fake
            result, error = None, f"{name}: {type(exc).__name__}: {exc}"
        if from_form:
            with self._lock:
                self._flash = error or f"{name}: {json.dumps(result)[:300]}"
            return 303, {"Location": "/"}, b""
        if error:
            return _json_response(400, {"ok": False, "error": error})
        return _json_response(200, {"ok": True, "result": result})

    def control(self, name: str, args: dict[str, Any]) -> Any:
        """Run a test/control method from loosely typed arguments (JSON or form strings)."""
        a = dict(args)
        if name == "reply_sms":
            return self.reply_sms(a["from_number"], a.get("body", ""), a.get("to") or None,
                                  message_sid=a.get("message_sid") or None, sign=_truthy(a.get("sign", True)),
                                  bad_signature=_truthy(a.get("bad_signature", False)))
        if name == "answer_call":
            return self.answer_call(a["call_sid"])
        if name == "press_keys":
            return self.press_keys(a["call_sid"], str(a["digits"]))
        if name == "call_status":
            return self.call_status(a["call_sid"], a.get("status", "completed"), int(a.get("duration", 30)))
        if name == "message_status":
            return self.message_status(a["message_sid"], a.get("status", "delivered"),
                                       a.get("error_code") or None)
        if name == "click":
            stamp = int(a["timestamp"]) if a.get("timestamp") else None
            return self.click(a["message_ts"], a["action_id"], a.get("user_id") or "U0FAKEUSER",
                              a.get("user_name") or None, timestamp=stamp,
                              bad_signature=_truthy(a.get("bad_signature", False)),
                              raw_body=a.get("raw_body") or None)
        if name == "submit_view":  # values: JSON {block_id: text}, or text: the modal's one input
            values = _json_arg(a.get("values")) if a.get("values") else None
            if values is None:
                view = self._get("slack_view", "view_id", a["view_id"])["view"]
                first = [b["block_id"] for b in view.get("blocks", []) if b.get("type") == "input"][:1]
                values = {first[0]: a.get("text", "")} if first else {}
            return self.submit_view(a["view_id"], a.get("user_id") or "U0FAKEUSER", values,
                                    bad_signature=_truthy(a.get("bad_signature", False)),
                                    raw_body=a.get("raw_body") or None)
        if name == "fail_next":
            return self.fail_next(int(a.get("n", 1)), int(a.get("status", 500)), a.get("service", "any"),
                                  a.get("kind") or None)
        if name == "slow_next":
            return self.slow_next(float(a.get("seconds", 10)), a.get("service", "any"), a.get("kind") or None,
                                  int(a.get("n", 1)))
        if name == "release":
            return self.release()
        if name == "fail_numbers":
            numbers = a.get("numbers", [])
            self.fail_numbers = set(numbers.split(",") if isinstance(numbers, str) else numbers) - {""}
            return sorted(self.fail_numbers)
        if name == "configure":
            for key in ("sms_webhook_url", "slack_interactivity_url", "hotline_webhook_url"):
                if key in a:
                    setattr(self, key, a[key] or None)
            if "auto_message_status" in a:
                self.auto_message_status = _truthy(a["auto_message_status"])
            if "hotline_numbers" in a:
                numbers = a["hotline_numbers"]
                numbers = numbers.split(",") if isinstance(numbers, str) else numbers
                self.hotline_numbers = [str(n).strip() for n in numbers if str(n).strip()]
            return {"sms_webhook_url": self.sms_webhook_url,
                    "slack_interactivity_url": self.slack_interactivity_url}
        if name == "call_hotline":  # digits: "2" or "9,1"
            digits = [d for d in str(a.get("digits", "")).replace(",", "") if d.strip()]
            return self._hotline_state(self.call_hotline(a["from"], a["to"], digits))
        if name == "hotline":  # next on a hotline call: press, answer, no_answer, record, hang_up
            with self._lock:
                call = self._hotline_calls[a["call_sid"]]
            what = a.get("action", "answer")
            if what == "press":
                call.press(str(a["digits"]))
            elif what == "answer":
                call.answer(str(a["key"]) if a.get("key") not in (None, "") else None,
                            int(a.get("duration", 60)))
            elif what == "no_answer":
                call.no_answer()
            elif what == "record":
                call.record(int(a.get("seconds", 12)), a.get("transcription") or None)
            elif what == "hang_up":
                call.hang_up()
            else:
                raise ValueError(f"unknown hotline action {what!r}")
            return self._hotline_state(call)
        if name == "reset":
            return self.reset()
        raise ValueError(f"unknown control {name!r}")

    @staticmethod
    def _hotline_state(call: HotlineCall) -> dict[str, Any]:
        return {"call_sid": call.sid, "status_code": call.status_code, "state": call.state,
                "said": call.said, "dialing": call.dialing, "legs": call.legs}

    # --------------------------------------------------------------- outbox page
    def _outbox_html(self) -> str:
        with self._lock:
            records, flash, self._flash = copy.deepcopy(self._records), self._flash, ""
        items = "\n".join(_render(r) for r in reversed(records)) or "<p class=muted>Nothing sent yet.</p>"
        notice = f"<p class=flash>{html.escape(flash)}</p>" if flash else ""
        return f"""<!doctype html><html><head><meta charset="utf-8">
<noscript><meta http-equiv="refresh" content="2"></noscript>
<title>Astreinte — outbox (what would have been sent)</title>
<style>body{{font:14px system-ui,sans-serif;margin:1.5em;max-width:60em}}
.item{{border:1px solid #ccc;border-radius:6px;padding:.6em .8em;margin:.6em 0}}
.kind{{font-weight:bold;text-transform:uppercase;font-size:11px;color:#555}}
pre{{background:#f4f4f4;padding:.4em;white-space:pre-wrap}}form{{display:inline-block;margin:.2em .4em 0 0}}
.muted{{color:#888}}.flash{{background:#ffe;border:1px solid #cc8;padding:.4em}}</style>
<script>/* reload every 2 s, but never while someone is typing into a form */
setInterval(function () {{
  for (const i of document.querySelectorAll("input:not([type=hidden])"))
    if (i === document.activeElement || i.value !== i.defaultValue) return;
  location.reload();
}}, 2000);</script></head><body>
<h1>Astreinte — outbox (what would have been sent)</h1>
<p class=muted>Fake Twilio + Slack + SES at {html.escape(self.url)}. Newest first. Act as the recipient below.
SMS replies go to {html.escape(self.sms_webhook_url or "(no sms_webhook_url)")}, button clicks to
{html.escape(self.slack_interactivity_url or "(no slack_interactivity_url)")}.</p>{notice}
{self._hotline_html()}
{items}</body></html>"""

    def _hotline_html(self) -> str:
        """The "call the hotline as a customer" form, then each call with the buttons of its
        next step: the caller's keys in the menu, the agent's phone while it rings."""
        e = html.escape
        with self._lock:
            calls = list(self._hotline_calls.values())
            numbers = list(self.hotline_numbers) or [EXAMPLE_HOTLINE]
        options = "".join(f'<option value="{e(n)}">' for n in numbers)
        inner = (f'from <input name=from value="{e(EXAMPLE_CALLER)}" size=14 required> '
                 f'to <input name=to value="{e(numbers[0])}" list=hotline-numbers size=14 required>'
                 f'<datalist id=hotline-numbers>{options}</datalist> '
                 'keys <input name=digits size=6 placeholder="e.g. 2 or 9,1"> ')
        form = _form("call_hotline", {}, inner, "Call")
        hook = (self.hotline_url() if self.hotline_webhook_url or self.sms_webhook_url
                else "(no hotline_webhook_url)")
        out = [f"<div class=item><span class=kind>hotline</span> <b>Call the hotline as a customer</b>"
               f" (voice webhook {e(hook)})<br>{form}</div>"]
        out += [_render_hotline_call(call) for call in reversed(calls)]
        return "\n".join(out)


def _form(action: str, hidden: dict[str, str], inner: str, label: str) -> str:
    fields = "".join(f'<input type=hidden name="{k}" value="{html.escape(str(v))}">'
                     for k, v in hidden.items())
    button = f"<button>{html.escape(label)}</button>"
    return f'<form method=post action="/_control/{action}">{fields}{inner}{button}</form>'


def _render(r: Record) -> str:
    """One outbox entry with the forms a recipient would need."""
    e, kind = html.escape, r["kind"]
    when = time.strftime("%H:%M:%S", time.localtime(r["received_at"]))
    if kind == "sms":
        head = f"to {e(r['to'])} from {e(str(r['from']))} · {e(r['status'])}"
        body = f"<pre>{e(r['body'])}</pre>" + _form(
            "reply_sms", {"from_number": r["to"], "to": r["from"] or DEFAULT_TWILIO_NUMBER},
            '<input name=body placeholder="reply as the recipient" required> ', "Reply")
    elif kind == "call":
        head = f"to {e(r['to'])} from {e(str(r['from']))} · {e(r['status'])} · {e(str(r['url']))}"
        body = "".join(f"<pre>{e(t)}</pre>" for t in r["twiml"])
        body += _form("answer_call", {"call_sid": r["sid"]}, "", "Answer")
        if r["twiml"]:
            digits = "<input name=digits size=4 required> "
            body += _form("press_keys", {"call_sid": r["sid"]}, digits, "Press keys")
        if r["status_callback"]:
            body += _form("call_status", {"call_sid": r["sid"], "status": "completed"}, "", "Hang up")
    elif kind in ("slack", "slack_ephemeral"):
        head = f"{e(str(r['channel']))} · ts {e(r['ts'])}"
        head += f" · for {e(str(r['user']))}" if r.get("user") else ""
        head += f" · edited {len(r['updates'])}×" if r["updates"] else ""
        blocks = [b for b in r["blocks"] or [] if isinstance(b.get("text"), dict)]
        texts = [r["text"] or ""] + [b["text"].get("text", "") for b in blocks]
        body = "".join(f"<pre>{e(t)}</pre>" for t in dict.fromkeys(texts) if t)
        # A direct message is clicked by its recipient; in a channel, say who clicks.
        who = str(r["channel"]) if str(r["channel"]).startswith("U") else ""
        for _, button in _buttons(r["blocks"]):
            label = (button.get("text") or {}).get("text") or button.get("action_id", "?")
            body += _form("click", {"message_ts": r["ts"], "action_id": button.get("action_id", "")},
                          f'<input name=user_id value="{e(who)}" placeholder="clicker, e.g. U0ALICE" '
                          'size=14 required> ', label)
    elif kind == "email":
        head = f"<b>{e(str(r['subject']))}</b> · from {e(str(r['from']))} → {e(', '.join(r['to_all']))}"
        head += f" · cc {e(', '.join(r['cc']))}" if r["cc"] else ""
        head += f" · bcc {e(', '.join(r['bcc']))}" if r["bcc"] else ""
        body = f"<pre>{_linkify(r['text'])}</pre>" if r["text"] else ""
        if r["html"]:
            shown = set(URL_IN_TEXT.findall(r["text"] or ""))
            links = [u for u in dict.fromkeys(_html_links(r["html"])) if u not in shown]
            body += "".join(f'<p>link: <a href="{e(u)}" target=_blank rel=noopener>{e(u)}</a></p>'
                            for u in links)
            body += f"<details><summary>HTML part</summary><pre>{e(r['html'])}</pre></details>"
    elif kind == "hotline_webhook":
        head = f"call {e(r['call_sid'])} → {e(r['url'])} → app answered {r['status_code']}"
        params = {k: v for k, v in r["params"].items() if k in ("Digits", "DialCallStatus", "CallStatus")}
        body = f"<pre>{e(json.dumps(params))}</pre><pre>{e(r['response'])}</pre>"
    elif kind == "sms_in":
        head = f"reply from {e(r['from'])} to {e(r['to'])} → app answered {r['status_code']}"
        body = f"<pre>{e(r['body'])}</pre><pre>{e(r['response'])}</pre>"
    elif kind == "slack_interaction":
        head = (f"{e(r['user_id'])} clicked {e(str(r['action_id']))} on {e(str(r['message_ts']))}"
                f" → app answered {r['status_code']}")
        body = f"<pre>{e(r['response'])}</pre>" if r["response"] else ""
    else:
        head, body = "", f"<pre>{e(json.dumps(r, indent=1, default=str)[:2000])}</pre>"
    label = f"<span class=kind>{e(kind)}</span> <span class=muted>{when}</span>"
    return f"<div class=item>{label} {head}{body}</div>"


def _hotline_state_text(call: HotlineCall) -> str:
    taken = [leg["to"] for leg in call.legs if leg.get("status") == "bridged"]
    if call.state == "menu":
        return "in the menu, waiting for the caller's key"
    if call.state == "dialing" and call.dialing is not None:
        return f"ringing {call.dialing['to']} ({call.dialing['timeout']} s)"
    if call.state == "recording":
        return "leaving a voicemail"
    if call.state == "bridged":
        return f"taken by {taken[-1]}" if taken else "taken"
    if call.state == "ended":
        return f"ended (taken by {taken[-1]})" if taken else "ended"
    return call.state


def _render_hotline_call(call: HotlineCall) -> str:
    """One hotline call: where it is, what the caller heard, the agents' legs, the TwiML
    followed, and the buttons of its next step (posting to /_control/hotline)."""
    e = html.escape
    said, twiml, legs = list(call.said), list(call.twiml), list(call.legs)
    head = (f"<span class=kind>hotline call</span> {e(call.sid)} from {e(call.from_)} to {e(call.to)}"
            f" · <b>{e(_hotline_state_text(call))}</b> · app answered {call.status_code}")
    body = f"<pre>{e(chr(10).join(said))}</pre>" if said else ""
    for leg in legs:
        heard = " ".join(leg.get("said") or [])
        key = f", pressed {leg['key']}" if leg.get("key") else ""
        body += f"<p>leg to {e(str(leg['to']))}: {e(str(leg.get('status')))}{e(key)} {e(heard)}</p>"
    if twiml:
        steps = "".join(f"<pre>{e(t)}</pre>" for t in twiml)
        body += f"<details><summary>TwiML followed ({len(twiml)} steps)</summary>{steps}</details>"
    sid = {"call_sid": call.sid}
    if call.state == "menu":
        body += _form("hotline", {**sid, "action": "press"}, "<input name=digits size=4 required> ",
                      "Press keys (caller)")
    if call.state == "dialing":
        body += _form("hotline", {**sid, "action": "answer", "key": "1"}, "", "Answer and press 1 (agent)")
        body += _form("hotline", {**sid, "action": "answer", "key": ""}, "", "Answer, press nothing")
        body += _form("hotline", {**sid, "action": "no_answer"}, "", "Let it ring out")
    if call.state == "recording":
        body += _form("hotline", {**sid, "action": "record"},
                      '<input name=transcription placeholder="the message (transcription)" size=30> ',
                      "Leave a voicemail (caller)")
    if call.state != "ended":
        body += _form("hotline", {**sid, "action": "hang_up"}, "", "Caller hangs up")
    return f"<div class=item>{head}{body}</div>"


class HotlineCall:
    """One inbound call to a hotline, as Twilio would run it: every webhook signed, its TwiML
    followed.  `said` is what the caller heard, `state` where the call is (menu, dialing,
    recording, bridged, ended), `dialing` the <Dial> ringing now, `legs` the agents' legs."""

    def __init__(self, fake: FakeProviders, sid: str, from_: str, to: str, digits: list[str]) -> None:
        self.fake, self.sid, self.from_, self.to = fake, sid, from_, to
        self.digits = digits
        self.said: list[str] = []
        self.twiml: list[str] = []
        self.status_code = 0
        self.state = "ringing"
        self.gather: tuple[str, str] | None = None  # (action, method) of the <Gather> waiting for a key
        self.finish_key = ""  # that <Gather>'s finishOnKey (Twilio's default: #)
        self.dialing: dict[str, Any] | None = None
        self.recording: dict[str, Any] | None = None
        self.legs: list[Record] = []
        self.last: tuple[str, dict[str, str]] | None = None  # the last webhook, to deliver it again

    def _params(self, status: str, **extra: str) -> dict[str, str]:
        return {"CallSid": self.sid, "AccountSid": self.fake.twilio_account_sid, "From": self.from_,
                "To": self.to, "Called": self.to, "Caller": self.from_, "CallStatus": status,
                "Direction": "inbound", "ApiVersion": API_VERSION, **extra}

    def _post(self, url: str, params: dict[str, str], *, bad_signature: bool = False) -> None:
        status, text, _ = self.fake._twilio_webhook(url, params, bad_signature=bad_signature)
        self.last, self.status_code = (url, params), status
        self.fake._record({"kind": "hotline_webhook", "call_sid": self.sid, "url": url, "params": params,
                           "status_code": status, "response": text})
        if status >= 400:
            self.state = "ended"
            return
        self.twiml.append(text)
        self._run(text)

    def _run(self, text: str) -> None:
        """Follow TwiML verbs in order until one waits for someone."""
        self.gather = self.dialing = self.recording = None
        for verb in ET.fromstring(text) if text.strip() else []:
            if verb.tag == "Say":
                self.said.append(verb.text or "")
            elif verb.tag == "Gather":
                self.said += [s.text or "" for s in verb.iter("Say")]
                self.state, self.gather = "menu", (verb.get("action") or "", verb.get("method", "POST"))
                self.finish_key = verb.get("finishOnKey", "#")
                if self.digits:
                    self.press(self.digits.pop(0))
                return
            elif verb.tag == "Dial":
                number = verb.find("Number")
                self.state = "dialing"
                self.dialing = {"to": (number.text if number is not None else verb.text) or "",
                                "url": number.get("url") if number is not None else None,
                                "timeout": int(verb.get("timeout", "30")), "action": verb.get("action")}
                if verb.get("callerId"):  # what the callee's phone shows (else the caller's number)
                    self.dialing["caller_id"] = verb.get("callerId")
                return
            elif verb.tag == "Record":
                self.state = "recording"
                self.recording = {"action": verb.get("action"),
                                  "transcribe": verb.get("transcribe") == "true",
                                  "transcribe_callback": verb.get("transcribeCallback")}
                return
            elif verb.tag == "Redirect":
                self._post(verb.text or "", self._params("in-progress"))
                return
            elif verb.tag == "Hangup":
                break
        self.state = "ended"

    def press(self, digit: str) -> None:
        """The caller types a key (or keys: "12#") into the <Gather> waiting; as Twilio, the
        Gather's finishOnKey ends the input and is not part of Digits."""
        if self.gather is None:
            raise RuntimeError(f"no <Gather> is waiting on {self.sid}: {self.twiml[-1:]}")
        extra = {"Digits": digit}
        if self.finish_key and self.finish_key in digit:
            extra = {"Digits": digit.split(self.finish_key, 1)[0], "FinishedOnKey": self.finish_key}
        self._post(self.gather[0], self._params("in-progress", **extra))

    def _dial_action(self, status: str, leg: Record, duration: int) -> None:
        assert self.dialing is not None
        extra = {"DialCallStatus": status, "DialCallSid": leg["sid"]}
        if status == "completed":
            extra["DialCallDuration"] = str(duration)
        if self.dialing["action"]:
            self._post(self.dialing["action"], self._params("in-progress", **extra))
        else:
            self.state = "ended"

    def answer(self, key: str | None = "1", duration: int = 60) -> Record:
        """The person rung picks up: their leg fetches the whisper (<Number url>), types `key`
        (None: nothing) into its <Gather>; bridged unless the answer hangs up.  Then, the call
        over after `duration` seconds (or the leg gone), the <Dial action> is posted."""
        if self.dialing is None:
            raise RuntimeError(f"{self.sid} is not ringing anyone")
        # The callee's phone shows the <Dial callerId>, else the caller's own number.
        shown = self.dialing.get("caller_id") or self.from_
        leg: Record = {"kind": "hotline_leg", "sid": _sid("CA"), "call_sid": self.sid,
                       "to": self.dialing["to"], "from": shown, "said": [], "key": key, "twiml": []}
        params = {"CallSid": leg["sid"], "ParentCallSid": self.sid, "To": leg["to"], "From": shown,
                  "AccountSid": self.fake.twilio_account_sid, "CallStatus": "in-progress",
                  "Direction": "outbound-dial", "ApiVersion": API_VERSION}

        def fetch(url: str, extra: dict[str, str]) -> list[ET.Element]:
            status, text, _ = self.fake._twilio_webhook(url, {**params, **extra})
            leg["twiml"].append(text)
            verbs = list(ET.fromstring(text)) if status < 400 else [ET.Element("Hangup")]
            leg["said"] += [s.text or "" for v in verbs for s in v.iter("Say")]
            return verbs

        verbs = fetch(self.dialing["url"], {}) if self.dialing["url"] else []
        tags = [v.tag for v in verbs]
        if "Gather" in tags:
            gather = verbs[tags.index("Gather")]
            if key is not None:  # the key typed: the action's answer goes on
                verbs = fetch(gather.get("action") or "", {"Digits": key})
            else:  # nothing typed: the verbs after the <Gather>
                verbs = verbs[tags.index("Gather") + 1:]
        bridged = all(v.tag != "Hangup" for v in verbs)
        leg["status"] = "bridged" if bridged else "hung-up"
        self.legs.append(self.fake._record(leg))
        if bridged:
            self.state = "bridged"
        self._dial_action("completed" if bridged else "no-answer", leg, duration)
        return leg

    def no_answer(self) -> Record:
        """The phone rings out (the Dial's timeout): the <Dial action> says no-answer."""
        if self.dialing is None:
            raise RuntimeError(f"{self.sid} is not ringing anyone")
        leg = self.fake._record({"kind": "hotline_leg", "sid": _sid("CA"), "call_sid": self.sid,
                                 "to": self.dialing["to"], "said": [], "key": None, "status": "no-answer"})
        self.legs.append(leg)
        self._dial_action("no-answer", leg, 0)
        return leg

    def record(self, seconds: int = 12, transcription: str | None = None) -> None:
        """The caller leaves a message: the <Record action>, then its transcription callback."""
        if self.recording is None:
            raise RuntimeError(f"{self.sid} is not recording")
        rec_sid = _sid("RE")
        url = f"{self.fake.url}/2010-04-01/Accounts/{self.fake.twilio_account_sid}/Recordings/{rec_sid}"
        recording = dict(self.recording)
        self.fake._record({"kind": "hotline_recording", "call_sid": self.sid, "sid": rec_sid, "url": url,
                           "seconds": seconds, "transcription": transcription})
        self._post(recording["action"], self._params("completed", RecordingUrl=url, RecordingSid=rec_sid,
                                                      RecordingDuration=str(seconds), Digits="hangup"))
        if recording["transcribe"] and recording["transcribe_callback"] and transcription is not None:
            params = self._params("completed", TranscriptionSid=_sid("TR"), TranscriptionText=transcription,
                                  TranscriptionStatus="completed", RecordingUrl=url, RecordingSid=rec_sid)
            status, text, _ = self.fake._twilio_webhook(recording["transcribe_callback"], params)
            self.last = (recording["transcribe_callback"], params)

    def hang_up(self, seconds: int = 30) -> int:
        """The caller hangs up: the number's status callback (…/hotline/status) says completed."""
        self.state = "ended"
        url = self.fake.hotline_url() + "/status"
        params = self._params("completed", CallDuration=str(seconds))
        status, _, _ = self.fake._twilio_webhook(url, params)
        self.last = (url, params)
        return status

    def again(self) -> tuple[int, str]:
        """Deliver the last webhook again, as Twilio retries one (the same body, signed)."""
        assert self.last is not None
        status, text, _ = self.fake._twilio_webhook(*self.last)
        return status, text


class _SesError(ValueError):
    def __init__(self, message: str, code: str = "BadRequestException", status: int = 400) -> None:
        super().__init__(message)
        self.code, self.status = code, status


def _ses_error(status: int, message: str, code: str | None = None) -> Response:
    """A REST-JSON error: botocore takes the code from x-amzn-ErrorType, the message from the body."""
    code = code or SES_ERRORS.get(status) or ("InternalServiceErrorException" if status >= 500
                                              else "BadRequestException")
    headers = {"x-amzn-ErrorType": code, "x-amzn-RequestId": str(uuid.uuid4())}
    return _json_response(status, {"message": message}, headers)


def _addresses(value: Any, what: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise _SesError(f"{what} must be a list of strings")
    for address in value:
        if "@" not in email.utils.parseaddr(address)[1]:
            raise _SesError(f"Missing final '@domain' in {what}: {address!r}")
    return value


def _mime_parts(raw: str) -> tuple[Any, str | None, str | None]:
    """A raw MIME message's headers and its text and HTML bodies."""
    try:
        msg = email.message_from_bytes(base64.b64decode(raw, validate=True), policy=email.policy.default)
    except ValueError as exc:
        raise _SesError(f"Raw.Data is not base64: {exc}") from exc
    text, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
    return (msg, text.get_content() if text is not None else None,
            html_part.get_content() if html_part is not None else None)


def _fill(template: str | None, data: dict[str, Any]) -> str | None:
    """{{name}} substitution, the part of SES templates an alerting email needs."""
    if template is None:
        return None
    return re.sub(r"{{\s*([\w.]+)\s*}}", lambda m: str(data.get(m.group(1), "")), template)


def _email_record(args: dict[str, Any]) -> Record:
    """Validate a SendEmail request the way SES does (the parts that matter here) and build its record."""
    content = args.get("Content")
    if not isinstance(content, dict) or sum(bool(content.get(k)) for k in ("Simple", "Raw", "Template")) != 1:
        raise _SesError("Content must hold exactly one of Simple, Raw or Template")
    dest = args.get("Destination") or {}
    sender = args.get("FromEmailAddress")
    to, cc, bcc = (_addresses(dest.get(k), f"Destination.{k}")
                   for k in ("ToAddresses", "CcAddresses", "BccAddresses"))
    reply_to = _addresses(args.get("ReplyToAddresses"), "ReplyToAddresses")
    headers: list[dict[str, str]] = []
    if simple := content.get("Simple"):
        subject = (simple.get("Subject") or {}).get("Data")
        body = simple.get("Body") or {}
        text, html_body = (body.get("Text") or {}).get("Data"), (body.get("Html") or {}).get("Data")
        headers = simple.get("Headers") or []
        if subject is None or (text is None and html_body is None):
            raise _SesError("Simple content needs Subject.Data and Body.Text or Body.Html")
        shape = "simple"
    elif raw := content.get("Raw"):
        msg, text, html_body = _mime_parts(raw.get("Data") or "")
        subject = msg.get("Subject")
        sender = sender or msg.get("From")
        if not (to or cc or bcc):  # without a Destination, SES sends to the message's own headers
            to, cc = ([email.utils.formataddr(pair) for pair in email.utils.getaddresses(msg.get_all(h, []))]
                      for h in ("To", "Cc"))
        shape = "raw"
    else:
        template = content["Template"]
        inline = template.get("TemplateContent")
        if not inline:
            raise _SesError(f"Template {template.get('TemplateName')!r} does not exist "
                            "(the fake only renders inline TemplateContent)", "NotFoundException", 404)
        try:
            data = json.loads(template.get("TemplateData") or "{}")
        except ValueError as exc:
            raise _SesError(f"TemplateData is not JSON: {exc}") from exc
        subject, text, html_body = (_fill(inline.get(k), data) for k in ("Subject", "Text", "Html"))
        headers = template.get("Headers") or []
        shape = "template"
    if not sender:
        raise _SesError("Missing required header 'From'.", "MessageRejected")
    _addresses([sender], "FromEmailAddress")
    if not (to or cc or bcc):
        raise _SesError("Destination must name at least one recipient")
    if len(to) + len(cc) + len(bcc) > SES_MAX_RECIPIENTS:
        raise _SesError(f"Recipient count exceeds {SES_MAX_RECIPIENTS}.", "MessageRejected")
    return {
        "kind": "email", "message_id": f"{secrets.token_hex(8)}-{uuid.uuid4()}-000000",
        "from": sender, "to": to[0] if to else None, "to_all": to, "cc": cc, "bcc": bcc,
        "reply_to": reply_to, "subject": subject, "text": text, "html": html_body, "content": shape,
        "headers": {h.get("Name"): h.get("Value") for h in headers},
        "configuration_set": args.get("ConfigurationSetName"),
        "tags": {t.get("Name"): t.get("Value") for t in args.get("EmailTags") or []},
    }


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _need(value: str | None, what: str) -> str:
    if not value:
        raise RuntimeError(f"fake providers: no {what} configured")
    return value


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    return status, all_headers, json.dumps(body).encode()


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeProviders/1.0"

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake: FakeProviders = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            status, headers, payload = fake._dispatch(self.command, self.path, self.headers, body)
        except Exception as exc:  # noqa: BLE001 - a bug in the fake must be a 500, not a hang
            traceback.print_exc()
            status, headers = 500, {"Content-Type": "text/plain"}
            payload = f"fake providers bug: {exc!r}".encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.fake.log_requests:  # type: ignore[attr-defined]
            super().log_message(format, *args)


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.fakes.providers --port 8025`: serve until interrupted."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=8025, help="0 picks a free port")
    p.add_argument("--twilio-account-sid", default=DEFAULT_ACCOUNT_SID)
    p.add_argument("--twilio-auth-token", default="test-auth-token")
    p.add_argument("--slack-bot-token", default="xoxb-test")
    p.add_argument("--slack-signing-secret", default="test-signing-secret")
    p.add_argument("--sms-webhook-url", help="where SMS replies are posted (the app's inbound SMS webhook)")
    p.add_argument("--slack-interactivity-url", help="where button clicks are posted")
    p.add_argument("--auto-message-status", action="store_true",
                   help="post sent+delivered callbacks by itself")
    p.add_argument("--fail-number", action="append", default=[], help="To number answered with error 21211")
    p.add_argument("--log-requests", action="store_true", help="log every request to stderr")
    ns = p.parse_args(argv)
    fake = FakeProviders(
        port=ns.port, twilio_account_sid=ns.twilio_account_sid, twilio_auth_token=ns.twilio_auth_token,
        slack_bot_token=ns.slack_bot_token, slack_signing_secret=ns.slack_signing_secret,
        sms_webhook_url=ns.sms_webhook_url, slack_interactivity_url=ns.slack_interactivity_url,
        auto_message_status=ns.auto_message_status, fail_numbers=set(ns.fail_number),
        log_requests=ns.log_requests,
    ).start()
    print(f"fake providers on {fake.url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()

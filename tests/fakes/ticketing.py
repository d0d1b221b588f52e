"""One loopback server standing in for the Zendesk, Jira Service Management and Freshdesk
REST APIs, so that the acknowledgement note is tested over real HTTP with `requests`.

Each tool lives under its own prefix (api_base = fake.base("zendesk"), …).  Every call
is recorded (tool, method, path, json, auth as (user, password)); wrong credentials get
401 as the real APIs answer; `fail_next(n, status)` makes the next n calls fail.
"""
from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROUTES = {
    ("zendesk", "PUT"): re.compile(r"^/api/v2/tickets/(\d+)\.json$"),
    ("freshdesk", "POST"): re.compile(r"^/api/v2/tickets/(\d+)/(notes|reply)$"),
    ("jira", "POST"): re.compile(
        r"^/rest/(?:servicedeskapi/request|api/3/issue)/([A-Z][A-Z0-9]*-\d+)/comment$"),
}


class FakeTicketing:
    def __init__(self, credentials: dict[str, tuple[str, str]] | None = None) -> None:
        # Credentials each tool accepts, as `requests` sends them (basic auth).
        self.credentials = credentials or {
            "zendesk": ("agent@example.com/token", "zd-token"),
            "jira": ("agent@example.com", "jira-token"),
            "freshdesk": ("fd-key", "X"),
        }
        self.calls: list[dict[str, Any]] = []
        self._fail: list[int] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> FakeTicketing:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:  # noqa: N802 - http.server's naming
                fake._handle(self)

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def base(self, tool: str) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/{tool}"

    def fail_next(self, count: int = 1, status: int = 503) -> None:
        with self._lock:
            self._fail += [status] * count

    def calls_to(self, tool: str) -> list[dict[str, Any]]:
        with self._lock:
            return [c for c in self.calls if c["tool"] == tool]

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        tool, _, path = req.path.lstrip("/").partition("/")
        path = "/" + path
        length = int(req.headers.get("Content-Length") or 0)
        raw = req.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = None
        auth = _basic(req.headers.get("Authorization", ""))
        call = {"tool": tool, "method": req.command, "path": path, "json": body, "auth": auth}
        with self._lock:
            self.calls.append(call)
            failure = self._fail.pop(0) if self._fail else None
        route = ROUTES.get((tool, req.command))
        match = route.match(path) if route else None
        if failure is not None:
            return _answer(req, failure, {"error": "failing on demand"})
        if match is None:
            return _answer(req, 404, {"error": f"no {req.command} {path} in the fake {tool} API"})
        if auth != self.credentials.get(tool):
            return _answer(req, 401, {"error": "Couldn't authenticate you"})
        if not isinstance(body, dict):
            return _answer(req, 400, {"error": "the body is not a JSON object"})
        if tool == "zendesk":
            comment = body["ticket"]["comment"]
            return _answer(req, 200, {"ticket": {"id": int(match.group(1))},
                                      "audit": {"events": [{"type": "Comment", **comment}]}})
        if tool == "freshdesk":
            return _answer(req, 201, {"id": len(self.calls), "ticket_id": int(match.group(1)), **body})
        return _answer(req, 201, {"id": str(len(self.calls)), **body})


def _basic(header: str) -> tuple[str, str] | None:
    if not header.lower().startswith("basic "):
        return None
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return user, password


def _answer(req: BaseHTTPRequestHandler, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    req.send_response(status)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(len(data)))
    req.end_headers()
    req.wfile.write(data)

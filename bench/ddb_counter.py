"""A loopback proxy in front of DynamoDB Local that counts requests by operation, and the
capacity units on-demand DynamoDB would bill for them (from the request bodies).

Counting on the wire, outside the service, so the figure cannot miss a code path.
"""
from __future__ import annotations

import collections
import http.client
import json
import math
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class CountingProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.counts: collections.Counter[str] = collections.Counter()
        self.units: collections.Counter[str] = collections.Counter()  # "write", "read"
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                op = self.headers.get("X-Amz-Target", "?").split(".")[-1]
                kind, units = billed(op, body)
                with proxy.lock:
                    proxy.counts[op] += 1
                    proxy.units[kind] += units
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn.request("POST", self.path, body, headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def snapshot(self) -> collections.Counter[str]:
        with self.lock:
            return collections.Counter(self.counts)


def billed(op: str, body: bytes) -> tuple[str, float]:
    """("write" | "read", units) on-demand DynamoDB bills for one request: a write unit per KB
    written, twice in a transaction; a read unit per 4 KB read consistently (estimated from
    the request: what a read returns is not seen here, so one unit per item asked)."""
    try:
        doc = json.loads(body or b"{}")
    except ValueError:
        return "read", 0.0
    if op in ("PutItem", "UpdateItem", "DeleteItem"):
        return "write", float(max(1, math.ceil(len(json.dumps(doc.get("Item", doc))) / 1024)))
    if op == "TransactWriteItems":
        items = doc.get("TransactItems", [])
        return "write", float(sum(2 * max(1, math.ceil(len(json.dumps(i)) / 1024)) for i in items))
    if op == "BatchWriteItem":
        return "write", float(sum(len(v) for v in doc.get("RequestItems", {}).values()))
    return "read", 1.0  # GetItem, Query (a page of small items), Scan...


def count_requests(db_port: int) -> CountingProxy:
    """A new proxy in front of DynamoDB Local, and the service's store pointed at it."""
    import os

    from chalicelib import config, store

    proxy = CountingProxy(db_port)
    os.environ["DYNAMODB_ENDPOINT"] = f"http://127.0.0.1:{proxy.port}"
    config.reload()
    store.configure()
    return proxy

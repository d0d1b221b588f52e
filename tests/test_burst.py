"""A burst of connections to the local servers waits in the listen queue, not reset."""
from __future__ import annotations

import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import requests

from devstack.stack import Stack


def _burst(url: str, n: int = 200) -> list[str]:
    """n clients connecting at once; what went wrong for each one that did."""
    def one(_: int) -> str:
        try:
            r = requests.get(url, timeout=30)
            return "" if r.status_code == 200 else f"HTTP {r.status_code}"
        except requests.RequestException as exc:
            return type(exc).__name__

    with ThreadPoolExecutor(max_workers=n) as pool:
        return [e for e in pool.map(one, range(n)) if e]


def _listen_backlog(url: str) -> int:
    """The listen queue the kernel gives the server's socket (`ss` shows it as Send-Q)."""
    port = urlsplit(url).port
    ss = shutil.which("ss") or "/usr/bin/ss"
    out = subprocess.run([ss, "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return max(int(line.split()[2]) for line in out.splitlines())


def test_two_hundred_clients_at_once_all_get_an_answer_from_the_api_and_the_outbox(stack: Stack) -> None:
    for url in (stack.api_url, stack.fake.url):
        assert _listen_backlog(url) >= 128  # Python's default of 5 resets a burst's connections
    assert _burst(f"{stack.api_url}/dashboard") == []
    assert _burst(f"{stack.fake.url}/healthz") == []

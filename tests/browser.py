"""Headless Chromium for the browser tests (the dashboard, the responders' page): Debian's
chromium and chromedriver (scripts/install-chromium.sh, run by `make test`), never one
Selenium Manager would download; a missing browser fails the test, it never skips."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Screenshots: a temporary folder, or the README's pictures with ASTREINTE_SCREENSHOTS=1.
SHOTS = (ROOT / "docs" / "screenshots" if os.environ.get("ASTREINTE_SCREENSHOTS") == "1"
         else Path(tempfile.gettempdir()) / "astreinte-screenshots")


def chromium(width: int, height: int, prefs: dict[str, Any] | None = None) -> WebDriver:
    """A French-speaking headless Chromium in Paris (the tests' people sit there), of this size."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run scripts/install-chromium.sh (make test does)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--lang=fr-FR"):
        options.add_argument(arg)
    if prefs:
        options.add_experimental_option("prefs", prefs)
    service = Service(str(CHROMEDRIVER), env={**os.environ, "TZ": "Europe/Paris"})
    return webdriver.Chrome(service=service, options=options)

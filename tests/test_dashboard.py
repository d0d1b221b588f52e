"""The managers' dashboard in a real browser: headless Chromium, driven by selenium.

A month of incidents goes through the real code path (devstack.demo_month), then a
manager logs in with a token and looks at every view; what the page shows is checked
against the JSON API it reads.  Each view is screenshotted; with ASTREINTE_SCREENSHOTS=1
they replace the README's pictures in docs/screenshots/ (otherwise they go to a temporary
folder, so a test run leaves the checkout clean).  Chromium comes from Debian
(scripts/install-chromium.sh, run by `make test`): when it is missing this test fails, it
never skips, and Selenium Manager never downloads a browser (the driver path is explicit).
"""
from __future__ import annotations

import calendar
import csv
import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from browser import SHOTS, chromium
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parent.parent
WAIT = 30
PARIS = ZoneInfo("Europe/Paris")
MANAGER = "fanny"  # a manager of the support team in rotas/teams.yaml


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[WebDriver]:
    driver = chromium(1400, 1000, prefs={"download.default_directory": str(downloads),
                                         "download.prompt_for_download": False})
    driver.set_window_size(1400, 1000)
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield driver
    finally:
        driver.quit()


def last_month() -> tuple[datetime, datetime]:
    """The first and last days of last month, in the team's time zone."""
    first_of_this = datetime.now(PARIS).date().replace(day=1)
    last = first_of_this - timedelta(days=1)
    return datetime(last.year, last.month, 1, tzinfo=PARIS), datetime(last.year, last.month, last.day,
                                                                        tzinfo=PARIS)


@pytest.fixture()
def month(fresh) -> tuple[object, str, list[int]]:  # noqa: ANN001
    """Last month, complete, full of incidents (as a manager reviews it early in a month),
    on the example rotas `make run` loads: the screenshots show the team of the README."""
    from chalicelib import clock, tokens
    from chalicelib.rotas import directory
    from chalicelib.rotas import load as rotas
    from devstack.demo_month import load_month

    directory.sync(rotas.load_dir(ROOT / "rotas"))
    first, _ = last_month()
    # load_month only moves the clock forward: start it on the first of the month.
    clock.advance(first.timestamp() - clock.now())
    try:
        numbers = load_month(first.timestamp(), incidents=120, seed=1)
    finally:
        clock.reset()
    return fresh, tokens.create(MANAGER, "dash"), numbers


# ---------------------------------------------------------------- helpers

def get_json(base: str, token: str, path: str, **params: object) -> dict:
    r = requests.get(f"{base}{path}", params=params, timeout=30, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, f"{path}: {r.status_code} {r.text}"
    return r.json()


def by_id(driver: WebDriver, element_id: str) -> WebElement:
    return driver.find_element(By.ID, element_id)


def all_css(driver: WebDriver | WebElement, selector: str) -> list[WebElement]:
    return driver.find_elements(By.CSS_SELECTOR, selector)


def wait_loaded(driver: WebDriver, element_id: str) -> None:
    """Wait for a view (or the incident panel) to say data-state=ready; on an error, show
    the page's message rather than a bare timeout."""
    WebDriverWait(driver, WAIT).until(
        lambda d: by_id(d, element_id).get_attribute("data-state") in ("ready", "error"))
    state = by_id(driver, element_id).get_attribute("data-state")
    assert state == "ready", f"#{element_id} failed: {by_id(driver, 'message').text}"


def set_value(driver: WebDriver, element_id: str, value: str) -> None:
    """Date and month inputs: typing into them depends on the browser's locale; set them."""
    driver.execute_script("arguments[0].value = arguments[1]", by_id(driver, element_id), value)


def shot(driver: WebDriver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def wait_download(folder: Path, prefix: str) -> str:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"{prefix}*.csv") if p.stat().st_size > 0]
        if done:
            text = done[0].read_text(encoding="utf-8-sig")
            done[0].unlink()
            return text
        time.sleep(0.1)
    raise AssertionError(f"no {prefix}*.csv downloaded into {folder}: {list(folder.iterdir())}")


def label_of(driver: WebDriver, card: str) -> str:
    """The label of a hotline card (re-found: switching language redraws the cards)."""
    return driver.find_element(By.CSS_SELECTOR, f'#hotline-cards .card[data-kpi="{card}"] .label').text


def login(driver: WebDriver, base: str, token: str) -> None:
    driver.get(f"{base}/dashboard")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{base}/dashboard")
    assert by_id(driver, "login-box").is_displayed()
    assert not by_id(driver, "nav").is_displayed()
    by_id(driver, "token").send_keys(token)
    by_id(driver, "login").click()


# ---------------------------------------------------------------- the tour

def test_a_manager_reviews_the_month(browser: WebDriver, month, downloads: Path) -> None:  # noqa: ANN001
    stack, token, numbers = month
    base = stack.api_url
    assert len(numbers) >= 100
    login(browser, base, token)

    # Incidents: the current month by default; last month's, newest first, one row each.
    wait_loaded(browser, "view-incidents")
    assert by_id(browser, "view-incidents").is_displayed() and not by_id(browser, "login-box").is_displayed()
    today = datetime.now(PARIS).date()  # the browser's day (its TZ is Paris)
    assert by_id(browser, "f-from").get_attribute("value") == today.replace(day=1).isoformat()
    first, last = last_month()
    set_value(browser, "f-from", first.date().isoformat())
    set_value(browser, "f-to", last.date().isoformat())
    by_id(browser, "f-apply").click()  # the view says data-state=loading before click() returns
    wait_loaded(browser, "view-incidents")
    summary = by_id(browser, "incidents-summary")
    shown_period = {"from": summary.get_attribute("data-from"), "to": summary.get_attribute("data-to")}
    listed = get_json(base, token, "/v1/incidents", **shown_period)
    rows = all_css(browser, "#incidents tr.incident")
    assert len(rows) == listed["count"] == len(listed["incidents"]) > 0
    assert [int(r.get_attribute("data-number")) for r in rows] == [i["number"] for i in listed["incidents"]]
    assert set(numbers) >= {i["number"] for i in listed["incidents"]}
    shot(browser, "incidents")

    # A row opens its timeline: an escalated, resolved one tells the whole story.
    story = next((i for i in listed["incidents"] if i["escalated"] and i["state"] == "resolved"),
                 listed["incidents"][0])
    row = browser.find_element(By.CSS_SELECTOR, f'#incidents tr.incident[data-number="{story["number"]}"]')
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", row)
    row.click()
    WebDriverWait(browser, WAIT).until(
        lambda d: by_id(d, "incident-detail").get_attribute("data-number") == str(story["number"]))
    wait_loaded(browser, "incident-detail")
    detail = get_json(base, token, f"/v1/incidents/{story['number']}")
    entries = all_css(browser, "#timeline li.entry")
    assert len(entries) == len(detail["timeline"]) > 0
    assert [e.get_attribute("data-kind") for e in entries] == [e["kind"] for e in detail["timeline"]]
    assert entries[0].get_attribute("data-kind") == "triggered"
    assert "selected" in row.get_attribute("class")
    assert f"#{story['number']}" in by_id(browser, "detail-title").text
    shot(browser, "timeline")

    # Filters: critical incidents only, as the API lists them.
    Select(by_id(browser, "f-severity")).select_by_value("critique")
    by_id(browser, "f-apply").click()
    wait_loaded(browser, "view-incidents")
    critical = get_json(base, token, "/v1/incidents", severity="critique", **shown_period)
    shown = all_css(browser, "#incidents tr.incident")
    assert len(shown) == critical["count"] > 0
    assert len(all_css(browser, "#incidents tr.incident .sev-critique")) == len(shown)

    # CSV of what is on screen: fetched with the token, saved through a Blob.
    by_id(browser, "incidents-csv").click()
    lines = list(csv.reader(io.StringIO(wait_download(downloads, "incidents"))))
    assert len(lines) == critical["count"] + 1, lines[:2]
    Select(by_id(browser, "f-severity")).select_by_value("")
    by_id(browser, "f-apply").click()
    WebDriverWait(browser, WAIT).until(lambda d: len(all_css(d, "#incidents tr.incident")) == listed["count"])

    # KPIs: the cards say what the API says, and the charts are drawn.
    by_id(browser, "nav-kpis").click()
    wait_loaded(browser, "view-kpis")
    assert by_id(browser, "kpi-from").get_attribute("value") == today.replace(day=1).isoformat()
    set_value(browser, "kpi-from", first.date().isoformat())
    set_value(browser, "kpi-to", last.date().isoformat())
    by_id(browser, "kpi-apply").click()
    wait_loaded(browser, "view-kpis")
    period = by_id(browser, "kpi-period")
    kpis = get_json(base, token, "/v1/reports/kpis", **{"from": period.get_attribute("data-from"),
                                                        "to": period.get_attribute("data-to")})
    overall = kpis["overall"]
    assert overall["count"] == listed["count"]
    for key in ("count", "tta_median", "tta_p90", "ttr_median", "ttr_p90", "escalation_rate",
                "first_contact_resolution"):
        card = browser.find_element(By.CSS_SELECTOR, f'#kpi-cards .card[data-kpi="{key}"]')
        expected = "" if overall[key] is None else overall[key]
        assert card.get_attribute("data-value") == str(expected) or \
            float(card.get_attribute("data-value")) == pytest.approx(float(expected)), key
    count_card = browser.find_element(By.CSS_SELECTOR, '#kpi-cards .card[data-kpi="count"] .value')
    assert count_card.text.replace("\u202f", "").replace(" ", "") == str(overall["count"])
    breaches = browser.find_element(By.CSS_SELECTOR, '#kpi-cards .card[data-kpi="sla_breaches"]')
    assert int(breaches.get_attribute("data-value")) == sum(overall["sla_breaches"].values())

    bars = all_css(browser, "#chart-tta svg rect.bar")
    assert len(bars) == len(kpis["tta_histogram"]) > 0
    assert [int(b.get_attribute("data-count")) for b in bars] == [b["count"] for b in kpis["tta_histogram"]]
    assert sum(b["count"] for b in kpis["tta_histogram"]) == overall["count"]

    coverage = get_json(base, token, "/v1/reports/coverage", weeks=13)
    cells = all_css(browser, "#chart-hours svg rect.cell")
    assert len(cells) == 7 * 24
    assert sum(int(c.get_attribute("data-count")) for c in cells) == coverage["incidents"]
    assert by_id(browser, "coverage-verdict").get_attribute("data-verdict") == coverage["verdict"]
    assert coverage["advice"]["fr"] in by_id(browser, "coverage-summary").text

    that_month = first.strftime("%Y-%m")
    report = get_json(base, token, "/v1/reports/astreinte", month=that_month)
    segments = all_css(browser, "#chart-oncall svg rect.seg")
    assert segments and {s.get_attribute("data-person") for s in segments} == \
        {p["person"] for p in report["people"] if p["oncall_total"] > 0}

    Select(by_id(browser, "kpi-by")).select_by_value("person")
    people_rows = all_css(browser, "#kpi-table tr.kpi-row")
    assert {r.get_attribute("data-key") for r in people_rows} == set(kpis["by"]["person"])
    Select(by_id(browser, "kpi-by")).select_by_value("severity")
    assert {r.get_attribute("data-key") for r in all_css(browser, "#kpi-table tr.kpi-row")} == \
        set(kpis["by"]["severity"])
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, "kpis")

    # Astreinte: one row per person with hours; short rests stand out.
    by_id(browser, "nav-astreinte").click()
    wait_loaded(browser, "view-astreinte")
    assert by_id(browser, "month").get_attribute("value") == today.strftime("%Y-%m")
    set_value(browser, "month", that_month)
    by_id(browser, "month-apply").click()
    wait_loaded(browser, "view-astreinte")
    person_rows = all_css(browser, "#astreinte tbody tr.person")
    assert [r.get_attribute("data-person") for r in person_rows] == [p["person"] for p in report["people"]]
    for r, p in zip(person_rows, report["people"], strict=True):
        assert float(r.find_element(By.CSS_SELECTOR, "td.total").get_attribute("data-hours")) == \
            pytest.approx(p["oncall_total"])
        assert r.find_element(By.CSS_SELECTOR, "td.interventions").text == str(p["interventions"]["count"])
        assert ("rest-warning" in r.get_attribute("class")) == bool(p["rest_flags"])
    assert any(p["oncall_total"] > 0 for p in report["people"])
    assert any(p["interventions"]["count"] > 0 for p in report["people"])
    fairness = get_json(base, token, "/v1/reports/fairness", days=90)
    members = sum(len(team["people"]) for team in fairness["teams"])
    assert len(all_css(browser, "#fairness tr.fair-person")) == members > 0
    by_id(browser, "astreinte-csv").click()
    lines = list(csv.reader(io.StringIO(wait_download(downloads, "astreinte"))))
    assert len(lines) >= len(report["people"]) + 1
    shot(browser, "astreinte")

    # Hotline: the KPIs' period; cards, groups and the hour-of-week grid as the API says.
    by_id(browser, "nav-hotline").click()
    wait_loaded(browser, "view-hotline")
    assert by_id(browser, "hl-from").get_attribute("value") == first.date().isoformat()
    assert by_id(browser, "hl-to").get_attribute("value") == last.date().isoformat()
    hl_period = by_id(browser, "hotline-period")
    assert hl_period.get_attribute("data-from") == kpis["from"]
    hotline = get_json(base, token, "/v1/reports/hotline", **{"from": hl_period.get_attribute("data-from"),
                                                              "to": hl_period.get_attribute("data-to")})
    calls = hotline["overall"]
    assert calls["received"] > 0 and calls["answered"] > 0 and calls["voicemails"] > 0
    assert calls["abandoned"] > 0
    cards = {c.get_attribute("data-kpi"): c.get_attribute("data-value")
             for c in all_css(browser, "#hotline-cards .card")}
    for key in ("received", "answered", "service_level", "abandoned", "average_wait_seconds",
                "average_handle_seconds", "voicemails", "first_contact_resolution"):
        expected = calls[key]
        assert (cards[key] == "" if expected is None else float(cards[key]) == pytest.approx(expected)), key
    csat = calls["csat"]["average"]  # the demo's callers do not answer the SMS: none yet
    assert cards["csat"] == "" if csat is None else float(cards["csat"]) == pytest.approx(csat)
    received_card = browser.find_element(By.CSS_SELECTOR, '#hotline-cards .card[data-kpi="received"] .value')
    assert received_card.text == str(calls["received"])
    for dimension in ("agent", "team", "service"):  # service last: the screenshot shows it
        Select(by_id(browser, "hl-by")).select_by_value(dimension)
        hl_rows = all_css(browser, "#hotline-table tr.hotline-row")
        assert [r.get_attribute("data-key") for r in hl_rows] == list(hotline["by"][dimension]), dimension
        for r in hl_rows:
            figures = hotline["by"][dimension][r.get_attribute("data-key")]
            for field in ("received", "answered", "answered_within_20s", "abandoned_in_menu",
                          "abandoned_waiting", "voicemails"):
                cell = r.find_element(By.CSS_SELECTOR, f'td[data-field="{field}"]')
                assert int(cell.get_attribute("data-value")) == figures[field] == int(cell.text), field
    assert hotline["by"]["agent"] and hotline["by"]["service"]
    grid = all_css(browser, "#chart-calls svg rect.cell")
    assert len(grid) == 7 * 24
    drawn = {(c.get_attribute("data-day"), int(c.get_attribute("data-hour"))):
             (int(c.get_attribute("data-count")), int(c.get_attribute("data-abandoned")))
             for c in grid if c.get_attribute("data-count") != "0"}
    assert drawn == {(h["day"], h["hour"]): (h["received"], h["abandoned"])
                     for h in hotline["by_hour_of_week"]}
    assert sum(n for n, _ in drawn.values()) == calls["received"]
    assert label_of(browser, "received") == "Appels reçus"
    by_id(browser, "lang").click()
    assert label_of(browser, "received") == "Calls received"
    by_id(browser, "lang").click()
    assert label_of(browser, "received") == "Appels reçus"
    browser.execute_script("window.scrollTo(0, 0)")
    shot(browser, "hotline")
    # One team: the filter asks the API for that team's services only.
    team_options = [o.get_attribute("value") for o in Select(by_id(browser, "hl-team")).options][1:]
    assert team_options == sorted(hotline["by"]["team"])
    Select(by_id(browser, "hl-team")).select_by_value(team_options[0])
    WebDriverWait(browser, WAIT).until(
        lambda d: by_id(d, "hotline-period").get_attribute("data-team") == team_options[0])
    wait_loaded(browser, "view-hotline")
    one_team = get_json(base, token, "/v1/reports/hotline", team=team_options[0],
                        **{"from": hotline["from"], "to": hotline["to"]})
    assert by_id(browser, "hotline-cards").find_element(
        By.CSS_SELECTOR, '.card[data-kpi="received"]').get_attribute("data-value") == \
        str(one_team["overall"]["received"])

    # Calendar: this month's grid, today marked, who holds each layer every day.
    by_id(browser, "nav-calendar").click()
    wait_loaded(browser, "view-calendar")
    assert Select(by_id(browser, "rota")).first_selected_option.get_attribute("value") == "support"
    days = all_css(browser, "#calendar .day")
    assert len(days) == calendar.monthrange(today.year, today.month)[1]
    assert len(all_css(browser, "#calendar .day.today")) == 1
    shifts = get_json(base, token, "/v1/rotas/support/shifts", **{"from": today.replace(day=1).isoformat(),
                                                                   "to": today.isoformat()})
    holders = all_css(browser, "#calendar .holder")
    assert {h.get_attribute("data-layer") for h in holders} == {layer["layer"] for layer in shifts["layers"]}
    today_cell = browser.find_element(By.CSS_SELECTOR, "#calendar .day.today")
    assert today_cell.get_attribute("data-date") == today.isoformat()
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")  # the API's form
    holding = {s["name"] for layer in shifts["layers"] for s in layer["shifts"]
               if s["start"] <= now < s["end"]}
    assert holding and all(name in today_cell.text for name in holding)
    assert all(d.find_elements(By.CSS_SELECTOR, ".holder") for d in days)
    shot(browser, "calendar")

    # French by default; the toggle switches to English and back.
    assert by_id(browser, "nav-kpis").text == "Indicateurs"
    by_id(browser, "lang").click()
    assert by_id(browser, "nav-kpis").text == "KPIs" and by_id(browser, "nav-calendar").text == "Calendar"
    by_id(browser, "lang").click()
    assert by_id(browser, "nav-calendar").text == "Calendrier"


# ---------------------------------------------------------------- refusals

def test_a_bad_token_is_refused_and_an_agent_sees_no_reports(browser: WebDriver, fresh) -> None:  # noqa: ANN001
    from chalicelib import tokens

    base = fresh.api_url
    login(browser, base, "ast_not-a-real-token")
    WebDriverWait(browser, WAIT).until(lambda d: by_id(d, "message").is_displayed())
    assert "401" in by_id(browser, "message").text
    assert by_id(browser, "login-box").is_displayed() and not by_id(browser, "nav").is_displayed()
    assert browser.execute_script("return sessionStorage.getItem('astreinte.token')") is None

    # The token in the address fragment (as `make run` prints it) logs in, then leaves the URL.
    agent = tokens.create("alice", "dash")
    browser.get("about:blank")
    browser.get(f"{base}/dashboard#token={agent}")
    wait_loaded(browser, "view-incidents")
    assert "token" not in browser.current_url
    by_id(browser, "nav-kpis").click()
    WebDriverWait(browser, WAIT).until(lambda d: by_id(d, "view-kpis").get_attribute("data-state") == "error")
    assert "403" in by_id(browser, "message").text


def test_a_summary_with_a_right_to_left_override_stays_in_its_cell(browser: WebDriver, api) -> None:  # noqa: ANN001
    """U+202E in a summary would reverse what follows it, the next columns included: the
    dashboard isolates such text in its own <bdi>."""
    number = api.trigger(summary="invoice\u202Etxt.exe", dedup="rtl")["incident_number"]
    login(browser, api.base, api.token)  # Carol, an admin: she sees the dashboard
    wait_loaded(browser, "view-incidents")
    [row] = [r for r in all_css(browser, "tr.incident") if r.get_attribute("data-number") == str(number)]
    [isolated] = all_css(row, "bdi")
    assert isolated.get_attribute("textContent") == "invoice\u202Etxt.exe"
    row.click()
    WebDriverWait(browser, WAIT).until(lambda d: all_css(by_id(d, "detail-title"), "bdi"))
    [title] = all_css(by_id(browser, "detail-title"), "bdi")
    assert title.get_attribute("textContent") == "invoice\u202Etxt.exe"

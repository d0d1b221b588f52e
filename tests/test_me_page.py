"""The responders' page /me in a real browser: headless Chromium at a phone's width (390 px),
driven by selenium; the incident actions are clicked, not only read.

Carol (French, admin) and Bob (English, responder) of tests/rotas log in with a token; the
incidents are triggered through the intake as a monitoring tool would, and escalated until
they page the person.  Also what a responder on a phone must not lose or send twice (a
half-typed note, an unfolded incident, a second tap) and the language of the page's
refusals.  Chromium comes from Debian (scripts/install-chromium.sh): when it is
missing this test fails, it never skips.  Screenshots go to a temporary folder (or to
docs/screenshots with ASTREINTE_SCREENSHOTS=1, like test_dashboard)."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser import SHOTS, chromium
from conftest import Api, last_number
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select, WebDriverWait

from devstack.stack import Stack

WAIT = 20
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    driver = chromium(390, 844)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)  # a phone's viewport
    try:
        yield driver
    finally:
        driver.quit()


# ---------------------------------------------------------------- helpers

def token_of(person: str) -> str:
    from chalicelib import tokens

    return tokens.create(person, "me page")


def wait(driver: WebDriver, until: Callable[[WebDriver], Any], what: str) -> Any:
    """Wait for `until`; on a timeout, say what was awaited and what the page shows."""
    def safe(d: WebDriver) -> Any:
        try:
            return until(d)
        except (NoSuchElementException, StaleElementReferenceException):
            return False
    try:
        return WebDriverWait(driver, WAIT).until(safe)
    except Exception as exc:
        shown = {i: d.text for i in ("message", "answer") for d in driver.find_elements(By.ID, i)}
        raise AssertionError(f"waited for {what}; the page says {shown}") from exc


def by_id(driver: WebDriver, element_id: str) -> WebElement:
    return driver.find_element(By.ID, element_id)


def card(driver: WebDriver, section: str, number: int) -> WebElement:
    return driver.find_element(By.CSS_SELECTOR, f"#{section} article.incident[data-number='{number}']")


def ready(driver: WebDriver) -> None:
    lists = ("mine", "team", "shifts")
    wait(driver, lambda d: all(by_id(d, i).get_attribute("data-state") == "ready" for i in lists),
         "the lists to load")


def log_in(driver: WebDriver, base: str, token: str) -> None:
    """A new tab's state: no token kept, the prompt shown; then the token typed in."""
    driver.get(f"{base}/me")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{base}/me")
    wait(driver, lambda d: by_id(d, "login-box").is_displayed(), "the token prompt")
    assert not by_id(driver, "app").is_displayed()
    by_id(driver, "token").send_keys(token)
    by_id(driver, "login").click()
    wait(driver, lambda d: by_id(d, "app").is_displayed(), "the page after login")
    ready(driver)


def click_action(driver: WebDriver, number: int, action: str, section: str = "mine") -> str:
    """Click an action's button on the incident's card; the answer's message once shown."""
    driver.execute_script("document.getElementById('answer').dataset.action = ''")
    button = card(driver, section, number).find_element(By.CSS_SELECTOR, f"button[data-action='{action}']")
    open_more(driver, button)
    button.click()
    wait(driver, lambda d: by_id(d, "answer").get_attribute("data-action") == action
         and by_id(d, "answer").text, f"the answer to {action} on #{number}")
    ready(driver)
    return str(by_id(driver, "answer").text)


def open_more(driver: WebDriver, element: WebElement) -> None:
    """Unfold the "more actions" an element sits in (reassign, add a responder, merge), as a
    person taps it, and bring the element into view."""
    folded = driver.execute_script("const d = arguments[0].closest('details.more-actions');"
                                   "return d && !d.open ? d.querySelector('summary') : null", element)
    if folded is not None:
        folded.click()
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)


def escalate_to(api: Api, number: int, times: int) -> None:
    for _ in range(times):
        r = api.act(number, "escalate")
        assert r.status_code == 200, r.text


def fits_a_phone(driver: WebDriver) -> None:
    width = driver.execute_script("return document.documentElement.clientWidth")
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    assert width == 390 and scroll <= width, f"the page is {scroll} px wide on a {width} px phone"
    small = driver.execute_script("""
        return [...document.querySelectorAll('#app button, header button, header a')]
          .filter((b) => b.offsetParent !== null && b.getBoundingClientRect().height < 44)
          .map((b) => b.textContent);""")
    assert small == [], f"touch targets under 44 px: {small}"


def shot(driver: WebDriver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / f"{name}.png"))


def actions_api_has(api: Api, action: str) -> bool:
    """Whether POST /v1/incidents/{n}/{action} exists (a 404 unknown_action otherwise)."""
    r = api.act(10**9, action)
    return not (r.status_code == 404 and r.json().get("error") == "unknown_action")


def refresh_now(driver: WebDriver) -> None:
    """What the 30 s timer does (me.html autoRefresh), now; back once the lists are loaded
    again (or at once if the page chose not to refresh)."""
    driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        let seen = false;
        const watch = new MutationObserver(() => {
          if (document.getElementById('team').dataset.state === 'loading') seen = true;
          else if (seen) { watch.disconnect(); done(true); }
        });
        watch.observe(document.getElementById('team'), {attributes: true});
        autoRefresh();
        setTimeout(() => { if (!seen) { watch.disconnect(); done(false); } }, 500);""")


# ---------------------------------------------------------------- the tests

def test_carol_acknowledges_and_resolves_from_her_phone_in_french(browser: WebDriver, api: Api,
                                                                  fresh: Stack) -> None:
    api.trigger(summary="Disque plein sur db-1")
    number = last_number()
    escalate_to(api, number, 2)  # agent (alice), referent (bob), then the manager layer: carol
    assert "carol" in api.incident(number)["paged"]

    log_in(browser, api.base, token_of("carol"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
    assert by_id(browser, "mine-panel").find_element(By.TAG_NAME, "h2").text == "Mes incidents ouverts"
    assert by_id(browser, "dashboard-link").is_displayed()  # an admin reads the reports
    mine = card(browser, "mine", number)
    assert "Disque plein sur db-1" in mine.text and "déclenché" in mine.text
    assert "Helpdesk" in mine.text
    fits_a_phone(browser)
    shot(browser, "me-fr-triggered")

    said = click_action(browser, number, "acknowledge")
    assert str(number) in said
    wait(browser, lambda d: card(d, "mine", number).get_attribute("data-state") == "acknowledged",
         "the card to say acknowledged")
    assert "pris en charge" in card(browser, "mine", number).text
    inc = api.incident(number)
    assert (inc["state"], inc["acknowledged_by"]) == ("acknowledged", "carol")
    # Acknowledged: the snooze choice appears (15/30/60/120 min).
    snooze = card(browser, "mine", number).find_element(By.CSS_SELECTOR, "select.snooze-minutes")
    assert [o.get_attribute("value") for o in Select(snooze).options] == ["15", "30", "60", "120"]
    fits_a_phone(browser)

    said = click_action(browser, number, "resolve")
    assert by_id(browser, "answer").get_attribute("data-ok") == "true" and str(number) in said
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, f"#mine article[data-number='{number}']"),
         "the resolved incident to leave my list")
    assert api.incident(number)["state"] == "resolved"
    assert "Aucun incident ouvert pour vous." in by_id(browser, "mine").text

    # Resolving again from a stale page: refused, and said on the page (not an error page).
    r = api.act(number, "resolve")
    assert r.status_code == 409
    api.trigger(summary="Disque plein sur db-2", dedup="stale")
    stale = last_number()
    escalate_to(api, stale, 2)
    by_id(browser, "refresh").click()
    wait(browser, lambda d: card(d, "mine", stale), "the new incident on the page")
    ready(browser)
    assert api.act(stale, "resolve").status_code == 200  # resolved elsewhere (by SMS, say)
    said = click_action(browser, stale, "resolve")  # from the card still shown
    assert by_id(browser, "answer").get_attribute("data-ok") == "false", said
    assert f"#{stale} est déjà clos" in said, said
    assert not by_id(browser, "message").is_displayed()  # said, not an error
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, f"#mine article[data-number='{stale}']"),
         "the stale card to leave my list")

    # A test page by SMS, from the button of her sms channel.
    channel = browser.find_element(By.CSS_SELECTOR, "#channels li[data-channel='sms']")
    assert "+33 6" in channel.text and "600000003" not in channel.text
    channel.find_element(By.CSS_SELECTOR, "button.test-page").click()
    wait(browser, lambda d: by_id(d, "answer").get_attribute("data-action") == "test-page:sms",
         "the test page's answer")
    assert by_id(browser, "answer").text.startswith("Page de test envoyée par sms")
    sms = fresh.fake.wait_for(kind="sms", to="+33600000003",
                              predicate=lambda m: "Page de test" in m["body"])
    assert "Carol Durand" in sms["body"]
    assert "sms" in by_id(browser, "rules").text
    # Her one rule covers every severity: said so, not listed; her email is missing, said in French.
    assert by_id(browser, "rules").text == "sms dès l'appel · toutes gravités"
    email = browser.find_element(By.CSS_SELECTOR, "#channels li[data-channel='email']").text
    assert "non joignable (il manque une adresse e-mail)" in email, email
    shot(browser, "me-fr-after")


def test_bob_sees_his_incident_the_teams_and_his_shifts_in_english(browser: WebDriver, api: Api) -> None:
    api.trigger(summary="Checkout 500s")
    mine = last_number()
    escalate_to(api, mine, 1)  # the referent layer: bob
    api.trigger(summary='<img src=x id=pwn onerror="document.title=1"> queue stuck', dedup="other")
    theirs = last_number()  # pages alice only: the team's, not bob's

    log_in(browser, api.base, token_of("bob"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    assert by_id(browser, "mine-panel").find_element(By.TAG_NAME, "h2").text == "My open incidents"
    assert not by_id(browser, "dashboard-link").is_displayed()  # a responder: no reports
    assert "Checkout 500s" in card(browser, "mine", mine).text
    team = card(browser, "team", theirs)
    assert '<img src=x id=pwn onerror="document.title=1"> queue stuck' in team.text  # as text, not HTML
    assert browser.find_elements(By.ID, "pwn") == []
    assert not browser.find_elements(By.CSS_SELECTOR, f"#mine article[data-number='{theirs}']")
    # His shifts: the referent layer, weekly, so he is on call over the next 14 days.
    rows = browser.find_elements(By.CSS_SELECTOR, "#shifts tr.shift")
    assert rows and rows[0].get_attribute("data-layer") == "referent"
    assert by_id(browser, "rules").text == "voice at once · every severity"
    email = browser.find_element(By.CSS_SELECTOR, "#channels li[data-channel='email']").text
    assert "cannot reach you (needs an email address)" in email, email
    fits_a_phone(browser)

    said = click_action(browser, mine, "acknowledge")
    assert said and str(mine) in said
    wait(browser, lambda d: card(d, "mine", mine).get_attribute("data-state") == "acknowledged",
         "bob's card to say acknowledged")
    assert "acknowledged" in card(browser, "mine", mine).text
    # The team's incident, opened and acknowledged from its details.
    team = card(browser, "team", theirs)
    team.find_element(By.CSS_SELECTOR, "details > summary").click()
    acknowledge = "button[data-action='acknowledge']"
    wait(browser, lambda d: card(d, "team", theirs).find_elements(By.CSS_SELECTOR, acknowledge),
         "the team incident's actions")
    click_action(browser, theirs, "acknowledge", section="team")
    assert api.incident(theirs)["acknowledged_by"] == "bob"
    # Now it is his (he acknowledged it): it moves to his list.
    wait(browser, lambda d: card(d, "mine", theirs), "the acknowledged incident in bob's list")

    # The language button switches the page to French and back.
    by_id(browser, "lang").click()
    assert by_id(browser, "mine-panel").find_element(By.TAG_NAME, "h2").text == "Mes incidents ouverts"
    by_id(browser, "lang").click()
    assert by_id(browser, "mine-panel").find_element(By.TAG_NAME, "h2").text == "My open incidents"
    shot(browser, "me-en")


def test_a_bad_token_goes_back_to_the_prompt(browser: WebDriver, api: Api) -> None:
    browser.get(f"{api.base}/me")
    browser.execute_script("sessionStorage.clear()")
    browser.get("about:blank")  # (else only the fragment changes, and the page stays as it was)
    browser.get(f"{api.base}/me#token=ast_not-a-token")
    wait(browser, lambda d: by_id(d, "login-box").is_displayed() and by_id(d, "message").text,
         "the refusal")
    assert "Jeton refusé" in by_id(browser, "message").text  # no person known yet: the page's French
    assert not by_id(browser, "app").is_displayed()
    assert "token=" not in browser.current_url  # the fragment left the address bar, bad or not
    assert "ast_not-a-token" not in browser.execute_script("return location.href")


def test_note_and_snooze_from_the_page(browser: WebDriver, api: Api) -> None:
    assert [a for a in ("note", "snooze") if not actions_api_has(api, a)] == []
    api.trigger(summary="Latency on api-2")
    number = last_number()
    escalate_to(api, number, 2)
    log_in(browser, api.base, token_of("carol"))
    click_action(browser, number, "acknowledge")

    note = card(browser, "mine", number).find_element(By.CSS_SELECTOR, "textarea.note-text")
    note.send_keys("Redémarrage du pool en cours")
    said = click_action(browser, number, "note")
    assert by_id(browser, "answer").get_attribute("data-ok") == "true", said
    notes = [e for e in api.incident(number)["timeline"] if e["kind"] == "note"]
    assert notes and notes[-1]["detail"]["text"] == "Redémarrage du pool en cours"
    wait(browser, lambda d: "Redémarrage du pool en cours" in card(d, "mine", number).text,
         "the note on the card")
    # Accepted: the box is empty again, ready for the next one.
    assert card(browser, "mine", number).find_element(By.CSS_SELECTOR, "textarea.note-text") \
        .get_attribute("value") == ""

    Select(card(browser, "mine", number).find_element(By.CSS_SELECTOR, "select.snooze-minutes")) \
        .select_by_value("30")
    said = click_action(browser, number, "snooze")
    assert by_id(browser, "answer").get_attribute("data-ok") == "true", said
    inc = api.incident(number)
    assert inc["snoozed_until"], inc
    wait(browser, lambda d: card(d, "mine", number).find_elements(By.CSS_SELECTOR, ".snoozed"),
         "the card to say snoozed")
    fits_a_phone(browser)
    shot(browser, "me-fr-snoozed")


def test_the_events_links_and_fields_show_and_open_safely(browser: WebDriver, api: Api) -> None:
    from conftest import HELPDESK_KEY

    r = api.enqueue({"routing_key": HELPDESK_KEY, "event_action": "trigger",
                     "payload": {"summary": "Queue lag on billing", "source": "mq-1", "severity": "critical",
                                 "custom_details": {"queue": "billing", "lag_seconds": 840}},
                     "links": [{"href": "https://runbooks.example.org/queue-lag", "text": "Runbook"},
                               {"href": "javascript:alert(1)", "text": "Not a link"}],
                     "images": [{"src": "https://grafana.example.org/lag.png", "alt": "Lag graph"}]})
    assert r.status_code == 202, r.text
    number = last_number()
    escalate_to(api, number, 1)  # bob
    log_in(browser, api.base, token_of("bob"))
    mine = card(browser, "mine", number)
    anchors = mine.find_elements(By.CSS_SELECTOR, ".details a")
    hrefs = {a.get_attribute("href"): a for a in anchors}
    runbook = hrefs["https://runbooks.example.org/queue-lag"]
    assert runbook.text == "Runbook"
    assert runbook.get_attribute("rel") == "noopener noreferrer"
    assert runbook.get_attribute("target") == "_blank"
    assert all(h.startswith("https://") for h in hrefs), hrefs  # javascript: never becomes a link
    assert "https://grafana.example.org/lag.png" in hrefs  # images as links (the CSP loads none)
    assert "billing" in mine.find_element(By.CSS_SELECTOR, ".details").text
    fits_a_phone(browser)
    shot(browser, "me-en-details")


def test_reassign_add_a_responder_and_merge_from_the_page(browser: WebDriver, api: Api, fresh: Stack) -> None:
    assert [a for a in ("reassign", "add_responders", "merge") if not actions_api_has(api, a)] == []
    api.trigger(summary="Payments down", dedup="pay")
    kept = last_number()
    api.trigger(summary="Payments 502", dedup="pay-2")
    duplicate = last_number()
    for n in (kept, duplicate):
        escalate_to(api, n, 2)  # carol's
    log_in(browser, api.base, token_of("carol"))

    responder = card(browser, "mine", kept).find_element(By.CSS_SELECTOR, "select.responder")
    open_more(browser, responder)
    Select(responder).select_by_value("person:dan")
    said = click_action(browser, kept, "add_responders")
    assert by_id(browser, "answer").get_attribute("data-ok") == "true", said
    assert "dan" in api.incident(kept)["paged"]
    fresh.fake.wait_for(kind="sms", to="+33600000004")  # dan's rule: sms
    responder = card(browser, "mine", kept).find_element(By.CSS_SELECTOR, "select.responder")
    assert responder.get_attribute("value") == ""  # accepted: not to be sent again by a second tap

    to = card(browser, "mine", kept).find_element(By.CSS_SELECTOR, "select.reassign-to")
    open_more(browser, to)
    Select(to).select_by_value("person:bob")
    said = click_action(browser, kept, "reassign")
    assert by_id(browser, "answer").get_attribute("data-ok") == "true", said
    assert any(e["kind"] == "reassigned" for e in api.incident(kept)["timeline"])

    merge = card(browser, "mine", duplicate).find_element(By.CSS_SELECTOR, "input.merge-into")
    open_more(browser, merge)
    merge.send_keys(str(kept))
    said = click_action(browser, duplicate, "merge")
    assert by_id(browser, "answer").get_attribute("data-ok") == "true", said
    assert api.incident(duplicate)["merged_into"] == kept
    wait(browser, lambda d: not d.find_elements(By.CSS_SELECTOR, f"article[data-number='{duplicate}']"),
         "the merged duplicate to leave the lists")
    # A refusal is said on the page too: merging into an incident that does not exist.
    api.trigger(summary="Another", dedup="another")
    other = last_number()
    escalate_to(api, other, 2)
    by_id(browser, "refresh").click()
    ready(browser)
    merge = card(browser, "mine", other).find_element(By.CSS_SELECTOR, "input.merge-into")
    open_more(browser, merge)
    merge.send_keys("99999")
    said = click_action(browser, other, "merge")
    assert by_id(browser, "answer").get_attribute("data-ok") == "false" and said
    # Refused: what was typed stays, to be corrected.
    assert card(browser, "mine", other).find_element(By.CSS_SELECTOR, "input.merge-into") \
        .get_attribute("value") == "99999"


# ---------------------------------------------------------------- what a phone must not lose or send twice

def test_a_half_typed_note_survives_an_action_on_another_incident(browser: WebDriver, api: Api) -> None:
    """Carol types a note on #A and opens its other actions, then acknowledges #B: the list is
    drawn again, and what she typed, chose and unfolded on #A is still there; the same when
    she switches the page's language."""
    api.trigger(summary="Disk full on db-1", dedup="a")
    a = last_number()
    api.trigger(summary="Disk full on db-2", dedup="b")
    b = last_number()
    for n in (a, b):
        escalate_to(api, n, 2)  # carol's
    log_in(browser, api.base, token_of("carol"))
    card(browser, "mine", a).find_element(By.CSS_SELECTOR, "textarea.note-text").send_keys("Je regarde db-1")
    to = card(browser, "mine", a).find_element(By.CSS_SELECTOR, "select.reassign-to")
    open_more(browser, to)
    Select(to).select_by_value("person:bob")
    click_action(browser, b, "acknowledge")
    kept = card(browser, "mine", a).find_element(By.CSS_SELECTOR, "textarea.note-text").get_attribute("value")
    assert kept == "Je regarde db-1", "the note half-typed on the other incident was wiped"

    def unchanged(what: str) -> None:
        mine = card(browser, "mine", a)
        assert mine.find_element(By.CSS_SELECTOR, "textarea.note-text").get_attribute("value") \
            == "Je regarde db-1", what
        more = mine.find_element(By.CSS_SELECTOR, "details.more-actions")
        assert more.get_attribute("open") is not None, what
        to = mine.find_element(By.CSS_SELECTOR, "select.reassign-to")
        assert to.get_attribute("value") == "person:bob", what

    unchanged("after an action on another incident")
    by_id(browser, "lang").click()
    assert by_id(browser, "mine-panel").find_element(By.TAG_NAME, "h2").text == "My open incidents"
    unchanged("after the language switch")
    assert card(browser, "mine", b).get_attribute("data-state") == "acknowledged"


def test_an_open_team_incident_stays_open_across_the_refresh(browser: WebDriver, api: Api) -> None:
    """Bob unfolds a team incident's details to read them on his phone: the 30 s refresh
    draws the card again, unfolded, with its actions."""
    api.trigger(summary="Queue stuck on billing", dedup="team")
    theirs = last_number()  # pages alice: the team's, not bob's
    log_in(browser, api.base, token_of("bob"))
    card(browser, "team", theirs).find_element(By.CSS_SELECTOR, "details.team-detail > summary").click()
    resolve = "button[data-action='resolve']"
    wait(browser, lambda d: card(d, "team", theirs).find_elements(By.CSS_SELECTOR, resolve),
         "the team incident's actions")
    browser.execute_script("document.activeElement.blur()")
    refresh_now(browser)
    ready(browser)
    opened = card(browser, "team", theirs).find_element(By.CSS_SELECTOR, "details.team-detail")
    assert opened.get_attribute("open") is not None, "the 30 s refresh folded the details bob was reading"
    assert card(browser, "team", theirs).find_elements(By.CSS_SELECTOR, resolve)
    assert "/var" in card(browser, "team", theirs).find_element(By.CSS_SELECTOR, ".details").text


def test_a_second_tap_while_the_list_reloads_does_not_post_the_note_twice(browser: WebDriver,
                                                                          api: Api) -> None:
    """On a slow phone network: the button stays disabled until the list is drawn again, and
    the accepted note leaves its box: a second tap cannot post it again."""
    assert actions_api_has(api, "note"), "POST /v1/incidents/{n}/note is missing"
    api.trigger(summary="Latency on api-2")
    number = last_number()
    escalate_to(api, number, 2)
    log_in(browser, api.base, token_of("carol"))
    # The list's reload takes 3 s, as on a train's 3G.
    browser.execute_script("""
        const real = window.fetch;
        window.fetch = (path, init) => String(path).startsWith('/v1/incidents?')
          ? new Promise((ok) => setTimeout(ok, 3000)).then(() => real(path, init)) : real(path, init);""")
    note = card(browser, "mine", number).find_element(By.CSS_SELECTOR, "textarea.note-text")
    note.send_keys("Redémarrage du pool")
    button = card(browser, "mine", number).find_element(By.CSS_SELECTOR, "button[data-action='note']")
    button.click()
    wait(browser, lambda d: by_id(d, "answer").get_attribute("data-action") == "note", "the note's answer")
    try:
        assert not button.is_enabled(), "the note's button is enabled again before the list is reloaded"
        assert note.get_attribute("value") == "", "the accepted note is still in its box"
        if button.is_enabled() and note.get_attribute("value"):
            button.click()  # no change seen yet on the card: tapped again
    except StaleElementReferenceException:
        pass  # the card was already drawn again: nothing left to tap
    wait(browser, lambda d: by_id(d, "mine").get_attribute("data-state") == "ready", "the reload")
    notes = [e for e in api.incident(number)["timeline"] if e["kind"] == "note"]
    assert len(notes) == 1, f"{len(notes)} notes posted for one note typed"
    wait(browser, lambda d: card(d, "mine", number).find_element(
        By.CSS_SELECTOR, "button[data-action='note']").is_enabled(), "the note's button, once reloaded")


def test_a_fragment_token_leaves_the_address_bar(browser: WebDriver, api: Api) -> None:
    browser.get("about:blank")
    browser.get(f"{api.base}/me#token={token_of('bob')}")
    wait(browser, lambda d: by_id(d, "app").is_displayed(), "the page after the fragment's token")
    assert "token=" not in browser.current_url
    assert "token=" not in browser.execute_script("return location.href")


def test_a_refusal_is_said_in_the_pages_language(browser: WebDriver, api: Api, fresh: Stack) -> None:
    """Bob's page is in English (his language); his phone's browser is French: api() sends the
    page's language as Accept-Language, so the API's refusal comes in English."""
    agent = browser.execute_script("return navigator.userAgent")
    browser.execute_cdp_cmd("Network.setUserAgentOverride",
                            {"userAgent": agent, "acceptLanguage": "fr-FR,fr;q=0.9"})  # a French phone
    try:
        log_in(browser, api.base, token_of("bob"))
        said = _test_page_until_refused(browser)
    finally:
        browser.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": agent})
    assert by_id(browser, "answer").get_attribute("data-ok") == "false", said
    assert "réessayez" not in said and "again" in said, f"bob's English page says {said!r}"


def _test_page_until_refused(driver: WebDriver) -> str:
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    button = driver.find_elements(By.CSS_SELECTOR, "#channels button.test-page")[0]
    channel = button.get_attribute("data-channel")
    for _ in range(4):
        driver.execute_script("document.getElementById('answer').dataset.action = ''")
        button.click()
        wait(driver, lambda d: by_id(d, "answer").get_attribute("data-action") == f"test-page:{channel}",
             "the test page's answer")
    return str(by_id(driver, "answer").text)


def test_an_error_hides_the_previous_answer(browser: WebDriver, api: Api) -> None:
    """A green "done" beside a red error would say the opposite: the error takes its place."""
    api.trigger(summary="Latency on api-3")
    number = last_number()
    escalate_to(api, number, 2)
    log_in(browser, api.base, token_of("carol"))
    click_action(browser, number, "acknowledge")
    assert by_id(browser, "answer").is_displayed()
    browser.execute_script("""
        const real = window.fetch;
        window.fetch = (path, init) => init && init.method === 'POST'
          ? Promise.reject(new TypeError('offline')) : real(path, init);""")
    card(browser, "mine", number).find_element(By.CSS_SELECTOR, "button[data-action='escalate']").click()
    wait(browser, lambda d: by_id(d, "message").is_displayed(), "the network error")
    assert "Le service ne répond pas" in by_id(browser, "message").text
    assert not by_id(browser, "answer").is_displayed()
    ready(browser)


def test_the_team_details_say_why_they_do_not_load(browser: WebDriver, api: Api) -> None:
    api.trigger(summary="Queue stuck on billing", dedup="team")
    theirs = last_number()
    log_in(browser, api.base, token_of("bob"))
    browser.execute_script("""
        const real = window.fetch, number = arguments[0];
        window.fetch = (path, init) => String(path) === '/v1/incidents/' + number
          ? Promise.resolve(new Response(JSON.stringify({error: 'boom', message: 'store down'}),
                                         {status: 500, headers: {'Content-Type': 'application/json'}}))
          : real(path, init);
        window.realFetch = real;""", theirs)
    summary = card(browser, "team", theirs).find_element(By.CSS_SELECTOR, "details.team-detail > summary")
    summary.click()
    wait(browser, lambda d: by_id(d, "message").is_displayed(), "the details' error")
    assert "500" in by_id(browser, "message").text and "store down" in by_id(browser, "message").text
    # Still there to act on; unfolded again once the service answers, the details come.
    assert card(browser, "team", theirs).find_elements(By.CSS_SELECTOR, "button[data-action='resolve']")
    browser.execute_script("window.fetch = window.realFetch")
    summary.click()
    summary.click()
    wait(browser, lambda d: card(d, "team", theirs).find_elements(By.CSS_SELECTOR, ".details"),
         "the team incident's details")


def test_logging_out_forgets_the_person(browser: WebDriver, api: Api) -> None:
    api.trigger(summary="Checkout 500s")
    number = last_number()
    escalate_to(api, number, 1)  # bob
    log_in(browser, api.base, token_of("bob"))
    click_action(browser, number, "acknowledge")
    assert "Checkout 500s" in by_id(browser, "mine").text
    by_id(browser, "logout").click()
    wait(browser, lambda d: by_id(d, "login-box").is_displayed(), "the token prompt")
    for section in ("mine", "team", "shifts", "swaps", "rules", "channels", "who"):
        assert by_id(browser, section).get_attribute("textContent") == "", f"#{section} still shows bob's"
    answer = by_id(browser, "answer")
    assert not answer.is_displayed() and answer.get_attribute("textContent") == ""
    assert "Checkout 500s" not in browser.find_element(By.TAG_NAME, "body").get_attribute("textContent")
    left = browser.execute_script("return [me, rows.length, detailsOf.size, shiftsAnswer, lastAnswer,"
                                  " sessionStorage.getItem('astreinte.token')]")
    assert left == [None, 0, 0, None, None, None], left

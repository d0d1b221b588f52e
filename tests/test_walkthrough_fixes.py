"""What a responder coming from PagerDuty found on issue 14's walkthrough, over HTTP: the SMS's
details page (/d/…) shows what changed on the service, the notes and a human timeline in the
person's language and time zone; French severity words agree with "gravité"; `make run`
says where its data really is."""
from __future__ import annotations

import copy
import re
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

import requests
from conftest import HELPDESK_KEY, Api

from chalicelib import changes, clock, links
from chalicelib.notify.templates import text
from chalicelib.rotas import directory

ALICE = "+33600000001"
DETAILS_LINK = re.compile(r"(?:détails|details) ?: (http://127\.0\.0\.1:\d+/d/[A-Za-z0-9_.-]+)$")
PARIS, NEW_YORK = ZoneInfo("Europe/Paris"), ZoneInfo("America/New_York")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class Page(HTMLParser):
    """The page as a browser reads it: its links and the text of each list item by list class."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.lists: dict[str, list[str]] = {}
        self.text: list[str] = []
        self._list: str | None = None
        self._item: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a":
            self.hrefs.append(found.get("href") or "")
        elif tag == "ul":
            self._list = found.get("class")
        elif tag == "li" and self._list:
            self._item = []
            self.lists.setdefault(self._list, [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._list and self._item is not None:
            self.lists[self._list].append(" ".join(" ".join(self._item).split()))
            self._item = None
        elif tag == "ul":
            self._list = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._item is not None:
            self._item.append(data)


def _auth(api: Api, token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or api.token}"}


def _change(api: Api, summary: str, **extra: Any) -> None:
    body = {"routing_key": HELPDESK_KEY, "payload": {"summary": summary, "source": "ci-pipeline"}, **extra}
    r = api.http.post(f"{api.base}/v2/change/enqueue", json=body, timeout=10)
    assert r.status_code == 202, r.text


def _note(api: Api, number: int, said: str) -> None:
    r = api.http.post(f"{api.base}/v1/incidents/{number}/note", json={"text": said}, headers=_auth(api),
                      timeout=10)
    assert r.status_code == 200, r.text


def _local(iso: str, zone: ZoneInfo, lang: str, full: bool = False) -> str:
    t = datetime.fromtimestamp(clock.parse_iso(iso), zone)
    if lang == "fr":
        return f"{t:%d/%m/%Y} à {t:%H:%M} ({zone})" if full else f"{t:%d/%m} {t:%H:%M}"
    day = f"{t.day} {MONTHS[t.month - 1]}"
    return f"{day} {t.year} at {t:%H:%M} ({zone})" if full else f"{day} {t:%H:%M}"


def _incident_with_history(api: Api) -> int:
    """Changes on the helpdesk service, then an incident: paged, acknowledged, two notes."""
    _change(api, "Old deploy, two hours before")
    clock.advance(3600 + 60)
    build = {"href": "https://ci.example.com/builds/42", "text": "Build 42"}
    _change(api, "Deploy api v1.4.2", links=[build])
    clock.advance(60)
    # A change stored before the intake kept only web links, its summary hostile.
    now = clock.now()
    changes.ChangeEvent("CHANGES#helpdesk", f"T#{clock.iso(now)}#old", at=now, received_at=now,
                        summary="<b>Flag</b> checkout-v2 on", source=None,
                        links=[{"href": "javascript:alert(1)", "text": "click me"}],
                        expires=int(now + 86400)).save()
    clock.advance(60)
    number = int(api.trigger(summary="5xx on api")["incident_number"])
    assert api.act(number, "acknowledge").status_code == 200  # carol, by the API
    _note(api, number, "Rollback de v1.4.2 en cours")
    clock.advance(120)
    _note(api, number, "Rollback fini, on surveille <script>")
    return number


# ---------------------------------------------------------------- 1. the details page

def test_the_details_page_shows_what_changed_the_notes_and_a_french_timeline(api: Api, fresh) -> None:
    number = _incident_with_history(api)
    sms = fresh.fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])
    found = DETAILS_LINK.search(sms["body"])
    assert found, sms["body"]
    r = requests.get(found.group(1), timeout=10)
    assert r.status_code == 200, r.text[:300]
    page = Page(r.text)
    said = " ".join(page.text)
    inc = api.incident(number)

    # When it was triggered, in Alice's time zone (Europe/Paris, rotas' default), and "élevée".
    assert f"Gravité élevée · pris en charge · source db-1 · déclenché le " \
           f"{_local(inc['created_at'], PARIS, 'fr', full=True)}" in said
    # What changed in the hour before: newest first, escaped, web links only.
    assert "Ce qui a changé (dans l'heure d'avant)" in said
    assert [c.split(" ", 2)[2] for c in page.lists["changes"]] == [
        "<b>Flag</b> checkout-v2 on", "Deploy api v1.4.2 (ci-pipeline) · Build 42"]
    assert "<b>Flag" not in r.text and "javascript:" not in r.text
    assert "https://ci.example.com/builds/42" in page.hrefs
    # Every note, newest first, escaped.
    assert [n.split(" · ", 1)[1] for n in page.lists["notes"]] == [
        "Carol Durand Rollback fini, on surveille <script>", "Carol Durand Rollback de v1.4.2 en cours"]
    assert "<script>" not in r.text
    # The timeline, newest first, as a person says it; no delivery receipts, no raw kinds.
    timeline = [t.split(" ", 2)[2] for t in page.lists["timeline"]]
    assert timeline == ["note de Carol Durand : Rollback fini, on surveille <script>",
                        "note de Carol Durand : Rollback de v1.4.2 en cours",
                        "pris en charge par Carol Durand", "Alice Martin appelé(e) par SMS",
                        "Alice Martin appelé(e) par Slack", "déclenché"], timeline
    first = page.lists["timeline"][-1]
    assert first.startswith(_local(inc["created_at"], PARIS, "fr")), first
    for raw in ("triggered", "delivery", "acknowledged", "(sms)", "events-api", "UTC"):
        assert raw not in said, raw

    # JSON gets the changes and the notes too.
    j = requests.get(found.group(1), headers={"Accept": "application/json"}, timeout=10).json()
    assert [c["summary"] for c in j["changes"]] == ["<b>Flag</b> checkout-v2 on", "Deploy api v1.4.2"]
    assert j["changes"][0]["links"] == []
    assert j["changes"][1]["links"] == [{"href": "https://ci.example.com/builds/42", "text": "Build 42"}]
    assert [(n["by"], n["text"]) for n in j["notes"]] == [
        ("carol", "Rollback fini, on surveille <script>"), ("carol", "Rollback de v1.4.2 en cours")]
    assert j["timeline"][0]["text"].startswith("note de Carol Durand") and j["timezone"] == "Europe/Paris"


def test_an_english_details_page_speaks_english_in_the_persons_time_zone(api: Api, fresh) -> None:
    bundle = copy.deepcopy(directory.bundle())
    bundle["people"]["bob"]["timezone"] = "America/New_York"
    directory.sync(bundle)
    directory.invalidate()
    number = _incident_with_history(api)
    r = api.http.post(f"{api.base}/v1/incidents/{number}/snooze", json={"minutes": 30}, headers=_auth(api),
                      timeout=10)
    assert r.status_code == 200, r.text
    until = clock.iso(clock.now() + 1800)
    r = api.http.post(f"{api.base}/v1/incidents/{number}/resolve", json={}, headers=_auth(api), timeout=10)
    assert r.status_code == 200, r.text

    page = Page(requests.get(links.details(number, 'bob'), timeout=10).text)
    said = " ".join(page.text)
    inc = api.incident(number)
    assert f"Severity high · resolved · source db-1 · triggered on " \
           f"{_local(inc['created_at'], NEW_YORK, 'en', full=True)}" in said
    assert "What changed (in the hour before)" in said and "Latest events" in said
    timeline = [t.split(" ", 3)[3] for t in page.lists["timeline"]]
    assert timeline[:2] == ["resolved by Carol Durand",
                            f"snoozed until {_local(until, NEW_YORK, 'en')}, by Carol Durand"], timeline
    assert "acknowledged by Carol Durand" in timeline and "Alice Martin paged by SMS" in timeline
    assert timeline[-1] == "triggered"
    assert page.lists["timeline"][-1].startswith(_local(inc["created_at"], NEW_YORK, "en"))
    assert "pris en charge" not in said and "déclenché" not in said and "delivery" not in said


# ---------------------------------------------------------------- 3. words that agree

def test_french_severity_agrees_after_gravite_and_the_sms_head_keeps_its_label() -> None:
    values = {"number": 12, "service": "Helpdesk", "summary": "Disque plein", "source": "db-1",
              "at": "04:58:15", "when": "05:58", "links": "", "name": "Alice", "link": ""}
    assert "gravité élevée, service Helpdesk" in text("fr", "email_page", sev="eleve", **values)
    assert "gravité moyenne," in text("fr", "voice_page", sev="moyen", **values)
    assert "gravité critique," in text("fr", "voice_page", sev="critique", **values)
    assert "severity high," in text("en", "voice_page", sev="eleve", **values)
    assert text("fr", "sms_page", sev="eleve", **values).startswith("[Astreinte] #12 ÉLEVÉ Helpdesk")
    assert text("fr", "email_page_subject", sev="eleve", **values).startswith("[Astreinte] #12 ÉLEVÉ ")
    assert "pour la sévérité élevée" in text("fr", "bad_target", sev="eleve", to="Bob", number=12)


def test_a_french_call_says_gravite_elevee(api: Api, fresh) -> None:
    """Over HTTP: Alice's voice rule covers every severity here; the call says "gravité élevée"."""
    bundle = copy.deepcopy(directory.bundle())
    for rule in bundle["people"]["alice"]["notify"]:
        rule.update(after=0, severities=["critique", "eleve", "moyen", "faible"])
    directory.sync(bundle)
    directory.invalidate()
    api.trigger(severity="error")
    call = fresh.fake.wait_for(kind="call", to=ALICE)
    said = fresh.fake.answer_call(call["sid"])
    assert "gravité élevée" in said and "gravité élevé," not in said, said

"""iCal feeds: read back with vobject, a parser independent of the icalendar library that
writes them, then fetched over HTTP with feed tokens (create, revoke, rotate).

The pure tests use tests/rotas (rota "support": agent alice, referent bob, manager carol,
direction dan, one person each) with the agent layer rotating between alice and carol, so
alice holds one week in two.  Times are Europe/Paris; summer time ends on Sunday 25
October 2026.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import vobject
from conftest import Api

from chalicelib.rotas import ical as calendars
from chalicelib.rotas import load as rotas

ROOT = Path(__file__).resolve().parent.parent
PARIS = ZoneInfo("Europe/Paris")
DAY = 86400
NOW = datetime(2026, 9, 1, 12, 34, tzinfo=UTC).timestamp()
VERSION = int(NOW // 60) - 600  # the data last changed ten hours before NOW


def bundle() -> dict[str, Any]:
    b = rotas.load_dir(ROOT / "tests" / "rotas")
    b["rotas"]["support"]["layers"]["agent"]["participants"] = ["alice", "carol"]
    return b


def parse(feed: bytes) -> Any:
    assert feed.startswith(b"BEGIN:VCALENDAR\r\n") and feed.endswith(b"END:VCALENDAR\r\n")
    return vobject.readOne(feed.decode("utf-8"))


def events(feed: bytes) -> list[Any]:
    return list(parse(feed).contents.get("vevent", []))


def by_uid(feed: bytes) -> dict[str, Any]:
    return {ev.uid.value: ev for ev in events(feed)}


def test_a_person_feed_is_a_publishable_calendar_with_its_time_zone() -> None:
    feed = calendars.person_feed(bundle(), "alice", NOW, VERSION)
    cal = parse(feed)
    assert cal.prodid.value == "-//Astreinte//Rotas//FR"
    assert cal.version.value == "2.0" and cal.calscale.value == "GREGORIAN"
    assert cal.method.value == "PUBLISH"
    assert cal.x_wr_calname.value == "Astreinte — Alice Martin"
    assert cal.x_wr_timezone.value == "Europe/Paris"
    assert [tz.tzid.value for tz in cal.vtimezone_list] == ["Europe/Paris"]
    unfolded = re.sub(r"\r\n[ \t]", "", feed.decode())
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in unfolded  # the form Outlook reads
    assert unfolded.count("DTSTART;TZID=Europe/Paris:") == unfolded.count("BEGIN:VEVENT") > 20
    for ev in events(feed):
        assert ev.dtstart.value.tzinfo is not None and ev.dtend.value > ev.dtstart.value
        assert ev.dtstamp.value == datetime.fromtimestamp(NOW, UTC).replace(microsecond=0)
        assert ev.transp.value == "TRANSPARENT"
        # vobject reads the offsets from our VTIMEZONE: summer and winter time
        local = ev.dtstart.value.astimezone(PARIS)
        assert ev.dtstart.value.utcoffset() == local.utcoffset()


def test_a_weekly_0900_handoff_stays_at_0900_across_the_end_of_summer_time() -> None:
    feed = calendars.rota_feed(bundle(), "support", NOW, VERSION)
    [ev] = [e for e in events(feed) if "(agent)" in e.summary.value
            and e.dtstart.value < datetime(2026, 10, 25, tzinfo=PARIS) < e.dtend.value]
    start, end = ev.dtstart.value, ev.dtend.value
    assert (start.month, start.day, start.hour, start.minute) == (10, 19, 9, 0)
    assert (end.month, end.day, end.hour, end.minute) == (10, 26, 9, 0)
    assert start.utcoffset().total_seconds() == 7200 and end.utcoffset().total_seconds() == 3600
    assert end.timestamp() - start.timestamp() == 7 * DAY + 3600  # the hour given back on 25 October


def test_uids_are_unique_and_stable_across_renders_and_days() -> None:
    b = bundle()
    today = by_uid(calendars.rota_feed(b, "support", NOW, VERSION))
    assert len(today) == len(events(calendars.rota_feed(b, "support", NOW, VERSION)))  # unique
    assert by_uid(calendars.rota_feed(b, "support", NOW + 3600, VERSION)).keys() == today.keys()
    tomorrow = by_uid(calendars.rota_feed(b, "support", NOW + DAY, VERSION))
    same = today.keys() & tomorrow.keys()
    assert len(same) >= len(today) - 1  # at most one old shift leaves the window per day
    for uid in same:
        assert today[uid].dtstart.value == tomorrow[uid].dtstart.value or today[uid].dtstart.value \
            == datetime.fromtimestamp(calendars.window(NOW)[0], UTC)  # only the cut one moves
    person = by_uid(calendars.person_feed(b, "alice", NOW, VERSION))
    assert not person.keys() & today.keys()  # each feed has its own UIDs
    assert all(uid.endswith("@astreinte") for uid in person)


def test_sequence_rises_when_the_data_changes_and_when_the_window_cuts_an_event() -> None:
    b = bundle()
    before = by_uid(calendars.rota_feed(b, "support", NOW, VERSION))
    after = by_uid(calendars.rota_feed(b, "support", NOW, VERSION + 5))
    assert before.keys() == after.keys()
    assert all(int(after[u].sequence.value) > int(before[u].sequence.value) for u in before)
    # A day later with the same data: events the window cuts change, and only they rise.
    later = by_uid(calendars.rota_feed(b, "support", NOW + DAY, VERSION))
    for uid in before.keys() & later.keys():
        old, new = before[uid], later[uid]
        seq_old, seq_new = int(old.sequence.value), int(new.sequence.value)
        changed = (old.dtstart.value, old.dtend.value) != (new.dtstart.value, new.dtend.value)
        assert seq_new > seq_old if changed else seq_new == seq_old
    assert any(int(ev.sequence.value) > VERSION for ev in later.values())  # the single-holder layers


def test_summaries_speak_the_persons_language() -> None:
    b = bundle()
    alice = {ev.summary.value for ev in events(calendars.person_feed(b, "alice", NOW, VERSION))}
    assert alice == {"Astreinte support — niveau 1 (agent)"}
    bob = parse(calendars.person_feed(b, "bob", NOW, VERSION))
    assert bob.x_wr_calname.value == "On call — Bob Smith"
    assert {ev.summary.value for ev in bob.vevent_list} == {"On call support — level 2 (referent)"}
    rota = {ev.summary.value for ev in events(calendars.rota_feed(b, "support", NOW, VERSION, "en"))}
    assert "On call support — level 4 (direction): Dan Moreau" in rota


def test_levels_follow_the_escalation_policies() -> None:
    assert calendars.levels(bundle(), "support") == {"agent": 1, "referent": 2, "manager": 3, "direction": 4}
    example = rotas.load_dir(ROOT / "rotas")  # permanence by day, astreinte by night: both level 1
    assert calendars.levels(example, "support") == {"permanence": 1, "astreinte": 1, "referent": 2,
                                                    "manager": 3, "direction": 4}


def test_the_description_names_the_escalation_contacts() -> None:
    ev = events(calendars.person_feed(bundle(), "alice", NOW, VERSION))[0]
    assert ev.description.value.splitlines() == [
        "Contacts d'escalade au début du créneau :",
        "- niveau 2 (referent) : Bob Smith, +447700900002",
        "- niveau 3 (manager) : Carol Durand, +33600000003",
        "- niveau 4 (direction) : Dan Moreau, +33600000004",
    ]
    bob = events(calendars.person_feed(bundle(), "bob", NOW, VERSION))[0]
    assert "- level 1 (agent): " in bob.description.value


def test_the_range_is_90_days_back_to_a_year_ahead() -> None:
    start, end = calendars.window(NOW)
    assert start == datetime(2026, 6, 3, tzinfo=UTC).timestamp()  # 90 days before 1 September
    assert end == datetime(2027, 9, 1, tzinfo=UTC).timestamp()  # 365 days after
    alice = events(calendars.person_feed(bundle(), "alice", NOW, VERSION))
    assert min(ev.dtstart.value for ev in alice).timestamp() >= start
    assert max(ev.dtend.value for ev in alice).timestamp() <= end
    assert min(ev.dtstart.value for ev in alice).timestamp() < start + 14 * DAY
    assert max(ev.dtend.value for ev in alice).timestamp() > end - 14 * DAY
    [bob] = events(calendars.person_feed(bundle(), "bob", NOW, VERSION))  # bob always holds his layer
    assert (bob.dtstart.value.timestamp(), bob.dtend.value.timestamp()) == (start, end)


# ---------------------------------------------------------------- over HTTP


def _post(api: Api, path: str, body: Any, token: str | None = "default") -> Any:
    headers = {"Authorization": f"Bearer {api.token if token == 'default' else token}"} if token else {}
    return api.http.post(f"{api.base}{path}", json=body, headers=headers, timeout=10)


def _fetch(url: str, api: Api) -> Any:
    return api.http.get(url, timeout=10)


def test_a_person_feed_over_http(api: Api) -> None:
    r = _post(api, "/v1/feeds", {"person": "alice"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["url"] == f"{api.base}/ical/{body['token']}.ics"
    assert body["webcal"].startswith("webcal://127.0.0.1:") and len(body["token"]) >= 32
    feed = _fetch(body["url"], api)
    assert feed.status_code == 200, feed.text
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"
    cal = parse(feed.content)
    assert cal.x_wr_calname.value == "Astreinte — Alice Martin"
    assert {ev.summary.value for ev in cal.vevent_list} == {"Astreinte support — niveau 1 (agent)"}
    assert _fetch(f"{api.base}/ical/{body['token']}", api).status_code == 200  # without .ics too

    rota = _post(api, "/v1/feeds", {"rota": "support"}).json()
    english = parse(_fetch(rota["url"] + "?lang=en", api).content)
    assert english.x_wr_calname.value == "On call support"
    assert len(english.vevent_list) == 4  # one person per layer: one long event each


def test_a_revoked_feed_is_gone(api: Api) -> None:
    token = _post(api, "/v1/feeds", {"person": "bob"}).json()["token"]
    r = api.http.delete(f"{api.base}/v1/feeds/{token}", headers={"Authorization": f"Bearer {api.token}"},
                        timeout=10)
    assert r.status_code == 204
    gone = _fetch(f"{api.base}/ical/{token}.ics", api)
    assert gone.status_code == 404 and gone.json()["error"] == "no_feed"
    again = api.http.delete(f"{api.base}/v1/feeds/{token}", headers={"Authorization": f"Bearer {api.token}"},
                            timeout=10)
    assert again.status_code == 404


def test_rotating_a_feed_stops_every_older_link(api: Api) -> None:
    first = _post(api, "/v1/feeds", {"rota": "support"}).json()
    second = _post(api, "/v1/feeds", {"rota": "support"}).json()
    other = _post(api, "/v1/feeds", {"person": "carol"}).json()
    rotated = _post(api, "/v1/feeds/rotate", {"rota": "support"})
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()
    assert new["token"] not in (first["token"], second["token"])
    assert _fetch(first["url"], api).status_code == 404
    assert _fetch(second["url"], api).status_code == 404
    assert _fetch(new["url"], api).status_code == 200
    assert _fetch(other["url"], api).status_code == 200  # another target's feed is untouched


def test_an_unknown_token_is_a_404(api: Api) -> None:
    r = _fetch(f"{api.base}/ical/not-a-real-token.ics", api)
    assert r.status_code == 404 and r.json()["error"] == "no_feed"


@pytest.mark.parametrize("body, problem", [
    ({}, '{"rota": "<id>"} or {"person": "<id>"}'),
    ({"rota": "support", "person": "alice"}, '{"rota": "<id>"} or {"person": "<id>"}'),
    ({"rota": "nope"}, "there is no rota 'nope'"),
    ({"person": 3}, "there is no person 3"),
])
def test_a_bad_feed_request_names_the_problem(api: Api, body: dict, problem: str) -> None:
    r = _post(api, "/v1/feeds", body)
    assert r.status_code == 400 and problem in r.json()["message"], r.text


def test_managing_feeds_needs_an_api_token(api: Api) -> None:
    assert _post(api, "/v1/feeds", {"person": "alice"}, token=None).status_code == 401
    assert _post(api, "/v1/feeds/rotate", {"person": "alice"}, token="wrong").status_code == 401
    token = _post(api, "/v1/feeds", {"person": "alice"}).json()["token"]
    assert api.http.delete(f"{api.base}/v1/feeds/{token}", timeout=10).status_code == 401
    assert api.http.post(f"{api.base}/v1/feeds", data=b"{not json", timeout=10,
                         headers={"Authorization": f"Bearer {api.token}"}).status_code == 400


@pytest.mark.parametrize("value", [
    "Astreinte Support — niveau 1 " * 6,
    "é" * 80,
    "contacts\\, référent\\; " * 10 + "\\\\" * 40,
])
def test_long_lines_fold_within_75_octets_and_unfold_to_the_same_text(value: str) -> None:
    from chalicelib.rotas.ical import _fold

    line = f"DESCRIPTION:{value}"
    folded = _fold(line)
    assert all(len(part) <= 75 for part in folded.split(b"\r\n"))
    assert folded.replace(b"\r\n ", b"").decode("utf-8") == line
    for part in folded.split(b"\r\n"):
        part.decode("utf-8")  # no UTF-8 character cut in two
        stripped = part.rstrip(b"\\")
        assert (len(part) - len(stripped)) % 2 == 0 or part is folded.split(b"\r\n")[-1]

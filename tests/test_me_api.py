"""The responders' own API over HTTP: GET /v1/me, /v1/me/shifts, POST /v1/me/test-page,
and the page GET /me, for people of tests/rotas (carol speaks French, bob English); what a
responder must not be able to do with them, and the test pages' sliding window."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any
from xml.etree import ElementTree

import requests
from conftest import Api

from devstack.stack import Stack


def token_of(person: str) -> str:
    from chalicelib import tokens

    return tokens.create(person, "me page")


def get(api: Api, path: str, token: str | None, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{api.base}{path}", params=params, headers=headers, timeout=10)


def post(api: Api, path: str, token: str | None, body: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.post(f"{api.base}{path}", json=body, headers=headers, timeout=10)


def test_without_a_token_nothing_is_said(api: Api) -> None:
    for path in ("/v1/me", "/v1/me/shifts"):
        r = get(api, path, None)
        assert r.status_code == 401, r.text
        assert r.json()["error"] == "unauthorised"
    assert get(api, "/v1/me", "ast_not-a-token").status_code == 401
    assert post(api, "/v1/me/test-page", None, {"channel": "sms"}).status_code == 401


def test_the_page_is_served_with_the_dashboards_headers(api: Api) -> None:
    r = requests.get(f"{api.base}/me", timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/html")
    dashboard = requests.get(f"{api.base}/dashboard", timeout=10)
    assert r.headers["Content-Security-Policy"] == dashboard.headers["Content-Security-Policy"]
    assert "astreinte.token" in r.text  # the dashboard's sessionStorage key: one login for both
    assert "innerHTML" not in r.text


def test_carol_sees_herself_in_french_with_her_channels_masked(api: Api) -> None:
    r = get(api, "/v1/me", token_of("carol"))
    assert r.status_code == 200, r.text
    me = r.json()
    assert (me["id"], me["name"], me["language"]) == ("carol", "Carol Durand", "fr")
    assert me["timezone"]
    assert me["roles"] == ["admin"] and me["role"] == "admin" and me["is_manager"] is True
    assert [t["id"] for t in me["teams"]] == ["support"] and me["teams"][0]["manager"] is True
    assert "helpdesk" in me["services"]
    assert me["rotas"] == ["support"]
    assert [rule["channel"] for rule in me["notify"]] == ["sms"]
    assert set(me["notify"][0]) == {"channel", "after_seconds", "severities"}
    channels = {c["channel"]: c for c in me["channels"]}
    assert {"sms", "voice", "slack", "email"} <= set(channels)
    sms = channels["sms"]
    assert sms["reachable"] and sms["in_rules"] and sms["testable"]
    assert sms["address"].startswith("+33 6") and sms["address"].endswith("03")
    assert "600000003" not in r.text  # her number, whole, is nowhere in the answer
    assert channels["slack"]["reachable"] and not channels["slack"]["in_rules"]
    assert channels["email"]["reachable"] is False and channels["email"]["address"] is None
    people = {p["id"]: p["name"] for p in me["directory"]["people"]}
    assert people["alice"] == "Alice Martin" and "phone" not in me["directory"]["people"][0]
    assert {p["id"] for p in me["directory"]["policies"]} >= {"standard", "critical"}


def test_bob_is_an_english_speaking_responder(api: Api) -> None:
    me = get(api, "/v1/me", token_of("bob")).json()
    assert (me["id"], me["language"], me["is_manager"], me["role"]) == ("bob", "en", False, "responder")
    assert [rule["channel"] for rule in me["notify"]] == ["voice"]
    assert me["teams"][0]["id"] == "support" and me["teams"][0]["manager"] is False


def test_alice_has_her_next_shifts_and_her_swaps(api: Api) -> None:
    from chalicelib import clock

    alice = token_of("alice")
    r = get(api, "/v1/me/shifts", alice, days=14)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["person"] == "alice" and answer["days"] == 14
    assert answer["shifts"], answer
    first = answer["shifts"][0]
    assert (first["rota"], first["layer"]) == ("support", "agent") and first["rota_name"]
    assert first["timezone"] == "Europe/Paris"
    assert answer["swaps"] == []
    # Bob covers Alice tomorrow for two hours: a swap on both their pages.
    start = clock.now() + 86400
    body = {"layer": "agent", "person": "bob", "replaces": "alice",
            "start": clock.iso(start), "end": clock.iso(start + 7200)}
    made = post(api, "/v1/rotas/support/overrides", api.token, body)
    assert made.status_code == 201, made.text
    swap = get(api, "/v1/me/shifts", alice).json()["swaps"]
    assert [(s["kind"], s["person"], s["replaces"], s["layer"]) for s in swap] == \
        [("covered", "bob", "alice", "agent")]
    assert swap[0]["person_name"] == "Bob Smith"
    bobs = get(api, "/v1/me/shifts", token_of("bob")).json()
    assert [s["kind"] for s in bobs["swaps"]] == ["covering"]
    assert any(s["layer"] == "agent" for s in bobs["shifts"])  # the hours he covers are his shift
    assert get(api, "/v1/me/shifts", alice, days=0).status_code == 400
    assert get(api, "/v1/me/shifts", alice, days=400).status_code == 400


def test_a_test_page_by_sms_reaches_carol_in_french_and_is_rate_limited(api: Api, fresh: Stack) -> None:
    fake = fresh.fake
    carol = token_of("carol")
    r = post(api, "/v1/me/test-page", carol, {"channel": "sms"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["result"] == "sent" and answer["channel"] == "sms"
    assert answer["message"].startswith("Page de test envoyée par sms")
    sms = fake.wait_for(kind="sms", to="+33600000003")
    assert "Page de test" in sms["body"] and "Carol Durand" in sms["body"]
    for _ in range(2):
        assert post(api, "/v1/me/test-page", carol, {"channel": "sms"}).status_code == 200
    limited = post(api, "/v1/me/test-page", carol, {"channel": "sms"})
    assert limited.status_code == 429, limited.text
    assert limited.json()["error"] == "rate_limited"
    wait = int(limited.headers["Retry-After"])
    assert 0 < wait <= 600 and f"{wait} s" in limited.json()["message"]
    assert "réessayez" in limited.json()["message"]
    assert len(fake.messages(kind="sms", to="+33600000003")) == 3
    # Another channel has its own allowance; once the first send is 10 minutes old, sms again.
    assert post(api, "/v1/me/test-page", carol, {"channel": "slack"}).status_code == 200
    from chalicelib import clock

    clock.advance(wait + 1)
    assert post(api, "/v1/me/test-page", carol, {"channel": "sms"}).status_code == 200


def test_test_pages_by_call_and_slack_speak_the_persons_language(api: Api, fresh: Stack) -> None:
    fake = fresh.fake
    bob = token_of("bob")
    r = post(api, "/v1/me/test-page", bob, {"channel": "voice"})
    assert r.status_code == 200, r.text
    assert r.json()["message"].startswith("Test page sent by voice")
    call = fake.wait_for(kind="call", to="+447700900002")
    assert "test call" in call["twiml"][0] and "Hangup" in call["twiml"][0]
    assert post(api, "/v1/me/test-page", bob, {"channel": "slack"}).status_code == 200
    dm = fake.wait_for(kind="slack", channel="U0BOB")
    assert "Test page for Bob Smith" in str(dm)


def test_a_bad_or_unreachable_channel_is_a_400_in_the_callers_language(api: Api) -> None:
    carol, bob = token_of("carol"), token_of("bob")
    for body in ({"channel": "pigeon"}, {}, {"channel": 3}):
        r = post(api, "/v1/me/test-page", carol, body)
        assert r.status_code == 400, r.text
        assert r.json()["error"] == "unknown_channel"
        assert "'channel' doit être l'un de" in r.json()["message"] and "sms" in r.json()["message"]
    r = post(api, "/v1/me/test-page", bob, {"channel": "pigeon"})
    assert r.status_code == 400 and "'channel' must be one of" in r.json()["message"], r.text
    r = post(api, "/v1/me/test-page", carol, {"channel": "email"})  # carol has no email address
    assert r.status_code == 400 and r.json()["error"] == "unreachable_channel", r.text
    assert "email ne vous joint pas, il manque une adresse e-mail à votre fiche" in r.json()["message"]
    r = post(api, "/v1/me/test-page", bob, {"channel": "email"})
    assert r.status_code == 400 and "cannot reach you" in r.json()["message"], r.text
    assert "your entry in people.yaml lacks an email address" in r.json()["message"]
    assert "has no an" not in r.json()["message"]
    # /v1/me says what each channel needs in both languages (the page shows the one it speaks).
    channels = {c["channel"]: c for c in get(api, "/v1/me", bob).json()["channels"]}
    assert channels["email"]["needs_label"] == {"fr": "une adresse e-mail", "en": "an email address"}
    assert channels["sms"]["needs_label"] == {"fr": "un numéro de téléphone", "en": "a phone number"}
    assert post(api, "/v1/me/test-page", carol, "sms").status_code == 400



def test_directory_is_names_only_and_no_one_elses_address_leaks(api: Api) -> None:
    from chalicelib.rotas import directory

    r = get(api, "/v1/me", token_of("bob"))
    assert r.status_code == 200, r.text
    me = r.json()
    assert all(set(p) == {"id", "name"} for p in me["directory"]["people"])
    assert all(set(p) == {"id", "name"} for p in me["directory"]["policies"])
    for pid, person in directory.bundle()["people"].items():
        for field in ("phone", "email", "slack"):
            value = person.get(field)
            if value and len(str(value)) > 5:
                assert str(value) not in r.text, f"{pid}'s {field} is in bob's /v1/me"
                digits = "".join(c for c in str(value) if c.isdigit())
                if len(digits) > 6:
                    assert digits[-7:] not in r.text, f"{pid}'s {field} (digits) is in bob's /v1/me"


def test_a_test_page_goes_to_the_caller_only_whatever_the_body_says(api: Api, fresh: Stack) -> None:
    bob = token_of("bob")
    r = post(api, "/v1/me/test-page", bob, {"channel": "sms", "person": "carol", "to": "+33600000003"})
    # bob has a phone: the sms goes to him, never to carol's number
    assert r.status_code in (200, 400), r.text
    assert fresh.fake.messages(kind="sms", to="+33600000003") == []


def test_the_rate_limit_holds_across_the_windows_edge(api: Api, fresh: Stack) -> None:
    """3 test pages per 10 minutes: not 6 within two seconds because a fixed window of the
    epoch ended between them (what keying slots by int(now // 600) allowed)."""
    from chalicelib import clock
    from chalicelib.routes.me import TEST_PAGES, TEST_WINDOW

    into = clock.now() % TEST_WINDOW
    clock.advance(TEST_WINDOW - into - 1)  # one second before a window ends
    carol = token_of("carol")
    sent = 0
    for _ in range(TEST_PAGES):
        sent += post(api, "/v1/me/test-page", carol, {"channel": "sms"}).status_code == 200
    clock.advance(2)  # two seconds later, the next window
    for _ in range(TEST_PAGES):
        sent += post(api, "/v1/me/test-page", carol, {"channel": "sms"}).status_code == 200
    assert sent <= TEST_PAGES, \
        f"{sent} test pages sent by sms within 3 seconds (limit {TEST_PAGES} per 10 min)"


def test_the_rate_limit_is_a_sliding_window_of_ten_minutes(api: Api, fresh: Stack) -> None:
    """Sent at 0, 200 and 400 s: refused at 500 s until 600 s (the first send's age), then one
    more, and refused again until the second send is 10 minutes old."""
    from chalicelib import clock

    carol = token_of("carol")
    for step in (0, 200, 200):
        clock.advance(step)
        r = post(api, "/v1/me/test-page", carol, {"channel": "sms"})
        assert r.status_code == 200, r.text
    clock.advance(100)  # 500 s after the first
    r = post(api, "/v1/me/test-page", carol, {"channel": "sms"})
    assert r.status_code == 429, r.text
    wait = int(r.headers["Retry-After"])
    assert 99 <= wait <= 100 and f"{wait} s" in r.json()["message"], (wait, r.json())
    clock.advance(wait)
    assert post(api, "/v1/me/test-page", carol, {"channel": "sms"}).status_code == 200
    r = post(api, "/v1/me/test-page", carol, {"channel": "sms"})
    assert r.status_code == 429, r.text
    assert 199 <= int(r.headers["Retry-After"]) <= 200, r.headers
    assert len(fresh.fake.messages(kind="sms", to="+33600000003")) == 4


def test_taps_at_once_take_three_slots_no_more(api: Api, fresh: Stack) -> None:
    """Eight taps in the same instant (a double tap, several tabs): the conditional writes
    give out three slots, the others are told to wait."""
    carol = token_of("carol")
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: post(api, "/v1/me/test-page", carol, {"channel": "slack"}),
                                range(8)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200] * 3 + [429] * 5, codes


def test_a_providers_refusal_keeps_the_messages_two_languages(api: Api, fresh: Stack) -> None:
    """Twilio refuses the SMS: a 502 saying so in the caller's language, the provider's own
    words apart (in the middle of the message, their text would cut it in two)."""
    fresh.fake.fail_next(1, status=400, service="twilio", kind="sms")
    r = post(api, "/v1/me/test-page", token_of("carol"), {"channel": "sms"})
    assert r.status_code == 502, r.text
    answer = r.json()
    assert answer["message"] == "sms n'a pas pris la page de test", answer
    assert answer["messages"] == {"en": "sms did not take the test page",
                                  "fr": "sms n'a pas pris la page de test"}, answer
    assert answer["reason"] and "400" in answer["reason"], answer


def test_the_test_call_twiml_escapes_the_name() -> None:
    from chalicelib.notify import voice

    said = voice.say("Page de test pour Tom & <Jerry> \"O'Brien\" </Say><Dial>+33600000000</Dial>", "fr")
    root = ElementTree.fromstring(said)
    assert [c.tag for c in root] == ["Say", "Hangup"], said
    assert "Dial" not in [e.tag for e in root.iter()]

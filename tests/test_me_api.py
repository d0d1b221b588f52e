"""The responders' own API over HTTP: GET /v1/me, /v1/me/shifts, POST /v1/me/test-page,
and the page GET /me, for people of tests/rotas (carol speaks French, bob English)."""
from __future__ import annotations

from typing import Any

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


def at_window_start() -> None:
    """Move the clock into the first minute of a ten-minute window, so that a test's sends
    all fall in one window of the rate limit."""
    from chalicelib import clock
    from chalicelib.routes.me import TEST_WINDOW

    into = clock.now() % TEST_WINDOW
    if into > 60:
        clock.advance(TEST_WINDOW - into + 1)


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
    at_window_start()
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
    # Another channel has its own allowance; the next window, sms again.
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
    assert "ne vous joint pas" in r.json()["message"]
    r = post(api, "/v1/me/test-page", bob, {"channel": "email"})
    assert r.status_code == 400 and "cannot reach you" in r.json()["message"], r.text
    assert post(api, "/v1/me/test-page", carol, "sms").status_code == 400


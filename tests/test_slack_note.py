"""A note from Slack, as Slack apps take one: the page's *Ajouter une note* button opens a modal
(views.open with the click's trigger_id), and its submission (a signed view_submission posted
to the interactivity URL) adds the note for the person who typed it, through the same function
as the API.  Driven over HTTP through the fake Slack: what the clicker sees (the modal, in their
language; the field's error; the modal closed), the timeline, and the notices the others get.
"""
from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import pytest
from conftest import Api
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from chalicelib.notify import slack

ALICE = "+33600000001"


def open_critical(api: Api, fake: Any) -> int:
    """A critical incident: Alice paged (Slack DM and SMS) and the team channel C0SUPPORT."""
    number = api.trigger(severity="critical", summary="Site down")["incident_number"]
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])
    return number


def note_button(message: dict) -> dict:
    [button] = [b["accessory"] for b in message["blocks"] or []
                if b.get("type") == "section" and (b.get("accessory") or {}).get("action_id") == "note"]
    return button


def actions_row(message: dict) -> list[str]:
    return [el["action_id"] for b in message["blocks"] or [] if b.get("type") == "actions"
            for el in b["elements"]]


def click_note(fake: Any, message: dict, user: str) -> dict:
    """Click the page's Note button as `user`; the modal the app opened for that click."""
    status, body = fake.click(message["ts"], "note", user)
    assert (status, body) == (200, ""), body
    trigger = fake.messages(kind="slack_interaction")[-1]["payload"]["trigger_id"]
    return fake.wait_for(kind="slack_view", trigger_id=trigger)


def typed(view: dict) -> dict:
    """The modal's one input (block and element)."""
    [block] = [b for b in view["view"]["blocks"] if b["type"] == "input"]
    return block


def notes(api: Api, number: int) -> list[tuple[str, str, str]]:
    return [(e["actor"], e["channel"], e["detail"]["text"]) for e in api.incident(number)["timeline"]
            if e["kind"] == "note"]


def test_note_from_a_slack_page_opens_a_modal_in_the_clickers_language(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_critical(api, fake)
    channel_page = fake.wait_for(kind="slack", channel="C0SUPPORT")
    dm = fake.wait_for(kind="slack", channel="U0ALICE")
    assert note_button(dm)["text"]["text"] == "Ajouter une note" and note_button(dm)["value"] == str(number)
    assert actions_row(dm) == ["ack", "resolve", "escalate"]  # the row of actions is unchanged

    # Bob (English) clicks Note on the team channel's page: his modal is in English.
    view = click_note(fake, channel_page, "U0BOB")
    assert view["user"] == "U0BOB" and view["title"] == f"Note on #{number}"
    assert view["view"]["private_metadata"] == str(number) and view["view"]["callback_id"] == "note"
    assert view["view"]["submit"]["text"] == "Add" and view["view"]["close"]["text"] == "Cancel"
    block = typed(view)
    assert block["block_id"] == "note" and block["label"]["text"] == "Your note (sent to the others paged)"
    assert block["element"]["type"] == "plain_text_input" and block["element"]["multiline"] is True
    assert "Site down" in json.dumps(view["view"]["blocks"])
    mark = len(fake.messages())

    status, body = fake.submit_view(view["view_id"], "U0BOB", {"note": "  Looking at the RAID controller  "})

    assert (status, body) == (200, "")  # an empty 200: Slack closes the modal
    assert fake.wait_for(kind="slack_view", view_id=view["view_id"])["open"] is False
    assert notes(api, number) == [("bob", "slack", "Looking at the RAID controller")]
    # Alice, paged, is told in French; Bob, who wrote it, is told nothing.
    told = fake.wait_for(kind="slack", channel="U0ALICE", predicate=lambda m: "note de" in (m["text"] or ""))
    assert told["text"] == f"[Astreinte] #{number} note de Bob Smith : Looking at the RAID controller"
    assert not [m for m in fake.messages()[mark:] if m.get("channel") == "U0BOB"]

    # Slack delivering the same submission again adds nothing and tells nobody twice.
    first = fake.messages(kind="slack_view_submission")[-1]
    assert fake.submit_view(view["view_id"], "U0BOB", raw_body=first["raw_body"]) == (200, "")
    assert notes(api, number) == [("bob", "slack", "Looking at the RAID controller")]
    told_alice = [m for m in fake.messages(kind="slack", channel="U0ALICE") if "note de" in (m["text"] or "")]
    assert len(told_alice) == 1

    # Alice (French) gets her modal in French, from her own page.
    hers = click_note(fake, dm, "U0ALICE")
    assert hers["title"] == f"Note sur #{number}" and hers["view"]["submit"]["text"] == "Ajouter"
    assert typed(hers)["label"]["text"] == "Votre note (envoyée aux autres personnes appelées)"
    assert fake.submit_view(hers["view_id"], "U0ALICE", {"note": "Disque remplacé"}) == (200, "")
    assert [n[0] for n in notes(api, number)] == ["bob", "alice"]


def test_an_empty_or_too_long_note_keeps_the_modal_open_with_the_reason(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_critical(api, fake)
    view = click_note(fake, fake.wait_for(kind="slack", channel="U0ALICE"), "U0ALICE")

    for bad in ("   ", "x" * 2001):
        status, body = fake.submit_view(view["view_id"], "U0ALICE", {"note": bad})
        assert status == 200
        assert json.loads(body) == {"response_action": "errors",
                                    "errors": {"note": "Écrivez une note de 1 à 2000 caractères."}}
        assert fake.wait_for(kind="slack_view", view_id=view["view_id"])["open"] is True
    assert notes(api, number) == []

    assert fake.submit_view(view["view_id"], "U0ALICE", {"note": "ok, je regarde"}) == (200, "")
    assert notes(api, number) == [("alice", "slack", "ok, je regarde")]


def test_a_strangers_click_or_submission_changes_nothing(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_critical(api, fake)
    channel_page = fake.wait_for(kind="slack", channel="C0SUPPORT")

    # Someone Slack knows and rotas/ does not: no modal, told why, privately.
    assert fake.click(channel_page["ts"], "note", "U0STRANGER") == (200, "")
    said = fake.wait_for(kind="slack_ephemeral", channel="C0SUPPORT")
    assert said["user"] == "U0STRANGER" and "annuaire" in said["text"]
    assert fake.messages(kind="slack_view") == []

    # A submission in a stranger's name (say, removed from rotas/ since the modal opened).
    view = click_note(fake, channel_page, "U0BOB")
    status, body = fake.submit_view(view["view_id"], "U0STRANGER", {"note": "let me in"})
    assert status == 200 and json.loads(body)["response_action"] == "errors"
    assert "annuaire" in json.loads(body)["errors"]["note"]
    assert notes(api, number) == []


def test_a_note_on_an_incident_gone_is_said_in_the_modal(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_critical(api, fake)
    view = click_note(fake, fake.wait_for(kind="slack", channel="U0ALICE"), "U0ALICE")
    submitted = fake._view_submission(view["view"], "U0ALICE", {"note": "x"})
    submitted["view"]["private_metadata"] = str(number + 1000)  # a view we never opened
    raw = urllib.parse.urlencode({"payload": json.dumps(submitted)})

    status, body = fake.submit_view(view["view_id"], "U0ALICE", raw_body=raw)

    assert status == 200 and json.loads(body)["errors"] == {"note": f"Aucun incident #{number + 1000}."}


def test_the_note_button_is_on_open_pages_only() -> None:
    view = {"number": 7, "service": "H", "sev": "eleve", "summary": "s", "source": "x", "at": "10:00:00"}
    for state, shown in (("triggered", True), ("acknowledged", True), ("resolved", False)):
        _, blocks = slack.page_blocks("en", view, state)
        accessories = [b["accessory"]["action_id"] for b in blocks if b.get("accessory")]
        assert accessories == (["note"] if shown else []), state
    modal = slack.note_modal("fr", 12345678, "s" * 500, 2000)
    assert len(modal["title"]["text"]) <= 24 and modal["blocks"][1]["element"]["max_length"] == 2000


def test_the_fake_refuses_a_trigger_slack_would_refuse(fresh) -> None:
    fake = fresh.fake
    client = WebClient(token=fake.slack_bot_token, base_url=f"{fake.url}/api/")
    modal = slack.note_modal("en", 1, "s", 2000)
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id="123.456.abc", view=modal)
    assert exc.value.response["error"] == "invalid_trigger_id"

    trigger = fake._trigger("U0BOB", 0.0)  # given long ago: more than 3 seconds
    with pytest.raises(SlackApiError) as exc:
        client.views_open(trigger_id=trigger, view=modal)
    assert exc.value.response["error"] == "expired_trigger_id"

    trigger = fake._trigger("U0BOB", time.time())
    assert client.views_open(trigger_id=trigger, view=modal)["view"]["id"].startswith("V")
    with pytest.raises(SlackApiError) as exc:  # once only
        client.views_open(trigger_id=trigger, view=modal)
    assert exc.value.response["error"] == "exchanged_trigger_id"
    with pytest.raises(SlackApiError) as exc:  # a title longer than Slack's 24 characters
        client.views_open(trigger_id=fake._trigger("U0BOB", time.time()),
                          view={**modal, "title": {"type": "plain_text", "text": "x" * 25}})
    assert exc.value.response["error"] == "invalid_arguments"

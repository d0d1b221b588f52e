"""Inbound webhooks are believed only when signed: forged or stale Twilio and Slack requests
are refused with 403 JSON and change nothing; genuine Twilio status callbacks land on the
timeline once, however often Twilio retries them."""
from __future__ import annotations

import json
import time
import urllib.parse
from typing import Any

import requests
from conftest import Api, kinds
from twilio.request_validator import RequestValidator

from chalicelib import clock, incidents

ALICE = "+33600000001"
FORGED_TOKEN = "not-the-twilio-auth-token"


# ---------------------------------------------------------------- helpers

def open_incident(api: Api, fake: Any, severity: str = "error") -> int:
    number = api.trigger(dedup="db-1-disk", severity=severity)["incident_number"]
    fake.wait_for(kind="sms", to=ALICE, predicate=lambda m: f"#{number} " in m["body"])
    return number


def twilio_post(url: str, params: dict[str, str], auth_token: str | None) -> requests.Response:
    """POST a form as Twilio would, signed with `auth_token` (None: no signature header)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if auth_token is not None:
        headers["X-Twilio-Signature"] = RequestValidator(auth_token).compute_signature(url, params)
    return requests.post(url, data=urllib.parse.urlencode(params), headers=headers, timeout=10)


def call_params(digits: str | None = None) -> dict[str, str]:
    params = {"CallSid": "CA" + "1" * 32, "AccountSid": "AC" + "0" * 32, "From": "+33900000000",
              "To": ALICE, "CallStatus": "in-progress", "Direction": "outbound-api"}
    if digits is not None:
        params["Digits"] = digits
    return params


def assert_refused(status: int, text: str) -> None:
    assert status == 403, text
    body = json.loads(text)
    assert body["error"] == "bad_signature" and body["message"], body


def deliveries(inc: dict) -> list[dict]:
    return [e for e in inc["timeline"] if e["kind"] == "delivery"]


# ---------------------------------------------------------------- Twilio

def test_unsigned_and_forged_sms_replies_are_refused(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    before = kinds(api.incident(number))

    assert_refused(*fake.reply_sms(ALICE, f"4 {number}", sign=False))
    assert_refused(*fake.reply_sms(ALICE, f"4 {number}", bad_signature=True))

    inc = api.incident(number)
    assert inc["state"] == "triggered" and kinds(inc) == before
    # ... while the same reply, signed, is believed.
    status, _ = fake.reply_sms(ALICE, f"4 {number}")
    assert status == 200 and api.incident(number)["acknowledged_by"] == "alice"


def test_forged_voice_keypad_callback_is_refused(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    url = f"{api.base}/webhooks/twilio/gather/{number}.alice"

    for token in (None, FORGED_TOKEN):
        r = twilio_post(url, call_params("4"), token)
        assert_refused(r.status_code, r.text)
    assert api.incident(number)["state"] == "triggered"

    genuine = twilio_post(url, call_params("4"), fake.twilio_auth_token)
    assert genuine.status_code == 200, genuine.text
    assert api.incident(number)["acknowledged_by"] == "alice"


def test_forged_voice_answer_callback_is_refused(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    url = f"{api.base}/webhooks/twilio/voice/{number}.alice"

    r = twilio_post(url, call_params(), FORGED_TOKEN)

    assert_refused(r.status_code, r.text)
    assert "Disk full" not in r.text  # the page is not read to a forger


def test_forged_status_callback_is_refused(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    sms = fake.wait_for(kind="sms", to=ALICE)
    url = sms["status_callback"]
    params = {"MessageSid": sms["sid"], "MessageStatus": "delivered", "AccountSid": "AC" + "0" * 32,
              "To": ALICE, "From": sms["from"]}

    for token in (None, FORGED_TOKEN):
        r = twilio_post(url, params, token)
        assert_refused(r.status_code, r.text)

    assert deliveries(api.incident(number)) == []


# ---------------------------------------------------------------- Slack

def test_slack_click_with_bad_signature_is_refused(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    dm = fake.wait_for(kind="slack", channel="U0ALICE")

    assert_refused(*fake.click(dm["ts"], "ack", "U0ALICE", bad_signature=True))

    assert api.incident(number)["state"] == "triggered"
    assert fake.wait_for(kind="slack", channel="U0ALICE")["updates"] == []


def test_slack_click_with_stale_timestamp_is_refused(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    dm = fake.wait_for(kind="slack", channel="U0ALICE")

    assert_refused(*fake.click(dm["ts"], "ack", "U0ALICE", timestamp=int(time.time()) - 600))

    assert api.incident(number)["state"] == "triggered"
    assert fake.wait_for(kind="slack", channel="U0ALICE")["updates"] == []
    # The same click, fresh, is believed.
    assert fake.click(dm["ts"], "ack", "U0ALICE")[0] == 200
    assert api.incident(number)["acknowledged_by"] == "alice"


# ---------------------------------------------------------------- status callbacks

def test_sms_status_callbacks_are_recorded_once(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    sms = fake.wait_for(kind="sms", to=ALICE)

    assert fake.message_status(sms["sid"], "delivered") < 300
    assert fake.message_status(sms["sid"], "delivered") < 300  # Twilio retried

    [delivered] = deliveries(api.incident(number))
    assert delivered["channel"] == "sms" and delivered["actor"] == "alice"
    assert delivered["detail"]["status"] == "delivered" and delivered["detail"]["ref"] == sms["sid"]


def test_failed_sms_status_is_recorded_with_its_error(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake)
    sms = fake.wait_for(kind="sms", to=ALICE)

    assert fake.message_status(sms["sid"], "failed", "30006") < 300
    assert fake.message_status(sms["sid"], "failed", "30006") < 300

    [failed] = deliveries(api.incident(number))
    assert failed["detail"]["status"] == "failed" and failed["detail"]["error_code"] == "30006"


def test_call_completed_is_recorded_once_with_duration(api: Api, fresh) -> None:
    fake = fresh.fake
    number = open_incident(api, fake, severity="critical")
    clock.advance(121)
    incidents.sweep()
    call = fake.wait_for(kind="call", to=ALICE)

    assert fake.call_status(call["sid"], "completed", duration=42) < 300
    assert fake.call_status(call["sid"], "completed", duration=42) < 300

    [completed] = deliveries(api.incident(number))
    assert completed["channel"] == "voice" and completed["actor"] == "alice"
    assert completed["detail"]["status"] == "completed"
    assert completed["detail"]["duration_seconds"] == 42

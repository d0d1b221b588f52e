"""The channel registry and the page reference providers call back with (no server)."""
from __future__ import annotations

import pytest

from chalicelib import errors
from chalicelib.notify import channels, templates


def test_every_channel_says_what_it_needs_from_a_person() -> None:
    assert {"sms", "voice", "slack", "email"} <= set(channels.names())
    person = {"phone": "+33600000001", "slack": "U0A", "email": "a@example.org"}
    for name in channels.names():
        channel = channels.get(name)
        assert channel.address(person) == person[channel.needs]
        assert channel.address({}) is None  # rota validation refuses a rule the person cannot receive
    assert not channels.get("voice").tells  # a call only to say "taken" would wake someone
    assert channels.get("slack").updates_in_place


def test_an_unknown_channel_is_a_bad_request_naming_the_known_ones() -> None:
    with pytest.raises(errors.BadRequest, match="'fax' is not a channel.*email"):
        channels.get("fax")


@pytest.mark.parametrize("ref", ["12.alice.sms", "7.bob.voice", "3.zoé-1.email"])
def test_a_page_reference_reads_back_what_it_says(ref: str) -> None:
    parsed = channels.PageRef.parse(ref)
    assert str(parsed) == ref and parsed.number == int(ref.split(".")[0])


@pytest.mark.parametrize("ref", ["x.alice.sms", "12.alice.fax", "12..sms", "²3.alice.sms",
                                 "9" * 40 + ".a.sms", "12.alice"])
def test_a_malformed_page_reference_is_a_bad_request(ref: str) -> None:
    with pytest.raises(errors.BadRequest, match="not a page reference"):
        channels.PageRef.parse(ref)


def test_a_call_reference_has_no_channel() -> None:
    assert channels.PageRef.parse("12.alice", with_channel=False) == channels.PageRef(12, "alice")


def test_voice_counts_an_answered_call_as_work_and_sms_never() -> None:
    voice, sms = channels.get("voice"), channels.get("sms")
    answered = voice.delivery_report({"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "42"})
    assert answered.answered and answered.duration_seconds == 42
    rang_out = voice.delivery_report({"CallSid": "CA2", "CallStatus": "no-answer", "CallDuration": "0"})
    assert not rang_out.answered
    assert voice.delivery_report({"CallSid": "CA3", "CallStatus": "completed", "CallDuration": "abc"}) \
        .duration_seconds is None
    delivered = sms.delivery_report({"MessageSid": "SM1", "MessageStatus": "delivered"})
    assert delivered.status == "delivered" and delivered.provider_id == "SM1" and not delivered.answered


def test_every_email_text_exists_in_both_languages() -> None:
    for key in ("email_page", "email_page_subject", "summary_subject", "rest_subject", "handoff_subject"):
        assert templates.TEXTS["fr"][key] and templates.TEXTS["en"][key]
        assert templates.TEXTS["fr"][key] != templates.TEXTS["en"][key]


@pytest.mark.parametrize(("kind", "status"), [(errors.BadRequest, 400), (errors.Unauthorised, 401),
                                              (errors.BadSignature, 403), (errors.NotFound, 404),
                                              (errors.TooLarge, 413), (errors.Unavailable, 503)])
def test_each_kind_of_failure_has_one_http_answer(kind: type[errors.ServiceError], status: int) -> None:
    code, body, _ = errors.http_answer(kind("what went wrong"))
    assert code == status and body["message"] == "what went wrong" and body["error"] == kind.code


def test_a_rate_limit_says_when_to_retry() -> None:
    status, body, headers = errors.http_answer(errors.RateLimited("slow down", retry_after=17))
    assert status == 429 and headers == {"Retry-After": "17"} and body["error"] == "rate_limited"

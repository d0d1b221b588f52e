"""Properties of the code that reads what strangers send, checked on generated input.

Every intake parser, given any JSON (generated, or a saved payload with keys dropped, values of
the wrong type, lone surrogates, control characters and huge numbers), either returns events a
person can be paged with, or raises InvalidEvent naming the problem (a 400) - never another
exception, which the API would answer with a 500 and the monitoring tool would retry forever.
The SMS reply parser, given any text a phone can send, returns a known action or None.

No server: these are `unit` tests (see conftest.py), bounded and repeatable.
"""
from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import pd_event
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib import errors, replies
from chalicelib.intake import (
    InvalidEvent,
    alertmanager,
    cloudwatch,
    freshdesk,
    generic,
    grafana,
    jira,
    opsgenie,
    pagerduty,
    zendesk,
)

pytestmark = pytest.mark.unit

PAYLOADS = Path(__file__).parent / "payloads"
BOUNDED = settings(max_examples=200, derandomize=True, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
HUGE = "\u2603HUGE-INT\u2603"  # a marker, replaced in the bytes by a number no JSON encoder writes
HUGE_DIGITS = b"9" * 5000
ACTIONS = {"trigger", "acknowledge", "resolve"}
SEVERITIES = {"critique", "eleve", "moyen", "faible"}

GENERIC = {"summary": "alert.title", "dedup_key": "alert.id", "severity": "alert.level", "source": "host",
           "severity_map": {"P1": "critique", "P5": "faible"},
           "resolve_when": {"path": "state", "equals": "ok"},
           "acknowledge_when": {"path": "state", "equals": "ack"}}


def _cloudwatch_alarm(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Any]:
    """The alarm inside an SNS Notification, once the envelope is verified (signing it needs the
    fake SNS's certificate server: the envelope itself is fuzzed through `cloudwatch.parse`)."""
    message = {"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:aws:sns:eu-west-3:1:alarms",
               "Message": raw.decode("utf-8", "replace")}
    return cloudwatch._alarm_events(message, options)


def _pagerduty_event(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Any]:
    """/v2/enqueue's own parser (routing_key in the body) when options say so, else parse()."""
    if options.get("enqueue"):
        return [pagerduty.parse_event(raw)]
    return pagerduty.parse(raw, headers, {})


def _opsgenie_action(raw: bytes, headers: dict[str, str], options: dict[str, Any]) -> list[Any]:
    return opsgenie.parse_action(options["action"], "db-1-disk", raw, "alias")


Parser = Callable[[bytes, dict[str, str], dict[str, Any]], list[Any]]
# (name, parse, the options it is tried with, exceptions it may raise besides InvalidEvent)
PARSERS: list[tuple[str, Parser, list[dict[str, Any]], tuple[type[Exception], ...]]] = [
    ("pagerduty", _pagerduty_event, [{}, {"enqueue": True}], ()),
    ("generic", generic.parse, [GENERIC, {"summary": "alert.title"}], ()),
    ("alertmanager", alertmanager.parse, [{}, {"group_by": "group"}], ()),
    ("grafana", grafana.parse, [{}, {"group_by": "group"}], ()),
    ("opsgenie", opsgenie.parse, [{}], ()),
    ("opsgenie-action", _opsgenie_action, [{"action": "acknowledge"}, {"action": "close"}], ()),
    ("jira", jira.parse, [{}], ()),
    ("zendesk", zendesk.parse, [{}], ()),
    ("freshdesk", freshdesk.parse, [{}], ()),
    # An SNS envelope that is not signed is refused as SNS refuses it: 403 BadSignature.
    ("cloudwatch", cloudwatch.parse, [{}], (errors.BadSignature,)),
    ("cloudwatch-alarm", _cloudwatch_alarm, [{}, {"severity": "critical"}], ()),
]
IDS = [p[0] for p in PARSERS]


def _load(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


SNS_ENVELOPE = {"Type": "Notification", "MessageId": "0f6e6f32-8f8c-5b8e-9c1f-1f7a9d6a1e0b",
                "TopicArn": "arn:aws:sns:eu-west-3:123456789012:alarms", "Subject": "ALARM",
                "Message": json.dumps({"AlarmName": "db-1 CPU", "NewStateValue": "ALARM",
                                       "NewStateReason": "Threshold crossed", "Region": "EU (Paris)",
                                       "AWSAccountId": "123456789012"}),
                "Timestamp": "2026-11-03T02:00:00.000Z", "SignatureVersion": "1", "Signature": "c2ln",
                "SigningCertURL": "https://certs.example.invalid/SimpleNotificationService.pem"}
ALARM = {"AlarmName": "db-1 CPU", "AlarmDescription": "CPU above 90%", "AWSAccountId": "123456789012",
         "NewStateValue": "ALARM", "NewStateReason": "Threshold Crossed: 1 datapoint [97.0]",
         "StateChangeTime": "2026-11-03T02:00:00.000+0000", "Region": "EU (Paris)",
         "AlarmArn": "arn:aws:cloudwatch:eu-west-3:123456789012:alarm:db-1 CPU", "OldStateValue": "OK",
         "Trigger": {"MetricName": "CPUUtilization", "Threshold": 90.0}}

# The saved (or smallest realistic) payload of each parser, the seed of the mutations.
SEEDS: dict[str, Any] = {
    "pagerduty": {"routing_key": "k", **pd_event(dedup="db-1-disk", custom_details={"disk": "/var"})},
    "generic": {"alert": {"title": "Checkout latency", "id": 4242, "level": "P1"}, "host": "web-3",
                "state": "alerting"},
    "alertmanager": _load("alertmanager_one_resolved.json"),
    "grafana": _load("grafana_firing.json"),
    "opsgenie": _load("opsgenie_create_alert.json"),
    "opsgenie-action": {"user": "Monitoring Script", "source": "script", "note": "on it"},
    "jira": _load("jira_issue_created.json"),
    "zendesk": _load("zendesk_ticket.json"),
    "freshdesk": _load("freshdesk_ticket.json"),
    "cloudwatch": SNS_ENVELOPE,
    "cloudwatch-alarm": ALARM,
}


# ---------------------------------------------------------------- strategies

HOSTILE_TEXT = st.sampled_from(["\ud800", "a\udfffb", "\x00", "\x07\x1b[31m", "\u202e", "\ufeff", "²", "٣",
                                "1_000", "-0", "NaN", "", " ", "x" * 5000, "é" * 2000, "\r\n", HUGE])
# Numbers JSON can carry that Python reads as inf/nan (1e999, NaN) or that no store keeps.
HOSTILE_NUMBERS = st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -(2**63) - 1, 2**64, -0.0])
HOSTILE = st.one_of(HOSTILE_TEXT, HOSTILE_NUMBERS)
TEXT = st.one_of(st.text(max_size=40), st.text(st.characters(), max_size=12), HOSTILE_TEXT)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30),
                    st.floats(allow_nan=True, allow_infinity=True), TEXT)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                    st.dictionaries(TEXT, inner, max_size=5)), max_leaves=25)


def encode(doc: Any) -> bytes:
    """The JSON text a client would send: lone surrogates as \\udxxx escapes, NaN/Infinity as
    Python writes them, and the HUGE marker as a 5,000-digit number."""
    return json.dumps(doc).encode().replace(json.dumps(HUGE).encode(), HUGE_DIGITS)


def _paths(doc: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*here, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*here, i))
    return out


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def mutated(draw: st.DrawFn, seed: Any) -> Any:
    """The seed with up to four changes: a key or item dropped, a value replaced by another
    type or by hostile text, a string given hostile text inside it."""
    doc = copy.deepcopy(seed)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["drop", "replace", "hostile", "inject"]))
        if not path:  # the document itself
            if op == "replace":
                doc = draw(JSON)
            continue
        parent, last = _at(doc, path[:-1]), path[-1]
        if op == "drop":
            del parent[last]
        elif op == "replace":
            parent[last] = draw(JSON)
        elif op == "hostile":
            parent[last] = draw(HOSTILE)
        elif isinstance(parent[last], str):
            value = parent[last]
            cut = draw(st.integers(0, len(value)))
            parent[last] = value[:cut] + draw(HOSTILE_TEXT.filter(lambda t: t != HUGE)) + value[cut:]
    return doc


# ---------------------------------------------------------------- what a parser may answer

def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [*_strings(k), *_strings(v)]]
    if isinstance(value, list | tuple):
        return [s for v in value for s in _strings(v)]
    return []


def _numbers(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list | tuple):
        return [n for v in value for n in _numbers(v)]
    return []


def check_parser(name: str, parse: Parser, options: dict[str, Any], also: tuple[type[Exception], ...],
                 raw: bytes, finite: bool = False) -> None:
    """Events a person can be paged with, or a refusal that names the problem; `finite`: and
    no NaN/Infinity in them (test_nan_and_infinity_are_not_kept says why)."""
    try:
        events = parse(raw, {}, copy.deepcopy(options))
    except InvalidEvent as exc:
        assert exc.errors and all(isinstance(e, str) and e for e in exc.errors), exc.errors
        assert exc.status in (400, 409, 422), exc.status
        return
    except also:
        return
    assert isinstance(events, list), events
    for event in events:
        assert isinstance(event, dict), event
        assert event.get("action") in ACTIONS, event
        assert isinstance(event["dedup_key"], str) and event["dedup_key"], event
        if event["action"] == "trigger":
            assert isinstance(event.get("summary"), str) and event["summary"].strip(), event
            assert event.get("severity") in SEVERITIES, event
        # What is stored is shown again (JSON answers, CSV, SMS, TwiML): valid UTF-8 text without
        # the control characters XML refuses, and numbers a JSON reader (or DynamoDB) takes.
        for s in _strings(event):
            assert not any("\ud800" <= c <= "\udfff" for c in s), f"{name}: lone surrogate kept in {s!r}"
            assert not any(ord(c) < 32 and c not in "\n\t\r" for c in s), f"{name}: control char in {s!r}"
        if finite:
            assert all(math.isfinite(n) for n in _numbers(event)), f"{name}: NaN/Infinity kept in {event!r}"


ANY_BODY = st.one_of(JSON.map(encode), st.binary(max_size=200))


@pytest.mark.parametrize("name, parse, option_sets, also", PARSERS, ids=IDS)
@BOUNDED
@given(data=st.data())
def test_any_body_is_parsed_or_refused(name: str, parse: Parser, option_sets: list[dict[str, Any]],
                                       also: tuple[type[Exception], ...], data: st.DataObject) -> None:
    options = data.draw(st.sampled_from(option_sets), label="options")
    check_parser(name, parse, options, also, data.draw(ANY_BODY, label="body"))


@pytest.mark.parametrize("name, parse, option_sets, also", PARSERS, ids=IDS)
@BOUNDED
@given(data=st.data())
def test_mutated_saved_payload_is_parsed_or_refused(name: str, parse: Parser,
                                                    option_sets: list[dict[str, Any]],
                                                    also: tuple[type[Exception], ...],
                                                    data: st.DataObject) -> None:
    options = data.draw(st.sampled_from(option_sets), label="options")
    doc = data.draw(mutated(SEEDS[name]), label="payload")
    check_parser(name, parse, options, also, encode(doc))


WRONG_TYPES: list[Any] = [None, [], ["x"], {}, {"x": 1}, True, 0, -1, 1.5, 1e308, "", "\ud800", "\x00\x1b",
                          HUGE]


def _each_field(seed: Any, values: list[Any]) -> list[tuple[tuple[Any, ...], Any]]:
    """(path, document) for each field of the seed (the first 300) dropped, then replaced by
    each of `values`."""
    out = []
    for path in _paths(seed)[1:301]:
        dropped = copy.deepcopy(seed)
        del _at(dropped, path[:-1])[path[-1]]
        out.append((path, dropped))
        for value in values:
            doc = copy.deepcopy(seed)
            _at(doc, path[:-1])[path[-1]] = value
            out.append((path, doc))
    return out


def _check_each(name: str, parse: Parser, option_sets: list[dict[str, Any]],
                also: tuple[type[Exception], ...], values: list[Any], finite: bool) -> None:
    for path, doc in _each_field(SEEDS[name], values):
        for options in option_sets:
            try:
                check_parser(name, parse, options, also, encode(doc), finite)
            except Exception as exc:
                raise AssertionError(f"{name} with {path} = {_at_or_gone(doc, path)!r}: {exc!r}") from exc


@pytest.mark.parametrize("name, parse, option_sets, also", PARSERS, ids=IDS)
def test_every_field_of_a_saved_payload_of_the_wrong_type(name: str, parse: Parser,
                                                          option_sets: list[dict[str, Any]],
                                                          also: tuple[type[Exception], ...]) -> None:
    """The systematic half of the mutations: each field of the seed, one at a time, dropped or
    replaced by each wrong type; same property, no luck involved."""
    _check_each(name, parse, option_sets, also, WRONG_TYPES, finite=False)


@pytest.mark.parametrize("name, parse, option_sets, also", PARSERS, ids=IDS)
def test_nan_and_infinity_are_not_kept(name: str, parse: Parser, option_sets: list[dict[str, Any]],
                                       also: tuple[type[Exception], ...]) -> None:
    """1e999 is valid JSON that Python reads as inf (and it reads NaN too): kept in an event,
    it is stored as `Infinity` and every JSON answer that shows it is no longer JSON (a
    browser's JSON.parse refuses it).  Refused (400) or dropped, never kept."""
    _check_each(name, parse, option_sets, also, [math.inf, -math.inf, math.nan], finite=True)


def _at_or_gone(doc: Any, path: tuple[Any, ...]) -> Any:
    try:
        return _at(doc, path)
    except (KeyError, IndexError, TypeError):
        return "<dropped>"


@pytest.mark.parametrize("name, parse, option_sets, also", PARSERS, ids=IDS)
def test_each_seed_is_accepted_as_is(name: str, parse: Parser, option_sets: list[dict[str, Any]],
                                     also: tuple[type[Exception], ...]) -> None:
    """The mutations start from payloads the parser takes (so they test more than the first
    check); the unsigned SNS envelope is the one refused."""
    raw = json.dumps(SEEDS[name]).encode()
    for options in option_sets:
        if name == "cloudwatch":
            with pytest.raises(errors.BadSignature):
                parse(raw, {}, options)
            continue
        check_parser(name, parse, options, also, raw)
        assert parse(raw, {}, copy.deepcopy(options)), options


# ---------------------------------------------------------------- SMS replies

WORDS = ["4", "5", "6", "ACK", "ack", "Acq", "OK", "pris", "PRENDS", "RES", "résolu", "Résolu", "CLOS",
         "close", "fermer", "ESC", "escalate", "escalade"]
PHONE_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
DIGITS = st.one_of(st.text("0123456789", min_size=1, max_size=30), st.just("9" * 5000),
                   st.just("0" * 50 + "7"), st.text("²³¹٠١٢٣٤٥٦٧٨٩０１２", min_size=1, max_size=6))


@st.composite
def replies_like(draw: st.DrawFn) -> str:
    """What a person types back: a word, a separator, a number, noise around them."""
    return (draw(st.sampled_from(["", " ", "\n", "\t", "\u00a0"])) + draw(st.sampled_from(WORDS))
            + draw(st.sampled_from(["", " ", "#", ":", " # ", "  ", "\u3000"])) + draw(DIGITS)
            + draw(st.sampled_from(["", " ", ".", "!", " merci", "\n"])))


def check_reply(body: str) -> None:
    parsed = replies.parse_sms(body)
    if parsed is None:
        return
    action, number = parsed
    assert action in replies.ACTIONS, parsed
    assert isinstance(number, int) and number >= 0, parsed


@BOUNDED
@given(body=PHONE_TEXT)
def test_any_sms_text_is_read_or_ignored(body: str) -> None:
    check_reply(body)


@BOUNDED
@given(body=replies_like())
def test_reply_shaped_sms_is_read_or_ignored(body: str) -> None:
    check_reply(body)


@BOUNDED
@given(word=st.sampled_from(WORDS), number=st.integers(1, 10**9), sep=st.sampled_from([" ", "#", " #", ": "]))
def test_a_plain_reply_is_read_as_typed(word: str, number: int, sep: str) -> None:
    action = {"4": "acknowledge", "5": "escalate", "6": "resolve"}.get(word)
    parsed = replies.parse_sms(f"{word}{sep}{number}")
    assert parsed is not None and parsed[1] == number, (word, sep, parsed)
    assert action is None or parsed[0] == action

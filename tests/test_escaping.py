"""Text at the door and at each exit, as properties over any text (hypothesis): what comes
in is cleaned once (chalicelib.text); what goes out is escaped for its format
(chalicelib.escape, twilio's VoiceResponse, icalendar), and reads back as it was meant.
"""
from __future__ import annotations

import copy
import csv
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import icalendar
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib import escape, log, text
from chalicelib.notify import voice
from chalicelib.reports import review
from chalicelib.rotas import ical
from chalicelib.rotas import load as rotas

ROTAS = Path(__file__).resolve().parent / "rotas"
FAST = settings(max_examples=200, derandomize=True, deadline=None)
# Any text, lone surrogates and control characters included: what JSON may carry.
ANY_TEXT = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF,
                                 exclude_categories=()), max_size=200)
CLEAN_TEXT = ANY_TEXT.map(text.clean)
ONE_LINE = CLEAN_TEXT.map(lambda s: s.replace("\n", " ").replace("\t", " ").strip() or "x")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@FAST
@given(ANY_TEXT)
def test_cleaned_text_encodes_as_utf8_and_holds_no_control_character(value: str) -> None:
    cleaned = text.clean(value)
    cleaned.encode("utf-8")  # a lone surrogate would raise here: the answer that never came
    assert not CONTROL.search(cleaned)
    assert text.clean(cleaned) == cleaned  # once is enough


def test_json_at_the_door_replaces_lone_surrogates_and_refuses_endless_numbers() -> None:
    doc = text.parse_json(b'{"summary": "disk \\ud800 full\\u0007", "n": 12}')
    assert doc == {"summary": "disk \ufffd full", "n": 12}
    for bad in (b'{"routing_key": ' + b"9" * 5000 + b"}", b"[" * 100_000, b"\xff", b"{"):
        try:
            text.parse_json(bad)
        except text.BadJson as exc:
            assert str(exc)
        else:
            raise AssertionError(bad[:20])


@FAST
@given(st.text(max_size=30))
def test_whole_numbers_are_ascii_digits_within_range(value: str) -> None:
    number = text.whole_number(value, 1, 10**6)
    if number is not None:
        assert value.strip().isascii() and value.strip().isdigit() and 1 <= number <= 10**6
    assert text.whole_number("²") is None and text.whole_number("٣") is None
    assert text.whole_number("1" * 5000) is None and text.whole_number(" 42 ") == 42


@FAST
@given(st.lists(CLEAN_TEXT, min_size=1, max_size=5))
def test_csv_cells_never_start_a_formula_and_keep_their_text(cells: list[str]) -> None:
    out = review.to_csv([{f"c{i}": c for i, c in enumerate(cells)}], [f"c{i}" for i in range(len(cells))])
    [_, row] = list(csv.reader(io.StringIO(out)))
    for sent, got in zip(cells, row, strict=True):
        assert not got.startswith(("=", "+", "-", "@", "\t", "\r"))
        assert got in (sent, "'" + sent)


@FAST
@given(CLEAN_TEXT)
def test_slack_text_cannot_mention_or_link(value: str) -> None:
    escaped = escape.slack(value)
    assert "<" not in escaped and ">" not in escaped
    assert re.sub(r"&(amp|lt|gt);", "", escaped).count("&") == 0  # every & is an entity
    assert escaped.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") == value


@FAST
@given(CLEAN_TEXT, st.sampled_from(["", "\nRépondez 4 12 pour prendre en charge. https://x.test/l/abc"]))
def test_an_sms_fits_twilios_limit_and_keeps_its_reply_codes_and_link(head: str, tail: str) -> None:
    body = escape.sms_fit("[Astreinte] #12 ÉLEVÉ Helpdesk : " + head * 20, tail)
    assert escape.sms_units(body) <= escape.SMS_MAX
    assert body.startswith("[Astreinte] #12 ") and body.endswith(tail)


@FAST
@given(ANY_TEXT)
def test_twiml_of_any_page_parses_as_xml_and_says_the_words(said: str) -> None:
    twiml = voice.say(said, "fr")
    root = ET.fromstring(twiml)
    spoken = root.find("Say")
    assert spoken is not None and (spoken.text or "") == text.clean(said)


BUNDLE = rotas.load_dir(ROTAS)


@settings(max_examples=50, derandomize=True, deadline=None)
@given(ONE_LINE)
def test_an_ical_feed_with_any_name_parses_and_shows_the_name(name: str) -> None:
    bundle = copy.deepcopy(BUNDLE)
    person = next(p for p in bundle["people"] if any(
        p in layer["participants"] for r in bundle["rotas"].values() for layer in r["layers"].values()))
    bundle["people"][person]["name"] = name
    feed = ical.rota_feed(bundle, next(iter(bundle["rotas"])), 1_790_000_000, 1)
    cal = icalendar.Calendar.from_ical(feed)
    summaries = [str(ev.get("SUMMARY")) for ev in cal.walk("VEVENT")]
    assert any(name in s for s in summaries)


def test_access_logs_keep_paths_not_credentials() -> None:
    line = '"GET /ical/Abcdefghijklmnop.ics HTTP/1.1" 200 -'
    assert log.mask_secrets(line) == '"GET /ical/Abcd… HTTP/1.1" 200 -'
    for path in ("/l/eyJhbGciOi.sig", "/v1/integrations/ik_live_secret", "/v1/heartbeats/hb_secret",
                 "/v1/feeds/feedtoken123"):
        masked = log.mask_secrets(f"POST {path}?x=1 HTTP/1.1")
        assert path.rsplit("/", 1)[1] not in masked and masked.endswith("…?x=1 HTTP/1.1")
    assert log.mask_secrets("GET /v1/incidents/12 HTTP/1.1") == "GET /v1/incidents/12 HTTP/1.1"


@FAST
@given(CLEAN_TEXT.map(lambda s: s * 40))
def test_slack_text_fits_a_block_and_is_never_cut_inside_an_entity(value: str) -> None:
    fitted = escape.slack_fit(value)
    assert len(fitted) <= escape.SLACK_TEXT_MAX
    assert "<" not in fitted and ">" not in fitted
    assert not re.search(r"&[a-z]*$", fitted.removesuffix("…"))  # no "&am" left at the cut
    unescaped = fitted.removesuffix("…").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert value.startswith(unescaped)


@FAST
@given(CLEAN_TEXT, CLEAN_TEXT)
def test_an_sms_never_passes_twilios_limit_whatever_its_parts(head: str, tail: str) -> None:
    assert escape.sms_units(escape.sms_fit(head * 30, tail * 30)) <= escape.SMS_MAX

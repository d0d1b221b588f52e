"""The hotline's quality figures (chalicelib.hotline.quality), pure: timelines in, figures out."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.hotline import quality
from chalicelib.hotline.quality import Call

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2027, 2, 2, 22, 15, tzinfo=PARIS).timestamp()  # a Tuesday, 22:15


def answered_timeline(wait: float = 12, duration: int = 95, score: int | None = 5,
                      after: tuple[str, ...] = ()) -> list[tuple[str, float, dict | None]]:
    rows: list[tuple[str, float, dict | None]] = [
        ("triggered", T0, None), ("hotline_call", T0, {"language": "fr"}),
        ("hotline_ringing", T0, {"to": "alice", "index": 0}),
        ("hotline_answered", T0 + wait, {"by": "alice", "index": 0, "wait_seconds": wait}),
        ("acknowledged", T0 + wait, None),
        ("hotline_call_ended", T0 + wait + duration, {"by": "alice", "duration_seconds": duration}),
        ("resolved", T0 + wait + duration, None)]
    rows += [(kind, T0 + 600, None) for kind in after]
    if score is not None:
        rows.append(("csat", T0 + 300, {"score": score}))
    return rows


def test_an_answered_call_from_its_timeline() -> None:
    call = quality.from_timeline("helpdesk", "support", 7, T0, answered_timeline())
    assert call == Call(service="helpdesk", at=T0, outcome="answered", team="support", number=7,
                        agent="alice", wait_seconds=12.0, handle_seconds=95.0, csat=5, first_contact=True)


def test_escalated_after_the_call_is_no_first_contact_resolution() -> None:
    call = quality.from_timeline("helpdesk", None, 7, T0, answered_timeline(after=("escalated",)))
    assert call.outcome == "answered" and not call.first_contact


def test_voicemail_and_a_caller_gone_while_waiting() -> None:
    voicemail = quality.from_timeline("helpdesk", None, 8, T0, [
        ("hotline_call", T0, {}), ("hotline_no_answer", T0 + 20, {"to": "alice"}),
        ("hotline_voicemail", T0 + 20, {"why": "nobody answered"}), ("voicemail", T0 + 40, {}),
        ("released", T0 + 40, {"why": "voicemail"})])
    gone = quality.from_timeline("helpdesk", None, 9, T0, [
        ("hotline_call", T0, {}), ("released", T0 + 31, {"why": "caller hung up"})])
    ringing = quality.from_timeline("helpdesk", None, 10, T0, [("hotline_call", T0, {})])
    assert (voicemail.outcome, voicemail.wait_seconds) == ("voicemail", 20.0)
    assert (gone.outcome, gone.wait_seconds) == ("abandoned_waiting", 31.0)
    assert ringing.outcome == "open"


def test_the_figures() -> None:
    calls = [quality.from_timeline("helpdesk", "support", 1, T0, answered_timeline(wait=12, score=5)),
             quality.from_timeline("helpdesk", "support", 2, T0, answered_timeline(wait=45, duration=60,
                                                                                   score=2)),
             Call("helpdesk", T0, "abandoned_menu", team="support"),
             Call("helpdesk", T0, "abandoned_waiting", team="support", number=3, wait_seconds=50),
             Call("billing", T0 + 86400, "voicemail", team="finance", number=4, wait_seconds=20)]

    f = quality.figures(calls)

    assert f["received"] == 5 and f["answered"] == 2 and f["answered_within_20s"] == 1
    assert f["service_level"] == 0.25  # 1 of the 4 calls that chose a reason
    assert (f["abandoned"], f["abandoned_in_menu"], f["abandoned_waiting"], f["voicemails"]) == (2, 1, 1, 1)
    assert f["average_wait_seconds"] == 28.5 and f["average_handle_seconds"] == 77.5
    assert f["csat"] == {"average": 3.5, "count": 2}
    assert f["first_contact_resolved"] == 2 and f["first_contact_resolution"] == 1.0

    by = quality.grouped(calls)
    assert set(by["service"]) == {"helpdesk", "billing"} and by["service"]["billing"]["voicemails"] == 1
    assert by["team"]["support"]["received"] == 4
    assert list(by["agent"]) == ["alice"] and by["agent"]["alice"]["answered"] == 2


def test_no_calls_no_division_by_zero() -> None:
    f = quality.figures([])
    assert f["received"] == 0 and f["service_level"] is None and f["csat"] == {"average": None, "count": 0}
    assert f["first_contact_resolution"] is None and f["average_wait_seconds"] is None


def test_by_hour_of_week_in_the_zone() -> None:
    calls = [Call("helpdesk", T0, "answered", wait_seconds=5), Call("helpdesk", T0 + 60, "abandoned_menu"),
             Call("helpdesk", T0 - 86400 * 1 - 3600 * 22, "voicemail")]  # Monday 00:15
    assert quality.hour_of_week(T0, PARIS) == ("tue", 22)
    assert quality.by_hour_of_week(calls, PARIS) == [
        {"day": "mon", "hour": 0, "received": 1, "answered": 0, "abandoned": 0, "voicemails": 1},
        {"day": "tue", "hour": 22, "received": 2, "answered": 1, "abandoned": 1, "voicemails": 0}]
    report = quality.report(calls, PARIS)
    assert report["overall"]["received"] == 3 and report["service_level_seconds"] == 20

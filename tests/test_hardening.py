"""What people write in rotas/ and what callers send never stops a page nor garbles an answer.

1. A person's time zone from rotas/ that names a folder of the tz database ("Europe",
   "America") makes ZoneInfo raise IsADirectoryError, which clock.hm does not catch: every
   page to that person fails on every channel (notify.deliver -> in_context -> local_time),
   and rotas-check never says so (people's time zones are not checked at all).
2. Bilingual messages that cut a repr *after* quoting it (`repr(x)[:40]`) lose the closing
   quote: errors.worded then finds no " / " outside quotes and answers both languages in one.
3. create_table on a table that already has the `open` index (added by 14bdc3b's
   _add_missing_indexes, which did not backfill) never runs the backfill.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import ROOT, Api

from chalicelib import clock, errors
from chalicelib.notify import Sent, deliver, in_context
from chalicelib.notify import channels as notify_channels
from chalicelib.notify.channels import Channel, Page
from chalicelib.rotas import load as rotas

TEAM = (ROOT / "tests" / "rotas" / "team.yaml").read_text()


def _person(zone: str) -> dict[str, Any]:
    return {"id": "bob", "name": "Bob Smith", "language": "en", "timezone": zone, "phone": "+447700900002",
            "slack": None, "email": None, "notify": [{"channel": "sms", "after": 0, "severities": []}],
            "roles": []}


def _view() -> dict[str, Any]:
    return {"number": 7, "service": "API", "sev": "critique", "summary": "disk full", "source": "x",
            "at": "05:00:00", "highlights": {}, "created_at": 1_700_000_000.0}


# ---------------------------------------------------------------- 1. a folder as a time zone

@pytest.mark.parametrize("zone", ["Europe", "America", "x" * 300])
def test_clock_hm_falls_back_to_utc_for_any_zone_it_cannot_read(zone: str) -> None:
    """'Europe' is a directory of the tz database: ZoneInfo raises IsADirectoryError (an OSError,
    neither ZoneInfoNotFoundError nor ValueError); a very long name raises OSError too."""
    assert clock.hm(0, zone) == "00:00"


class _Recorder(Channel):
    name = "review-recorder"
    needs = "phone"
    needs_label = "a phone number"

    def __init__(self) -> None:
        self.pages: list[Page] = []

    def page(self, page: Page, lang: str) -> Sent:
        self.pages.append(page)
        return Sent(self.name, page.to, "+447700900002", "REF1", lang)


def test_a_page_goes_out_to_a_person_whose_time_zone_is_a_tz_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    """notify.deliver: the person's time zone only changes how a time is written; it must never
    keep their page from going out (here every channel fails, forever, for that person)."""
    recorder = _Recorder()
    monkeypatch.setitem(notify_channels.REGISTRY, recorder.name, recorder)
    person = _person("Europe")
    planned = {"to": "bob", "channel": recorder.name, "step": 0,
               "why": {"kind": "added", "by": "carol", "note": "look at the disk", "note_by": "carol"}}
    done = deliver(planned, _view(), {"bob": person})  # type: ignore[dict-item]
    assert done.record["ok"] is True, done.record
    assert len(recorder.pages) == 1


def test_in_context_never_raises_for_a_bad_zone() -> None:
    out = in_context(_view(), {}, _person("America"), {})  # type: ignore[arg-type]
    assert "UTC" in out["when"]


def test_rotas_check_names_a_person_time_zone_it_cannot_read(tmp_path: Path) -> None:
    """Rotas', teams' and layers' time zones are checked; a person's is not, so a typo reaches
    every page (silently UTC for "Europe/Pariss", no page at all for "Europe")."""
    for zone in ("Europe/Pariss", "Europe"):
        (tmp_path / "team.yaml").write_text(
            TEAM.replace("    name: Bob Smith\n", f"    name: Bob Smith\n    timezone: {zone}\n", 1))
        with pytest.raises(rotas.RotaError, match="timezone"):
            rotas.load_dir(tmp_path)


# ---------------------------------------------------------------- 2. repr cut after quoting

def test_a_value_s_repr_cut_after_quoting_still_splits_the_two_languages() -> None:
    """routes/me.py:212 and ticketing.py:297 write `repr(name)[:40]`: a long value loses its
    closing quote, and worded() answers a French caller in both languages at once."""
    name = "sms-and-then-some-very-long-channel-name-typed-by-hand"
    shown = repr(name)[:40]  # as routes/me.py test_page writes it
    message = (f"'channel' must be one of sms, voice, not {shown} / "
               f"'channel' doit être l'un de sms, voice, pas {shown}")
    said = errors.worded(message, "fr")
    assert said["message"].startswith("'channel' doit"), said


def test_test_page_with_a_long_unknown_channel_answers_in_one_language(api: Api) -> None:
    r = requests.post(f"{api.base}/v1/me/test-page", json={"channel": "x" * 60}, timeout=15,
                      headers={"Authorization": f"Bearer {api.token}", "Accept-Language": "fr"})
    assert r.status_code == 400, r.text
    message = r.json()["message"]
    assert " / " not in message and message.startswith("'channel' doit"), message


# ---------------------------------------------------------------- 3. backfill, index already there

def test_create_table_backfills_a_table_whose_open_index_an_earlier_version_added(api: Api) -> None:
    """14bdc3b/d529f54 added the `open` index to a kept table without backfilling it; the next
    `make run` (create_table) sees the index and never backfills, although backfill_open_index
    costs one get_item once done."""
    import boto3

    from chalicelib import config, store

    number = api.trigger(dedup="kept-table-open")["incident_number"]
    s = config.settings()
    ddb = boto3.client("dynamodb", endpoint_url=s.dynamodb_endpoint, region_name=s.region)
    ddb.update_item(TableName=s.table_name, Key={"pk": {"S": f"INC#{number}"}, "sk": {"S": "META"}},
                    UpdateExpression="REMOVE open_shard")  # as written before the index existed
    assert store.create_table() is False  # the index is there already
    item = ddb.get_item(TableName=s.table_name, ConsistentRead=True,
                        Key={"pk": {"S": f"INC#{number}"}, "sk": {"S": "META"}})["Item"]
    assert item.get("open_shard") == {"S": store.OPEN_SHARD}

"""The incident list as a responder reads it: what is open, whatever the month it opened,
and by default the open ones plus the last week."""
from __future__ import annotations

from typing import Any

import requests
from conftest import Api

from chalicelib import clock

DAY = 86400


def listed(api: Api, **params: Any) -> requests.Response:
    return api.http.get(f"{api.base}/v1/incidents", params=params, timeout=10,
                        headers={"Authorization": f"Bearer {api.token}"})


def numbers(r: requests.Response) -> list[int]:
    assert r.status_code == 200, r.text
    return [i["number"] for i in r.json()["incidents"]]


def test_open_incidents_of_last_month_are_listed_by_default_and_with_state_open(api: Api) -> None:
    still_open = api.trigger(dedup="old-open", summary="Disque plein, ouvert le mois dernier")[
        "incident_number"]
    old_closed = api.trigger(dedup="old-closed", summary="Réglé le mois dernier")["incident_number"]
    assert api.act(old_closed, "resolve").status_code == 200
    clock.advance(40 * DAY)  # another month
    recent_closed = api.trigger(dedup="recent", summary="Réglé cette semaine")["incident_number"]
    assert api.act(recent_closed, "resolve").status_code == 200
    taken = api.trigger(dedup="taken", summary="Pris en charge")["incident_number"]
    assert api.act(taken, "acknowledge").status_code == 200
    clock.advance(3 * DAY)

    default = listed(api)
    assert numbers(default) == [taken, recent_closed, still_open]  # newest first; old_closed is not there
    assert default.json()["open"] is True
    row = default.json()["incidents"][2]
    assert row["state"] == "triggered" and row["paged"] == ["alice"]

    assert numbers(listed(api, state="open")) == [taken, still_open]
    assert numbers(listed(api, state="open", person="alice")) == [taken, still_open]
    assert numbers(listed(api, state="open", person="dan")) == []

    # A period given is that period: the month of the old ones, open or not.
    first_day = clock.iso(clock.now() - 43 * DAY)[:10]
    assert numbers(listed(api, **{"from": first_day, "to": first_day})) == [old_closed, still_open]
    assert numbers(listed(api, state="resolved", **{"from": first_day, "to": first_day})) == [old_closed]


def test_resolving_takes_an_incident_off_the_open_list(api: Api) -> None:
    number = api.trigger(dedup="soon-closed")["incident_number"]
    assert numbers(listed(api, state="open")) == [number]
    assert api.act(number, "resolve").status_code == 200
    assert numbers(listed(api, state="open")) == []
    assert numbers(listed(api)) == [number]  # still in the last week's


def test_a_state_the_list_does_not_know_is_named(api: Api) -> None:
    r = listed(api, state="ouvert")
    assert r.status_code == 400
    body = r.json()
    assert body["error"] == "bad_request" and "'state'" in body["message"] and "open" in body["message"]

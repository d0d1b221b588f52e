"""The incident list as a responder reads it: what is open, whatever the month it opened,
and by default the open ones plus the last week."""
from __future__ import annotations

from typing import Any

import boto3
import requests
from conftest import Api

from chalicelib import clock, config, store

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


def test_state_open_with_a_period_is_narrowed_by_it(api: Api) -> None:
    """openapi.json: "open: triggered or acknowledged, whenever they opened (from/to narrow
    it when given)"."""
    old = api.trigger(dedup="old-open")["incident_number"]
    clock.advance(40 * DAY)
    new = api.trigger(dedup="new-open")["incident_number"]
    today = clock.iso(clock.now())[:10]
    assert numbers(listed(api, state="open", **{"from": today, "to": today})) == [new], old
    assert numbers(listed(api, state="open")) == [new, old]  # no period: whenever they opened


def test_incidents_open_before_the_open_index_existed_are_listed(api: Api, monkeypatch: Any) -> None:
    """An incident the previous version wrote has no `open_shard`, and nothing writes it
    again until someone acts on it: the open index's backfill (store.backfill_open_index),
    run when the index is added (create_table on a table `make run` kept; scripts/deploy.py
    after the app stack), puts it on the list, once."""
    number = api.trigger(dedup="before-the-index")["incident_number"]
    closed = api.trigger(dedup="closed-before-the-index")["incident_number"]
    assert api.act(closed, "resolve").status_code == 200
    s = config.settings()
    ddb = boto3.client("dynamodb", endpoint_url=s.dynamodb_endpoint, region_name=s.region)
    ddb.update_item(TableName=s.table_name, Key={"pk": {"S": f"INC#{number}"}, "sk": {"S": "META"}},
                    UpdateExpression="REMOVE open_shard")  # as the previous version wrote it
    version = _meta(ddb, number)["version"]

    # create_table on a table without the index: the index added and ACTIVE (DynamoDB Local
    # builds a new index on a live table slowly once the session holds a score of tables, so
    # that step is taken as done here), then its backfill.
    monkeypatch.setattr(store, "_add_missing_indexes", lambda client, table: ["open"])
    assert store.create_table() is False
    clock.advance(10 * DAY)
    assert numbers(listed(api, state="open")) == [number]
    assert numbers(listed(api)) == [number]
    assert _meta(ddb, number)["version"] == version  # a derived field: no writer's copy goes stale
    assert "open_shard" not in _meta(ddb, closed)
    assert store.backfill_open_index() == 0  # done once: later runs (each deploy) read one item


def _meta(ddb: Any, number: int) -> dict[str, Any]:
    return ddb.get_item(TableName=config.settings().table_name, ConsistentRead=True,
                        Key={"pk": {"S": f"INC#{number}"}, "sk": {"S": "META"}})["Item"]


def test_pagerduty_s_statuses_and_several_states_filter_the_list(api: Api) -> None:
    """A script written for PagerDuty's `GET /incidents?statuses[]=…` filters here too."""
    waiting = api.trigger(dedup="waiting")["incident_number"]
    taken = api.trigger(dedup="taken-pd")["incident_number"]
    closed = api.trigger(dedup="closed-pd")["incident_number"]
    assert api.act(taken, "acknowledge").status_code == 200
    assert api.act(closed, "resolve").status_code == 200

    both = api.http.get(f"{api.base}/v1/incidents?statuses[]=triggered&statuses[]=acknowledged", timeout=10,
                        headers={"Authorization": f"Bearer {api.token}"})
    assert numbers(both) == [taken, waiting] and both.json()["open"] is True
    assert numbers(listed(api, status="resolved")) == [closed]
    assert numbers(listed(api, state="Triggered,ACKNOWLEDGED")) == [taken, waiting]
    assert numbers(listed(api, state="resolved,acknowledged")) == [closed, taken]
    wrong = listed(api, **{"statuses[]": "closed"})
    assert wrong.status_code == 400 and "'closed'" in wrong.json()["messages"]["en"] \
        and "'closed'" in wrong.json()["messages"]["fr"]

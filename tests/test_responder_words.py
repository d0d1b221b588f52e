"""What people are told when the service cannot place them or the one who acted: a Slack
user rotas/ does not know, and an acknowledgement sent by the monitoring tool itself."""
from __future__ import annotations

from conftest import HELPDESK_KEY, Api


def open_incident(api: Api, fake, dedup: str) -> tuple[int, dict]:
    number = api.trigger(dedup=dedup)["incident_number"]
    dm = fake.wait_for(kind="slack", channel="U0ALICE",
                       predicate=lambda m: f"#{number}" in (m.get("text") or ""))
    return number, dm


def test_a_slack_user_rotas_does_not_know_is_told_about_their_slack_account(api: Api, fresh) -> None:
    fake = fresh.fake
    number, dm = open_incident(api, fake, "stranger-click")
    status, _ = fake.click(dm["ts"], "ack", "U0STRANGER")
    assert status == 200
    said = fake.wait_for(kind="slack_ephemeral", predicate=lambda m: m.get("user") == "U0STRANGER")
    assert "Votre compte Slack n'est pas dans l'annuaire" in said["text"]
    assert "Your Slack account is not in the on-call directory" in said["text"]
    assert "numéro" not in said["text"] and "number" not in said["text"]
    # Worded for the person who clicked: who to ask, not a file of the deployment.
    assert "Ask your on-call admin to add your Slack account to the directory." in said["text"]
    assert "Demandez à votre administrateur d'astreinte d'y ajouter votre compte Slack." in said["text"]
    assert "nothing was changed" in said["text"] and "rien n'a été changé" in said["text"]
    assert "rotas/" not in said["text"] and "people.yaml" not in said["text"]
    assert api.incident(number)["state"] == "triggered"


def test_an_acknowledgement_from_the_source_names_the_tool_not_a_person(api: Api, fresh) -> None:
    fake = fresh.fake
    number, _ = open_incident(api, fake, "acked-upstream")
    r = api.enqueue({"routing_key": HELPDESK_KEY, "event_action": "acknowledge",
                     "dedup_key": "acked-upstream"})
    assert r.status_code == 202, r.text
    inc = api.incident(number)
    assert inc["state"] == "acknowledged"
    # Alice, paged by SMS and Slack, sees who took it: the monitoring tool, in her language.
    page = fake.wait_for(kind="slack", channel="U0ALICE",
                         predicate=lambda m: "Pris en charge" in str(m.get("blocks")))
    footer = str(page["blocks"])
    assert "l'outil de supervision" in footer and "PagerDuty Events API" in footer
    assert "par source (events-api)" not in footer

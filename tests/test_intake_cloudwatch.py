"""CloudWatch alarms through SNS, over HTTP: the fake SNS signs and delivers exactly as SNS does."""
from __future__ import annotations

import base64
import json

import pytest
from conftest import Api
from fakes.sns import FakeSNS

ALICE = "+33600000001"




def _url(api: Api, options: dict | None = None) -> str:
    r = api.http.post(f"{api.base}/v1/services/helpdesk/integrations", timeout=10,
                      headers={"Authorization": f"Bearer {api.token}"},
                      json={"source": "cloudwatch", "label": "alarmes AWS", "options": options or {}})
    assert r.status_code == 201, r.text
    return r.json()["url"]


def _nothing_stored(api: Api, fresh) -> None:
    assert fresh.fake.messages() == []
    r = api.http.get(f"{api.base}/v1/incidents/1", headers={"Authorization": f"Bearer {api.token}"},
                     timeout=10)
    assert r.status_code == 404


def test_a_subscription_is_confirmed_by_visiting_its_subscribe_url(api: Api, fresh, sns: FakeSNS) -> None:
    message = sns.subscription_confirmation()
    r = sns.post(_url(api), message, api.http)
    assert r.status_code == 202, r.text
    assert r.json()["events"] == []
    assert [c["Token"] for c in sns.confirmations] == [message["Token"]]
    assert sns.confirmations[0]["TopicArn"] == sns.topic_arn
    _nothing_stored(api, fresh)


def test_alarm_pages_a_repeat_dedups_and_ok_resolves(api: Api, fresh, sns: FakeSNS) -> None:
    url = _url(api)
    r = sns.post(url, sns.notification(sns.alarm(), subject='ALARM: "api-5xx" in EU (Paris)'), api.http)
    assert r.status_code == 202, r.text
    [event] = r.json()["events"]
    assert event["action"] == "trigger" and event["new"] is True
    assert event["dedup_key"] == f"arn:aws:cloudwatch:eu-west-3:{sns.account}:alarm:api-5xx"
    fresh.fake.wait_for(kind="sms", to=ALICE)
    inc = api.incident(event["incident_number"])
    assert inc["summary"].startswith("api-5xx: Threshold Crossed: 1 datapoint")
    assert inc["severity"] == "eleve" and inc["source"] == f"EU (Paris)/{sns.account}"

    again = sns.post(url, sns.notification(sns.alarm()), api.http).json()["events"][0]
    assert again["new"] is False and again["incident_number"] == event["incident_number"]
    assert api.incident(event["incident_number"])["event_count"] == 2

    ok = sns.post(url, sns.notification(sns.alarm(state="OK", reason="Threshold Crossed: back to 0.")),
                  api.http)
    assert ok.status_code == 202 and ok.json()["events"][0]["action"] == "resolve"
    assert api.incident(event["incident_number"])["state"] == "resolved"
    assert sns.cert_fetches <= 1  # cached per container (maybe by an earlier test)


@pytest.mark.parametrize("version", ["1", "2"])
def test_both_signature_versions_are_verified(api: Api, fresh, sns: FakeSNS, version: str) -> None:
    r = sns.post(_url(api), sns.notification(sns.alarm(name=f"v{version}"), version=version), api.http)
    assert r.status_code == 202, r.text
    assert r.json()["events"][0]["new"] is True


def test_insufficient_data_and_unsubscribe_change_nothing(api: Api, fresh, sns: FakeSNS) -> None:
    url = _url(api)
    r = sns.post(url, sns.notification(sns.alarm(state="INSUFFICIENT_DATA")), api.http)
    assert r.status_code == 202 and r.json()["events"] == []
    r = sns.post(url, sns.unsubscribe_confirmation(), api.http)
    assert r.status_code == 202 and r.json()["events"] == []
    assert sns.confirmations == []  # visiting it would subscribe again
    _nothing_stored(api, fresh)


def test_the_severity_comes_from_the_integration_options(api: Api, fresh, sns: FakeSNS) -> None:
    r = sns.post(_url(api, {"severity": "critical"}), sns.notification(sns.alarm()), api.http)
    assert api.incident(r.json()["events"][0]["incident_number"])["severity"] == "critique"


def _tampered(sns: FakeSNS) -> dict:
    message = sns.notification(sns.alarm())
    return {**message, "Message": message["Message"].replace("api-5xx", "db-down")}


def _garbage_signature(sns: FakeSNS) -> dict:
    return {**sns.notification(sns.alarm()), "Signature": base64.b64encode(b"\0" * 256).decode()}


def _unsigned(sns: FakeSNS) -> dict:
    message = sns.notification(sns.alarm())
    del message["Signature"]
    return message


def _impostor(sns: FakeSNS) -> dict:
    """Correctly signed, by a key whose certificate sits on a host we do not trust."""
    impostor = FakeSNS().start()
    try:
        return impostor.notification(impostor.alarm())
    finally:
        impostor.stop()


def _cert_elsewhere(sns: FakeSNS) -> dict:
    return {**sns.notification(sns.alarm()),
            "SigningCertURL": "https://sns.eu-west-3.amazonaws.com.evil.example/SimpleNotificationService.pem"}


def _unknown_version(sns: FakeSNS) -> dict:
    return {**sns.notification(sns.alarm()), "SignatureVersion": "3"}


@pytest.mark.parametrize("forge", [_tampered, _garbage_signature, _unsigned, _impostor, _cert_elsewhere,
                                   _unknown_version])
def test_a_message_not_signed_by_sns_is_refused_with_403_and_nothing_stored(api: Api, fresh, sns: FakeSNS,
                                                                            forge) -> None:
    r = sns.post(_url(api), forge(sns), api.http)
    assert r.status_code == 403, r.text
    _nothing_stored(api, fresh)


def test_a_forged_subscription_is_not_confirmed(api: Api, fresh, sns: FakeSNS) -> None:
    url = _url(api)
    message = sns.subscription_confirmation()
    assert sns.post(url, {**message, "Token": "another"}, api.http).status_code == 403
    elsewhere = sns.sign({**message, "SubscribeURL": "http://127.0.0.2:9/?Action=ConfirmSubscription"})
    assert sns.post(url, elsewhere, api.http).status_code == 403
    assert sns.confirmations == []


def test_raw_message_delivery_and_other_topics_are_refused(api: Api, fresh, sns: FakeSNS) -> None:
    raw = sns.post(_url(api), sns.alarm(), api.http, headers={"x-amz-sns-rawdelivery": "true"})
    assert raw.status_code == 403
    only = _url(api, {"topic_arns": ["arn:aws:sns:eu-west-3:123456789012:autre"]})
    assert sns.post(only, sns.notification(sns.alarm()), api.http).status_code == 403
    _nothing_stored(api, fresh)


def test_malformed_deliveries_get_400(api: Api, fresh, sns: FakeSNS) -> None:
    url = _url(api)
    assert api.http.post(url, data=b"{nope", timeout=10).status_code == 400
    assert api.http.post(url, json={"Type": "Bogus"}, timeout=10).status_code == 400
    not_json = sns.post(url, sns.notification("the disk is full", subject="hello"), api.http)
    assert not_json.status_code == 400 and "not a CloudWatch alarm" in not_json.json()["message"]
    no_state = sns.alarm()
    del no_state["NewStateValue"]
    r = sns.post(url, sns.notification(no_state), api.http)
    assert r.status_code == 400 and "'NewStateValue' must be one of" in r.json()["message"]
    mismatch = sns.post(url, sns.notification(sns.alarm()), api.http,
                        headers={"x-amz-sns-message-type": "SubscriptionConfirmation"})
    assert mismatch.status_code == 400
    missing = sns.notification(sns.alarm())
    del missing["MessageId"]
    assert sns.post(url, missing, api.http).status_code == 400
    assert json.loads(not_json.text)["error"] == "invalid_event"
    _nothing_stored(api, fresh)

"""The fake providers must fool the real boto3 `sesv2` client (SendEmail).

Why: the email channel is tested against this fake, so the fake is checked
against the real client library: its SigV4-signed REST-JSON request, its
parsing of the answer and of errors (x-amzn-ErrorType → ClientError code).
"""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.fakes.providers import FakeProviders

SENDER, ONCALL = "Astreinte <pager@example.org>", "alice@example.org"
ACK = "http://127.0.0.1:8000/links/ack?incident=inc-1&sig=abc"


@pytest.fixture
def fake() -> Iterator[FakeProviders]:
    with FakeProviders() as f:
        yield f


def ses_client(fake: FakeProviders, attempts: int = 1) -> Any:
    return boto3.client(
        "sesv2", endpoint_url=fake.url, region_name="eu-west-3",
        aws_access_key_id="local", aws_secret_access_key="local",
        config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
    )


def send(client: Any, subject: str = "Incident #1", to: str = ONCALL, **extra: Any) -> dict[str, Any]:
    return client.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": [to], "CcAddresses": ["bob@example.org"]},
        ReplyToAddresses=["noreply@example.org"],
        Content={"Simple": {
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": f"DB down.\nAcknowledge: {ACK}\n"},
                     "Html": {"Data": f'<p>DB down.</p><a href="{ACK.replace("&", "&amp;")}">Ack</a>'}},
        }},
        **extra,
    )


def test_simple_email_is_recorded(fake: FakeProviders) -> None:
    resp = send(ses_client(fake), ConfigurationSetName="pager",
                EmailTags=[{"Name": "incident", "Value": "inc-1"}])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    [mail] = fake.messages(kind="email", to=ONCALL)
    assert mail["message_id"] == resp["MessageId"]
    assert mail["subject"] == "Incident #1" and mail["from"] == SENDER
    assert mail["to_all"] == [ONCALL] and mail["cc"] == ["bob@example.org"] and mail["bcc"] == []
    assert mail["reply_to"] == ["noreply@example.org"]
    assert mail["text"] == f"DB down.\nAcknowledge: {ACK}\n" and 'href="' in mail["html"]
    assert mail["configuration_set"] == "pager" and mail["tags"] == {"incident": "inc-1"}
    assert fake.wait_for(kind="email", to=ONCALL)["message_id"] == resp["MessageId"]
    [call] = fake.api_calls("ses")
    assert call["status"] == 200 and call["path"] == "/v2/email/outbound-emails"
    assert call["params"]["Destination"]["ToAddresses"] == [ONCALL]


def test_raw_email_takes_recipients_from_its_headers(fake: FakeProviders) -> None:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "pager@example.org", f"Alice <{ONCALL}>", "Café en panne"
    msg.set_content(f"Ack: {ACK}")
    msg.add_alternative(f'<a href="{ACK}">Ack</a>', subtype="html")
    resp = ses_client(fake).send_email(Content={"Raw": {"Data": msg.as_bytes()}})
    [mail] = fake.messages(kind="email")
    assert mail["message_id"] == resp["MessageId"] and mail["content"] == "raw"
    assert mail["subject"] == "Café en panne" and mail["to_all"] == [f"Alice <{ONCALL}>"]
    assert ACK in mail["text"] and ACK in mail["html"]


def test_injected_failures_surface_as_client_errors(fake: FakeProviders) -> None:
    client = ses_client(fake)
    fake.fail_next(status=400, service="ses", kind="email")
    with pytest.raises(ClientError) as err:
        send(client)
    assert err.value.response["Error"]["Code"] == "BadRequestException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert fake.messages() == []
    fake.fail_next(status=429, service="any")
    with pytest.raises(client.exceptions.TooManyRequestsException):
        send(client)
    fake.fail_next(n=2, status=500, service="ses")
    with pytest.raises(ClientError) as err:
        send(client)
    assert err.value.response["Error"]["Code"] == "InternalServiceErrorException"
    # The second injected 500 is retried away by botocore (2 attempts allowed here).
    assert send(ses_client(fake, attempts=2))["MessageId"]
    assert [c["status"] for c in fake.api_calls("ses")] == [400, 429, 500, 500, 200]
    assert len(fake.messages(kind="email")) == 1


def test_failures_for_other_services_leave_ses_alone(fake: FakeProviders) -> None:
    fake.fail_next(status=500, service="twilio")
    fake.fail_next(status=500, service="slack")
    assert send(ses_client(fake))["MessageId"]
    with pytest.raises(ValueError):
        fake.fail_next(service="smtp")


def test_invalid_requests_are_rejected_like_ses(fake: FakeProviders) -> None:
    client = ses_client(fake)
    with pytest.raises(ClientError) as err:
        send(client, to="not-an-address")
    assert err.value.response["Error"]["Code"] == "BadRequestException"
    with pytest.raises(ClientError) as err:
        client.send_email(Destination={"ToAddresses": [ONCALL]},
                          Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}})
    assert err.value.response["Error"]["Code"] == "MessageRejected"
    assert fake.messages() == []


def test_missing_signature_is_403(fake: FakeProviders) -> None:
    body = {"FromEmailAddress": SENDER, "Destination": {"ToAddresses": [ONCALL]},
            "Content": {"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}}}}
    resp = requests.post(fake.url + "/v2/email/outbound-emails", json=body, timeout=10)
    assert resp.status_code == 403 and resp.json() == {"message": "Missing Authentication Token"}
    assert resp.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert fake.messages() == [] and fake.api_calls("ses")[0]["status"] == 403


def test_outbox_shows_emails_escaped_with_clickable_links(fake: FakeProviders) -> None:
    send(ses_client(fake), subject="<b>Incident</b> & co")
    page = urllib.request.urlopen(fake.url + "/").read().decode()
    assert "&lt;b&gt;Incident&lt;/b&gt; &amp; co" in page and "<b>Incident</b>" not in page
    assert f'<a href="{ACK.replace("&", "&amp;")}"' in page
    assert "&lt;p&gt;DB down.&lt;/p&gt;" in page  # the HTML part is shown as source, never rendered
    outbox = json.load(urllib.request.urlopen(fake.url + "/outbox.json"))
    assert [(r["kind"], r["to"]) for r in outbox] == [("email", ONCALL)]
    fake.reset()
    assert fake.messages(kind="email") == [] and fake.api_calls("ses") == []


def test_raw_data_is_sent_base64(fake: FakeProviders) -> None:
    """botocore base64-encodes the Raw blob in the JSON body; the fake decodes it."""
    raw = b"From: pager@example.org\r\nTo: alice@example.org\r\nSubject: x\r\n\r\nbody\r\n"
    ses_client(fake).send_email(Content={"Raw": {"Data": raw}})
    [call] = fake.api_calls("ses")
    assert base64.b64decode(call["params"]["Content"]["Raw"]["Data"]) == raw
    assert fake.messages(kind="email")[0]["text"].strip() == "body"

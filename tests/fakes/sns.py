"""A fake Amazon SNS on loopback: it signs messages as SNS does and serves what SNS serves.

- its own RSA key and self-signed certificate, the PEM served at cert_url (as
  https://sns.<region>.amazonaws.com/SimpleNotificationService-<id>.pem is);
- SubscribeURL/UnsubscribeURL on the same server; every GET on them is recorded in
  `confirmations`, every certificate download in `cert_fetches`;
- messages built with every field SNS puts in an HTTP(S) delivery and signed with
  SignatureVersion 1 (SHA1withRSA) or 2 (SHA256withRSA) over the documented string to sign.
  The signing code is written here from AWS's documentation, not imported from chalicelib,
  so a mistake in one does not hide in both.
- `post(url, message)` delivers as SNS does: text/plain JSON body and the x-amz-sns-* headers.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

# The fields SNS signs, in the order AWS documents (Subject only when present).
SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
}
SIGNED["UnsubscribeConfirmation"] = SIGNED["SubscriptionConfirmation"]


class FakeSNS:
    def __init__(self, region: str = "eu-west-3", account: str = "123456789012",
                 topic: str = "alarmes-prod") -> None:
        self.region, self.account = region, account
        self.topic_arn = f"arn:aws:sns:{region}:{account}:{topic}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = _self_signed(self.key)
        self.cert_name = f"SimpleNotificationService-{uuid.uuid4().hex}.pem"
        self.confirmations: list[dict[str, str]] = []
        self.cert_fetches = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------ server

    def start(self) -> FakeSNS:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                fake._get(self)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base(self) -> str:
        """The URL prefix to allow in ASTREINTE_SNS_CERT_HOSTS."""
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    @property
    def cert_url(self) -> str:
        return self.base + self.cert_name

    def reset(self) -> None:
        with self._lock:
            self.confirmations.clear()
            self.cert_fetches = 0

    def _get(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/" + self.cert_name:
            with self._lock:
                self.cert_fetches += 1
            self._answer(handler, 200, self.pem, "application/x-x509-ca-cert")
        elif parts.path == "/" and query.get("Action") in ("ConfirmSubscription", "Unsubscribe"):
            with self._lock:
                self.confirmations.append(query)
            arn = f"{query.get('TopicArn', self.topic_arn)}:{uuid.uuid4()}"
            body = (f"<{query['Action']}Response><{query['Action']}Result><SubscriptionArn>{arn}"
                    f"</SubscriptionArn></{query['Action']}Result></{query['Action']}Response>")
            self._answer(handler, 200, body.encode(), "text/xml")
        else:
            self._answer(handler, 404, b"not found", "text/plain")

    @staticmethod
    def _answer(handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    # ------------------------------------------------------------ messages

    def subscription_confirmation(self, version: str = "2") -> dict[str, Any]:
        token = uuid.uuid4().hex * 2
        return self.sign({
            "Type": "SubscriptionConfirmation", "MessageId": str(uuid.uuid4()), "Token": token,
            "TopicArn": self.topic_arn,
            "Message": f"You have chosen to subscribe to the topic {self.topic_arn}.\n"
                       "To confirm the subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": f"{self.base}?Action=ConfirmSubscription&TopicArn={self.topic_arn}&Token={token}",
            "Timestamp": _now(),
        }, version)

    def unsubscribe_confirmation(self, version: str = "2") -> dict[str, Any]:
        message = self.subscription_confirmation(version)
        message.update(Type="UnsubscribeConfirmation",
                       Message=f"You have unsubscribed from the topic {self.topic_arn}.")
        return self.sign(message, version)

    def notification(self, message: dict[str, Any] | str, subject: str | None = None,
                     version: str = "2") -> dict[str, Any]:
        body = {"Type": "Notification", "MessageId": str(uuid.uuid4()), "TopicArn": self.topic_arn,
                "Message": message if isinstance(message, str) else json.dumps(message),
                "Timestamp": _now(),
                "UnsubscribeURL": f"{self.base}?Action=Unsubscribe&SubscriptionArn={self.topic_arn}:"
                                  f"{uuid.uuid4()}"}
        if subject is not None:
            body["Subject"] = subject
        return self.sign(body, version)

    def alarm(self, name: str = "api-5xx", state: str = "ALARM",
              reason: str = "Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0).",
              **fields: Any) -> dict[str, Any]:
        """A CloudWatch alarm state change, as CloudWatch publishes it to SNS."""
        old = {"ALARM": "OK", "OK": "ALARM"}.get(state, "OK")
        return {"AlarmName": name, "AlarmDescription": "5xx de l'API au-dessus de 5 %",
                "AWSAccountId": self.account, "AlarmConfigurationUpdatedTimestamp": _now(),
                "NewStateValue": state, "NewStateReason": reason,
                "StateChangeTime": _now().replace("Z", "+0000"), "Region": "EU (Paris)",
                "AlarmArn": f"arn:aws:cloudwatch:{self.region}:{self.account}:alarm:{name}",
                "OldStateValue": old,
                "Trigger": {"MetricName": "5XXError", "Namespace": "AWS/ApiGateway",
                            "StatisticType": "Statistic", "Statistic": "SUM", "Unit": None,
                            "Dimensions": [{"value": "astreinte", "name": "ApiName"}],
                            "Period": 60, "EvaluationPeriods": 1,
                            "ComparisonOperator": "GreaterThanThreshold", "Threshold": 5.0,
                            "TreatMissingData": "missing", "EvaluateLowSampleCountPercentile": ""},
                **fields}

    def sign(self, message: dict[str, Any], version: str = "2") -> dict[str, Any]:
        """Set SignatureVersion, SigningCertURL and Signature as SNS does."""
        algorithm = {"1": hashes.SHA1(), "2": hashes.SHA256()}[version]
        lines = [f"{name}\n{message[name]}\n" for name in SIGNED[message["Type"]]
                 if name in message]
        signature = self.key.sign("".join(lines).encode("utf-8"), padding.PKCS1v15(), algorithm)
        return {**message, "SignatureVersion": version,
                "Signature": base64.b64encode(signature).decode(), "SigningCertURL": self.cert_url}

    def post(self, url: str, message: dict[str, Any], session: requests.Session | None = None,
             headers: dict[str, str] | None = None) -> requests.Response:
        """Deliver as SNS does to an HTTP(S) subscriber."""
        sent = {"Content-Type": "text/plain; charset=UTF-8",
                "User-Agent": "Amazon Simple Notification Service Agent",
                "x-amz-sns-message-type": str(message.get("Type")),
                "x-amz-sns-message-id": str(message.get("MessageId")),
                "x-amz-sns-topic-arn": str(message.get("TopicArn"))}
        if message.get("Type") == "Notification":
            sent["x-amz-sns-subscription-arn"] = f"{message.get('TopicArn')}:{uuid.uuid4()}"
        sent.update(headers or {})
        return (session or requests).post(url, data=json.dumps(message, indent=2).encode(),
                                          headers=sent, timeout=10)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _self_signed(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)

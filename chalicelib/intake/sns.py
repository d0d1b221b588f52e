"""Amazon SNS deliveries to an HTTP(S) endpoint: check the message signature as AWS documents
it, and confirm subscriptions.

Why a module of its own: the integration key in the URL says which service an event is
about, but only the signature says the body really comes from SNS; any source delivered by
SNS (CloudWatch alarms today) needs the same check.  AWS's rules, followed here
(https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):

- the string to sign is "Name\\nvalue\\n" for each signed field of the message type, in the
  documented order (Subject only when present);
- SignatureVersion "1" is SHA1withRSA, "2" SHA256withRSA (PKCS#1 v1.5), Signature base64;
- the certificate comes from SigningCertURL, which must be an https://sns.<region>.amazonaws.com
  address (….amazonaws.com.cn in China) ending in .pem; never trust a certificate from
  anywhere else.  Tests add loopback prefixes with ASTREINTE_SNS_CERT_HOSTS.

Pure Python, no native library (issue 12: cryptography alone was a quarter of the Lambda zip):
pyasn1-modules' RFC 5280 schema decodes the certificate (its validity dates and its
subjectPublicKeyInfo), python-rsa checks the PKCS#1 v1.5 signature.  The certificate chain is not
checked, as before: the certificate is trusted because HTTPS fetched it from an SNS host.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import os
import re
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import config, errors, text
from . import InvalidEvent

if TYPE_CHECKING:
    import rsa

TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
_CONFIRMATION_FIELDS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
SIGNED_FIELDS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": _CONFIRMATION_FIELDS,
}
HASHES = {"1": "SHA-1", "2": "SHA-256"}  # names in python-rsa (rsa.pkcs1.HASH_METHODS)
ENV_HOSTS = "ASTREINTE_SNS_CERT_HOSTS"
_AWS_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
_MAX_PEM_BYTES = 64 * 1024
_CACHE_SIZE = 64
_RSA_ENCRYPTION = "1.2.840.113549.1.1.1"  # the subjectPublicKeyInfo algorithm of an RSA key (RFC 3279)
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+?)-----END CERTIFICATE-----")
# RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ (YY >= 50: 19YY) until 2049, then GeneralizedTime.
_TIMES = {"utcTime": re.compile(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z"),
          "generalTime": re.compile(r"(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z")}


class BadSignature(errors.BadSignature):
    """Not provably from SNS: unsigned, signature wrong, or a certificate we must not trust.

    Answer 403: SNS never sends such a message, so there is nothing for it to retry."""


class ConfirmationFailed(errors.UpstreamFailed):
    """The GET on SubscribeURL failed.  Answer 5xx, so that SNS delivers the confirmation again."""

    code = "confirmation_failed"


def receive(raw: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The verified SNS message posted to us.  InvalidEvent (400) when it is not an SNS message
    at all, BadSignature (403) when it is one we cannot prove genuine."""
    if header(headers, "x-amz-sns-rawdelivery") == "true":
        raise BadSignature("raw message delivery is not signed by SNS: turn it off on the subscription")
    try:
        message = text.parse_json(raw, cleaned=False)  # the signature covers the text as sent
    except text.BadJson as exc:
        raise InvalidEvent([str(exc)]) from exc
    if not isinstance(message, dict):
        raise InvalidEvent(["body must be a JSON object (an SNS message)"])
    kind = message.get("Type")
    if kind not in TYPES:
        raise InvalidEvent([f"'Type' must be one of {', '.join(TYPES)} (got {kind!r})"])
    header_kind = header(headers, "x-amz-sns-message-type")
    if header_kind is not None and header_kind != kind:
        raise InvalidEvent([f"header x-amz-sns-message-type is {header_kind!r} but 'Type' is {kind!r}"])
    missing = [f"'{name}' is missing or not a string" for name in SIGNED_FIELDS[kind]
               if name != "Subject" and not isinstance(message.get(name), str)]
    if missing:
        raise InvalidEvent(missing)
    verify(message)
    return text.clean_tree(message)


def string_to_sign(message: dict[str, Any]) -> bytes:
    """The documented canonical form: each signed field of the type, name and value, one per line."""
    lines = []
    for name in SIGNED_FIELDS[message["Type"]]:
        if name == "Subject" and message.get(name) is None:
            continue  # "Subject (if present)"
        lines.append(f"{name}\n{message[name]}\n")
    return "".join(lines).encode("utf-8")


def verify(message: dict[str, Any]) -> None:
    """Raise BadSignature unless the message carries a valid SNS signature."""
    # python-rsa is imported here: every route's module loads with the app, and the routes
    # that never see SNS should not pay for it at cold start.
    import rsa

    version = message.get("SignatureVersion")
    if not isinstance(version, str) or version not in HASHES:
        raise BadSignature(f"'SignatureVersion' must be 1 or 2 (got {version!r})")
    try:
        signature = base64.b64decode(str(message.get("Signature") or ""), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadSignature("'Signature' is not base64") from exc
    if not signature:
        raise BadSignature("the message is not signed")
    key = certificate(str(message.get("SigningCertURL") or "")).key
    if key is None:
        raise BadSignature("the signing certificate does not hold an RSA key")
    # rsa.verify reads the hash from the signature itself: it must be the one of the version (no
    # downgrade to SHA1 under "2"), and the signature, as an integer, below the modulus (OpenSSL's rule).
    try:
        if int.from_bytes(signature, "big") >= key.n:
            raise rsa.VerificationError("signature representative out of range")
        if rsa.verify(string_to_sign(message), signature, key) != HASHES[version]:
            raise rsa.VerificationError("hash algorithm of the signature is not the version's")
    except rsa.VerificationError as exc:
        raise BadSignature("the SNS signature does not match the message") from exc


def confirm(message: dict[str, Any]) -> None:
    """Visit SubscribeURL, which is how an HTTP endpoint accepts a subscription.  Only on a
    verified SubscriptionConfirmation, and only on SNS's own hosts (else we would GET any URL
    a caller names)."""
    url = message["SubscribeURL"]
    if not allowed(url):
        raise BadSignature(f"SubscribeURL is not on an SNS host: {url}")
    try:
        with _opener().open(url, timeout=config.settings().http_timeout_seconds) as answer:
            answer.read(_MAX_PEM_BYTES)
    except (urllib.error.URLError, OSError) as exc:
        raise ConfirmationFailed(f"could not confirm the subscription: {exc}") from exc


# ---------------------------------------------------------------- certificates and hosts

@dataclass(frozen=True)
class Certificate:
    """What the check uses of an X.509 certificate: its validity, and its RSA public key (None
    when it holds another kind of key)."""

    not_valid_before_utc: dt.datetime
    not_valid_after_utc: dt.datetime
    key: rsa.PublicKey | None


_certs: dict[str, Certificate] = {}
_lock = threading.Lock()


def certificate(url: str) -> Certificate:
    """The signing certificate, fetched once per container (SNS signs every message with it)."""
    if not allowed(url, pem=True):
        raise BadSignature(f"SigningCertURL is not an SNS certificate address: {url!r}")
    with _lock:
        cert = _certs.get(url)
    if cert is None:
        cert = _fetch_certificate(url)
        with _lock:
            if len(_certs) >= _CACHE_SIZE:
                _certs.clear()
            _certs[url] = cert
    now = dt.datetime.now(dt.UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise BadSignature("the SNS signing certificate is expired or not yet valid")
    return cert


def _fetch_certificate(url: str) -> Certificate:
    try:
        with _opener().open(url, timeout=config.settings().http_timeout_seconds) as answer:
            pem = answer.read(_MAX_PEM_BYTES + 1)
    except (urllib.error.URLError, OSError) as exc:
        raise BadSignature(f"could not fetch the signing certificate: {exc}") from exc
    if len(pem) > _MAX_PEM_BYTES:
        raise BadSignature("the signing certificate is too large")
    return parse_certificate(pem)


def parse_certificate(pem: bytes) -> Certificate:
    """The first certificate of a PEM file; BadSignature when there is none or it is malformed."""
    # pyasn1 is imported here, as python-rsa in verify (cold start).
    from pyasn1.codec.der import decoder
    from pyasn1.error import PyAsn1Error
    from pyasn1_modules import rfc5280

    found = _PEM.search(pem)
    try:
        if found is None:
            raise ValueError("no CERTIFICATE block")
        der = base64.b64decode(b"".join(found.group(1).split()), validate=True)
        cert, rest = decoder.decode(der, asn1Spec=rfc5280.Certificate())
        if rest:
            raise ValueError("bytes after the certificate")
        tbs = cert["tbsCertificate"]
        return Certificate(_time(tbs["validity"]["notBefore"]), _time(tbs["validity"]["notAfter"]),
                           _rsa_key(tbs["subjectPublicKeyInfo"]))
    except (PyAsn1Error, ValueError) as exc:  # binascii.Error is a ValueError
        raise BadSignature("SigningCertURL does not hold a PEM certificate") from exc


def _time(value: Any) -> dt.datetime:
    """An RFC 5280 Time (the CHOICE of a UTCTime and a GeneralizedTime), in UTC."""
    kind = value.getName()
    found = _TIMES[kind].fullmatch(str(value.getComponent())) if kind in _TIMES else None
    if found is None:
        raise ValueError(f"not an RFC 5280 time: {value!r}")
    year, month, day, hour, minute, second = (int(part) for part in found.groups())
    if kind == "utcTime":
        year += 1900 if year >= 50 else 2000
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


def _rsa_key(info: Any) -> rsa.PublicKey | None:
    """The RSA public key of a subjectPublicKeyInfo, None for any other algorithm."""
    import rsa
    from pyasn1.error import PyAsn1Error

    if str(info["algorithm"]["algorithm"]) != _RSA_ENCRYPTION:
        return None
    try:
        key = rsa.PublicKey.load_pkcs1(info["subjectPublicKey"].asOctets(), format="DER")
    except (PyAsn1Error, ValueError, TypeError):  # an RSA key that does not decode
        return None
    return key if key.n > 1 and key.e > 1 else None


def allowed(url: str, pem: bool = False) -> bool:
    """An SNS address over HTTPS (certificates: a .pem file), or a loopback prefix from
    ASTREINTE_SNS_CERT_HOSTS (read on every call: tests set it after import)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if pem and not parts.path.endswith(".pem"):
        return False
    if (parts.scheme == "https" and parts.hostname is not None and _AWS_HOST.match(parts.hostname)
            and port in (None, 443) and not parts.username and not parts.password):
        return True
    return any(url.startswith(prefix) for prefix in _loopback_prefixes())


def _loopback_prefixes() -> list[str]:
    """The test prefixes; any that does not name a loopback address is ignored, so a stray
    setting in production cannot make us trust another host."""
    prefixes = []
    for prefix in os.environ.get(ENV_HOSTS, "").split(","):
        prefix = prefix.strip()
        if not prefix:
            continue
        if not prefix.endswith("/"):
            prefix += "/"  # "http://127.0.0.1:80" must not match "http://127.0.0.1:8000/…"
        host = urlsplit(prefix).hostname or ""
        try:
            loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if loopback and urlsplit(prefix).scheme in ("http", "https"):
            prefixes.append(prefix)
    return prefixes


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would take us off the host we checked."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect)


def header(headers: dict[str, str], name: str) -> str | None:
    """A header whatever its case (API Gateway and the local server spell them differently)."""
    name = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == name:
            return value
    return None

"""The slimmed Lambda package (issue 12): small, without what the runtime provides, compiled for
the runtime's Python, and still importable as Lambda imports it (bench/package_size.py times it).

Builds the package once (`chalice package` then scripts/slim_package.py, ~40 s)."""
from __future__ import annotations

import ast
import base64
import datetime as dt
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from bench.package_size import python_s, runtime_standin, unzip

ROOT = Path(__file__).resolve().parent.parent
# The goal of issue 12 (9.3 MB once cryptography gave way to pure-Python rsa/pyasn1 and the unused
# parts of Powertools, slack-sdk and holidays were left out; bench/package_size.py reports it).
MAX_ZIPPED_MB = 10
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
# Native, and needed by nothing at run time any more (tests/fakes/sns.py uses it on the test side).
NOT_SHIPPED = ("cryptography", "cffi", "_cffi_backend", "pycparser", "aiohttp")
# Countries whose holiday dates the package must give exactly as the venv's holidays (with its
# translations, which the package leaves out) gives them.
HOLIDAY_COUNTRIES = ("FR", "BE", "DE", "CH", "GB", "US", "ES", "IT", "JP", "IN", "IL", "SA", "CN")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3"}
    for var in ("DYNAMODB_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(var, None)
    chalice = Path(sys.executable).parent / "chalice"
    run = subprocess.run([str(chalice), "package", "--stage", "prod", str(out)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    script = ROOT / "scripts" / "slim_package.py"
    slim = subprocess.run([sys.executable, str(script), str(out / "deployment.zip")], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert slim.returncode == 0, slim.stderr[-3000:]
    return out


def test_the_zip_is_small_and_leaves_out_what_the_runtime_provides(package: Path) -> None:
    zip_path = package / "deployment.zip"
    assert zip_path.stat().st_size <= MAX_ZIPPED_MB * 1e6
    with zipfile.ZipFile(zip_path) as zf:
        tops = {name.split("/", 1)[0] for name in zf.namelist()}
        infos = zf.infolist()
    for module in RUNTIME_PROVIDED:
        assert module not in tops, f"{module} is in the package: the Lambda runtime provides it"
        assert not any(t.lower().startswith(f"{module}-") and t.endswith(".dist-info") for t in tops)
    for module in NOT_SHIPPED:
        assert not any(t == module or t.startswith((f"{module}.", f"{module}-")) for t in tops), module
    assert "app.py" in tops and "chalicelib" in tops
    assert not any("/tests/" in i.filename for i in infos)
    # what slim_package.py leaves out of the packages it prunes (the import check below runs them)
    assert not any(i.filename.startswith(("aws_lambda_powertools/event_handler/", "holidays/locale/",
                                          "pyasn1_modules/rfc2459", "slack_sdk/socket_mode/"))
                   for i in infos)
    names = [i.filename for i in infos]
    assert names == sorted(names) and {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_every_module_of_ours_is_compiled_for_the_runtime(package: Path) -> None:
    resources = json.loads((package / "sam.json").read_text())["Resources"].values()
    runtimes = {r["Properties"]["Runtime"] for r in resources if r["Type"] == "AWS::Serverless::Function"}
    assert runtimes == {f"python{sys.version_info.major}.{sys.version_info.minor}"}
    tag = sys.implementation.cache_tag  # cpython-311
    with zipfile.ZipFile(package / "deployment.zip") as zf:
        names = set(zf.namelist())
        sources = [n for n in names if n.endswith(".py") and (n.startswith("chalicelib/") or n == "app.py")]
        assert len(sources) > 50
        for source in sources:
            folder, _, file = source.rpartition("/")
            pyc = f"{folder}/__pycache__/{file[:-3]}.{tag}.pyc".lstrip("/")
            assert pyc in names, f"{source} is not compiled ({pyc})"
        data = zf.read(f"chalicelib/__pycache__/store.{tag}.pyc")
    # An unchecked hash-based .pyc (PEP 552): flags 0b01, so no timestamp of the zip can invalidate it.
    assert int.from_bytes(data[4:8], "little") == 0b01


IMPORTS = """
import importlib, importlib.util, json, os, pathlib
import app
assert app.app.app_name == "astreinte"
# nothing of the venv leaks in: what the package leaves out is really absent
assert importlib.util.find_spec("aiohttp") is None and importlib.util.find_spec("moto") is None
assert importlib.util.find_spec("cryptography") is None and importlib.util.find_spec("cffi") is None
# every module of ours imports (those app.py does not import too: the CLI, lazy ones)
for source in sorted(pathlib.Path("chalicelib").rglob("*.py")):
    importlib.import_module(".".join(source.with_suffix("").parts).removesuffix(".__init__"))
assert app.__cached__ and "__pycache__" in app.__cached__
# the lazy paths that use what the slimming touched: twilio's REST api domain, its TwiML and
# request validator, slack, PyYAML's stripped libyaml, holidays without its translations
from twilio.rest import Client
from twilio.http.http_client import TwilioHttpClient
client = Client("AC" + "0" * 32, "token", http_client=TwilioHttpClient(timeout=1))
assert callable(client.messages.create) and callable(client.calls.create)
assert client.messages("SM" + "0" * 32).fetch
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse
assert "<Say>" in str(VoiceResponse().say("x")) and RequestValidator("t").compute_signature("u", {{}})
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier
WebClient(token="x")
import yaml
assert yaml.__with_libyaml__ and yaml.load("a: 1", Loader=yaml.CSafeLoader) == {{"a": 1}}
import holidays, icalendar, requests
for country, dates in {holidays!r}.items():
    assert sorted(map(str, holidays.country_holidays(country, years=2026))) == dates, country
# the SNS signature check (python-rsa, pyasn1-modules' RFC 5280) on a certificate and messages
# made by cryptography in the test process
from chalicelib.intake import sns
cert = sns.parse_certificate({pem!r})
for message in {messages!r}:
    sns._certs[message["SigningCertURL"]] = cert
    sns.verify(message)
    try:
        sns.verify(dict(message, Message="forged"))
        raise AssertionError("a forged message passed")
    except sns.BadSignature as exc:
        assert "does not match" in str(exc)
# Powertools' Logger, Metrics (EMF on stdout) and Tracer (aws-xray-sdk is not in the package: it
# must say so and run untraced, not miss a module of Powertools)
os.environ.update(ASTREINTE_METRICS="stdout", ASTREINTE_TRACING="1")
from chalicelib import log, metrics
log.info("package_check", phone="+33600000001")
log.warning("package_check", nested={{"a": ["+33600000001"]}})
log.error("package_check")
metrics.count("PagesSent")
metrics.seconds("EscalationLateness", 1.5)
class Event:
    context = None
assert metrics.per_invocation(Event(), lambda event: "answered") == "answered"
assert metrics.totals() == {{"PagesSent": 1, "EscalationLateness": 1.5}}
for name in {every_import!r}:  # what chalicelib imports anywhere, lazily too, is there
    assert importlib.util.find_spec(name) is not None, name
print("ok")
"""


def every_import() -> list[str]:
    """The absolute imports of app.py and chalicelib, at any depth (functions' lazy ones too)."""
    names = set()
    for source in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module)
    return sorted(n for n in names if n != "__future__")


def signed_by_cryptography() -> tuple[bytes, list[dict[str, str]]]:
    """A self-signed RSA certificate (PEM) and an SNS notification signed with it, in each
    SignatureVersion (tests/fakes/sns.py does the same against the running app)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.x509.oid import NameOID

    from chalicelib.intake import sns

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    messages = []
    for version, algorithm in (("1", hashes.SHA1()), ("2", hashes.SHA256())):
        message = {"Type": "Notification", "MessageId": f"m-{version}", "Message": "{}", "Subject": "ALARM",
                   "TopicArn": "arn:aws:sns:eu-west-3:123456789012:alarms", "SignatureVersion": version,
                   "Timestamp": "2026-01-01T00:00:00.000Z",
                   "SigningCertURL": f"https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-{version}.pem"}
        signature = key.sign(sns.string_to_sign(message), padding.PKCS1v15(), algorithm)
        messages.append({**message, "Signature": base64.b64encode(signature).decode()})
    return cert.public_bytes(serialization.Encoding.PEM), messages


def test_the_app_imports_from_the_package_as_lambda_imports_it(package: Path, tmp_path: Path) -> None:
    import holidays

    task = unzip(package / "deployment.zip", tmp_path / "task")
    runtime = runtime_standin(tmp_path / "runtime")
    pem, messages = signed_by_cryptography()
    dates = {country: sorted(map(str, holidays.country_holidays(country, years=2026)))
             for country in HOLIDAY_COUNTRIES}
    script = IMPORTS.format(every_import=every_import(), holidays=dates, pem=pem, messages=messages)
    run = python_s([str(task), str(runtime)], script, task)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ok" in run.stdout
    lines = [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]
    logged = [line for line in lines if line.get("event") == "package_check"]
    assert [line["level"] for line in logged] == ["INFO", "WARNING", "ERROR"], run.stderr[-3000:]
    assert logged[0]["phone"] != "+33600000001" and logged[0]["service"].startswith("astreinte-")
    tracing = [line for line in lines if line.get("event") == "tracing_off"]
    assert all("aws_xray_sdk" in line["error"] for line in tracing), tracing  # not a module we left out
    emf = [json.loads(line) for line in run.stdout.splitlines() if line.startswith('{"_aws"')]
    assert emf and emf[0]["PagesSent"] in (1, [1]), run.stdout[-2000:]

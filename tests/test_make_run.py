"""`make run` as a newcomer uses it: start it, paste the curl it prints, see the page."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from chalicelib.hotline import logic
from chalicelib.rotas import load
from devstack.dynamodb import free_port

ROOT = Path(__file__).resolve().parent.parent
CALLER = "+33611223301"


def control(outbox: str, name: str, args: dict) -> dict:
    """One of the outbox's control endpoints, as the README's curl calls it."""
    req = urllib.request.Request(f"{outbox}/_control/{name}", data=json.dumps(args).encode(),
                                 headers={"Content-Type": "application/json"})
    answer = json.load(urllib.request.urlopen(req, timeout=30))
    assert answer["ok"], answer
    return answer["result"]


def test_the_printed_curl_pages_the_agent_on_call_in_the_outbox(tmp_path: Path) -> None:
    ports = {"ASTREINTE_PORT": free_port(), "ASTREINTE_OUTBOX_PORT": free_port(),
             "ASTREINTE_DYNAMODB_PORT": free_port()}
    env = {**os.environ, **{k: str(v) for k, v in ports.items()},
           "ASTREINTE_DATA_DIR": str(tmp_path / "db")}
    proc = subprocess.Popen([sys.executable, "-m", "devstack.run"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            assert line, "make run stopped before printing its banner:\n" + "".join(banner)
            banner.append(line)
            if "/v1/incidents/1" in line:
                break
        text = "".join(banner)
        # It says where its data really is (ASTREINTE_DATA_DIR moves it from .localdata/).
        [stored] = [line for line in banner if "DynamoDB Local" in line]
        assert f"(data kept in {tmp_path / 'db'})" in stored and ".localdata" not in stored, stored
        outbox = f"http://127.0.0.1:{ports['ASTREINTE_OUTBOX_PORT']}"
        assert f"{outbox}/" in text and f"{outbox}/outbox.json" in text
        curl = re.search(r"(curl -s -X POST .*?\}')", text, re.S)
        assert curl, text
        answer = subprocess.run(["bash", "-c", curl.group(1).replace("\\\n", " ")],
                                capture_output=True, text=True, timeout=30)
        body = json.loads(answer.stdout)
        assert body["status"] == "success" and body["incident_number"] == 1

        deadline = time.monotonic() + 10
        sent: list[dict] = []
        while time.monotonic() < deadline and not any(m["kind"] == "sms" for m in sent):
            sent = json.load(urllib.request.urlopen(f"{outbox}/outbox.json", timeout=5))
            time.sleep(0.05)
        sms = [m for m in sent if m["kind"] == "sms"]
        # in the language of whoever is on call this week
        assert sms and re.search(r"#1 (CRITIQUE|CRITICAL) Helpdesk", sms[0]["body"])
        assert any(m["kind"] == "slack" and m["channel"] == "C0SUPPORT" for m in sent)
        page = urllib.request.urlopen(f"{outbox}/", timeout=5).read().decode()
        assert "Disque plein sur db-1" in page

        token = re.search(r"API token\s+(\S+)", text).group(1)
        req = urllib.request.Request(f"http://127.0.0.1:{ports['ASTREINTE_PORT']}/v1/incidents/1",
                                     headers={"Authorization": f"Bearer {token}"})
        incident = json.load(urllib.request.urlopen(req, timeout=5))
        assert incident["state"] == "triggered" and incident["severity"] == "critique"

        # The responders' page it prints is the agent's own: the page, and their open incident.
        me_url, agent_token = re.search(r"Responders' page\s+(\S+/me)#token=(\S+)", text).groups()
        assert "<html" in urllib.request.urlopen(me_url, timeout=5).read().decode()
        as_agent = {"Authorization": f"Bearer {agent_token}"}
        me = json.load(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{ports['ASTREINTE_PORT']}/v1/me", headers=as_agent), timeout=5))
        assert me["id"] in incident["paged"]
        mine = json.load(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{ports['ASTREINTE_PORT']}/v1/incidents?state=open&person={me['id']}",
            headers=as_agent), timeout=5))
        assert [i["number"] for i in mine["incidents"]] == [1]

        # Nobody answers; the manager escalates up to the direction, whose rules say email.
        escalate = f"http://127.0.0.1:{ports['ASTREINTE_PORT']}/v1/incidents/1/escalate"
        for _ in range(3):
            req = urllib.request.Request(escalate, data=b"", method="POST",
                                         headers={"Authorization": f"Bearer {token}"})
            assert json.load(urllib.request.urlopen(req, timeout=10))["result"] == "escalated"
        deadline = time.monotonic() + 10
        emails: list[dict] = []
        while time.monotonic() < deadline and not emails:
            sent = json.load(urllib.request.urlopen(f"{outbox}/outbox.json", timeout=5))
            emails = [m for m in sent if m["kind"] == "email" and m["to"] == "gilles.moreau@example.fr"]
            time.sleep(0.05)
        assert emails, [m["kind"] for m in sent]
        assert emails[0]["subject"].startswith("[Astreinte] #1 CRITIQUE Helpdesk")  # Gilles reads French
        assert re.search(r"Prendre en charge : http://127\.0\.0\.1:\d+/l/\S+", emails[0]["text"])
        assert "Disque plein sur db-1" in urllib.request.urlopen(f"{outbox}/", timeout=5).read().decode()

        # A customer calls the hotline through the outbox, as the README's curl does (key 2:
        # incident technique), and the agent rung answers and presses 1.
        helpdesk = next(s for s in load.load_dir(ROOT / "rotas")["services"].values() if s.get("hotline"))
        office = logic.in_office_hours(helpdesk, time.time())  # then forwarded: no menu, no incident
        call = control(outbox, "call_hotline", {"from": CALLER, "to": helpdesk["hotline"]["number"],
                                                "digits": "2"})
        assert call["state"] == "dialing", call
        if office:
            assert call["dialing"]["to"] == helpdesk["hotline"]["office_forward"]
            return
        call = control(outbox, "hotline", {"call_sid": call["call_sid"], "action": "answer", "key": "1"})
        assert call["state"] == "ended" and call["legs"][-1]["status"] == "bridged", call
        page = urllib.request.urlopen(f"{outbox}/", timeout=5).read().decode()
        assert call["call_sid"] in page and "ended (taken by" in page

        req = urllib.request.Request(f"http://127.0.0.1:{ports['ASTREINTE_PORT']}/v1/incidents/2",
                                     headers={"Authorization": f"Bearer {token}"})
        incident = json.load(urllib.request.urlopen(req, timeout=5))
        assert incident["source"] == "hotline" and incident["state"] == "resolved"
        kinds = [e["kind"] for e in incident["timeline"]]
        for kind in ("hotline_call", "hotline_ringing", "hotline_answered", "hotline_call_ended"):
            assert kind in kinds, kinds
        deadline = time.monotonic() + 10  # the caller is asked to rate the answer
        csat: list[dict] = []
        while time.monotonic() < deadline and not csat:
            sent = json.load(urllib.request.urlopen(f"{outbox}/outbox.json", timeout=5))
            csat = [m for m in sent if m["kind"] == "sms" and m["to"] == CALLER]
            time.sleep(0.05)
        assert csat, [m["kind"] for m in sent]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)

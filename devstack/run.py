"""`make run`: the whole service on this machine, with example rotas and an outbox."""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

from .dynamodb import ROOT
from .stack import EXAMPLE_ROUTING_KEY, Stack


def main() -> None:
    api_port = int(os.environ.get("ASTREINTE_PORT", "8000"))
    fake_port = int(os.environ.get("ASTREINTE_OUTBOX_PORT", "8025"))
    ddb_port = int(os.environ.get("ASTREINTE_DYNAMODB_PORT", "8001"))
    stack = Stack(rotas_dir=ROOT / "rotas", api_port=api_port, fake_port=fake_port,
                  ddb_port=ddb_port, db_path=os.environ.get("ASTREINTE_DATA_DIR",
                                                            str(ROOT / ".localdata" / "dynamodb")),
                  timer_interval=0.25, auto_status=True, quiet=False)
    stack.start()
    from chalicelib.cli import save_local_stack

    found = save_local_stack()  # the CLI talks to this stack while it runs
    from chalicelib import tokens
    from chalicelib.rotas import directory

    manager = directory.bundle()["rotas"]["support"]["layers"]["manager"]["participants"][0]
    token = tokens.create(manager, "make run")
    from chalicelib.incidents.escalation import recipients

    bundle = directory.bundle()  # whoever the example's first step pages now (permanence or astreinte)
    first_step = bundle["policies"][bundle["services"]["helpdesk"]["policies"]["critique"]]["steps"][0]
    agent = next((p for p in recipients(first_step, bundle, time.time()) if p in bundle["people"]), manager)
    agent_token = tokens.create(agent, "make run")
    api, out = stack.api_url, stack.fake.url
    event = json.dumps({"routing_key": EXAMPLE_ROUTING_KEY, "event_action": "trigger",
                        "dedup_key": "disk-db-1",
                        "payload": {"summary": "Disque plein sur db-1", "source": "db-1",
                                    "severity": "critical"}}, ensure_ascii=False)
    print(f"""
Astreinte is running locally (Ctrl-C to stop).

  API               {api}
  Outbox (page)     {out}/            what would have been sent; reply, press keys, click from there
  Outbox (JSON)     {out}/outbox.json
  DynamoDB Local    http://127.0.0.1:{stack.db.port}   (data kept in {stack.db.db_path or 'memory'})
  Rotas             rotas/*.yaml  (synced at start)
  Timers            local runner, every 0.25 s (the Lambda sweeper's handler)
  API token         {token}   (acts for {manager})
  Dashboard         {api}/dashboard#token={token}   (incidents, KPIs, astreinte hours, calendar)
  Responders' page  {api}/me#token={agent_token}   (as {agent}, on call now: incidents, actions)

Page the on-call agent, as PagerDuty's Events API v2 would be called:

  curl -s -X POST {api}/v2/enqueue -H 'Content-Type: application/json' \\
    -d '{event}'

Then watch {out}/ and read the incident and its timeline:

  curl -s -H 'Authorization: Bearer {token}' {api}/v1/incidents/1
""", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        # With a timeout: the kernel may hand SIGTERM to another thread, and a main thread
        # blocked for ever would never run the handler (make run then ignored its stop).
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        found.unlink(missing_ok=True)
        stack.stop()
        sys.exit(0)


if __name__ == "__main__":
    main()

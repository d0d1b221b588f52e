"""A month's report for 50 people and 5,000 incidents (goal, issue 5: under 2 s here).

Five teams of ten, each with the example support rota's shape (office-hours duty, weekly
astreinte evenings/nights/weekends/holidays, référents, managers); 5,000 incidents in
October 2026 (the month clocks go back), each acknowledged, resolved, with its pages and a
third with an answered call.  The incidents are stored in DynamoDB Local; the figure is
the astreinte report plus the KPI report as the API computes them: reading the month
through the `month` index, then the arithmetic.  The arithmetic alone is printed too.
Usage: python bench/month_report.py [PEOPLE] [INCIDENTS]
"""
from __future__ import annotations

import random
import statistics
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from common import local_stack

PARIS = ZoneInfo("Europe/Paris")


def team_yaml(t: int, people: list[str]) -> str:
    perm, astr, ref, mgr = people[:4], people[4:9], people[:3], people[9:]
    return f"""
rotas:
  - id: team{t}
    timezone: Europe/Paris
    layers:
      permanence:
        participants: {perm}
        shift: daily
        restrictions: [{{days: [weekdays], from: "09:00", to: "18:00"}}]
      astreinte:
        participants: {astr}
        shift: weekly
        restrictions:
          - {{days: [weekdays], from: "18:00", to: "09:00"}}
          - {{days: [weekend, holiday], from: "09:00", to: "09:00"}}
      referent: {{participants: {ref}, shift: 14d}}
      manager: {{participants: {mgr}, shift: weekly}}
policies:
  - id: team{t}-policy
    sla: {{eleve: {{acknowledge: 15m, resolve: 4h}}, critique: {{acknowledge: 5m}}}}
    steps:
      - targets: [{{rota: team{t}, layer: permanence}}, {{rota: team{t}, layer: astreinte}}]
        delay: 5m
      - targets: [{{rota: team{t}, layer: referent}}]
        delay: 5m
services:
  - id: svc{t}
    policies: {{default: team{t}-policy}}
"""


def write_rotas(folder: Path, n_people: int) -> list[list[str]]:
    teams = [[f"p{t}{k}" for k in range(10)] for t in range(n_people // 10)]
    people = "people:\n" + "".join(f"  - {{id: {p}, name: Person {p}, phone: '+3360000{i:04d}'}}\n"
                                   for i, p in enumerate(p for team in teams for p in team))
    (folder / "people.yaml").write_text(people)
    for t, members in enumerate(teams):
        (folder / f"team{t}.yaml").write_text(team_yaml(t, members))
    return teams


def store_incidents(n: int, teams: list[list[str]], rng: random.Random) -> None:
    from chalicelib.store import Incident

    start = datetime(2026, 10, 1, tzinfo=PARIS).timestamp()
    end = datetime(2026, 11, 1, tzinfo=PARIS).timestamp()
    with Incident.batch_write() as batch:
        for number in range(1, n + 1):
            t = rng.randrange(len(teams))
            created = rng.uniform(start, end)
            who = rng.choice(teams[t])
            ack = created + rng.expovariate(1 / 240)
            resolved = ack + rng.uniform(300, 7200)
            pages = [{"at": created, "to": who, "channel": c, "step": 1, "ok": True}
                     for c in ("sms", "slack")]
            calls = [{"at": ack, "to": who, "seconds": rng.randint(30, 600)}] if rng.random() < 0.3 else []
            batch.save(Incident(
                f"INC#{number}", "META", number=number, service=f"svc{t}", severity=rng.choice(
                    ["critique", "eleve", "eleve", "moyen", "faible"]), summary=f"incident {number}",
                dedup_key=str(number), state="resolved", created_at=created,
                acknowledged_at=ack, acknowledged_by=who, resolved_at=resolved, resolved_by=who,
                policy=f"team{t}-policy", escalation={"step": rng.choice([0, 0, 0, 1]), "loop": 0,
                                                      "next_step_at": None, "pending": []},
                paged=[who], pages=pages, calls=calls))


def main(n_people: int = 50, n_incidents: int = 5000) -> None:
    from chalicelib.reports import review
    from chalicelib.rotas import directory
    from chalicelib.rotas import load as rotas

    rng = random.Random(5)
    with local_stack(), tempfile.TemporaryDirectory() as tmp:
        teams = write_rotas(Path(tmp), n_people)
        directory.sync(rotas.load_dir(tmp))
        directory.invalidate()
        store_incidents(n_incidents, teams, rng)
        first, now = date(2026, 10, 1), datetime(2026, 11, 2, tzinfo=PARIS).timestamp()
        start, end = review.month_bounds(first, PARIS)
        runs, pure = [], []
        for _ in range(5):
            t0 = time.perf_counter()
            month = review.month_report("2026-10", first, now)
            runs.append(time.perf_counter() - t0)
        # what the report reads
        facts = review.facts_between(start - review.WORK_LOOKBACK, end + review.WORK_LOOKAHEAD)
        original = review.facts_between
        review.facts_between = lambda a, b: [f for f in facts if a <= f["created_at"] < b]  # type: ignore
        try:
            for _ in range(5):
                t0 = time.perf_counter()
                review.month_report("2026-10", first, now)
                pure.append(time.perf_counter() - t0)
        finally:
            review.facts_between = original
    people = len(month["astreinte"]["people"])
    hours = sum(p["oncall_total"] for p in month["astreinte"]["people"])
    print(f"month report ({people} people, {month['kpis']['overall']['count']} incidents, "
          f"{hours:.0f} on-call hours): "
          f"median {statistics.median(runs) * 1000:.0f} ms from DynamoDB Local, "
          f"arithmetic alone {statistics.median(pure) * 1000:.0f} ms (goal: under 2 s)")


if __name__ == "__main__":
    import sys

    main(*(int(a) for a in sys.argv[1:3]))

"""Who is on call for 200 rotas at 10,000 instants (goal, issue 3: under 1 s here).

Each rota is a copy of the example support rota (restrictions, French public holidays,
an override), with its own participants and start date; the instants are spread at
random over the coming year.  Each rota answers for its astreinte layer, the hardest one
(evenings, nights, weekends and holidays), through rotation.on_call_many.
Usage: python bench/oncall.py [ROTAS] [INSTANTS]
"""
from __future__ import annotations

import copy
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.rotas import load as rotas  # noqa: E402
from chalicelib.rotas import shifts as rotation  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def main(n_rotas: int = 200, n_instants: int = 10_000) -> None:
    example = rotas.load_dir(ROOT / "rotas")["rotas"]["support"]
    rng = random.Random(7)
    fleet = []
    for i in range(n_rotas):
        rota = copy.deepcopy(example)
        rota["id"] = f"support-{i}"
        layer = rota["layers"]["astreinte"]
        layer["participants"] = [f"p{i}-{k}" for k in range(rng.randint(3, 8))]
        layer["start"] = f"2026-01-{rng.randint(1, 28):02d}"
        fleet.append(rota)
    now = time.time()
    instants = [now + rng.random() * 365 * 86400 for _ in range(n_instants)]

    runs = []
    for _ in range(3):
        rotation._compiled.clear()  # cold: parse every layer, recompute every local time
        rotation._on_duty.cache_clear()
        rotation._day_marks.cache_clear()
        t0 = time.perf_counter()
        timeline = sorted(instants)  # asked as a timeline: answered by slices, not one search each
        answers = [rotation.on_call_many(rota, "astreinte", timeline) for rota in fleet]
        runs.append(time.perf_counter() - t0)
    off_duty = sum(a.count(None) for a in answers) / (n_rotas * n_instants)
    print(f"who is on call for {n_rotas} rotas at {n_instants} instants over a year: "
          f"{min(runs) * 1000:.0f} ms best of 3 ({off_duty:.0%} of answers off duty) (goal: under 1 s)")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))

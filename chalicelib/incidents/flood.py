"""Flood bundling: past a rate, new pages to one person become one message.

When more than ASTREINTE_FLOOD_INCIDENTS incidents page the same person within
ASTREINTE_FLOOD_SECONDS (off when 0, the default), the pages of the next ones are held in
a bundle; when the window ends the sweeper sends it as one message in the person's
language ("12 new incidents: Payments #101, … reply 4 to acknowledge all"), and an SMS "4"
alone acknowledges every incident of the last bundle.  The first page of a critique
incident is never held.  A bundle is deleted only once it was told: a failed send stays
due and is tried again at the next sweep.
"""
from __future__ import annotations

import os
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError

from .. import clock, log, notify
from ..model import Bundle
from ..notify.channels import Message
from ..store import BUNDLE_SHARD, FloodWindow, PageBundle
from .records import get

LEASE_SECONDS = 60.0
LAST_KEPT_SECONDS = 86400.0


def limits() -> tuple[int, float]:
    """(incidents, seconds): past that many incidents in that window, pages are bundled."""
    return (int(os.environ.get("ASTREINTE_FLOOD_INCIDENTS", "0") or 0),
            float(os.environ.get("ASTREINTE_FLOOD_SECONDS", "300") or 300))


def held(person: str, number: int, critique_first: bool, now: float) -> bool:
    """Count this incident against the person's window; True when its page joins the bundle."""
    most, seconds = limits()
    if most <= 0 or critique_first:
        return False
    window = int(now // seconds)
    item = FloodWindow(f"FLOOD#{person}", str(window))
    item.update(actions=[FloodWindow.numbers.add({number}),
                         FloodWindow.expires.set(int((window + 2) * seconds))])
    seen = sorted(item.numbers or set())
    if number not in seen[most:]:
        return False
    PageBundle(f"BUNDLE#{person}", "open").update(actions=[
        PageBundle.person.set(person), PageBundle.numbers.add({number}),
        PageBundle.due_shard.set(BUNDLE_SHARD),
        PageBundle.due_at.set(PageBundle.due_at | ((window + 1) * seconds))])
    return True


def send_due(bundle: Bundle, now: float | None = None) -> int:
    """Send every bundle whose window ended, as one message each; returns how many went."""
    now = clock.now() if now is None else now
    sent = 0
    for b in PageBundle.due_index.query(BUNDLE_SHARD, PageBundle.due_at <= now):
        try:  # leased: a run that dies leaves it due again after the lease
            b.update(actions=[PageBundle.due_at.set(now + LEASE_SECONDS)],
                     condition=PageBundle.due_at == b.due_at)
        except UpdateError:
            continue
        person = bundle["people"].get(b.person)
        numbers = sorted(int(n) for n in b.numbers or ())
        if person is None or not numbers:
            _close(b, set(numbers))
            continue
        services = {}
        for n in numbers[:20]:
            inc = get(n)
            if inc is not None:
                svc = bundle["services"].get(inc.service)
                services[n] = svc["name"] if svc else inc.service
        record = notify.tell(person, _message(person["language"], numbers, services), order=notify.URGENT)
        if not record["ok"]:
            log.error("bundle_not_sent", person=b.person, numbers=numbers, error=record.get("error"))
            continue  # still due when the lease ends
        PageBundle(f"BUNDLE#{b.person}", "last", person=b.person, numbers=set(numbers),
                   expires=int(now + LAST_KEPT_SECONDS)).save()
        _close(b, set(numbers))
        sent += 1
    return sent


def last(person: str) -> list[int]:
    """The incidents of the last bundle a person was sent (what "4" alone acknowledges)."""
    try:
        item = PageBundle.get(f"BUNDLE#{person}", "last", consistent_read=True)
    except DoesNotExist:
        return []
    if item.expires is not None and item.expires < clock.now():
        return []
    return sorted(int(n) for n in item.numbers or ())


def _close(b: PageBundle, told: set[int]) -> None:
    """Take what was told out of the bundle; pages that joined meanwhile go out next sweep."""
    b.update(actions=[PageBundle.numbers.delete(told), PageBundle.due_at.set(clock.now())] if told
             else [PageBundle.due_at.set(clock.now())])
    try:
        b.delete(condition=PageBundle.numbers.does_not_exist())
    except DeleteError:
        pass


def _message(lang: str, numbers: list[int], services: dict[int, str]) -> Message:
    listed = ", ".join(f"#{n} {services.get(n, '')}".strip() for n in numbers[:20])
    more = len(numbers) - 20
    words: dict[str, Any] = {"count": len(numbers), "list": listed + (f" (+{more})" if more > 0 else "")}
    return Message(notify.text(lang, "bundle", **words), notify.text(lang, "bundle_subject", **words))

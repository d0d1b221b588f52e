"""The responders' own page: GET /me (one HTML file, like /dashboard) and the small API it
reads for the token's person: who they are (teams, roles, notification rules, channels),
their next shifts and swaps, and a test page sent to themselves on one channel.

Every person of rotas/ may use it: nothing here is about anyone else."""
from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import Any

from chalice import Blueprint, Response
from pynamodb.exceptions import PutError

from .. import access, clock, config, errors, log, notify, store
from ..model import Bundle, Person
from ..notify import channels, voice
from ..notify.channels import Channel, Message, Sent
from ..rotas import directory, queries
from .access import require
from .http import JSON_TYPES, guarded, int_query, json_body, json_response
from .review import _DASHBOARD_CSP

bp = Blueprint(__name__)

_PAGE = Path(__file__).resolve().parent.parent / "dashboard" / "me.html"
TEST_PAGES = 3  # test pages per person and channel ...
TEST_WINDOW = 600  # ... in any 10 minutes: enough to try, too few to make a pager of it
MAX_DAYS = 60


@functools.cache
def _page() -> str:
    return _PAGE.read_text(encoding="utf-8")


@bp.route("/me", methods=["GET"])
def me_page() -> Response:
    """The page only: it holds no data, and asks for an API token before it fetches any."""
    return Response(body=_page(), status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache",
                             "Content-Security-Policy": _DASHBOARD_CSP})


def _me() -> tuple[Bundle, Person]:
    """The bundle and the token's person (401 without a valid token, 403 once gone from rotas/)."""
    pid = require(bp.current_request, access.ROTA_READ)
    b = directory.bundle()
    return b, b["people"][pid]


# ---------------------------------------------------------------- who am I

def mask(channel: Channel, address: str) -> str:
    """An address as the page shows it: enough to recognise it, not to copy it."""
    if channel.needs == "phone":
        return access.mask_phone(address)
    if channel.needs == "email" and "@" in address:
        user, _, domain = address.partition("@")
        return f"{user[:1]}{access.MASK * 3}@{domain}"
    return address[:3] + access.MASK * 3


def _channels(person: Person) -> list[dict[str, Any]]:
    """Every channel of the registry: whether it reaches the person, where (masked), whether
    their rules use it, and whether a test page can go there now."""
    ruled = set(notify.channels_of(person))
    rows = []
    for name, channel in channels.REGISTRY.items():
        address = channel.address(person)
        missing = channel.configured()
        rows.append({"channel": name, "reachable": address is not None, "in_rules": name in ruled,
                     "address": mask(channel, address) if address else None,
                     "needs": channel.needs_label, "needs_label": needs_label(channel),
                     "configured": missing is None,
                     "testable": address is not None and missing is None})
    return rows


def needs_label(channel: Channel) -> dict[str, str]:
    """What the channel needs from a person's entry, in each language ("an email address")."""
    return {lang: notify.text(lang, f"needs_{channel.needs}") for lang in ("fr", "en")}


def _rules(person: Person) -> list[dict[str, Any]]:
    return [{"channel": r["channel"], "after_seconds": r["after"], "severities": r["severities"]}
            for r in person["notify"]]


def describe(b: Bundle, person: Person) -> dict[str, Any]:
    pid = person["id"]
    teams = [{"id": tid, "name": t["name"], "rotas": t["rotas"], "manager": pid in t["managers"]}
             for tid, t in b["teams"].items() if pid in t["members"] or pid in t["managers"]]
    team_ids = {t["id"] for t in teams}
    return {
        "id": pid, "name": person["name"], "language": person["language"], "timezone": person["timezone"],
        "roles": person["roles"], "role": access.role_of(b, pid),
        "is_manager": access.may(b, pid, access.REPORT_READ),
        "teams": teams,
        "services": sorted(sid for sid, s in b["services"].items() if s["team"] in team_ids),
        "rotas": sorted(access.rotas_of(b, pid)),
        "notify": _rules(person), "channels": _channels(person),
        # For the page's reassign / add-responder choices: names only, no addresses.
        "directory": {"people": sorted(({"id": p["id"], "name": p["name"]} for p in b["people"].values()),
                                       key=lambda p: p["name"]),
                      "policies": [{"id": p["id"], "name": p["name"]} for p in b["policies"].values()]},
    }


@bp.route("/v1/me", methods=["GET"])
@guarded
def whoami() -> Response:
    b, person = _me()
    return json_response(200, describe(b, person), {"Cache-Control": "no-store"})


# ---------------------------------------------------------------- shifts and swaps

def swaps(b: Bundle, pid: str, start: float, end: float) -> list[dict[str, Any]]:
    """The overrides (rotas/ or the API) where the person covers someone or is covered."""
    found: list[dict[str, Any]] = []
    for rid, rota in b["rotas"].items():
        for layer_name, layer in rota["layers"].items():
            for o in layer["overrides"]:
                if pid not in (o["person"], o["replaces"]) or o["end"] <= start or o["start"] >= end:
                    continue
                found.append({"rota": rid, "rota_name": rota["name"], "layer": layer_name,
                              "kind": "covering" if o["person"] == pid else "covered",
                              "person": o["person"], "person_name": directory.name_of(o["person"]),
                              "replaces": o["replaces"],
                              "replaces_name": directory.name_of(o["replaces"]) if o["replaces"] else None,
                              "start": clock.iso(o["start"]), "end": clock.iso(o["end"]),
                              "_start": o["start"]})
    found.sort(key=lambda s: s["_start"])
    return [{k: v for k, v in s.items() if k != "_start"} for s in found]


@bp.route("/v1/me/shifts", methods=["GET"])
@guarded
def my_shifts() -> Response:
    b, person = _me()
    days = int_query(bp.current_request, "days", 14, 1, MAX_DAYS)
    start = clock.now()
    end = start + days * 86400
    found = queries.person_shifts(person["id"], start, end)
    for s in found["shifts"]:
        s["rota_name"] = b["rotas"][s["rota"]]["name"]
        s["timezone"] = b["rotas"][s["rota"]]["timezone"]
    return json_response(200, {**found, "days": days, "timezone": person["timezone"],
                               "swaps": swaps(b, person["id"], start, end)}, {"Cache-Control": "no-store"})


# ---------------------------------------------------------------- test page

def _test_slots(pid: str, channel: str) -> str:
    return f"RATE#me-test#{pid}#{channel}"


def _take_test_slot(pid: str, channel: str) -> None:
    """One of TEST_PAGES slots over the last TEST_WINDOW seconds (a sliding window), or 429
    naming the wait.  Each slot is an item that stays taken until its `expires` (checked on
    the write, not left to the table's lazy TTL); a conditional write claims it, so two taps
    at once never take the same slot."""
    now = clock.now()
    key = _test_slots(pid, channel)
    free_at = int(now + TEST_WINDOW)  # whole seconds, as the table's TTL wants them
    for slot in range(TEST_PAGES):
        try:
            store.Idempotency(key, f"slot#{slot}", answer={"at": now}, expires=free_at).save(
                condition=store.Idempotency.pk.does_not_exist() | (store.Idempotency.expires <= now))
            return
        except PutError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
    taken = [item.expires for item in store.Idempotency.query(key, consistent_read=True)
             if str(item.sk).startswith("slot#")]
    wait = max(1, math.ceil(min(taken, default=now + 1) - now))
    minutes = (wait + 59) // 60
    every = TEST_WINDOW // 60
    raise errors.RateLimited(f"{TEST_PAGES} test pages per channel every {every} minutes: try {channel} "
                             f"again in {wait} s (about {minutes} min) / {TEST_PAGES} pages de test par "
                             f"canal toutes les {every} minutes : réessayez {channel} dans {wait} s (environ "
                             f"{minutes} min)", retry_after=wait)


def _send_test(channel: Channel, person: Person, address: str) -> Sent:
    lang = person["language"]
    values = {"name": person["name"], "channel": channel.name}
    if channel.tells:
        message = Message(notify.text(lang, "me_test", **values),
                          notify.text(lang, "me_test_subject", **values))
        return notify.with_retries(lambda: channel.tell(person, message))
    if channel.name == voice.CHANNEL.name:  # no notices by call, but a test call is what one wants to try
        said = voice.say(notify.text(lang, "me_test_voice", **values), lang)
        s = config.settings()
        sid = notify.with_retries(lambda: str(config.twilio_client().calls.create(
            to=address, from_=s.twilio_from, twiml=said).sid))
        return Sent(channel.name, person["id"], address, sid, lang)
    raise errors.BadRequest(f"'{channel.name}' cannot carry a test page / "
                            f"'{channel.name}' ne peut pas porter de page de test", code="not_testable")


@bp.route("/v1/me/test-page", methods=["POST"], content_types=JSON_TYPES)
@guarded
def test_page() -> Response:
    b, person = _me()
    name = json_body(bp.current_request).get("channel")
    known = ", ".join(channels.REGISTRY)
    channel = channels.REGISTRY.get(name) if isinstance(name, str) else None
    if channel is None:
        shown = repr(name[:40]) if isinstance(name, str) else f"<{type(name).__name__}>"
        raise errors.BadRequest(f"'channel' must be one of {known}, not {shown} / "
                                f"'channel' doit être l'un de {known}, pas {shown}", code="unknown_channel")
    address = channel.address(person)
    if address is None:
        needs = needs_label(channel)
        raise errors.BadRequest(f"'channel': {channel.name} cannot reach you, your entry in people.yaml "
                                f"lacks {needs['en']} / 'channel' : {channel.name} ne vous joint pas, il "
                                f"manque {needs['fr']} à votre fiche dans people.yaml",
                                code="unreachable_channel")
    missing = channel.configured()
    if missing:
        raise errors.BadRequest(f"'channel': {channel.name} is not set up here ({missing}) / "
                                f"'channel' : {channel.name} n'est pas configuré ici",
                                code="unreachable_channel")
    _take_test_slot(person["id"], channel.name)
    try:
        sent = _send_test(channel, person, address)
    except errors.ServiceError:
        raise
    except Exception as exc:  # noqa: BLE001 - the provider's refusal, told to the person
        reason = notify.describe(exc)
        log.warning("test_page_failed", person=person["id"], channel=channel.name, error=reason)
        # The provider's words apart: inside the message, a " / " of theirs would split it wrongly.
        raise errors.UpstreamFailed(f"{channel.name} did not take the test page / "
                                    f"{channel.name} n'a pas pris la page de test",
                                    reason=reason) from exc
    log.info("test_page", person=person["id"], channel=channel.name, ref=sent.ref)
    shown = mask(channel, address)
    return json_response(200, {"result": "sent", "channel": channel.name, "address": shown, "ref": sent.ref,
                               "message": notify.text(person["language"], "me_test_sent",
                                                      channel=channel.name, address=shown)})

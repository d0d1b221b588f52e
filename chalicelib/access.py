"""Who may do what, decided from rotas/ alone: plain functions over the bundle, no I/O.

Three roles, each including the one before:

- **responder**: every person of people.yaml.  Acts on incidents, reads rotas, manages
  their own calendar feed, API tokens and overrides (only themselves, only in a layer they
  already hold: an agent cannot make herself the manager on call).
- **manager**: a person in a team's `managers:`, or with the role `manager` or `direction`.
  Reports and the dashboard; the overrides and feeds of the rotas and people of the teams
  they manage.
- **admin**: a person with the role `admin`.  Integration keys, anyone's API tokens, feeds
  and overrides, and everything a manager may do.

Routes ask `refusal(bundle, person, action, target)` (chalicelib.routes.access.require):
None when allowed, otherwise the role needed and why, in English and French.
"""
from __future__ import annotations

from typing import NamedTuple, TypedDict

from .model import Bundle

RESPONDER, MANAGER, ADMIN = "responder", "manager", "admin"
MANAGER_ROLES = frozenset({"manager", "direction"})  # roles in people.yaml that make a manager
ADMIN_ROLES = frozenset({"admin"})

# What a caller asks to do.
INCIDENT_ACT = "incident.act"
ROTA_READ = "rota.read"
REPORT_READ = "report.read"
INTEGRATION_MANAGE = "integration.manage"
TOKEN_MANAGE = "token.manage"  # list or revoke; target: the token's person
TOKEN_CREATE = "token.create"  # target: the token's person
OVERRIDE_CREATE = "override.create"  # target: rota, layer, person
OVERRIDE_DELETE = "override.delete"  # target: rota, person, created_by
FEED_MANAGE = "feed.manage"  # target: rota (a rota feed) or person (a person feed)
FEED_REVOKE = "feed.revoke"  # the same, and created_by
PHONE_SEE = "phone.see"  # target: person (whose number)

ROLE_NAMES = {RESPONDER: ("a person of the rotas", "une personne des astreintes"),
              MANAGER: ("a manager of the team, or an admin", "un·e responsable de l'équipe, ou un·e admin"),
              ADMIN: ("an admin (role admin in people.yaml)", "un·e admin (rôle admin dans people.yaml)")}


class Target(TypedDict, total=False):
    """What an action is about; only the fields the action needs."""

    rota: str
    layer: str
    person: str  # the person the override, feed, token or phone number is about
    created_by: str | None


class Refusal(NamedTuple):
    needed: str  # the role that would be allowed: responder | manager | admin
    why_en: str
    why_fr: str

    def message(self) -> str:
        """The message a person reads, English / French, naming the role needed."""
        en, fr = ROLE_NAMES[self.needed]
        return f"{self.why_en}: this needs {en} / {self.why_fr} : réservé à {fr}"


# ---------------------------------------------------------------- roles

def role_of(bundle: Bundle, person: str) -> str | None:
    """The highest role of a person, None when the person is not (or no longer) in rotas/."""
    p = bundle["people"].get(person)
    if p is None:
        return None
    roles = set(p["roles"])
    if roles & ADMIN_ROLES:
        return ADMIN
    if roles & MANAGER_ROLES or any(person in t["managers"] for t in bundle["teams"].values()):
        return MANAGER
    return RESPONDER


def managed_teams(bundle: Bundle, person: str) -> set[str]:
    """The teams a person manages: those listing them in `managers:`, and, for a person with
    the role manager or direction, the teams whose rotas they are in."""
    p = bundle["people"].get(person)
    if p is None:
        return set()
    by_role = bool(set(p["roles"]) & MANAGER_ROLES)
    return {tid for tid, t in bundle["teams"].items()
            if person in t["managers"] or (by_role and person in t["members"])}


def report_teams(bundle: Bundle, person: str) -> set[str] | None:
    """The teams whose reports a person reads: every team (None) for admins and the
    direction; their own teams for a manager (payroll hours are no other team's business)."""
    p = bundle["people"].get(person)
    if p is None:
        return set()
    if role_of(bundle, person) == ADMIN or "direction" in p["roles"]:
        return None
    return managed_teams(bundle, person)


def manages_rota(bundle: Bundle, person: str, rota: str) -> bool:
    """Whether the rota belongs to a team the person manages."""
    teams = bundle["teams"]
    return any(rota in teams[tid]["rotas"] for tid in managed_teams(bundle, person))


def manages_person(bundle: Bundle, person: str, other: str) -> bool:
    """Whether `other` is a member or a manager of a team the person manages."""
    teams = bundle["teams"]
    return any(other in teams[tid]["members"] or other in teams[tid]["managers"]
               for tid in managed_teams(bundle, person))


def rotas_of(bundle: Bundle, person: str) -> set[str]:
    """The rotas where the person is a participant of some layer."""
    return {rid for rid, r in bundle["rotas"].items()
            if any(person in layer["participants"] for layer in r["layers"].values())}


def shares_rota(bundle: Bundle, person: str, other: str) -> bool:
    return bool(rotas_of(bundle, person) & rotas_of(bundle, other))


# ---------------------------------------------------------------- decisions

def may(bundle: Bundle, person: str, action: str, target: Target | None = None) -> bool:
    return refusal(bundle, person, action, target) is None


def refusal(bundle: Bundle, person: str, action: str, target: Target | None = None) -> Refusal | None:
    """None when `person` may do `action` on `target`; otherwise the role needed and why."""
    t: Target = target or {}
    role = role_of(bundle, person)
    if role is None:
        return Refusal(RESPONDER, f"'{person}' is not in the rotas",
                       f"'{person}' n'est pas dans les astreintes")
    if role == ADMIN or action in (INCIDENT_ACT, ROTA_READ):
        return None
    if action == REPORT_READ:
        return None if role == MANAGER else Refusal(MANAGER, "reports are for managers",
                                                      "les rapports sont pour les responsables")
    if action == INTEGRATION_MANAGE:
        return Refusal(ADMIN, "integration keys are managed by admins",
                       "les clés d'intégration sont gérées par les admins")
    if action == TOKEN_CREATE:  # not even your own: a token would otherwise outlive its expiry
        return Refusal(ADMIN, "API tokens are made by admins", "les jetons d'API sont créés par les admins")
    if action == TOKEN_MANAGE:
        return None if t.get("person") == person else Refusal(
            ADMIN, "only your own API tokens", "uniquement vos propres jetons d'API")
    if action == OVERRIDE_CREATE:
        return _override_create(bundle, person, t)
    if action == OVERRIDE_DELETE:
        if person in (t.get("created_by"), t.get("person")):
            return None
        if manages_rota(bundle, person, t.get("rota", "")):
            return None
        return Refusal(MANAGER, "only who made the override, the person it names, or the team's managers "
                       "may remove it", "seuls l'auteur du remplacement, la personne remplaçante ou les "
                       "responsables de l'équipe peuvent le supprimer")
    if action in (FEED_MANAGE, FEED_REVOKE):
        return _feed(bundle, person, action, t)
    if action == PHONE_SEE:
        other = t.get("person", "")
        if other == person or manages_person(bundle, person, other) or shares_rota(bundle, person, other):
            return None
        return Refusal(MANAGER, "phone numbers are for the same rota and its managers",
                       "les numéros sont pour l'équipe d'astreinte et ses responsables")
    return Refusal(ADMIN, f"unknown action '{action}'", f"action inconnue '{action}'")


def _override_create(bundle: Bundle, person: str, t: Target) -> Refusal | None:
    """A responder puts only herself in, in a layer she already holds; managers anyone in their
    team's rotas."""
    rota_id, layer = t.get("rota", ""), t.get("layer", "")
    if manages_rota(bundle, person, rota_id):
        return None
    if t.get("person") != person:
        return Refusal(MANAGER, "you may only put yourself on call", "vous ne pouvez inscrire que vous-même")
    rota = bundle["rotas"].get(rota_id)
    held = rota["layers"].get(layer) if rota else None
    if held is None or person not in held["participants"]:
        return Refusal(MANAGER, f"you are not in the layer '{layer}' of the rota '{rota_id}'",
                       f"vous n'êtes pas dans le niveau « {layer} » de l'astreinte « {rota_id} »")
    return None


def _feed(bundle: Bundle, person: str, action: str, t: Target) -> Refusal | None:
    """Your own person feed; a feed you made (revoke); the team's feeds for its managers."""
    if "person" in t and t["person"] == person:
        return None
    if action == FEED_REVOKE and t.get("created_by") == person:
        return None
    if "rota" in t and manages_rota(bundle, person, t["rota"]):
        return None
    if "person" in t and manages_person(bundle, person, t["person"]):
        return None
    return Refusal(MANAGER, "rota feeds and other people's feeds are for the team's managers",
                   "les agendas d'une astreinte ou d'une autre personne sont pour les responsables")


# ---------------------------------------------------------------- phone numbers

MASK = "•"


def mask_phone(phone: str) -> str:
    """+33600000001 -> '+33 6•• •• •• 01': the country and the first digit (which tells a
    mobile), the last two digits (which tell two colleagues apart), nothing to call."""
    digits = "".join(c for c in phone if c.isdigit())
    if len(digits) < 6:
        return MASK * max(len(digits) - 2, 0) + digits[-2:]
    head, tail = digits[:3], MASK * (len(digits) - 5) + digits[-2:]
    groups = [tail[max(i - 2, 0):i] for i in range(len(tail), 0, -2)][::-1]
    return f"+{head[:2]} {head[2]}{groups[0]} " + " ".join(groups[1:])


def phone_for(bundle: Bundle, viewer: str, person: str, phone: str | None) -> str | None:
    """The number as `viewer` may see it: whole, or masked."""
    if phone is None or may(bundle, viewer, PHONE_SEE, {"person": person}):
        return phone
    return mask_phone(phone)

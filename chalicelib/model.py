"""The rota bundle's shape: what chalicelib.rotas.load produces from rotas/*.yaml.

Plain dicts (they are stored as one DynamoDB item and cached per container), typed here so
that the rest of the code, and mypy, know which fields a person, a rota or a policy has.
"""
from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class NotifyRule(TypedDict):
    channel: str  # a channel of chalicelib.notify's registry
    after: float  # seconds after the step starts
    severities: list[str]


class Person(TypedDict):
    id: str
    name: str
    language: str  # fr | en
    timezone: str
    phone: str | None
    slack: str | None
    email: str | None
    notify: list[NotifyRule]
    roles: list[str]


Window = TypedDict("Window", {"days": list[str], "from": str, "to": str})


class Override(TypedDict):
    person: str
    replaces: str | None
    start: float
    end: float


class Layer(TypedDict):
    participants: list[str]
    timezone: str
    pattern: list[int]
    handoff: str
    start: str
    restrictions: list[Window]
    overrides: list[Override]
    covered: bool


class HandoffNotice(TypedDict):
    before: float
    slack_channel: str | None


class Rota(TypedDict):
    id: str
    name: str
    timezone: str
    layers: dict[str, Layer]
    holidays: str | None
    around_the_clock: list[str]
    handoff_notice: HandoffNotice


class Target(TypedDict, total=False):
    rota: str
    layer: str
    person: str
    slack_channel: str


class Step(TypedDict):
    targets: list[Target]
    delay: float
    channels: list[str] | None


class Policy(TypedDict):
    id: str
    name: str
    steps: list[Step]
    repeat: int
    sla: dict[str, dict[str, float]]


class Integration(TypedDict):
    type: str
    key_sha256: str
    options: dict[str, Any]


class MenuItem(TypedDict):
    key: str  # "1".."8" (9 switches the language)
    label: dict[str, str]  # language -> what the caller hears and the agent is told
    policy: str | None  # the escalation policy whose people are rung, in order
    voicemail: bool  # straight to voicemail (the service's default policy pages afterwards)


class Hotline(TypedDict):
    """The support number customers call outside office hours (chalicelib.hotline)."""

    number: str  # E.164, a Twilio number whose voice URL is /webhooks/twilio/hotline
    languages: list[str]  # the first is the default
    office_forward: str | None  # during the service's support_hours, calls go there
    ring_seconds: float
    voicemail_transcription: bool
    menu: list[MenuItem]


class Service(TypedDict):
    id: str
    name: str
    policies: dict[str, str]  # severity or "default" -> policy id
    team: str | None
    integrations: list[Integration]
    maintenance: list[dict[str, Any]]
    support_hours: dict[str, Any] | None
    hotline: NotRequired[Hotline | None]  # (absent from bundles stored before it existed)
    # message kind (acknowledgement, first_answer, closure) -> language -> template
    # (chalicelib.ticketing; absent or None: the built-in messages)
    customer_messages: NotRequired[dict[str, dict[str, str]] | None]


class Team(TypedDict):
    id: str
    name: str
    rotas: list[str]
    members: list[str]
    managers: list[str]
    timezone: str
    holidays: str | None
    office_hours: list[Window]
    night: dict[str, str]
    rest: float
    intervention_cap: float
    out_of_hours_threshold: float
    slack_channel: str | None


class Bundle(TypedDict):
    people: dict[str, Person]
    rotas: dict[str, Rota]
    policies: dict[str, Policy]
    services: dict[str, Service]
    teams: dict[str, Team]

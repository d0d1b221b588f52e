"""DynamoDB models: one table, and the single definition of it.

Single-table layout (pk / sk):
  INC#<number>     META              the incident (state, escalation position, who was paged,
                                     the pages sent and the calls answered, for reports)
  INC#<number>     T#<iso>#<seq>     its timeline, one item per event, ordered by time
  DEDUP#<svc>#<k>  DEDUP             the open incident for a dedup_key; deleted on resolve
  COUNTER          incident          the last incident number (short numbers people type)
  IDEM#<source>    IDEM              a webhook already handled, with the answer it got (TTL)
  CONFIG           bundle            people, rotas, policies, services synced from rotas/
  TOKEN#<sha256>   TOKEN             an API token (stored hashed) and the person it acts for
  OVERRIDES        <rota>#<id>       an override made through the API
  IKEY#<sha256>    IKEY              an integration key (hashed); IKEYS#<service> lists them
  RATE#<sha256>    <minute>          events counted against a key's rate limit (TTL)
  HB#<sha256>      HB                a heartbeat; on the `due` index (partition "hb") until due
  FEED#<sha256>    FEED              an iCal feed token (stored hashed) and the rota or person it shows
  FEEDS#<kind>#<id> <sha256>         the feed tokens of one rota or person, so rotating revokes them all
  FLOOD#<person>   <window>          the incidents that paged a person in a window (TTL)
  BUNDLE#<person>  open | last       pages held during a flood (on `due`, partition "bundle"); the last sent
  MIGRATION        <name>            a backfill done (backfill_open_index): later runs skip it

The index `month` lists incidents by the month (UTC) they opened, sorted by time, with the
fields reports need: the incident list and a month's report read it, never the timelines.
The sparse index `due` holds only incidents with an escalation step or page to run, so
the one-minute sweeper reads exactly the work that is due; the sparse index `open` only the
incidents not resolved (the responders' list).  TABLE_DEFINITION below is
the one description of the table: the local stack creates it, and infra/ is generated
from it (tests check infra/ has not drifted).
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError
from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    VersionAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import NUMBER
from pynamodb.exceptions import PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from . import config

DUE_SHARD = "due"


class IntegerAttribute(Attribute[int]):
    """A whole number (incident numbers, counters): pynamodb's NumberAttribute reads floats."""

    attr_type = NUMBER

    def serialize(self, value: int) -> str:
        return str(int(value))

    def deserialize(self, value: str) -> int:
        return int(float(value))


_client_lock = threading.Lock()
_connection: dict[str, Connection] = {}


def _shared() -> Connection:
    """The one pynamodb connection, and so the one botocore client, of this container.

    pynamodb builds a client (and a botocore session that loads the service's JSON
    models) per model on first use: ten of them on a cold start, and more when threads
    race for them in the local server.  botocore clients are thread-safe, so every model
    and every transaction shares this one."""
    with _client_lock:
        if "conn" not in _connection:
            s = config.settings()
            # Bounded, so that a request ends within 10 s when the store does not answer (a 503
            # the sender can retry), not at API Gateway's 29 s with nobody knowing what was stored.
            conn = Connection(region=s.region, host=s.dynamodb_endpoint,
                              connect_timeout_seconds=s.store_timeout_seconds / 2,
                              read_timeout_seconds=s.store_timeout_seconds,
                              max_retry_attempts=s.store_attempts - 1, retry_configuration="LEGACY")
            conn.client  # noqa: B018 -- built now, under the lock, once
            _connection["conn"] = conn
        return _connection["conn"]


class _Table(Model):
    """Our models: one table, one shared client (see _shared)."""

    @classmethod
    def _get_connection(cls) -> Any:
        table = super()._get_connection()
        if table.connection._client is None:
            table.connection._client = _shared().client
        return table


class _Meta:
    table_name = "astreinte"
    region = "eu-west-3"
    host: str | None = None
    billing_mode = "PAY_PER_REQUEST"


class DueIndex(GlobalSecondaryIndex["Incident"]):
    """Incidents with work due: partition `due`, sorted by the time it is due."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


REPORT_FIELDS = ("number", "service", "severity", "state", "unanswered", "summary", "source", "created_at",
                 "acknowledged_at", "acknowledged_by", "resolved_at", "resolved_by", "policy", "paged",
                 "pages", "calls", "dedup_key", "first_acknowledged_at", "earlier_holds")


class OpenIndex(GlobalSecondaryIndex["Incident"]):
    """Incidents not resolved yet (triggered or acknowledged), whatever the month they opened,
    oldest first: the responders' list of what is open.  Sparse: `open_shard` is set while
    the incident is open (Incident.serialize)."""

    class Meta:
        index_name = "open"
        projection = IncludeProjection(["line"])

    open_shard = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


OPEN_SHARD = "open"


class MonthIndex(GlobalSecondaryIndex["Incident"]):
    """Incidents by the month they opened ("2026-11"), oldest first."""

    class Meta:
        index_name = "month"
        projection = IncludeProjection(["line"])

    month = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


class Incident(_Table):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="META")
    number = IntegerAttribute()
    service = UnicodeAttribute()
    severity = UnicodeAttribute()
    summary = UnicodeAttribute()
    source = UnicodeAttribute(null=True)
    dedup_key = UnicodeAttribute()
    details = JSONAttribute(null=True)
    state = UnicodeAttribute()  # triggered | acknowledged | resolved
    unanswered = BooleanAttribute(default=False)
    created_at = NumberAttribute()
    acknowledged_at = NumberAttribute(null=True)
    acknowledged_by = UnicodeAttribute(null=True)
    resolved_at = NumberAttribute(null=True)
    resolved_by = UnicodeAttribute(null=True)
    policy = UnicodeAttribute()
    escalation = JSONAttribute()  # chalicelib.incidents.escalation.State
    paged = ListAttribute(of=UnicodeAttribute, default=list)  # person ids and slack:<channel>
    sent = JSONAttribute(null=True)  # [notify.Sent as a dict]: what was sent where, to update or trace
    # Before `sent`: [[channel, ts, lang]] of Slack pages.  Still read (incidents open when
    # `sent` came keep their Slack updates); never written.
    slack_messages = JSONAttribute(null=True)
    pages = JSONAttribute(null=True)  # [{at, to, channel, step, ok}]: every page sent
    calls = JSONAttribute(null=True)  # [{at, to, seconds}]: calls answered (Twilio status callbacks)
    month = UnicodeAttribute(null=True)  # "2026-11", for the `month` index (set by serialize)
    line = UnicodeAttribute(null=True)  # the report fields as one JSON string (see serialize)
    due_shard = UnicodeAttribute(null=True)
    due_at = NumberAttribute(null=True)
    open_shard = UnicodeAttribute(null=True)  # OPEN_SHARD while not resolved (the `open` index)
    snoozed_until = NumberAttribute(null=True)  # acknowledged, triggered again then (snooze)
    merged_into = IntegerAttribute(null=True)  # a duplicate merged into that incident
    # the duplicates merged into this one (and theirs): only such an incident has merge notes
    # and pointers to clean up when resolved, so no other resolution looks for them
    merged_from = JSONAttribute(null=True)
    # Kept when a holder lets it go (reassigned, snooze ran out: engine.let_go), for reports:
    first_acknowledged_at = NumberAttribute(null=True)  # the first acknowledgement (TTA, SLA)
    earlier_holds = JSONAttribute(null=True)  # [{by, from, to}]: earlier holders' acknowledged time
    version = VersionAttribute()
    due_index = DueIndex()
    month_index = MonthIndex()
    open_index = OpenIndex()

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        """Every write refreshes `line`: the fields reports need, in one string, so a month
        of incidents reads from the `month` index as one attribute each (the parsing of
        twenty attributes per item, not DynamoDB, is what a month's report would wait on)."""
        if self.created_at is not None:  # the index's key: the UTC month the incident opened
            self.month = datetime.fromtimestamp(self.created_at, UTC).strftime("%Y-%m")
        self.open_shard = OPEN_SHARD if self.state in ("triggered", "acknowledged") else None
        state = self.escalation or {}
        fields = {f: getattr(self, f, None) for f in REPORT_FIELDS}
        fields.update(step=state.get("step", -1), loop=state.get("loop", 0))
        self.line = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        return super().serialize(null_check)


class TimelineEntry(_Table):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    at = NumberAttribute()
    kind = UnicodeAttribute()
    actor = UnicodeAttribute(null=True)
    channel = UnicodeAttribute(null=True)
    detail = JSONAttribute(null=True)
    expires = NumberAttribute(null=True)  # set on entries kept for a while only (TTL)


class DedupKey(_Table):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="DEDUP")
    number = IntegerAttribute()


class Counter(_Table):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True, default="COUNTER")
    sk = UnicodeAttribute(range_key=True)
    value = IntegerAttribute(default=0)


class Idempotency(_Table):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="IDEM")
    answer = JSONAttribute(null=True)
    expires = NumberAttribute()  # the table's TTL attribute


class ConfigBundle(_Table):
    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True, default="CONFIG")
    sk = UnicodeAttribute(range_key=True, default="bundle")
    digest = UnicodeAttribute()
    body = JSONAttribute()
    synced_at = NumberAttribute()


class ApiToken(_Table):
    """An API token (TOKEN#<sha256>, TOKEN), and its listing entry (TOKENS, <person>#<sha256>):
    both items carry the same fields (chalicelib.tokens)."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True, default="TOKEN")
    person = UnicodeAttribute()
    label = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    expires_at = NumberAttribute(null=True)  # tokens made before expiry existed: created_at + a year
    created_by = UnicodeAttribute(null=True)


class OverrideItem(_Table):
    """An override made through the API (those in rotas/ travel with the bundle)."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True, default="OVERRIDES")
    sk = UnicodeAttribute(range_key=True)  # <rota>#<id>
    layer = UnicodeAttribute()
    person = UnicodeAttribute()
    replaces = UnicodeAttribute(null=True)
    start = NumberAttribute()
    end = NumberAttribute()
    created_by = UnicodeAttribute(null=True)
    created_at = NumberAttribute()


class FeedToken(_Table):
    """An iCal feed token (FEED#<sha256>, FEED), and its entry under its target
    (FEEDS#<kind>#<target>, <sha256>): both items carry the same fields."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()  # rota | person
    target = UnicodeAttribute()
    created_by = UnicodeAttribute(null=True)
    created_at = NumberAttribute()


class IntegrationKey(_Table):
    """An integration key made through the API or CLI (stored hashed), and its listing:
    pk IKEY#<sha256> (lookup) and IKEYS#<service> / <sha256> (list, rotate)."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    service = UnicodeAttribute()
    source = UnicodeAttribute()
    label = UnicodeAttribute(null=True)
    options = JSONAttribute(null=True)  # per-source settings (generic webhook field mapping...)
    created_by = UnicodeAttribute(null=True)
    created_at = NumberAttribute()


class RateWindow(_Table):
    """One key's event count in one minute (chalicelib.ratelimit)."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # RATE#<key hash>
    sk = UnicodeAttribute(range_key=True)  # the minute
    count = IntegerAttribute(default=0)  # type: ignore[assignment]  # a column named like Model.count
    expires = NumberAttribute()


HEARTBEAT_SHARD = "hb"


class HeartbeatDueIndex(GlobalSecondaryIndex["Heartbeat"]):
    """The same `due` index, partition "hb": heartbeats and when they are due."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


class Heartbeat(_Table):
    """A job's heartbeat (chalicelib.heartbeats), alive until due_at."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # HB#<key hash>
    sk = UnicodeAttribute(range_key=True, default="HB")
    service = UnicodeAttribute()
    name = UnicodeAttribute()
    interval = NumberAttribute()
    last_beat = NumberAttribute()
    missed = BooleanAttribute(default=False)
    options = UnicodeAttribute(null=True)  # the severity of the incident a missed beat opens
    dedup = UnicodeAttribute(null=True)  # its incidents' dedup key: kept when the key is rotated
    due_shard = UnicodeAttribute(null=True)
    due_at = NumberAttribute(null=True)
    due_index = HeartbeatDueIndex()


BUNDLE_SHARD = "bundle"


class FloodWindow(_Table):
    """The incidents that paged one person in one window (chalicelib.incidents.flood)."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # FLOOD#<person>
    sk = UnicodeAttribute(range_key=True)  # the window's number
    numbers = NumberSetAttribute(null=True)
    expires = NumberAttribute()


class BundleDueIndex(GlobalSecondaryIndex["PageBundle"]):
    """The same `due` index, partition "bundle": bundles of pages and when they go out."""

    class Meta:
        index_name = "due"
        projection = AllProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    due_at = NumberAttribute(range_key=True)


class PageBundle(_Table):
    """Pages held for one person during a flood (BUNDLE#<person>, open), sent as one message
    when due; and the last one sent (…, last), which "4" alone acknowledges."""

    class Meta(_Meta):
        pass

    pk = UnicodeAttribute(hash_key=True)  # BUNDLE#<person>
    sk = UnicodeAttribute(range_key=True, default="open")  # open | last
    person = UnicodeAttribute()
    numbers = NumberSetAttribute(null=True)
    due_shard = UnicodeAttribute(null=True)
    due_at = NumberAttribute(null=True)
    expires = NumberAttribute(null=True)
    due_index = BundleDueIndex()


MODELS: tuple[type[Model], ...] = (
    Incident, TimelineEntry, DedupKey, Counter, Idempotency, ConfigBundle, ApiToken, OverrideItem,
    IntegrationKey, RateWindow, Heartbeat,
    FeedToken, FloodWindow, PageBundle,
)


def register(model: type[Model]) -> None:
    """A model of the table defined in its own module (chalicelib.changes), which imports this
    one (so it cannot be listed above without a cycle): on MODELS, and configured now."""
    global MODELS
    MODELS += (model,)
    s = config.settings()
    model.Meta.table_name, model.Meta.host, model.Meta.region = s.table_name, s.dynamodb_endpoint, s.region

TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": "pk", "AttributeType": "S"},
        {"AttributeName": "sk", "AttributeType": "S"},
        {"AttributeName": "due_shard", "AttributeType": "S"},
        {"AttributeName": "due_at", "AttributeType": "N"},
        {"AttributeName": "month", "AttributeType": "S"},
        {"AttributeName": "created_at", "AttributeType": "N"},
        {"AttributeName": "open_shard", "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": "due",
            "KeySchema": [
                {"AttributeName": "due_shard", "KeyType": "HASH"},
                {"AttributeName": "due_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        },
        {
            "IndexName": "month",
            "KeySchema": [
                {"AttributeName": "month", "KeyType": "HASH"},
                {"AttributeName": "created_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["line"]},
        },
        {
            "IndexName": "open",
            "KeySchema": [
                {"AttributeName": "open_shard", "KeyType": "HASH"},
                {"AttributeName": "created_at", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["line"]},
        },
    ],
    "BillingMode": "PAY_PER_REQUEST",
    "TimeToLiveSpecification": {"AttributeName": "expires", "Enabled": True},
}


def first_time(key: str, now: float, keep_days: float) -> bool:
    """True the first time `key` is claimed (kept keep_days): what makes a scheduled
    notice go out once however often, or however many times, its job runs."""
    try:
        Idempotency(f"IDEM#{key}", answer={"sent": True},
                    expires=int(now + keep_days * 86400)).save(condition=Idempotency.pk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise  # the store did not answer: not "already sent"; the job's next run tries again
        return False
    return True


def too_large(exc: Exception) -> bool:
    """DynamoDB refused an item over its 400 KB limit (the write, or the whole
    transaction, did not happen).  DynamoDB Local says so in the error's message; AWS
    cancels the transaction and says so in the item's cancellation reason."""
    texts = [str(getattr(exc, "cause", None) or exc)]
    try:
        texts += [r.message or "" for r in getattr(exc, "cancellation_reasons", None) or [] if r]
    except AttributeError:  # not a transaction's error
        pass
    return any("item size" in t.lower() for t in texts)


def key_too_long(exc: Exception) -> bool:
    """DynamoDB refused a key over its limits (2,048 bytes for a partition key, 1,024 for a
    sort key): an identifier in the request was too long to be anything we stored."""
    text = str(getattr(exc, "cause", None) or exc).lower()
    return "key" in text and ("size limit" in text or "maximum size" in text or "must be under" in text)


def transaction() -> TransactWrite:
    """A write transaction on the configured endpoint, on the shared client.  Its token makes
    botocore's retry of a transaction that did commit (a timeout on the answer) a no-op, not
    a second write refused by the version guard."""
    return TransactWrite(connection=_shared(), client_request_token=uuid.uuid4().hex)


# What a store that does not answer (or not now) looks like, as opposed to a refusal.
_UNAVAILABLE_CODES = ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                      "InternalServerError", "ServiceUnavailable", "TransactionInProgressException")


def unavailable(exc: BaseException) -> bool:
    """The store did not answer in time, could not be reached, or is throttling: worth a 503
    and a retry.  A refusal (a condition, a missing table, a bad request) is not: a bug."""
    if isinstance(exc, BotoCoreError):
        return True
    cause = getattr(exc, "cause", None)
    reasons = {getattr(r, "code", None) for r in getattr(exc, "cancellation_reasons", None) or [] if r}
    code = getattr(exc, "cause_response_code", None)
    return (isinstance(cause, BotoCoreError) or code in _UNAVAILABLE_CODES
            or bool(reasons & {"ThrottlingError", "ProvisionedThroughputExceeded"}))


def conflict(exc: BaseException) -> bool:
    """A transaction cancelled because a condition (a version, a dedup pointer) no longer
    held, or another transaction was writing the same item: read again and decide again."""
    if getattr(exc, "cause_response_code", None) != "TransactionCanceledException":
        return False
    reasons = [getattr(r, "code", None) for r in getattr(exc, "cancellation_reasons", None) or [] if r]
    return not reasons or all(code in (None, "None", "ConditionalCheckFailed", "TransactionConflict")
                              for code in reasons)


def configure() -> None:
    """Point every model at the table and endpoint the settings name."""
    s = config.settings()
    _connection.clear()
    for model in MODELS:
        model.Meta.table_name = s.table_name
        model.Meta.host = s.dynamodb_endpoint
        model.Meta.region = s.region
        model._connection = None  # rebuilt on next use with the new host
    for index in (Incident.due_index, Incident.month_index, Heartbeat.due_index, PageBundle.due_index):
        setattr(index.Meta, "host", s.dynamodb_endpoint)  # noqa: B010 - not declared on index Meta
        setattr(index, "_connection", None)  # noqa: B010


def create_table() -> bool:
    """Create the table if missing (local stack and tests); True when it was created.  A table
    an older version made gets the indexes it lacks, and their backfills."""
    import boto3

    s = config.settings()
    client = boto3.client("dynamodb", endpoint_url=s.dynamodb_endpoint, region_name=s.region)
    if s.table_name in client.list_tables()["TableNames"]:
        _add_missing_indexes(client, s.table_name)
        backfill_open_index(client, s.table_name)  # once done, one read of its marker
        return False
    definition = {k: v for k, v in TABLE_DEFINITION.items() if k != "TimeToLiveSpecification"}
    client.create_table(TableName=s.table_name, **definition)
    client.get_waiter("table_exists").wait(TableName=s.table_name)
    client.update_time_to_live(TableName=s.table_name,
                               TimeToLiveSpecification=TABLE_DEFINITION["TimeToLiveSpecification"])
    return True


INDEX_WAIT_SECONDS = 600


def _add_missing_indexes(client: Any, table: str) -> list[str]:
    """A table made by an older version (make run keeps its data): add the new indexes, one at
    a time (DynamoDB creates one per update), each waited for until ACTIVE (its items copied),
    so that a backfill after it is read from it.  The names of those added."""
    have = {i["IndexName"] for i in client.describe_table(TableName=table)["Table"].get(
        "GlobalSecondaryIndexes", [])}
    added = []
    for index in TABLE_DEFINITION["GlobalSecondaryIndexes"]:
        if index["IndexName"] not in have:
            client.update_table(TableName=table,
                                AttributeDefinitions=TABLE_DEFINITION["AttributeDefinitions"],
                                GlobalSecondaryIndexUpdates=[{"Create": index}])
            _wait_active(client, table, index["IndexName"])
            added.append(index["IndexName"])
    return added


def _wait_active(client: Any, table: str, index: str) -> None:
    deadline = time.monotonic() + INDEX_WAIT_SECONDS
    while True:
        indexes = client.describe_table(TableName=table)["Table"].get("GlobalSecondaryIndexes", [])
        if any(i["IndexName"] == index and i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{table}: the index {index!r} is not ACTIVE after {INDEX_WAIT_SECONDS} s")
        time.sleep(1)


_OPEN_BACKFILLED = {"pk": {"S": "MIGRATION"}, "sk": {"S": "open_index"}}


def backfill_open_index(client: Any = None, table: str | None = None) -> int:
    """Put on the `open` index the incidents still open that a version before it wrote (no
    `open_shard`); how many.  One scan for them (their keys only), then an update of each
    that still holds (open, without open_shard): idempotent, and safe while the service runs.
    `version` is left as it is: open_shard follows from `state` and every write of an incident
    sets it again (Incident.serialize), so no writer's copy goes stale.  Done once per table:
    a MIGRATION item then says so, and later calls (every deploy: scripts/deploy.py, the local
    stack's create_table) read that item only.  Run it once the code that writes open_shard
    is live, so that no incident is opened without it after the scan."""
    if client is None:
        import boto3

        s = config.settings()
        client = boto3.client("dynamodb", endpoint_url=s.dynamodb_endpoint, region_name=s.region)
        table = s.table_name
    if "Item" in client.get_item(TableName=table, Key=_OPEN_BACKFILLED, ConsistentRead=True):
        return 0
    still_open = "#state IN (:triggered, :acknowledged) AND attribute_not_exists(open_shard)"
    values = {":triggered": {"S": "triggered"}, ":acknowledged": {"S": "acknowledged"}}
    done = 0
    for page in client.get_paginator("scan").paginate(
            TableName=table, ProjectionExpression="pk", FilterExpression=f"sk = :meta AND {still_open}",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={**values, ":meta": {"S": "META"}}):
        for item in page.get("Items", []):
            try:
                client.update_item(TableName=table, Key={"pk": item["pk"], "sk": {"S": "META"}},
                                   UpdateExpression="SET open_shard = :open", ConditionExpression=still_open,
                                   ExpressionAttributeNames={"#state": "state"},
                                   ExpressionAttributeValues={**values, ":open": {"S": OPEN_SHARD}})
                done += 1
            except client.exceptions.ConditionalCheckFailedException:
                pass  # resolved, or written again by the new code, since the scan
    client.put_item(TableName=table, Item=_OPEN_BACKFILLED)
    return done


def cloudformation_table(logical_id: str = "AstreinteTable") -> dict[str, Any]:
    """The table as a CloudFormation resource; infra/ is generated from this."""
    props = dict(TABLE_DEFINITION)
    props["TableName"] = {"Ref": "TableName"}
    props["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True}
    return {logical_id: {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain",
                         "Properties": props}}


configure()

"""Command line: validate and sync rotas, hash integration keys, create API tokens.

    python -m chalicelib.cli check rotas/
    python -m chalicelib.cli sync rotas/ [--dry-run]
    python -m chalicelib.cli hash-key KEY
    python -m chalicelib.cli token PERSON [--label LABEL] [--days N]
    python -m chalicelib.cli token list [PERSON];  token revoke ID
    python -m chalicelib.cli oncall
    python -m chalicelib.cli feed create|rotate rota|person ID;  feed revoke TOKEN
    python -m chalicelib.cli integration create SERVICE SOURCE [--label L] [--options JSON]
    python -m chalicelib.cli integration list SERVICE;  integration rotate|revoke SERVICE ID
    python -m chalicelib.cli infra > infra/template.json
    python -m chalicelib.cli secrets set KEY=VALUE [...];  secrets show
    python -m chalicelib.cli doctor

While `make run` is up, every command talks to its local stack (found in
.localdata/stack.json), unless DYNAMODB_ENDPOINT or ASTREINTE_SECRETS_ID says otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

from . import clock, hashing
from .config import OPTIONAL_KEYS, SECRET_KEYS
from .rotas import load

SETTABLE = SECRET_KEYS + OPTIONAL_KEYS

STACK_FILE = Path(os.environ.get("ASTREINTE_STACK_FILE")
                  or Path(__file__).resolve().parent.parent / ".localdata" / "stack.json")


LOCAL_SETTINGS = ("DYNAMODB_ENDPOINT", "AWS_", "ASTREINTE_", "TWILIO_", "SLACK_")  # what a local stack sets


def save_local_stack() -> Path:
    """`make run` leaves its settings (loopback endpoints, dummy keys) where the CLI finds them."""
    env = {k: v for k, v in os.environ.items() if k.startswith(LOCAL_SETTINGS)}
    STACK_FILE.parent.mkdir(parents=True, exist_ok=True)
    STACK_FILE.write_text(json.dumps(env, indent=1))
    return STACK_FILE


def use_local_stack() -> bool:
    """While `make run` is up and no other target is named, talk to it: its endpoints and
    dummy keys, as if they were in this shell's environment."""
    named = os.environ.get("DYNAMODB_ENDPOINT") or os.environ.get("ASTREINTE_SECRETS_ID")
    if named or not STACK_FILE.exists():
        return False
    env = json.loads(STACK_FILE.read_text())
    endpoint = urlsplit(env.get("DYNAMODB_ENDPOINT", ""))
    try:
        socket.create_connection((endpoint.hostname or "127.0.0.1", endpoint.port or 8001), 0.5).close()
    except OSError:
        return False  # a file left by a stack that is gone
    for key, value in env.items():
        os.environ.setdefault(key, value)
    print(f"(make run's local stack: {env['DYNAMODB_ENDPOINT']})", file=sys.stderr)
    return True


def main(argv: list[str] | None = None) -> int:
    use_local_stack()
    parser = argparse.ArgumentParser(prog="astreinte")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="validate rotas/ and print every problem")
    check.add_argument("dir", nargs="?", default="rotas")
    sync = sub.add_parser("sync", help="store rotas/ in DynamoDB (idempotent)")
    sync.add_argument("dir", nargs="?", default="rotas")
    sync.add_argument("--dry-run", action="store_true", help="show the difference, change nothing")
    hk = sub.add_parser("hash-key", help="the sha256 to put in a service's integrations")
    hk.add_argument("key")
    tok = sub.add_parser("token", help="API tokens: create one for a person (token PERSON), "
                                       "token list [PERSON], token revoke ID")
    tok.add_argument("person", help="the person; or list, revoke")
    tok.add_argument("what", nargs="?", help="the person to list; the token id to revoke")
    tok.add_argument("--label", default="")
    tok.add_argument("--days", type=int, default=90, help="days until it expires (at most 365; default 90)")
    sub.add_parser("oncall", help="who is on call now, for every rota and layer")
    feed = sub.add_parser("feed", help="iCal feed URLs: create, rotate (old URLs stop), revoke")
    feed.add_argument("action", choices=["create", "rotate", "revoke"])
    feed.add_argument("kind", nargs="?", choices=["rota", "person"])
    feed.add_argument("target", help="rota or person id; the token for revoke")
    integ = sub.add_parser("integration", help="integration keys of a service: create, list, rotate, revoke")
    integ.add_argument("action", choices=["create", "list", "rotate", "revoke"])
    integ.add_argument("service")
    integ.add_argument("what", nargs="?", help="the source for create; the key id for rotate and revoke")
    integ.add_argument("--label", default="")
    integ.add_argument("--options", default="{}", help="the source's options, as JSON")
    sub.add_parser("infra", help="print infra/template.json")
    sec = sub.add_parser("secrets", help="the stage's secret: set KEY=VALUE ..., or show which keys are set")
    sec.add_argument("action", choices=["set", "show"])
    sec.add_argument("pairs", nargs="*", help="KEY=VALUE (keys: " + ", ".join(SETTABLE) + ")")
    sub.add_parser("doctor", help="check every part paging needs, with the fix for each failure")
    args = parser.parse_args(argv)

    if args.command == "secrets":
        return _secrets(args.action, args.pairs)
    if args.command == "doctor":
        from . import doctor

        checks = doctor.run()
        for c in checks:
            print(f"{'ok  ' if c.ok else 'FAIL'} {c.name:<11} {c.detail}")
            if c.fix:
                print(f"     fix: {c.fix}")
        return 0 if all(c.ok for c in checks) else 1

    if args.command == "hash-key":
        print(hashing.sha256_hex(args.key))
        return 0
    if args.command == "infra":
        from .infra import template

        print(json.dumps(template(), indent=2))
        return 0
    if args.command in ("check", "sync"):
        try:
            bundle = load.load_dir(args.dir)
        except load.RotaError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            return 1
        if args.command == "check":
            print(f"{args.dir}: {len(bundle['people'])} people, {len(bundle['rotas'])} rotas, "
                  f"{len(bundle['policies'])} policies, {len(bundle['services'])} services: OK")
            return 0
        from .rotas import directory

        print(json.dumps(directory.sync(bundle, dry_run=args.dry_run), indent=2))
        return 0
    if args.command == "token":
        return _token(args)
    if args.command == "feed":
        from .rotas import feeds

        if args.action == "revoke":
            if feeds.revoke(args.target):
                print("revoked")
                return 0
            print("unknown or already revoked token", file=sys.stderr)
            return 1
        try:
            kind, target = feeds.target_of({args.kind or "person": args.target})
        except feeds.BadFeed as exc:
            print(exc, file=sys.stderr)
            return 1
        token = (feeds.create if args.action == "create" else feeds.rotate)(kind, target, "cli")
        print(json.dumps(feeds.as_json(token, kind, target), indent=2))
        return 0
    if args.command == "integration":
        return _integration(args)
    if args.command == "oncall":
        from .rotas import queries

        for rota in queries.all_on_call(clock.now()):
            for layer in rota["layers"]:
                who = layer["on_call"]
                held = f"{who['name']} ({who['id']}) until {layer['until']}" if who else "nobody (off duty)"
                print(f"{rota['rota']}/{layer['layer']}: {held}")
        return 0
    return 2


def _token(args: argparse.Namespace) -> int:
    """The API's token routes, for whoever holds the AWS credentials (an admin's power)."""
    from . import errors, tokens
    from .rotas import directory

    if args.person == "list":
        print(json.dumps(tokens.listing(args.what), indent=2, ensure_ascii=False))
        return 0
    if args.person == "revoke":
        revoked = tokens.revoke_id(args.what or "")
        if revoked is None:
            print(f"no single API token has the id {args.what!r} (see: token list)", file=sys.stderr)
            return 1
        print(f"revoked {revoked['id']} ({revoked['person']})")
        return 0
    if args.what is not None:
        print(f"unexpected {args.what!r}: token PERSON [--label L] [--days N]", file=sys.stderr)
        return 2
    if directory.person(args.person) is None:
        print(f"unknown person '{args.person}' (not in the synced rotas)", file=sys.stderr)
        return 1
    try:
        token = tokens.create(args.person, args.label, args.days, "cli")
    except errors.BadRequest as exc:
        print(exc, file=sys.stderr)
        return 1
    print(token)
    entry = tokens.describe(token)
    if entry is not None:
        print(f"id {entry['id']}, expires {entry['expires_at']}", file=sys.stderr)
    return 0


def _integration(args: argparse.Namespace) -> int:
    """The API's integration-key routes, for whoever holds the AWS credentials."""
    from . import heartbeats, integrations
    from .intake import InvalidEvent
    from .rotas import directory

    if args.service not in directory.bundle()["services"]:
        print(f"there is no service '{args.service}'", file=sys.stderr)
        return 1
    if args.action == "list":
        print(json.dumps(integrations.listing(args.service), indent=2))
        return 0
    if not args.what:
        print(f"integration {args.action} needs {'a source' if args.action == 'create' else 'a key id'}",
              file=sys.stderr)
        return 1
    key: str | None
    if args.action == "create":
        try:
            options = json.loads(args.options)
            key = integrations.create(args.service, args.what, "cli", args.label, options)
        except json.JSONDecodeError as exc:
            print(f"--options is not JSON: {exc}", file=sys.stderr)
            return 1
        except InvalidEvent as exc:
            for problem in exc.errors:
                print(problem, file=sys.stderr)
            return 1
    elif args.action == "rotate":
        key = heartbeats.rotate_key(args.service, args.what, "cli")
    else:
        key = None
        if integrations.revoke(args.service, args.what):
            print("revoked")
            return 0
    if key is None:
        print(f"no single key of '{args.service}' has the id {args.what!r} (see: integration list)",
              file=sys.stderr)
        return 1
    print(json.dumps({"key": key, "url": integrations.url(key)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _secrets(action: str, pairs: list[str]) -> int:
    """Fill the stage's secret (ASTREINTE_SECRETS_ID) key by key; `show` never prints values."""
    from . import config

    secret_id = os.environ.get("ASTREINTE_SECRETS_ID")
    if not secret_id:
        print("ASTREINTE_SECRETS_ID is not set (e.g. astreinte/prod): locally, settings are environment "
              "variables", file=sys.stderr)
        return 2
    client = config.secrets_client()
    current = json.loads(client.get_secret_value(SecretId=secret_id)["SecretString"] or "{}")
    if action == "show":
        for key in SETTABLE:
            print(f"{key:<26} {'set' if current.get(key) else 'MISSING'}")
        return 0
    changes = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    unknown = sorted(set(changes) - set(SETTABLE))
    if unknown or not changes or len(changes) != len(pairs):
        print("give KEY=VALUE pairs among: " + ", ".join(SETTABLE)
              + (f" (unknown: {', '.join(unknown)})" if unknown else ""), file=sys.stderr)
        return 2
    client.put_secret_value(SecretId=secret_id, SecretString=json.dumps({**current, **changes}))
    print(f"{secret_id}: set {', '.join(sorted(changes))} (warm functions read it within "
          f"{int(config.SECRETS_SECONDS / 60)} minutes)")
    return 0

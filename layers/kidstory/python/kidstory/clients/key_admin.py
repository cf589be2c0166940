"""Manage API keys: `python -m kidstory.clients.key_admin create --name "Reading app"`, `list`,
`revoke KEY_ID`. Works on the table named by --table or TABLE_NAME, with the AWS credentials of
your shell; `--local` points it at the local stack of `make run`."""

from __future__ import annotations

import argparse
import os
import sys

import boto3

from kidstory.access import issue_key
from kidstory.models import utc_now
from kidstory.store.api_keys import ApiKeys

LOCAL_TABLE = "StoryTable"


def local_endpoint() -> str:
    """The emulated AWS of `make run`, on LOCAL_AWS_PORT as `make run` itself reads it."""
    return f"http://127.0.0.1:{os.environ.get('LOCAL_AWS_PORT', '5000')}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kidstory.clients.key_admin", description=__doc__
    )
    parser.add_argument("--table", default=os.environ.get("TABLE_NAME"), help="table name")
    parser.add_argument("--local", action="store_true", help="use the local stack (make run)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="issue a key; its token is shown once")
    create.add_argument("--name", required=True, help="who the key is for")
    create.add_argument("--rate-limit-per-minute", type=int, help="cost units per minute")
    create.add_argument("--daily-quota", type=int, help="cost units per day")
    commands.add_parser("list", help="list keys (never their secrets)")
    revoke = commands.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id")
    args = parser.parse_args(argv)

    if args.local:
        client = boto3.client(
            "dynamodb",
            endpoint_url=local_endpoint(),
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        table = ApiKeys(client, args.table or LOCAL_TABLE)
    elif args.table:
        table = ApiKeys(boto3.client("dynamodb"), args.table)
    else:
        parser.error("name the table with --table or TABLE_NAME (or use --local)")

    if args.command == "create":
        key, token = issue_key(
            args.name,
            rate_limit_per_minute=args.rate_limit_per_minute,
            daily_quota=args.daily_quota,
        )
        table.put_api_key(key)
        print(f"key id: {key.key_id}\ntoken:  {token}\n(shown once: store it now)")
    elif args.command == "list":
        for key in table.list_api_keys():
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            print(f"{key.key_id}  {state:18s}  {key.created_at:%Y-%m-%d}  {key.name}")
    elif not table.revoke_api_key(args.key_id, utc_now()):
        print(f"no key {args.key_id}", file=sys.stderr)
        return 1
    else:
        print(f"revoked {args.key_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

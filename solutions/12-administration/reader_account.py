#!/usr/bin/env python
"""Lesson 12: a vhost with a read-only account, made (and removed) through the management HTTP API.

    python reader_account.py create shop reports-reader --queue reports --max-length 100
    python reader_account.py try shop reports-reader <password> --queue reports
    python reader_account.py delete shop reports-reader

`create` makes the vhost, the queue in it (durable), the user (no tags, a generated password,
printed once) with the right to read that one queue and nothing else, full rights in the vhost
for you, and a policy that bounds the queue to --max-length messages. `try` logs in as the user:
reading the queue works, declaring a queue and publishing are refused (403). `delete` removes
the user and the vhost (with everything in it). Running `create` again changes nothing that
exists except the password it prints.

The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F), whose user
must have the administrator tag; the management API from RABBITMQ_MANAGEMENT_URL (default
http://<the broker's host>:15672). The same with rabbitmqctl, on the broker's machine:

    rabbitmqctl add_vhost shop
    rabbitmqctl add_user reports-reader <password>
    rabbitmqctl set_permissions -p shop reports-reader "^$" "^$" "^reports$"
    rabbitmqctl set_policy -p shop reports-limit "^reports$" '{"max-length": 100}' --apply-to queues
"""

import argparse
import os
import secrets
import sys
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pika
import pika.exceptions
import requests

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"


def broker() -> tuple[str, str, tuple[str, str]]:
    """(AMQP URL, management base URL, the AMQP URL's credentials)."""
    url = os.environ.get("RABBITMQ_URL", DEFAULT_URL)
    parts = urlsplit(url)
    api = os.environ.get("RABBITMQ_MANAGEMENT_URL") or f"http://{parts.hostname or 'localhost'}:15672"
    return url, api.rstrip("/"), (unquote(parts.username or "guest"), unquote(parts.password or "guest"))


def amqp_url(url: str, user: str, password: str, vhost: str) -> str:
    parts = urlsplit(url)
    netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{parts.hostname}:{parts.port or 5672}"
    return urlunsplit((parts.scheme, netloc, "/" + quote(vhost, safe=""), "", ""))


def call(api: str, auth, method: str, path: str, body=None) -> requests.Response:
    response = requests.request(method, f"{api}/api/{path}", auth=auth, json=body, timeout=10)
    if response.status_code >= 400 and not (method == "DELETE" and response.status_code == 404):
        sys.exit(f"error: {method} /api/{path} answered {response.status_code}: {response.text[:200]}")
    return response


def create(args) -> None:
    url, api, auth = broker()
    vhost, user = quote(args.vhost, safe=""), quote(args.user, safe="")
    call(api, auth, "PUT", f"vhosts/{vhost}")
    call(api, auth, "PUT", f"permissions/{vhost}/{quote(auth[0], safe='')}", {"configure": ".*", "write": ".*", "read": ".*"})
    password = secrets.token_hex(12)  # hex: never a leading "-", which `try` would read as an option
    call(api, auth, "PUT", f"users/{user}", {"password": password, "tags": ""})
    read = "^" + "".join("\\" + c if not c.isalnum() else c for c in args.queue) + "$"
    call(api, auth, "PUT", f"permissions/{vhost}/{user}", {"configure": "^$", "write": "^$", "read": read})
    call(api, auth, "PUT", f"policies/{vhost}/{quote(args.queue, safe='')}-limit",
         {"pattern": read, "definition": {"max-length": args.max_length}, "apply-to": "queues", "priority": 0})
    with pika.BlockingConnection(pika.URLParameters(amqp_url(url, auth[0], auth[1], args.vhost))) as connection:
        connection.channel().queue_declare(queue=args.queue, durable=True)
    print(f"vhost {args.vhost!r}: queue {args.queue!r} (at most {args.max_length} messages), "
          f"user {args.user!r} may read it and nothing else")
    print(f"password: {password}")


def try_account(args) -> None:
    url, _api, _auth = broker()
    with pika.BlockingConnection(pika.URLParameters(amqp_url(url, args.user, args.password, args.vhost))) as connection:
        method, _properties, body = connection.channel().basic_get(queue=args.queue, auto_ack=False)
        print(f"read {args.queue!r}: allowed ({'empty' if method is None else repr(body)}; left in the queue)")
        attempts = {"declare a queue 'mine'": lambda ch: ch.queue_declare(queue="mine", durable=True),
                    f"publish to {args.queue!r}": lambda ch: (ch.basic_publish("", args.queue, b"forged"),
                                                             ch.queue_declare(queue=args.queue, passive=True))}
        for what, attempt in attempts.items():
            try:
                attempt(connection.channel())
                print(f"{what}: allowed")
            except pika.exceptions.ChannelClosedByBroker as refused:
                print(f"{what}: refused ({refused.reply_code} {refused.reply_text.split(' - ')[0]})")


def delete(args) -> None:
    _url, api, auth = broker()
    call(api, auth, "DELETE", f"users/{quote(args.user, safe='')}")
    call(api, auth, "DELETE", f"vhosts/{quote(args.vhost, safe='')}")
    print(f"removed the user {args.user!r} and the vhost {args.vhost!r}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    made = commands.add_parser("create", help="the vhost, the queue, the read-only user and the policy")
    made.add_argument("vhost")
    made.add_argument("user")
    made.add_argument("--queue", default="reports")
    made.add_argument("--max-length", type=int, default=100)
    tried = commands.add_parser("try", help="log in as the user: what the broker allows and refuses")
    tried.add_argument("vhost")
    tried.add_argument("user")
    tried.add_argument("password")
    tried.add_argument("--queue", default="reports")
    gone = commands.add_parser("delete", help="remove the user and the vhost")
    gone.add_argument("vhost")
    gone.add_argument("user")
    args = parser.parse_args()
    try:
        {"create": create, "try": try_account, "delete": delete}[args.command](args)
    except (pika.exceptions.AMQPError, requests.RequestException) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

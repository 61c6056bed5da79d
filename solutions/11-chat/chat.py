#!/usr/bin/env python
"""Lesson 11: a chat for the whole room, with one exchange for each way of addressing a message.

    python chat.py listen --name "Ada Lovelace" --interest "python.#" --interest "*.rabbitmq"
    python chat.py say --name "Bob" --all "hello, everyone"
    python chat.py say --name "Bob" --topic python.asyncio "who uses TaskGroup already?"
    python chat.py say --name "Bob" --to ada-lovelace "hello, Ada"
    python chat.py say --name "Bob" --chosen ada-lovelace,cy "lunch at noon?"

With W the workshop id (--workshop, else WORKSHOP_ID, else summercamp), the chat has four
exchanges, and every message goes through exactly one of them:

    W.chat.all     fanout   to everyone: the routing key is ignored
    W.chat.topics  topic    to everyone interested in a topic: the routing key is the topic,
                            listeners bind patterns (`*` one word, `#` zero or more words)
    W.chat.direct  direct   to one student: the routing key is their id
    W.chat.chosen  headers  to chosen students: one header per recipient id, with the value
                            "yes"; listeners bind with {"x-match": "any", "<their id>": "yes"}

A student's id is the one the grader gives them (docs/protocol.md, section 1): a Latin name in
lowercase ASCII letters and digits with single dashes ("Ada Lovelace" -> ada-lovelace), a name in
another script in ASCII with a suffix from a hash of the name ("李雷" -> li-lei-8i4ziuyd).
A message is JSON, {"from": <name>, "text": <text>}.

`listen` reads one inbox: a server-named exclusive queue, bound to all four exchanges, that goes
away when the program stops. It prints each message with the way it came, until Ctrl+C (or
until --count messages arrived, or --timeout seconds passed).

The exchanges are the classroom's: they exist on the instructor's broker, where a student's
account may use them but not declare them. So both commands look for them first (a passive
declare) and declare one only where it is missing, on a broker of your own.
The broker comes from RABBITMQ_URL (default amqp://guest:guest@localhost:5672/%2F).
"""

import argparse
import base64
import hashlib
import json
import os
import re
import unicodedata

import pika
import pika.exceptions
from anyascii import anyascii
from fontTools.unicodedata import script

DEFAULT_URL = "amqp://guest:guest@localhost:5672/%2F"
KINDS = {"all": "fanout", "topics": "topic", "direct": "direct", "chosen": "headers"}


def exchange_name(workshop: str, kind: str) -> str:
    return f"{workshop}.chat.{kind}"


ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def student_id(name: str) -> str:
    """A student's id, as the grader computes it: "Ada Lovelace" -> "ada-lovelace", "Zoë" -> "zoe",
    "李雷" -> "li-lei-8i4ziuyd" (a suffix from a hash keeps names apart that read the same in ASCII)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name.strip()).casefold())
    key = " ".join("".join(c if unicodedata.category(c)[0] in "LMN" else " " for c in folded).split())
    plain = all(c.isascii() or script(c) in ("Latn", "Zinh") or (script(c) == "Zyyy" and not c.isnumeric())
                for c in key)
    spelled = "".join(f" {anyascii(c)} " if script(c) in ("Hani", "Hang") else anyascii(c) for c in key)
    slug = "-".join(re.findall(r"[a-z0-9]+", spelled.lower()))
    if plain and slug and len(slug) <= 48 and not re.fullmatch(r"[0-9][a-z2-7]{7}", slug.rsplit("-", 1)[-1]):
        return slug
    digest = hashlib.sha256((slug if plain else key).encode()).digest()
    suffix = str(digest[0] % 10) + base64.b32encode(digest[1:6]).decode().lower()[:7]
    return f"{slug[:39].rstrip('-')}-{suffix}".lstrip("-")


def address(name_or_id: str) -> str:
    """An id as it is, a name turned into its id."""
    return name_or_id if ID.fullmatch(name_or_id) else student_id(name_or_id)


def ensure_exchanges(connection: pika.BlockingConnection, workshop: str) -> None:
    """Use the chat's exchanges where they exist; declare the missing ones (durable)."""
    for kind, exchange_type in KINDS.items():
        name = exchange_name(workshop, kind)
        looking = connection.channel()
        try:
            looking.exchange_declare(exchange=name, passive=True)
        except pika.exceptions.ChannelClosedByBroker as missing:
            if missing.reply_code != 404:
                raise
            # The broker closed `looking` (an error always closes the channel): declare on another one.
            declaring = connection.channel()
            declaring.exchange_declare(exchange=name, exchange_type=exchange_type, durable=True)
            declaring.close()
        else:
            looking.close()


def listen(args: argparse.Namespace) -> None:
    me = student_id(args.name)
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    ensure_exchanges(connection, args.workshop)
    channel = connection.channel()
    inbox = channel.queue_declare(queue="", exclusive=True).method.queue
    channel.queue_bind(queue=inbox, exchange=exchange_name(args.workshop, "all"), routing_key="")
    for pattern in args.interest:
        channel.queue_bind(queue=inbox, exchange=exchange_name(args.workshop, "topics"), routing_key=pattern)
    channel.queue_bind(queue=inbox, exchange=exchange_name(args.workshop, "direct"), routing_key=me)
    channel.queue_bind(queue=inbox, exchange=exchange_name(args.workshop, "chosen"),
                       arguments={"x-match": "any", me: "yes"})
    kind_of = {exchange_name(args.workshop, kind): kind for kind in KINDS}
    received = 0

    def on_message(ch, method, properties, body):
        nonlocal received
        received += 1
        try:
            said = json.loads(body)
            sender, text = str(said["from"]), str(said["text"])
        except (ValueError, KeyError, TypeError):  # the room is open to anyone: never trust a body
            sender, text = "?", body.decode(errors="replace")
        kind = kind_of.get(method.exchange)
        way = f"topic {method.routing_key}" if kind == "topics" else kind or method.exchange or "default exchange"
        print(f" [{way}] {sender}: {text}", flush=True)
        if received == args.count:
            ch.stop_consuming()

    channel.basic_consume(queue=inbox, on_message_callback=on_message, auto_ack=True)
    if args.timeout:
        connection.call_later(args.timeout, channel.stop_consuming)
    interests = " ".join(args.interest) or "none"
    try:
        # Inside the try: a Ctrl+C right after this line is still a clean stop.
        print(f" [*] {args.name} ({me}) listens to everyone, to the topics {interests}, and to messages "
              f"for {me}. To exit press CTRL+C", flush=True)
        channel.start_consuming()
    except KeyboardInterrupt:
        print(" [*] Bye")
    finally:
        if connection.is_open:
            connection.close()


def say(args: argparse.Namespace) -> None:
    text = " ".join(args.text)
    headers = None
    if args.all:
        kind, routing_key, whom = "all", "", "everyone"
    elif args.topic is not None:
        kind, routing_key, whom = "topics", args.topic, f"everyone interested in {args.topic}"
    elif args.to is not None:
        kind, routing_key = "direct", address(args.to)
        whom = routing_key
    else:
        ids = [address(name.strip()) for name in args.chosen.split(",") if name.strip()]
        if not ids:
            raise SystemExit("--chosen needs at least one id, for example --chosen ada-lovelace,bob")
        kind, routing_key, whom = "chosen", "", ", ".join(ids)
        headers = {student_id: "yes" for student_id in ids}  # the routing key does not matter here
    connection = pika.BlockingConnection(pika.URLParameters(args.url))
    try:
        ensure_exchanges(connection, args.workshop)
        channel = connection.channel()
        channel.basic_publish(
            exchange=exchange_name(args.workshop, kind),
            routing_key=routing_key,
            body=json.dumps({"from": args.name, "text": text}),
            properties=pika.BasicProperties(content_type="application/json", headers=headers),
        )
        print(f" [x] Sent to {whom}: {text!r}")
    finally:
        connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    broker = argparse.ArgumentParser(add_help=False)  # the options both commands take
    broker.add_argument("--url", default=os.environ.get("RABBITMQ_URL", DEFAULT_URL), help="AMQP URL of the broker")
    broker.add_argument("--workshop", default=os.environ.get("WORKSHOP_ID", "summercamp"),
                        help="the workshop id W of the exchanges W.chat.* (default: WORKSHOP_ID or summercamp)")
    commands = parser.add_subparsers(dest="command", required=True)

    listening = commands.add_parser("listen", parents=[broker], help="print the messages meant for you")
    listening.add_argument("--name", required=True, help='your name, such as "Ada Lovelace"')
    listening.add_argument("--interest", action="append", default=[], metavar="PATTERN",
                           help='a topic pattern such as "python.#" or "*.rabbitmq"; repeat it for several')
    listening.add_argument("--count", type=int, default=0, help="stop after this many messages (0: never)")
    listening.add_argument("--timeout", type=float, default=0, help="stop after this many seconds (0: never)")
    listening.set_defaults(run=listen)

    saying = commands.add_parser("say", parents=[broker], help="send one message")
    saying.add_argument("--name", required=True, help="your name, shown to the readers")
    whom = saying.add_mutually_exclusive_group(required=True)
    whom.add_argument("--all", action="store_true", help="to everyone")
    whom.add_argument("--topic", metavar="TOPIC", help="to everyone interested in TOPIC, such as python.asyncio")
    whom.add_argument("--to", metavar="ID", help="to one student, by id (a name is turned into its id)")
    whom.add_argument("--chosen", metavar="ID,ID,...", help="to the students named, by id, separated by commas")
    saying.add_argument("text", nargs="+", help="what you say")
    saying.set_defaults(run=say)

    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()

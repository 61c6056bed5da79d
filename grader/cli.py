"""The `workshop` command: a thin layer over plain functions, which are the Python API too."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from grader import accounts, broker, course, doctor, paths, serve, stack
from grader.errors import WorkshopError
from grader.live import dealer, demo, fairness
from grader.live.consumer import Grader
from grader.live.store import DEFAULT_STORE, Store
from grader.settings import ENVIRONMENT, Settings


def _broker_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", dest="rabbitmq_url", help=f"AMQP URL of the broker (env {ENVIRONMENT['rabbitmq_url']})")
    parser.add_argument(
        "--management-url", help=f"URL of the management API (env {ENVIRONMENT['management_url']})"
    )


def _live_flags(parser: argparse.ArgumentParser) -> None:
    _broker_flags(parser)
    parser.add_argument("--workshop", help=f"workshop id (env {ENVIRONMENT['workshop']}, default summercamp)")
    parser.add_argument("--store", default=DEFAULT_STORE,
                        help=f"SQLAlchemy URL of the score store (default {DEFAULT_STORE}; "
                             "postgresql://... to share it between graders)")


def _at_least(lowest, kind=int):
    """An argparse type: a number of `kind`, at least `lowest`."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if value < lowest:
            raise argparse.ArgumentTypeError(f"{text} is less than {lowest}")
        return value
    return parse


def _allowance_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allowance", type=_at_least(0), default=fairness.ALLOWANCE, metavar="N",
                        help=f"messages that score nothing (wrong, repeated, rejected) a student may send per minute "
                             f"before theirs are not graded for a while (default {fairness.ALLOWANCE}; 0: no limit)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workshop", description="Run the RabbitMQ workshop.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("doctor", help="check that the broker and its management API answer")
    _broker_flags(check)
    check.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each answer")

    up = commands.add_parser("up", help="the whole workshop: broker check, JupyterLab with the course, live grader")
    _broker_flags(up)
    up.add_argument("--port", type=int, default=int(os.environ.get("JUPYTER_PORT", 8888)),
                    help="JupyterLab's port (env JUPYTER_PORT, default 8888)")
    up.add_argument("--ip", default="127.0.0.1", help="address JupyterLab listens on (0.0.0.0 for a room)")
    up.add_argument("--workspace", type=Path, default=Path("workspace"),
                    help="where the students' copies of the notebooks live (default ./workspace)")
    up.add_argument("--token", help="JupyterLab token (env JUPYTER_TOKEN; default: a random one, kept in "
                                    f"<workspace>/{stack.TOKEN_FILE} for the next start)")
    up.add_argument("--leaderboard-port", type=int, default=int(os.environ.get("LEADERBOARD_PORT", 8000)),
                    help="port of the live grader's leaderboard (env LEADERBOARD_PORT, default 8000; 0: no grader)")
    up.add_argument("--workshop", help=f"workshop id (env {ENVIRONMENT['workshop']}, default summercamp)")
    up.add_argument("--store", default=DEFAULT_STORE, help=f"the live grader's score store (default {DEFAULT_STORE})")
    up.add_argument("--keep-open", type=_at_least(0), default=stack.KEEP_OPEN, metavar="K",
                    help=f"keep every student supplied with K unsolved tasks, so that the live notebook can be "
                         f"run again (default {stack.KEEP_OPEN}; 0: only the 3 dealt when they register)")

    serve = commands.add_parser("serve", help="the live service: grader, task dealer and leaderboard page")
    _live_flags(serve)
    serve.add_argument("--port", type=int, default=8000, help="the leaderboard's port (default 8000)")
    serve.add_argument("--ip", default="127.0.0.1", help="address the leaderboard listens on (0.0.0.0: the room)")
    serve.add_argument("--deal-on-register", type=_at_least(0), default=3, metavar="K",
                       help="tasks dealt to each student when they register (default 3, 0: none)")
    serve.add_argument("--keep-open", type=_at_least(0), default=0, metavar="K",
                       help="keep every student supplied with K unsolved tasks (default 0: off)")
    serve.add_argument("--deal-every", type=_at_least(0, float), default=0, metavar="SECONDS",
                       help="deal --deal-count more tasks to everyone this often (default 0: never)")
    serve.add_argument("--deal-count", type=_at_least(1), default=1, metavar="K", help="tasks per --deal-every round")
    _allowance_flag(serve)

    grade = commands.add_parser("grade", help="the grader alone; run several side by side on one --store")
    _live_flags(grade)
    _allowance_flag(grade)

    dealing = commands.add_parser("deal", help="deal Fibonacci tasks to every registered student")
    _live_flags(dealing)
    dealing.add_argument("--count", type=_at_least(1), default=1, metavar="K", help="tasks per student (default 1)")
    dealing.add_argument("--every", type=_at_least(0, float), default=0, metavar="SECONDS",
                         help="keep dealing K tasks this often until Ctrl+C")

    demo = commands.add_parser("demo", help="a simulated class that fills the leaderboard")
    _live_flags(demo)
    demo.add_argument("--students", type=_at_least(1), default=12, metavar="N", help="how many (default 12)")
    demo.add_argument("--duration", type=_at_least(0, float), default=120, metavar="SECONDS",
                      help="how long (default 120; 0: until Ctrl+C)")
    demo.add_argument("--seed", type=int, help="for a repeatable class")

    accounts = commands.add_parser("accounts", help="an account and a vhost per student on one broker")
    _broker_flags(accounts)
    accounts.add_argument("--workshop", help=f"workshop id (env {ENVIRONMENT['workshop']}, default summercamp)")
    accounts.add_argument("--count", type=_at_least(1), required=True, metavar="N", help="how many students")
    accounts.add_argument("--prefix", default="student", help="user names are <prefix>01, <prefix>02, ...")
    accounts.add_argument("--delete", action="store_true", help="remove those accounts and their vhosts")

    release = commands.add_parser("release", help="produce notebooks/ (student versions) from course/source")
    release.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    release.add_argument("--course", type=Path, default=paths.COURSE)
    release.add_argument("--out", type=Path, default=paths.NOTEBOOKS)
    release.add_argument("--check", action="store_true", help="only report whether notebooks/ is up to date")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    broker.quiet_pika()
    try:
        return COMMANDS[args.command](args)
    except WorkshopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:  # the score store went away under a command
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        print(f"error: the score store failed ({reason}); check --store and try again", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(rabbitmq_url=args.rabbitmq_url, management_url=args.management_url,
                             workshop=getattr(args, "workshop", None)).check()


def run_doctor(args: argparse.Namespace) -> int:
    doctor.check(_settings(args), timeout=args.timeout)
    return 0


def run_up(args: argparse.Namespace) -> int:
    return stack.up(_settings(args), workspace=args.workspace, port=args.port, ip=args.ip, token=args.token,
                    leaderboard_port=args.leaderboard_port, store=args.store, keep_open=args.keep_open)


def run_release(args: argparse.Namespace) -> int:
    if args.check:
        differences = course.drift(args.course, args.out)
        for line in differences:
            print(line)
        if differences:
            print(f"error: {args.out} is not what `workshop release` makes; run it and commit", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date")
        return 0
    for path in course.release(args.course, args.out, args.assignments or None):
        print(path)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    broker.connect(settings.rabbitmq_url).close()  # fail now, with a clear line, if the broker is not there
    return serve.serve(settings, args.store, port=args.port, ip=args.ip, deal_on_register=args.deal_on_register,
                       keep_open=args.keep_open, deal_every=args.deal_every, deal_count=args.deal_count,
                       allowance=args.allowance)


def run_grade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    broker.connect(settings.rabbitmq_url).close()
    grader = Grader(settings, Store(args.store, settings.workshop),
                    limiter=fairness.Limiter(allowance=args.allowance))
    signal.signal(signal.SIGTERM, lambda signum, frame: grader.stop())
    try:
        grader.run()
    except KeyboardInterrupt:
        grader.stop()
    return 0


def run_deal(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = Store(args.store, settings.workshop)
    while True:
        try:
            dealt = dealer.deal(settings, store, args.count)
            print(f"dealt {sum(map(len, dealt.values()))} tasks to {len(dealt)} students", flush=True)
        except WorkshopError as exc:
            if not args.every:
                raise
            print(f"error: {exc}; trying again in {args.every:g} s", file=sys.stderr, flush=True)
        if not args.every:
            return 0
        time.sleep(args.every)


def run_demo(args: argparse.Namespace) -> int:
    sent = demo.run_demo(_settings(args), args.store, students=args.students, duration=args.duration,
                         seed=args.seed)
    print(", ".join(f"{count} {kind}" for kind, count in sent.items()))
    return 0


def run_accounts(args: argparse.Namespace) -> int:
    settings = _settings(args)
    if args.delete:
        removed = accounts.delete(settings, args.count, prefix=args.prefix)
        print(f"removed {len(removed)} accounts and their vhosts", file=sys.stderr)
        return 0
    made = accounts.create(settings, args.count, prefix=args.prefix)
    print(accounts.to_csv(made, settings.management_base), end="")
    print(f"created {len(made)} accounts; hand out one line each", file=sys.stderr)
    return 0


COMMANDS = {"doctor": run_doctor, "up": run_up, "release": run_release, "serve": run_serve, "grade": run_grade,
            "deal": run_deal, "demo": run_demo, "accounts": run_accounts}

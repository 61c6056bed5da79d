"""The `workshop` command: a thin layer over plain functions, which are the Python API too."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from grader import broker, course, doctor, paths, stack
from grader.errors import WorkshopError
from grader.settings import ENVIRONMENT, Settings


def _broker_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", dest="rabbitmq_url", help=f"AMQP URL of the broker (env {ENVIRONMENT['rabbitmq_url']})")
    parser.add_argument(
        "--management-url", help=f"URL of the management API (env {ENVIRONMENT['management_url']})"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workshop", description="Run the RabbitMQ workshop.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("doctor", help="check that the broker and its management API answer")
    _broker_flags(check)
    check.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for each answer")

    up = commands.add_parser("up", help="the whole workshop: broker check, then JupyterLab with the course")
    _broker_flags(up)
    up.add_argument("--port", type=int, default=int(os.environ.get("JUPYTER_PORT", 8888)),
                    help="JupyterLab's port (env JUPYTER_PORT, default 8888)")
    up.add_argument("--ip", default="127.0.0.1", help="address JupyterLab listens on (0.0.0.0 for a room)")
    up.add_argument("--workspace", type=Path, default=Path("workspace"),
                    help="where the students' copies of the notebooks live (default ./workspace)")
    up.add_argument("--token", help="JupyterLab token (env JUPYTER_TOKEN; default: a random one)")

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
    except KeyboardInterrupt:
        return 130


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(rabbitmq_url=args.rabbitmq_url, management_url=args.management_url)


def run_doctor(args: argparse.Namespace) -> int:
    doctor.check(_settings(args), timeout=args.timeout)
    return 0


def run_up(args: argparse.Namespace) -> int:
    return stack.up(_settings(args), workspace=args.workspace, port=args.port, ip=args.ip, token=args.token)


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


COMMANDS = {"doctor": run_doctor, "up": run_up, "release": run_release}

"""The `workshop` command: a thin layer over plain functions, which are the Python API too."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track
from sqlalchemy.exc import SQLAlchemyError

from grader import broker, course, doctor, paths, serve, stack
from grader.classroom import provision
from grader.classroom.room import SPAWNER_ENVIRONMENT, SPAWNERS
from grader.classroom.roster import INSTRUCTOR
from grader.errors import WorkshopError
from grader.live import dealer, fairness
from grader.live.accounts import Room
from grader.live.consumer import Grader
from grader.live.store import DEFAULT_STORE, Store
from grader.settings import ENVIRONMENT, Settings

ROOM = Path("room")  # what `workshop provision` writes: accounts.csv, cards.html


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


def _room_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", type=Path, metavar="CSV",
                        help="a room with accounts (protocol version 2): the accounts.csv of `workshop provision`; "
                             "a message's sender is then its broker-checked user_id, never the name in its body")


def _room(args: argparse.Namespace) -> Room | None:
    if not getattr(args, "accounts", None):
        return None
    provision.read_accounts(args.accounts)  # one clear error now if it is not there
    return Room(args.accounts, lambda path: {a.user: a.name for a in provision.read_accounts(path)
                                             if a.role == "student"})


MAX_STUDENTS_ENVIRONMENT = "WORKSHOP_MAX_STUDENTS"


def _allowance_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allowance", type=_at_least(0), default=fairness.ALLOWANCE, metavar="N",
                        help=f"messages that score nothing (wrong, repeated, rejected) a student may send per minute "
                             f"before theirs are not graded for a while (default {fairness.ALLOWANCE}; 0: no limit)")
    parser.add_argument("--max-students", type=_at_least(1), metavar="N",
                        default=os.environ.get(MAX_STUDENTS_ENVIRONMENT) or str(fairness.MAX_STUDENTS),
                        help="without --accounts, the most students who may register; later registrations are "
                             f"refused with a sentence (env {MAX_STUDENTS_ENVIRONMENT}, which `workshop up` passes "
                             f"on; default {fairness.MAX_STUDENTS}; each student has two queues on the broker)")


JOIN_ENVIRONMENT = {"join_url": "WORKSHOP_JOIN_URL", "class_size": "WORKSHOP_CLASS_SIZE",
                    "instructor_token": "WORKSHOP_INSTRUCTOR_TOKEN"}


def _join_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--join-url", default=os.environ.get(JOIN_ENVIRONMENT["join_url"]) or None, metavar="URL",
                        help="the address students open (JupyterLab or the hub); the leaderboard shows it with a "
                             f"QR code (env {JOIN_ENVIRONMENT['join_url']}; default: none)")
    parser.add_argument("--class-size", type=_at_least(0), metavar="N",
                        default=os.environ.get(JOIN_ENVIRONMENT["class_size"]) or "0",  # argparse parses it
                        help="the join address stays large on the leaderboard until N students have registered "
                             f"(env {JOIN_ENVIRONMENT['class_size']}; default 0: until someone solves a task)")
    parser.add_argument("--instructor-token", default=os.environ.get(JOIN_ENVIRONMENT["instructor_token"]) or None,
                        metavar="SECRET", help="turns on the instructor's pages: /admin?token=SECRET (freeze, rename, "
                                               "remove, deal, start again) and /progress?token=SECRET (the class "
                                               f"progress grid) (env {JOIN_ENVIRONMENT['instructor_token']}; "
                                               "default: none)")


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
    _join_flags(up)
    up.add_argument("--room", type=Path, metavar="ACCOUNTS_CSV",
                    help="a room with accounts: JupyterHub on --port, where everyone in this accounts.csv of "
                         "`workshop provision` logs in to a JupyterLab of their own (its folder holds the room)")
    up.add_argument("--spawner", choices=SPAWNERS, default=os.environ.get(SPAWNER_ENVIRONMENT) or "local",
                    help="with --room: each JupyterLab a local process, or a Docker container of its own "
                         f"(the compose stack's hub) (env {SPAWNER_ENVIRONMENT}, default local)")

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
    _room_flag(serve)
    _join_flags(serve)

    grade = commands.add_parser("grade", help="the grader alone; run several side by side on one --store")
    _live_flags(grade)
    _allowance_flag(grade)
    _room_flag(grade)

    dealing = commands.add_parser("deal", help="deal Fibonacci tasks to every registered student")
    _live_flags(dealing)
    dealing.add_argument("--count", type=_at_least(1), default=1, metavar="K", help="tasks per student (default 1)")
    dealing.add_argument("--every", type=_at_least(0, float), default=0, metavar="SECONDS",
                         help="keep dealing K tasks this often until Ctrl+C")

    demo = commands.add_parser("demo", help="a simulated class on a leaderboard of its own (no real workshop touched)")
    _broker_flags(demo)
    demo.add_argument("--workshop", help=f"workshop id (env {ENVIRONMENT['workshop']}, default summercamp)")
    demo.add_argument("--port", type=int, default=8001, help="the demo leaderboard's port (default 8001)")
    demo.add_argument("--ip", default="127.0.0.1", help="address the demo leaderboard listens on")
    demo.add_argument("--students", type=_at_least(1), default=12, metavar="N", help="how many (default 12)")
    demo.add_argument("--duration", type=_at_least(0, float), default=120, metavar="SECONDS",
                      help="how long (default 120; 0: until Ctrl+C)")
    demo.add_argument("--seed", type=int, help="for a repeatable class")

    provision = commands.add_parser("provision", help="a broker account and a vhost per student on the roster")
    _broker_flags(provision)
    provision.add_argument("--workshop", help=f"workshop id (env {ENVIRONMENT['workshop']}, default summercamp)")
    provision.add_argument("roster", type=Path, help="CSV, one student a row: name, then optionally email")
    provision.add_argument("--out", type=Path, default=ROOM, help=f"where accounts.csv and cards.html go (default {ROOM}/)")
    provision.add_argument("--rotate", action="store_true", help="new passwords for every account")
    provision.add_argument("--join-url", default="", help="the address students open, printed on their cards")
    provision.add_argument("--instructor", help=f"the instructor's user (default: as before, else {INSTRUCTOR})")

    teardown = commands.add_parser("teardown", help="remove the accounts and vhosts `provision` made")
    _broker_flags(teardown)
    teardown.add_argument("--workshop", help=f"workshop id (env {ENVIRONMENT['workshop']}, default summercamp)")
    teardown.add_argument("--out", type=Path, default=ROOM, help=f"the folder of accounts.csv (default {ROOM}/)")

    grading = commands.add_parser("autograde", help="grade every submission with nbgrader, each on a vhost of its "
                                                    "own, several at a time (jobs on the broker)")
    _broker_flags(grading)
    grading.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="only these (default: all submitted)")
    grading.add_argument("--course", type=Path, default=paths.COURSE, help="the nbgrader course (default course/)")
    grading.add_argument("--workers", type=_at_least(0), metavar="N",
                         help="local workers (default: one per CPU; 0: only those started with --worker elsewhere)")
    grading.add_argument("--worker", action="store_true",
                         help="be one more worker of the batch that runs (on another machine that reaches the "
                              "broker and the gradebook); ends with the batch")
    grading.add_argument("--gradebook", metavar="URL", help="nbgrader's gradebook (default sqlite:///<course>/"
                                                            "gradebook.db; postgresql://... for workers on several machines)")
    grading.add_argument("--cell-timeout", type=_at_least(1), default=20, metavar="S",
                         help="a cell running longer is interrupted (default 20)")
    grading.add_argument("--limit", type=_at_least(1, float), default=300, metavar="S",
                         help="a submission grading longer is stopped and reported (default 300)")
    grading.add_argument("--memory", type=_at_least(0), default=2048, metavar="MB",
                         help="address space of each grading process and of its kernel (default 2048; 0: no cap)")

    release = commands.add_parser("release", help="produce notebooks/ (student versions) from course/source")
    release.add_argument("assignments", nargs="*", help="only these assignments (default: all)")
    release.add_argument("--course", type=Path, default=paths.COURSE)
    release.add_argument("--out", type=Path, default=paths.NOTEBOOKS)
    release.add_argument("--check", action="store_true", help="only report whether notebooks/ is up to date")

    collect = commands.add_parser("collect", help="take what students handed in (nbgrader's exchange, a folder per "
                                                  "student, files named by student, a zip) into submitted/")
    collect.add_argument("source", type=Path, metavar="SOURCE", help="the exchange, a folder, a notebook or a .zip")
    collect.add_argument("--course", type=Path, default=paths.COURSE, help="the nbgrader course (default course/)")
    collect.add_argument("--assignment", metavar="A", help="only this assignment; also names <student>.ipynb files")

    for name, what, out in (("feedback", "a page per student and assignment: points, why each check failed, "
                                         "the student's code, never the hidden tests", "<course>/feedback"),
                            ("export", "grades.csv and a class overview page with a chart per exercise",
                             "<course>/export")):
        graded = commands.add_parser(name, help=what)
        if name == "feedback":
            graded.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="only these (default: all)")
        graded.add_argument("--course", type=Path, default=paths.COURSE, help="the nbgrader course (default course/)")
        graded.add_argument("--out", type=Path, help=f"where the files go (default {out})")
        graded.add_argument("--gradebook", metavar="URL", help="nbgrader's gradebook (default: the course's)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    broker.quiet_pika()
    if not args.verbose:  # nbgrader's gradebook migrations: a dozen lines of alembic setup at every open
        logging.getLogger("alembic").setLevel(logging.WARNING)
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
    # `up` hands its environment to the `workshop serve` it starts: the join address and the
    # instructor token go that way (never on a command line, where `ps` would show the token).
    for name, variable in JOIN_ENVIRONMENT.items():
        if getattr(args, name):
            os.environ[variable] = str(getattr(args, name))
    if args.spawner != "local" and args.room is None:
        raise WorkshopError(f"--spawner {args.spawner} is for a room: add --room ACCOUNTS_CSV")
    return stack.up(_settings(args), workspace=args.workspace, port=args.port, ip=args.ip, token=args.token,
                    leaderboard_port=args.leaderboard_port, store=args.store, keep_open=args.keep_open,
                    room=args.room, spawner=args.spawner)


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


def run_collect(args: argparse.Namespace) -> int:
    from grader.course import collect

    report = collect.collect(args.source, args.course, assignment=args.assignment)
    for line in report.problems:
        print(line)
    print(report.summary(args.course / "submitted", args.assignment))
    return 0 if report.placed or not report.problems else 1


def run_feedback(args: argparse.Namespace) -> int:
    from grader.course import feedback

    pages = feedback.feedback(args.course, args.assignments or None, args.out, gradebook=args.gradebook)
    print(f"wrote {len(pages)} feedback pages into {args.out or args.course / 'feedback'}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from grader.course import export

    for path in export.export(args.course, args.out, gradebook=args.gradebook):
        print(path)
    return 0


def run_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    broker.connect(settings.rabbitmq_url).close()  # fail now, with a clear line, if the broker is not there
    return serve.serve(settings, args.store, port=args.port, ip=args.ip, deal_on_register=args.deal_on_register,
                       keep_open=args.keep_open, deal_every=args.deal_every, deal_count=args.deal_count,
                       allowance=args.allowance, join_url=args.join_url, class_size=args.class_size,
                       room=_room(args), instructor_token=args.instructor_token, max_students=args.max_students)


def run_grade(args: argparse.Namespace) -> int:
    settings = _settings(args)
    broker.connect(settings.rabbitmq_url).close()
    grader = Grader(settings, Store(args.store, settings.workshop),
                    limiter=fairness.Limiter(allowance=args.allowance), room=_room(args),
                    max_students=args.max_students)
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
    sent = serve.demo(_settings(args), port=args.port, ip=args.ip, students=args.students,
                      duration=args.duration, seed=args.seed)
    print(", ".join(f"{count} {kind}" for kind, count in sent.items()))
    return 0


def run_provision(args: argparse.Namespace) -> int:
    def progress(items, total):
        return track(items, total=total, description="accounts", console=Console(stderr=True), transient=True)

    report = provision.provision(_settings(args), args.roster, args.out, rotate=args.rotate,
                                 join_url=args.join_url, instructor=args.instructor, progress=progress)
    print(report.summary(args.out))
    return 0


def run_autograde(args: argparse.Namespace) -> int:
    from grader.course import batch, record, summary, worker  # nbgrader is slow to import: only here

    settings = _settings(args)
    gradebook = args.gradebook or record.default_url(args.course.resolve())
    if args.worker:
        one = worker.Worker(settings, args.course.resolve(), gradebook)
        signal.signal(signal.SIGTERM, lambda signum, frame: one.stop())  # finish the job it holds, then end
        print(f"graded {one.run()} submissions", flush=True)
        return 0
    console = Console(stderr=True)
    with summary.progress_bar(console) as (on_start, on_row):
        rows = batch.autograde(settings, args.course, args.assignments or None, workers=args.workers,
                                   gradebook_url=gradebook, cell_timeout=args.cell_timeout, limit=args.limit,
                                   memory_mb=args.memory, on_start=on_start, on_row=on_row)
    Console().print(summary.table(rows))
    return 0  # a submission that failed is a row of the table, not a failure of the command


def run_teardown(args: argparse.Namespace) -> int:
    removed = provision.teardown(_settings(args), args.out)
    print(f"removed {len(removed)}: {', '.join(removed) or 'nothing'}")
    return 0


COMMANDS = {"doctor": run_doctor, "up": run_up, "release": run_release, "serve": run_serve, "grade": run_grade,
            "deal": run_deal, "demo": run_demo, "provision": run_provision,
            "teardown": run_teardown, "autograde": run_autograde, "collect": run_collect, "feedback": run_feedback,
            "export": run_export}

"""The dealer when things go wrong: killed between recording and publishing, connection closed
under it. Store and queues must agree again: every registered student gets their tasks."""

import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import select

from grader.live import dealer
from grader.live.dealer import Dealer, deal
from grader.live.tables import tasks
from tests.live.fixtures import WORKSHOP, named_connections

NAMES = ["Ada Lovelace", "Bob", "Chiara"]


class Killed(Exception):
    """Stands for the dealer's process dying."""


def register(store, names_):
    with store.transaction() as tx:
        for name in names_:
            tx.register(name.lower().replace(" ", "-"), name, time.time())
    return [name.lower().replace(" ", "-") for name in names_]


def recorded(store) -> dict[str, dict[int, object]]:
    """{slug: {n: published_at}} as the store has them."""
    with store.engine.connect() as connection:
        rows = connection.execute(select(tasks.c.slug, tasks.c.n, tasks.c.published_at)).all()
    found: dict[str, dict[int, object]] = {}
    for slug, n, published in rows:
        found.setdefault(slug, {})[n] = published
    return found


def test_a_dealer_killed_between_recording_and_publishing_leaves_nobody_without_tasks(settings, store,
                                                                                     make_student, monkeypatch):
    slugs = register(store, NAMES)
    publish, calls = dealer._publish, []

    def dies_at_the_second_student(channel, workshop, slug, tasks_):
        calls.append(slug)
        if len(calls) == 2:
            raise Killed  # the tasks of this student are recorded, none is published
        return publish(channel, workshop, slug, tasks_)

    with monkeypatch.context() as patch:
        patch.setattr(dealer, "_publish", dies_at_the_second_student)
        with pytest.raises(Killed):
            deal(settings, store, 3)
    cut_off = calls[1]
    assert set(recorded(store)[cut_off].values()) == {None}, "the cut-off student's tasks should be unconfirmed"
    assert NAMES[2].lower() not in recorded(store), "the third student should not have been reached"

    # The live service's dealer (deal on register, keep 3 open) finds the student that was cut off.
    running = Dealer(settings, store, on_register=3, keep_open=3, poll=0.1, stale=0)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    try:
        for slug, name in zip(slugs, NAMES):
            got = {body["n"] for _, body in make_student(name).every_task(3)}
            assert got == set(recorded(store)[slug]), f"{name}'s queue and the store disagree"
    finally:
        running.stop()
        thread.join(timeout=15)
    assert all(published is not None for by_n in recorded(store).values() for published in by_n.values())


@pytest.mark.management_stats
def test_workshop_deal_that_loses_its_connection_says_so_in_one_line_and_the_next_deal_finishes(
        settings, store, tmp_path, vhost, make_student):
    many = [f"Student {i}" for i in range(300)]
    slugs = register(store, many)
    command = subprocess.Popen([sys.executable, "-m", "grader", "deal", "--count", "60", "--store", store.url,
                                "--workshop", WORKSHOP], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:  # close the dealer's connection as soon as it shows, mid-deal (18,000 confirmed publishes)
            assert command.poll() is None, "the deal finished before its connection could be closed"
            mine = named_connections(vhost, "workshop-dealer")
            if mine:
                vhost.api.close_connection(mine[0]["name"])
                break
            assert time.monotonic() < deadline, "the dealer's connection never showed up"
            time.sleep(0.05)
        out, err = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode == 1, (out, err)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert "Traceback" not in err and len(errors) == 1, err
    assert errors[0].startswith("error: the dealer lost its connection to RabbitMQ"), err
    assert err.strip().splitlines()[-1] == errors[0]

    deal(settings, store, 0, stale_after=0)  # the next deal publishes what was left unconfirmed
    state = recorded(store)
    assert all(published is not None for by_n in state.values() for published in by_n.values())
    for slug, name in list(zip(slugs, many))[:3] + list(zip(slugs, many))[-3:]:
        expected = set(state.get(slug, {}))
        got = {body["n"] for _, body in make_student(name).every_task(len(expected))} if expected else set()
        assert got == expected, f"{name}'s queue and the store disagree"


def test_two_dealers_dealing_the_same_n_record_it_once_and_both_go_on(store):
    register(store, ["Ada Lovelace"])
    assert store.add_tasks("ada-lovelace", {7: "first", 8: "first"}, time.time()) == {7, 8}
    assert store.add_tasks("ada-lovelace", {8: "second", 9: "second"}, time.time()) == {9}  # 8 was taken
    assert set(recorded(store)["ada-lovelace"]) == {7, 8, 9}


def test_a_long_deal_never_leaves_more_than_a_few_tasks_recorded_and_unpublished(settings, store, make_student):
    """Another dealer publishes again what is recorded but unpublished for STALE seconds: a deal
    whose later tasks waited behind all the earlier confirms would be taken for a dead one, and its
    students would get those tasks twice. Recorded a few at a time, no task waits long."""
    slugs = register(store, ["Ada Lovelace", "Bob"])
    most, done = 0, threading.Event()

    def watch():
        nonlocal most
        while not done.is_set():
            waiting = [published for by_n in recorded(store).values() for published in by_n.values()]
            most = max(most, sum(published is None for published in waiting))
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        dealt = deal(settings, store, 150)
    finally:
        done.set()
        watcher.join(timeout=10)
    assert {slug: len(ns) for slug, ns in dealt.items()} == dict.fromkeys(slugs, 150)
    assert most <= dealer.CHUNK, f"{most} tasks were recorded and unpublished at once"
    ns = [body["n"] for _, body in make_student("Bob").every_task(150)]
    assert sorted(ns) == sorted(dealt["bob"])  # each once

"""What made-up names can cost is bounded: registrations stop at the workshop's limit (each student
is two queues on the broker), misses that name nobody registered leave rows in the store only
within one shared allowance, and chatting on writes nothing."""

import json
import threading
import time

import hypothesis
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from grader import names
from grader.live.accounts import Room
from grader.live.checks import Kind, fibonacci
from grader.live.envelope import Delivery
from grader.live.fairness import ALLOWANCE, ANONYMOUS_SHARE, Limiter
from grader.live.grading import grade_batch
from grader.live.identity import student_id
from grader.live.store import Store, Transaction
from grader.live.tables import verdicts
from tests.live.fixtures import WORKSHOP, postgres_store_url, start_grader, stop_grader  # noqa: F401 - a fixture

POOL = ["Ada Lovelace", "Иван Петров", "李雷", "Αλέξανδρος", "محمد", "Bob", "Cy", "Dana Scully", "王芳 1", "Zoë"]


def rows(store: Store) -> int:
    with store.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(verdicts))


def registration(tag: int, name: str) -> Delivery:
    return Delivery(names.REGISTER_QUEUE, json.dumps({"name": name}).encode(), tag=tag, digest=f"r{tag}")


def answer(tag: int, name: str, n: int = 30, fn: int = 1) -> Delivery:
    return Delivery(names.results_queue(WORKSHOP), json.dumps({"n": n, "Fn": fn, "name": name}).encode(), tag=tag,
                    digest=f"a{tag}")


@hypothesis.settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=st.lists(st.sampled_from(POOL), max_size=25), limit=st.integers(0, 6), size=st.integers(1, 9))
def test_registrations_stop_at_the_limit_in_any_order_and_batching(tmp_path_factory, people, limit, size):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('seats') / 'scores.sqlite'}", WORKSHOP)
    try:
        deliveries = [registration(i, name) for i, name in enumerate(people)]
        outcomes = []
        for start in range(0, len(deliveries), size):
            outcomes += grade_batch(store, deliveries[start:start + size], max_students=limit)
        first_comers = list(dict.fromkeys(student_id(name) for name in people))[:limit]
        assert sorted(slug for slug, _ in store.registered()) == sorted(first_comers)
        seen = set()
        for name, outcome in zip(people, outcomes):
            slug = student_id(name)
            if slug not in first_comers:
                assert outcome.verdict.kind == Kind.FULL and outcome.verdict.points == 0, outcome
                assert "workshop is full" in outcome.verdict.message
            else:
                assert outcome.verdict.kind == (Kind.ALREADY_REGISTERED if slug in seen else Kind.REGISTERED), outcome
                seen.add(slug)
        assert sum(o.verdict.points for o in outcomes) == len(first_comers)
    finally:
        store.close()


@hypothesis.settings(max_examples=15, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(made_up=st.lists(st.from_regex(r"[A-Za-z]{3,12}", fullmatch=True), min_size=150, max_size=400, unique=True),
       garbage=st.lists(st.binary(max_size=40), max_size=150), size=st.integers(1, 120))
def test_misses_of_made_up_names_leave_rows_only_within_one_shared_allowance(tmp_path_factory, made_up, garbage,
                                                                              size):
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('rows') / 'scores.sqlite'}", WORKSHOP)
    try:
        limiter = Limiter(allowance=ALLOWANCE)
        grade_batch(store, [registration(0, "Ada Lovelace")], limiter, clock=lambda: 0.0)
        store.add_tasks("ada-lovelace", {30: "t30"}, time.time(), published=True)
        before = rows(store)
        flood = [answer(i, name) for i, name in enumerate(made_up, start=1)]
        flood += [Delivery(names.results_queue(WORKSHOP), body, tag=10_000 + i, digest=f"g{i}")
                  for i, body in enumerate(garbage)]
        ada = [answer(20_000 + i, "Ada Lovelace") for i in range(3)] + [answer(20_010, "Ada Lovelace", fn=fibonacci(30))]
        mixed = flood[:len(flood) // 2] + ada + flood[len(flood) // 2:]
        outcomes = []
        for start in range(0, len(mixed), size):
            outcomes += grade_batch(store, mixed[start:start + size], limiter, clock=lambda: 0.0)
        theirs = [o for o in outcomes if o.slug != "ada-lovelace"]
        mine = [o for o in outcomes if o.slug == "ada-lovelace"]
        assert all(o.verdict.points == 0 for o in theirs)
        assert [o.verdict.kind for o in mine] == [Kind.WRONG] * 3 + [Kind.CORRECT]  # she is graded as ever
        assert all(o.recorded for o in mine)
        assert rows(store) - before == len(mine) + min(len(theirs), ALLOWANCE * ANONYMOUS_SHARE)
        assert dict(store.registered()) == {"ada-lovelace": "Ada Lovelace"}
    finally:
        store.close()


def test_in_a_room_a_reject_counts_against_its_senders_account_never_the_name_written_in_it(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'scores.sqlite'}", WORKSHOP)
    try:
        room = Room.of({"alice": "Alice", "mallory": "Mallory"})
        limiter = Limiter(allowance=ALLOWANCE)

        def sent(user: str, tag: int, body: dict) -> Delivery:
            return Delivery(names.results_queue(WORKSHOP), json.dumps(body).encode(), tag=tag, digest=f"d{tag}",
                            user_id=user)

        grade_batch(store, [Delivery(names.REGISTER_QUEUE, b'{"name": "Alice"}', tag=0, digest="r", user_id="alice")],
                    limiter, room=room, clock=lambda: 0.0)
        store.add_tasks("alice", {30: "t30"}, time.time(), published=True)
        forged = [sent("mallory", i, {"n": -1, "Fn": 0, "name": "Alice"}) for i in range(1, 3 * ALLOWANCE)]
        for outcome in grade_batch(store, forged, limiter, room=room, clock=lambda: 0.0):
            assert outcome.rejected and outcome.slug is None
        [own] = grade_batch(store, [sent("alice", 100, {"n": 30, "Fn": 1, "name": "Alice"})], limiter, room=room,
                            clock=lambda: 0.0)
        assert own.verdict.kind == Kind.WRONG and own.recorded, own  # graded, not "slow down"
    finally:
        store.close()


@pytest.mark.broker
def test_past_the_limit_a_registration_is_refused_with_a_sentence_and_declares_no_queues(settings, store, vhost,
                                                                                         make_student):
    grader, thread = start_grader(settings, store, max_students=2)
    try:
        people = [make_student(name) for name in ("Ada Lovelace", "李雷", "Иван Петров", "Bob")]
        replies = [person.register() for person in people]
        assert [r["points"] for r in replies] == [1, 1, 0, 0], replies
        assert all("workshop is full" in r["message"] and not r["ok"] for r in replies[2:]), replies
        assert people[0].register()["message"].startswith("You are already registered")
        declared = {queue["name"] for queue in vhost.api.queues(vhost.name)}
        for person in people[:2]:
            assert names.tasks_queue(WORKSHOP, person.slug) in declared
        for person in people[2:]:
            assert names.tasks_queue(WORKSHOP, person.slug) not in declared
            assert names.answers_queue(WORKSHOP, person.slug) not in declared
    finally:
        stop_grader(grader, thread)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_two_graders_registering_at_once_never_fill_the_same_seats(request, tmp_path, monkeypatch, kind):
    """Grader A has read how many students there are and is about to write when grader B starts a
    batch of registrations too: B waits for A (or, if it did not, would count the same free seats)."""
    url = f"sqlite:///{tmp_path / 'seats.sqlite'}" if kind == "sqlite" else request.getfixturevalue("postgres_store_url")
    store = Store(url, WORKSHOP)
    load, apply = Transaction.load, Transaction.apply
    a_loaded, b_loaded = threading.Event(), threading.Event()

    def paused_apply(self, *args, **kwargs):
        if threading.current_thread().name == "grader-a":
            a_loaded.set()
            b_loaded.wait(3)  # B never gets this far while A holds the seats: A goes on after 3 s
        return apply(self, *args, **kwargs)

    def announced_load(self, *args, **kwargs):
        loaded = load(self, *args, **kwargs)
        if threading.current_thread().name == "grader-b":
            b_loaded.set()
        return loaded

    monkeypatch.setattr(Transaction, "apply", paused_apply)
    monkeypatch.setattr(Transaction, "load", announced_load)
    results = {}
    batches = {"a": [registration(i, f"Ada {i}") for i in range(3)],
               "b": [registration(10 + i, f"Bob {i}") for i in range(3)]}
    threads = {who: threading.Thread(target=lambda who=who: results.setdefault(
        who, grade_batch(store, batches[who], max_students=4)), name=f"grader-{who}") for who in "ab"}
    try:
        threads["a"].start()
        assert a_loaded.wait(20), "grader A did not get to its write"
        threads["b"].start()
        for thread in threads.values():
            thread.join(30)
            assert not thread.is_alive(), "a grader is stuck"
        assert len(store.registered()) == 4
        kinds = sorted(o.verdict.kind for who in "ab" for o in results[who])
        assert kinds == [Kind.FULL] * 2 + [Kind.REGISTERED] * 4
    finally:
        store.close()

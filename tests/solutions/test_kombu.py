"""solutions/07-kombu: the kombu producer's numbers come back squared from the kombu consumer."""

import json

from grader import lab, paths
from tests.solutions.background import run_script

FOLDER = paths.SOLUTIONS / "07-kombu"


def run(script, *args, timeout=30):
    return run_script(FOLDER / script, *args, timeout=timeout)


def test_the_consumer_squares_what_the_producer_sent(vhost):
    sent = run("number_producer.py", "--count", "5")
    assert sent.returncode == 0, sent.stderr
    assert lab.queue_state("number").messages == 5

    squared = run("number_consumer.py", "--count", "5", "--timeout", "10")
    assert squared.returncode == 0, squared.stderr
    for n in range(1, 6):
        assert f"{n} squared is {n * n}" in squared.stdout

    assert lab.queue_state("number").messages == 0, "every number should be acknowledged"
    answers = lab.peek("squares")
    assert sorted((json.loads(m.body) for m in answers), key=lambda b: b["number"]) == [
        {"number": n, "square": n * n} for n in range(1, 6)
    ]
    assert {m.properties.content_type for m in answers} == {"application/json"}


def test_the_producer_declares_a_durable_direct_exchange_and_sends_persistent_json(vhost):
    assert run("number_producer.py", "--count", "2").returncode == 0
    lab.expect_exchange("number", "direct", durable=True)
    lab.expect_queue("number", durable=True)
    lab.expect_binding("number", "number", "number")
    messages = lab.peek("number")
    assert [json.loads(m.body) for m in messages] == [{"number": 1}, {"number": 2}]
    assert {(m.properties.content_type, m.properties.delivery_mode) for m in messages} == {("application/json", 2)}


def test_a_consumer_with_a_count_leaves_the_other_numbers_in_the_queue(vhost):
    assert run("number_producer.py", "--count", "5").returncode == 0
    squared = run("number_consumer.py", "--count", "3", "--timeout", "10")
    assert squared.returncode == 0, squared.stderr
    assert "Squared 3 numbers" in squared.stdout
    assert lab.queue_state("number").messages == 2
    assert lab.queue_state("squares").messages == 3


def test_the_consumer_stops_after_its_timeout_when_nothing_comes(vhost):
    waited = run("number_consumer.py", "--timeout", "1")
    assert waited.returncode == 0, waited.stderr
    assert "Squared 0 numbers" in waited.stdout

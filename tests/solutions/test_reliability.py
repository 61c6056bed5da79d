"""solutions/08-reliability: dead-lettering, delayed retries and publisher confirms, on a real broker."""


import pika

from grader import lab, paths
from tests.solutions.background import run_script

FOLDER = paths.SOLUTIONS / "08-reliability"


def run(script, *args, timeout=30):
    return run_script(FOLDER / script, *args, timeout=timeout)


def deaths(message, reason):
    return [d for d in (message.properties.headers or {}).get("x-death", []) if d["reason"] == reason]


def test_dlx_setup_declares_the_dead_letter_topology_and_can_run_twice(vhost):
    for _ in range(2):
        declared = run("dlx_setup.py")
        assert declared.returncode == 0, declared.stderr
    lab.expect_queue("work", durable=True, arguments={"x-dead-letter-exchange": "work.dlx",
                                                      "x-dead-letter-routing-key": "work.dead"})
    lab.expect_exchange("work.dlx", "direct", durable=True)
    lab.expect_binding("work.dlx", "work.dead", "work.dead")
    lab.expect_queue("work.retry", durable=True, arguments={"x-message-ttl": 500, "x-dead-letter-exchange": "",
                                                            "x-dead-letter-routing-key": "work"})


def test_dlx_setup_explains_an_inequivalent_queue_and_resets_it_on_request(vhost):
    with lab.channel() as channel:
        channel.queue_declare(queue="work", durable=True)  # an older `work`, without a DLX
    refused = run("dlx_setup.py")
    assert refused.returncode == 1
    assert "inequivalent arg" in refused.stderr and "--reset" in refused.stderr
    assert run("dlx_setup.py", "--reset").returncode == 0
    lab.expect_queue("work", arguments={"x-dead-letter-exchange": "work.dlx"})


def test_the_worker_does_good_jobs_and_dead_letters_a_poison_job_after_its_last_attempt(vhost):
    assert run("dlx_setup.py").returncode == 0
    published = run("confirmed_publisher.py", '{"job": 1}', "not json", '{"job": 2}')
    assert published.returncode == 0, published.stdout

    worked = run("worker_with_retries.py", "--max-attempts", "2", "--count", "3", "--timeout", "20")
    assert worked.returncode == 0, worked.stderr
    assert "job 1 done" in worked.stdout and "job 2 done" in worked.stdout
    assert "attempt 1/2 failed (not JSON); retrying" in worked.stdout
    assert "attempt 2/2 failed (not JSON); dead-lettered to work.dead" in worked.stdout

    assert lab.queue_state("work").messages == 0
    assert lab.queue_state("work.retry").messages == 0
    [dead] = lab.peek("work.dead")
    assert dead.body == b"not json"
    assert dead.properties.headers["attempts"] == 2
    [rejected] = deaths(dead, "rejected")
    assert rejected["queue"] == "work" and rejected["count"] == 1
    assert deaths(dead, "expired"), "the retry went through work.retry and expired back into work"


def test_with_one_attempt_a_poison_job_is_dead_lettered_at_once(vhost):
    assert run("confirmed_publisher.py", '{"job": 1, "fail": true}').returncode == 1  # no queue yet: unroutable
    assert run("dlx_setup.py").returncode == 0
    assert run("confirmed_publisher.py", '{"job": 1, "fail": true}').returncode == 0
    worked = run("worker_with_retries.py", "--max-attempts", "1", "--count", "1", "--timeout", "10")
    assert "attempt 1/1 failed (the job asked to fail); dead-lettered" in worked.stdout
    assert lab.queue_state("work.dead").messages == 1
    assert lab.queue_state("work.retry").messages == 0


def test_the_confirmed_publisher_reports_unroutable_and_refused_messages(vhost):
    unroutable = run("confirmed_publisher.py", "--routing-key", "nowhere", "hello")
    assert unroutable.returncode == 1
    assert "unroutable (no queue matches 'nowhere'): hello" in unroutable.stdout

    with lab.channel() as channel:
        channel.queue_declare(queue="tiny", durable=True, arguments={"x-max-length": 1, "x-overflow": "reject-publish"})
    refused = run("confirmed_publisher.py", "--routing-key", "tiny", "first", "second")
    assert refused.returncode == 1
    assert " [x] confirmed: first" in refused.stdout
    assert " [!] refused by the broker (nack): second" in refused.stdout
    [kept] = lab.peek("tiny")
    assert kept.body == b"first" and kept.properties.delivery_mode == pika.DeliveryMode.Persistent.value


def test_the_worker_stops_after_its_timeout_when_nothing_comes(vhost):
    waited = run("worker_with_retries.py", "--timeout", "1")
    assert waited.returncode == 0, waited.stderr
    assert "Finished 0 jobs" in waited.stdout

"""solutions/02-work-queues: workers share tasks round-robin, and a killed worker's task is redelivered."""

import signal

from grader import lab, paths
from tests.solutions.background import Background, run_script

FOLDER = paths.SOLUTIONS / "02-work-queues"
WORKER = FOLDER / "worker.py"
FAST = ("--seconds-per-dot", "0.02")


def new_task(message):
    sent = run_script(FOLDER / "new_task.py", message)
    assert sent.returncode == 0, sent.stderr
    assert f"Sent {message!r}" in sent.stdout


def received(worker):
    return [line.split("Received ", 1)[1] for line in worker.lines if "Received " in line]


def test_new_task_publishes_a_persistent_task_to_the_durable_task_queue(vhost):
    new_task("Fifth message.....")
    lab.expect_queue("task_queue", durable=True)
    [task] = lab.peek("task_queue")
    assert (task.body, task.properties.delivery_mode) == (b"Fifth message.....", 2)


def test_two_workers_share_the_tasks_round_robin(vhost):
    with Background(WORKER, "--count", "2", "--timeout", "30", *FAST) as first, \
            Background(WORKER, "--count", "2", "--timeout", "30", *FAST) as second:
        first.wait_for("Waiting for tasks")  # printed once the worker consumes
        second.wait_for("Waiting for tasks")
        for number in range(1, 5):
            new_task(f"Task {number}.")
        assert first.finish(timeout=20) == 0 and second.finish(timeout=20) == 0
    assert sorted([received(first), received(second)]) == [["'Task 1.'", "'Task 3.'"], ["'Task 2.'", "'Task 4.'"]]
    assert lab.queue_state("task_queue").messages == 0


def test_a_task_of_a_worker_killed_mid_task_is_redelivered_to_the_other_worker(vhost):
    with Background(WORKER, "--seconds-per-dot", "2") as doomed:  # the task below takes 10 s there
        doomed.wait_for("Waiting for tasks")
        new_task("Long task.....")
        doomed.wait_for("Received 'Long task.....'")
        with Background(WORKER, "--count", "1", "--timeout", "30", *FAST) as survivor:
            survivor.wait_for("Waiting for tasks")
            doomed.process.send_signal(signal.SIGKILL)
            assert survivor.finish(timeout=20) == 0
    assert received(survivor) == ["'Long task.....' (redelivered)"], survivor.lines
    assert " [x] Done" in survivor.lines
    assert lab.queue_state("task_queue").messages == 0


def test_a_worker_stops_cleanly_on_ctrl_c(vhost):
    with Background(WORKER) as worker:
        worker.wait_for("Waiting for tasks")
        assert worker.interrupt() == 0
        assert worker.process.stderr.read() == ""
    lab.wait_until(lambda: lab.queue_state("task_queue").consumers == 0, timeout=10,
                   what="the interrupted worker's consumer to leave task_queue")

"""solutions/03-publish-subscribe: every receiver gets every line emitted while it listens."""


from grader import lab, paths
from tests.solutions.background import Background, run_script

FOLDER = paths.SOLUTIONS / "03-publish-subscribe"
RECEIVE = FOLDER / "receive_logs.py"


def emit(message):
    sent = run_script(FOLDER / "emit_log.py", message)
    assert sent.returncode == 0, sent.stderr
    assert f"Sent {message!r}" in sent.stdout


def lines(receiver):
    return [line for line in receiver.lines if line.startswith(" [x] ")]


def test_two_receivers_both_get_every_line(vhost):
    with Background(RECEIVE, "--count", "3", "--timeout", "20") as screen, \
            Background(RECEIVE, "--count", "3", "--timeout", "20") as disk:
        screen.wait_for("Waiting for logs")  # printed once its queue is bound to `logs`
        disk.wait_for("Waiting for logs")
        for message in ("info: the shop opened", "warning: disk 91% full", "error: payment service unreachable"):
            emit(message)
        assert screen.finish() == 0 and disk.finish() == 0
    expected = [" [x] 'info: the shop opened'", " [x] 'warning: disk 91% full'",
                " [x] 'error: payment service unreachable'"]
    assert lines(screen) == expected
    assert lines(disk) == expected


def test_a_line_emitted_before_the_receiver_binds_is_lost(vhost):
    emit("info: nobody is listening")
    with Background(RECEIVE, "--count", "1", "--timeout", "20") as late:
        late.wait_for("Waiting for logs")
        emit("info: now somebody is")
        assert late.finish() == 0
    assert lines(late) == [" [x] 'info: now somebody is'"]


def test_a_receivers_queue_is_exclusive_and_goes_away_with_it(vhost):
    with Background(RECEIVE, "--timeout", "20") as receiver:
        receiver.wait_for("Waiting for logs")
        [binding] = [b for b in lab.bindings_of("logs") if b["destination_type"] == "queue"]
        queue = lab.queue_definition(binding["destination"])
        assert queue["name"].startswith("amq.gen-") and queue["exclusive"]
        assert receiver.interrupt() == 0
    lab.wait_until(lambda: lab.queue_definition(binding["destination"]) is None, timeout=10,
                   what="the broker to delete the stopped receiver's exclusive queue")

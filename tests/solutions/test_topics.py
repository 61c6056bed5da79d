"""solutions/05-topics: a topic exchange delivers each log line to the patterns that match its key."""


from grader import paths
from tests.solutions.background import Background, run_script

FOLDER = paths.SOLUTIONS / "05-topics"
RECEIVE = FOLDER / "receive_logs_topic.py"

LOGS = [
    ("kern.info", "eth0 link up"),
    ("kern.usb.warning", "usb 1-1: device descriptor read error"),
    ("cron.critical", "crontab file is corrupt"),
    ("cron.info", "job backup started"),
    ("kern.critical", "kernel panic"),
]


def emit(routing_key, message):
    sent = run_script(FOLDER / "emit_log_topic.py", routing_key, message)
    assert sent.returncode == 0, sent.stderr
    assert f"Sent {routing_key!r}:{message!r}" in sent.stdout


def delivered(receiver):
    return [line for line in receiver.lines if "[x]" in line]


def test_star_patterns_match_exactly_one_word_and_a_line_matching_twice_comes_once(vhost):
    with Background(RECEIVE, "kern.*", "*.critical", "--count", "3", "--timeout", "20") as one_word, \
            Background(RECEIVE, "#", "--count", "5", "--timeout", "20") as everything:
        one_word.wait_for("Waiting for logs matching kern.* *.critical")
        everything.wait_for("Waiting for logs matching #")
        for routing_key, message in LOGS:
            emit(routing_key, message)
        assert one_word.finish() == 0 and everything.finish() == 0
    # In publishing order; kern.usb.warning (three words) and cron.info match neither pattern, and
    # kern.critical matches both but arrives once.
    assert delivered(one_word) == [" [x] 'kern.info':'eth0 link up'",
                                   " [x] 'cron.critical':'crontab file is corrupt'",
                                   " [x] 'kern.critical':'kernel panic'"]
    assert delivered(everything) == [f" [x] {key!r}:{message!r}" for key, message in LOGS]


def test_hash_matches_zero_or_more_words(vhost):
    with Background(RECEIVE, "kern.#", "--count", "3", "--timeout", "20") as kern:
        kern.wait_for("Waiting for logs matching kern.#")
        emit("kern", "bare facility")
        emit("kernel.info", "another facility")
        emit("kern.usb.hub.info", "hub 1-0:1.0: USB hub found")
        emit("kern.info", "eth0 link up")
        assert kern.finish() == 0
    assert delivered(kern) == [" [x] 'kern':'bare facility'", " [x] 'kern.usb.hub.info':'hub 1-0:1.0: USB hub found'",
                               " [x] 'kern.info':'eth0 link up'"]


def test_the_receiver_stops_cleanly_on_ctrl_c_and_needs_a_pattern(vhost):
    with Background(RECEIVE, "#", "--timeout", "20") as receiver:
        receiver.wait_for("Waiting for logs")
        assert receiver.interrupt() == 0
    assert " [*] Bye" in receiver.lines
    done = run_script(RECEIVE)
    assert done.returncode == 2 and "required: binding_key" in done.stderr

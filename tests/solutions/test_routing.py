"""solutions/04-routing: a direct exchange delivers each log line to the severities bound to it."""


from grader import paths
from tests.solutions.background import Background, run_script

FOLDER = paths.SOLUTIONS / "04-routing"
RECEIVE = FOLDER / "receive_logs_direct.py"


def emit(*args, timeout=30):
    return run_script(FOLDER / "emit_log_direct.py", *args, timeout=timeout)


def test_a_receiver_bound_to_error_gets_only_the_errors(vhost):
    with Background(RECEIVE, "error", "--count", "2", "--timeout", "20") as errors:
        errors.wait_for("Waiting for error logs")
        for severity, message in [("info", "disk 41% full"), ("error", "disk full"),
                                  ("warning", "disk 87% full"), ("error", "writes fail")]:
            sent = emit(severity, message)
            assert sent.returncode == 0, sent.stderr
        assert errors.finish() == 0
    # Messages keep their order: had info or warning been routed, they would be among the two lines.
    assert [line for line in errors.lines if "[x]" in line] == [" [x] 'error':'disk full'",
                                                                " [x] 'error':'writes fail'"]


def test_one_key_bound_to_two_queues_reaches_both_and_other_keys_only_their_own(vhost):
    with Background(RECEIVE, "error", "--count", "1", "--timeout", "20") as errors, \
            Background(RECEIVE, "info", "warning", "error", "--count", "2", "--timeout", "20") as everything:
        errors.wait_for("Waiting for error logs")
        everything.wait_for("Waiting for info, warning, error logs")
        assert emit("warning", "disk 87% full").returncode == 0
        assert emit("error", "disk full").returncode == 0
        assert errors.finish() == 0 and everything.finish() == 0
    assert " [x] 'error':'disk full'" in errors.lines
    assert " [x] 'warning':'disk 87% full'" not in errors.lines
    assert [line for line in everything.lines if "[x]" in line] == [" [x] 'warning':'disk 87% full'",
                                                                    " [x] 'error':'disk full'"]


def test_a_severity_nobody_bound_is_dropped_and_mandatory_says_so(vhost):
    with Background(RECEIVE, "error", "--timeout", "20") as errors:
        errors.wait_for("Waiting for error logs")
        quiet = emit("debug", "cache hit ratio 0.93")
        assert quiet.returncode == 0 and "Sent 'debug'" in quiet.stdout
        loud = emit("--mandatory", "debug", "cache hit ratio 0.93")
        assert loud.returncode == 1
        assert "No queue is bound to 'direct_logs' with 'debug'" in loud.stderr
        delivered = emit("--mandatory", "error", "disk full")
        assert delivered.returncode == 0, delivered.stderr
        errors.wait_for("'error':'disk full'")
        assert errors.interrupt() == 0
    assert not any("debug" in line for line in errors.lines)


def test_the_receiver_needs_at_least_one_severity(vhost):
    done = run_script(RECEIVE)
    assert done.returncode == 2
    assert "usage:" in done.stderr and "required: severity" in done.stderr

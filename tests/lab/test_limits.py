"""lab.time_limit stops code that runs too long with a sentence, and leaves quick code alone."""

import threading
import time

import pytest

from grader import lab


def test_code_that_runs_too_long_is_stopped_with_the_sentence():
    started = time.monotonic()
    with pytest.raises(lab.CheckFailed, match="fib\\(90\\) took too long"):
        with lab.time_limit(0.2, "fib(90) took too long"):
            while True:
                pass
    assert time.monotonic() - started < 2


def test_blocking_calls_are_interrupted_too():
    with pytest.raises(lab.CheckFailed, match="waited too long"):
        with lab.time_limit(0.2, "waited too long"):
            threading.Event().wait(5)


def test_quick_code_runs_and_the_alarm_is_cleared():
    with lab.time_limit(0.2, "never"):
        result = sum(range(10))
    assert result == 45
    time.sleep(0.3)  # an alarm left armed would fire here


def test_outside_the_main_thread_the_block_runs_without_a_limit():
    results = []

    def worker():
        with lab.time_limit(0.01, "never"):
            time.sleep(0.05)
        results.append("done")

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(5)
    assert results == ["done"]

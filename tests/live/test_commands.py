"""The live commands as an instructor runs them: workshop grade, deal, demo and serve."""

import os
import signal
import socket
import subprocess
import sys
import time

import pika
import pytest
import requests

from grader.live.standings import leaderboard
from grader.live.store import Store
from tests.live.fixtures import WORKSHOP, wait_for_consumers
from tests.net import free_port, wait_for_http


def workshop(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "grader", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def test_workshop_grade_grades_and_stops_cleanly_on_sigterm(vhost, student, tmp_path):
    store = f"sqlite:///{tmp_path / 'scores.sqlite'}"
    grader = workshop("grade", "--store", store)
    try:
        wait_for_consumers(vhost.url, "name")
        assert student.register()["points"] == 1
    finally:
        grader.send_signal(signal.SIGTERM)
        output, _ = grader.communicate(timeout=30)
    assert grader.returncode == 0, output
    assert "grader stopped after 1 messages" in output


def test_workshop_deal_deals_to_every_registered_student(vhost, make_student, tmp_path):
    store_url = f"sqlite:///{tmp_path / 'scores.sqlite'}"
    store = Store(store_url, WORKSHOP)
    with store.transaction() as tx:
        tx.register("ada-lovelace", "Ada Lovelace", time.time())
        tx.register("bob", "Bob", time.time())
    dealt = workshop("deal", "--count", "2", "--store", store_url)
    output, _ = dealt.communicate(timeout=60)
    assert dealt.returncode == 0, output
    assert "dealt 4 tasks to 2 students" in output
    assert len(make_student("Ada Lovelace").tasks(2)) == 2 and len(make_student("Bob").tasks(2)) == 2


@pytest.mark.slow
def test_workshop_demo_fills_a_leaderboard_of_its_own_and_never_touches_the_real_workshop(vhost, tmp_path):
    store_url = f"sqlite:///{tmp_path / 'scores.sqlite'}"
    port, demo_port = free_port(), free_port()
    serve = workshop("serve", "--store", store_url, "--port", str(port), start_new_session=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/api/leaderboard", timeout=30, process=serve)
        demo = workshop("demo", "--students", "4", "--duration", "10", "--seed", "3", "--port", str(demo_port))
        seen, deadline = [], time.monotonic() + 30
        while not (len(seen) == 4 and sum(row["fibonacci"] for row in seen) > 0):
            assert time.monotonic() < deadline, f"the demo class did not show up on the demo's leaderboard: {seen}"
            assert demo.poll() is None, demo.communicate()[0]
            try:
                seen = requests.get(f"http://127.0.0.1:{demo_port}/api/leaderboard", timeout=5).json()
            except requests.ConnectionError:
                pass  # not listening yet
            time.sleep(0.2)
        output, _ = demo.communicate(timeout=60)
        assert demo.returncode == 0, output
        assert "4 register" in output and "no real workshop is touched" in output
        assert requests.get(f"http://127.0.0.1:{port}/api/leaderboard", timeout=5).json() == []
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        served, _ = serve.communicate(timeout=30)
    assert serve.returncode == 0, served
    assert leaderboard(Store(store_url, WORKSHOP)) == []  # the real workshop's store: untouched
    assert not [v for v in vhost.api.get("vhosts") if v["name"].startswith(f"{WORKSHOP}-demo-")]  # cleaned up
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    assert connection.channel().queue_declare("name", passive=True).method.message_count == 0
    connection.close()


def test_workshop_serve_without_a_broker_says_so_in_one_line(tmp_path):
    serve = workshop("serve", "--url", f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F", "--store",
                     f"sqlite:///{tmp_path / 's.sqlite'}", "--port", str(free_port()))
    output, _ = serve.communicate(timeout=60)
    assert serve.returncode == 1
    assert output.strip().splitlines() == [output.strip()] and "Cannot reach RabbitMQ" in output


def test_a_store_that_cannot_be_opened_is_one_line_not_a_traceback(vhost):
    grader = workshop("grade", "--store", "postgresql://nobody@127.0.0.1:1/scores")
    output, _ = grader.communicate(timeout=60)
    assert grader.returncode == 1
    assert output.strip().startswith("error: cannot open the score store") and "Traceback" not in output
    assert len(output.strip().splitlines()) == 1


def test_a_leaderboard_port_in_use_is_one_line_not_a_traceback(vhost, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        serve = workshop("serve", "--store", f"sqlite:///{tmp_path / 's.sqlite'}", "--port", str(port))
        output, _ = serve.communicate(timeout=60)
    assert serve.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in output and "--port" in output
    assert "Traceback" not in output

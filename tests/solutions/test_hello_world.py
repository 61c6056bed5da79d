"""solutions/01-hello-world: send.py then receive.py delivers the message."""


from grader import paths
from tests.solutions.background import run_script

FOLDER = paths.SOLUTIONS / "01-hello-world"


def run(script, *args, timeout=30):
    return run_script(FOLDER / script, *args, timeout=timeout)


def test_send_then_receive_delivers_the_message(vhost):
    sent = run("send.py", "Hello from the test!")
    assert sent.returncode == 0, sent.stderr
    assert "Sent 'Hello from the test!'" in sent.stdout

    received = run("receive.py", "--count", "1", "--timeout", "10")
    assert received.returncode == 0, received.stderr
    assert "Received 'Hello from the test!'" in received.stdout


def test_receive_stops_after_its_timeout_when_nothing_comes(vhost):
    received = run("receive.py", "--timeout", "1")
    assert received.returncode == 0, received.stderr
    assert "Received" not in received.stdout


def test_receive_stops_cleanly_on_ctrl_c(vhost):
    from tests.solutions.background import Background

    with Background(FOLDER / "receive.py") as receiver:
        receiver.wait_for("Waiting for messages")
        assert receiver.interrupt() == 0
        assert any("Bye" in line for line in receiver.lines)

"""solutions/06-rpc: the client gets fib(n) from the server, keeps only its own reply, and gives up in time."""

import importlib.util
import threading
import time

import pika
import pytest

from grader import paths
from tests.solutions.background import Background, run_script

FOLDER = paths.SOLUTIONS / "06-rpc"
SERVER = FOLDER / "rpc_server.py"


def client(*args, timeout=30):
    return run_script(FOLDER / "rpc_client.py", *args, timeout=timeout)


def load(script):
    spec = importlib.util.spec_from_file_location(script.stem, script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(vhost):
    with Background(SERVER, "--timeout", "30") as running:
        running.wait_for("Awaiting RPC requests")
        yield running


def test_the_client_gets_fib_30_from_the_server(server):
    asked = client("30")
    assert asked.returncode == 0, asked.stderr
    assert " [.] Got 832040" in asked.stdout
    server.wait_for("fib(30)")


def test_the_server_answers_large_n_at_once_and_survives_a_bad_request(vhost, server):
    assert client("abc", timeout=30).returncode == 2  # argparse refuses it before sending
    with pika.BlockingConnection(pika.URLParameters(vhost.url)) as connection:
        channel = connection.channel()
        channel.basic_publish("", "rpc_queue", b"not a number")
    server.wait_for("Refused b'not a number'")
    started = time.monotonic()
    asked = client("1000", "--timeout", "5")
    assert asked.returncode == 0 and asked.stdout.rstrip().endswith("228875")  # fib(1000) has 209 digits
    assert time.monotonic() - started < 5


def test_the_server_copies_the_correlation_id_and_replies_to_reply_to(vhost, server):
    with pika.BlockingConnection(pika.URLParameters(vhost.url)) as connection:
        channel = connection.channel()
        replies = channel.queue_declare(queue="", exclusive=True).method.queue
        for n, correlation_id in [(10, "first"), (20, "second")]:
            channel.basic_publish("", "rpc_queue", str(n).encode(),
                                  pika.BasicProperties(reply_to=replies, correlation_id=correlation_id))
        got = {}
        for method, properties, body in channel.consume(replies, auto_ack=True, inactivity_timeout=10):
            assert method is not None, f"waited 10 s for two replies, got {got}"
            got[properties.correlation_id] = body
            if len(got) == 2:
                break
        channel.cancel()
    assert got == {"first": b"55", "second": b"6765"}


def test_the_client_times_out_cleanly_without_a_server(vhost):
    started = time.monotonic()
    asked = client("30", "--timeout", "1")
    assert asked.returncode == 1
    assert "No answer within 1 s: is rpc_server.py running?" in asked.stderr
    assert 1 <= time.monotonic() - started < 10
    # The unanswered request expires instead of waiting for a server that computes it for nobody.
    with pika.BlockingConnection(pika.URLParameters(vhost.url)) as connection:
        channel = connection.channel()
        deadline = time.monotonic() + 10
        while channel.queue_declare("rpc_queue", durable=True).method.message_count:
            assert time.monotonic() < deadline, "waited 10 s for the unanswered request to expire"
            connection.sleep(0.1)


def test_the_client_ignores_a_reply_with_a_foreign_correlation_id(vhost):
    """A fake server answers twice: first with another call's id (and a wrong number), then rightly."""
    rpc = load(FOLDER / "rpc_client.py")
    fib_client = rpc.FibonacciRpcClient(vhost.url)
    with pika.BlockingConnection(pika.URLParameters(vhost.url)) as connection:
        channel = connection.channel()
        channel.queue_declare("rpc_queue", durable=True)
        answered = threading.Event()

        def fake_server():
            with pika.BlockingConnection(pika.URLParameters(vhost.url)) as own:
                ch = own.channel()
                for method, properties, body in ch.consume("rpc_queue", inactivity_timeout=10):
                    assert method is not None
                    for correlation_id, answer in [("someone-else", b"-1"), (properties.correlation_id, b"55")]:
                        ch.basic_publish("", properties.reply_to, answer,
                                         pika.BasicProperties(correlation_id=correlation_id))
                    ch.basic_ack(method.delivery_tag)
                    answered.set()
                    break
                ch.cancel()

        thread = threading.Thread(target=fake_server)
        thread.start()
        try:
            assert fib_client.call(10, timeout=10) == 55
        finally:
            thread.join(15)
            fib_client.close()
    assert answered.is_set()


def test_the_server_stops_cleanly_on_ctrl_c(server):
    assert server.interrupt() == 0
    assert " [*] Bye" in server.lines

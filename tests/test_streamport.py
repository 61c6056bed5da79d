"""grader.streamport: a port is asked in the stream protocol itself whether it is the stream
plugin's, since a listener's being there says nothing about what it speaks."""

import os
import socket
import threading
from urllib.parse import urlsplit

from grader.streamport import stream_problem
from tests.net import free_port

HOST = "127.0.0.1"


def test_the_stream_plugins_port_answers_in_the_stream_protocol(broker):
    assert stream_problem(broker.address.host, int(os.environ.get("RABBITMQ_STREAM_PORT") or 5552)) is None


def test_the_amqp_port_is_named_for_what_it_is(broker):
    host, port = broker.address.host, broker.address.port
    problem = stream_problem(host, port)
    assert str(problem) == f"{host}:{port} is an AMQP port, not the stream plugin's" and problem.other_protocol


def test_the_management_port_is_not_taken_for_a_stream_port(broker):
    where = urlsplit(broker.management_url)
    problem = stream_problem(where.hostname, where.port, timeout=1)
    assert problem is not None and f"{where.hostname}:{where.port}" in str(problem) and problem.other_protocol


def test_a_port_where_nothing_listens_says_so():
    port = free_port()
    problem = stream_problem(HOST, port)
    assert str(problem).startswith(f"nothing answers at {HOST}:{port}") and not problem.other_protocol


def test_a_listener_that_hangs_up_or_says_something_else_is_not_a_stream_port():
    for says, told, other in ((b"", "closed the connection", False),
                              (b"SSH-2.0-OpenSSH_9.2\r\n", "answers, but not in the stream", True)):
        with socket.create_server((HOST, 0)) as server:
            def answer_once():
                conn, _ = server.accept()
                with conn:
                    conn.recv(64)
                    conn.sendall(says)
            threading.Thread(target=answer_once, daemon=True).start()
            problem = stream_problem(HOST, server.getsockname()[1])
            assert told in str(problem) and problem.other_protocol is other


def test_an_ipv6_address_is_written_with_brackets():
    port = free_port()
    assert str(stream_problem("::1", port)).startswith(f"nothing answers at [::1]:{port}")

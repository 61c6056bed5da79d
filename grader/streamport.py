"""Does a port speak RabbitMQ's stream protocol? Asked with the protocol's first request.

A TCP connection that opens says only that something listens. The stream plugin answers a
PeerProperties request (key 0x0011) with its response (key 0x8011); an AMQP port answers with
its protocol header ("AMQP..."); the management API answers nothing to bytes that are not HTTP.
Credentials are not needed: the request comes before authentication.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

PEER_PROPERTIES, RESPONSE = 0x0011, 0x8000
_REQUEST = struct.pack(">HHIi", PEER_PROPERTIES, 1, 1, 0)  # key, version, correlation id, no properties
REQUEST = struct.pack(">I", len(_REQUEST)) + _REQUEST


@dataclass(frozen=True)
class Problem:
    """Why a port is not a stream listener that answers from here."""

    text: str
    other_protocol: bool  # something else listens there: the port is wrong, not the plugin or the network

    def __str__(self) -> str:
        return self.text


def stream_problem(host: str, port: int, *, timeout: float = 3.0) -> Problem | None:
    """None if `host`:`port` answers as a stream listener; otherwise what is there."""
    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        conn = socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        return Problem(f"no answer from {where} within {timeout:g} s (a firewall, or a host that is not reachable)",
                       False)
    except OSError as exc:
        return Problem(f"nothing answers at {where} ({exc.strerror or exc})", False)
    try:
        with conn:
            conn.sendall(REQUEST)
            answer = _read(conn, 6)
    except socket.timeout:
        return Problem(f"something listens at {where} but says nothing to the stream protocol (an HTTP port?)", True)
    except OSError as exc:
        return Problem(f"something at {where} broke the connection without answering the stream protocol "
                       f"({exc.strerror or exc})", False)
    if len(answer) == 6 and struct.unpack(">H", answer[4:6])[0] == PEER_PROPERTIES | RESPONSE:
        return None
    if answer.startswith(b"AMQP"):
        return Problem(f"{where} is an AMQP port, not the stream plugin's", True)
    if not answer:
        return Problem(f"something at {where} closed the connection without answering the stream protocol", False)
    return Problem(f"something at {where} answers, but not in the stream protocol", True)


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data

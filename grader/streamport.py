"""Does a port speak RabbitMQ's stream protocol? Asked with the protocol's first request.

A TCP connection that opens says only that something listens. The stream plugin answers a
PeerProperties request (key 0x0011) with its response (key 0x8011); an AMQP port answers with
its protocol header ("AMQP..."); the management API answers nothing to bytes that are not HTTP.
Credentials are not needed: the request comes before authentication.
"""

from __future__ import annotations

import socket
import struct

PEER_PROPERTIES, RESPONSE = 0x0011, 0x8000
_REQUEST = struct.pack(">HHIi", PEER_PROPERTIES, 1, 1, 0)  # key, version, correlation id, no properties
REQUEST = struct.pack(">I", len(_REQUEST)) + _REQUEST


def stream_problem(host: str, port: int, *, timeout: float = 3.0) -> str | None:
    """None if `host`:`port` answers as a stream listener; otherwise what answers there, in words."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as conn:
            conn.sendall(REQUEST)
            answer = _read(conn, 6)
    except socket.timeout:
        return f"something listens at {host}:{port} but says nothing to the stream protocol (an HTTP port?)"
    except OSError as exc:
        return f"nothing answers at {host}:{port} ({exc.strerror or exc})"
    if len(answer) == 6 and struct.unpack(">H", answer[4:6])[0] == PEER_PROPERTIES | RESPONSE:
        return None
    if answer.startswith(b"AMQP"):
        return f"{host}:{port} is an AMQP port, not the stream plugin's"
    if not answer:
        return f"something at {host}:{port} closed the connection without answering the stream protocol"
    return f"something at {host}:{port} answers, but not in the stream protocol"


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data

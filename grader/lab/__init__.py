"""What the course notebooks import: `from grader import lab`.

- `lab.broker_url()`: the AMQP URL to use (RABBITMQ_URL, else amqp://guest:guest@localhost:5672/%2F)
- `lab.reset(queues=..., exchanges=...)`: delete what a lesson declares, so a re-run starts clean
- `lab.show_topology()`: a picture of the exchanges, bindings and queues on the broker
- `lab.expect_*`, `lab.queue_state`, `lab.peek`: the checks behind each exercise's feedback
- `lab.take(connection, queue, wanted)`: take chosen messages out of a queue, exclusive ones too
- `lab.routes(binding_keys, routing_keys)`: which keys the broker itself routes to which bindings
- `lab.time_limit(seconds, sentence)`: stop the student's code that runs too long, with a sentence
- `lab.expect_connected(connection)`: the student's connection is open, to the course's broker and vhost
- `lab.trace`: what the student's code asked of its pika channels, in order (`lab.trace.start()`
  in a setup cell), and the checks about the order of effects: ack after the work, after the reply,
  after the commit
- `lab.streams`: lesson 13's stream settings (`stream_options()`) and checks that read a stream
- `lab.explain(error)`: a sentence for a pika error; importing `lab` makes Jupyter show pika's
  errors that way
"""

from grader.lab import streams, trace
from grader.lab.checks import (
    CheckFailed,
    QueueState,
    bindings_of,
    expect,
    expect_binding,
    expect_exchange,
    expect_messages,
    expect_queue,
    expect_state,
    ok,
    queue_definition,
    queue_policy,
    queue_state,
    settled_state,
    state_on,
    wait_until,
)
from grader.lab.connection import (
    broker_url,
    channel,
    expect_connected,
    live_url,
    live_user,
    management,
    settings,
    vhost,
)
from grader.lab.errors import explain, install
from grader.lab.limits import time_limit
from grader.lab.reading import Peeked, peek, peek_on, take
from grader.lab.reset import reset
from grader.lab.routing import routes
from grader.lab.topology import render_svg, show_topology, snapshot

__all__ = [
    "CheckFailed",
    "Peeked",
    "QueueState",
    "bindings_of",
    "broker_url",
    "live_url",
    "live_user",
    "channel",
    "expect",
    "expect_binding",
    "expect_connected",
    "expect_exchange",
    "expect_messages",
    "expect_queue",
    "expect_state",
    "explain",
    "management",
    "ok",
    "peek",
    "peek_on",
    "queue_definition",
    "queue_policy",
    "queue_state",
    "render_svg",
    "reset",
    "routes",
    "settings",
    "settled_state",
    "show_topology",
    "snapshot",
    "state_on",
    "streams",
    "take",
    "time_limit",
    "trace",
    "vhost",
    "wait_until",
]

install()

"""Reading what arrived, pure: property bytes pika cannot decode, properties of any type, and a
digest that names a message across redeliveries. No broker: the bytes are built here."""

import pika
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.live import wire
from grader.live.envelope import digest, from_pika
from tests.live.rawframes import UNDECODABLE, properties, table

wire.install()

short = st.one_of(st.binary(max_size=60), st.text(max_size=30))
field_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**31, 2**31 - 1), st.binary(max_size=20),
              st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12)


class Deliver:
    def __init__(self, redelivered=False):
        self.delivery_tag, self.redelivered, self.consumer_tag = 7, redelivered, "c"


def decode(raw: bytes) -> pika.BasicProperties:
    return pika.spec.BasicProperties().decode(raw)


@settings(max_examples=300, derandomize=True, database=None)
@given(content_type=short, correlation_id=short, reply_to=short, message_id=short,
       timestamp=st.integers(0, 2**64 - 1), bad=st.sampled_from(sorted(UNDECODABLE)))
def test_properties_with_a_table_pika_cannot_read_keep_everything_else(content_type, correlation_id, reply_to,
                                                                      message_id, timestamp, bad):
    raw = properties(content_type=content_type, headers=table({"bad": UNDECODABLE[bad]}),
                     correlation_id=correlation_id, reply_to=reply_to, message_id=message_id, timestamp=timestamp)
    got = decode(raw)
    assert got.headers is None and wire.unreadable(got).startswith("the headers")
    expected = decode(properties(content_type=content_type, correlation_id=correlation_id, reply_to=reply_to,
                                 message_id=message_id, timestamp=timestamp))
    for name in ("content_type", "correlation_id", "reply_to", "message_id", "timestamp"):
        assert getattr(got, name) == getattr(expected, name), name


@settings(max_examples=300, derandomize=True, database=None)
@given(st.binary(max_size=200))
def test_any_bytes_as_properties_never_raise(raw):
    decode(b"\xff\xfe" + raw)  # every flag set: the decoder reads whatever follows


@settings(max_examples=300, derandomize=True, database=None)
@given(reply_to=st.one_of(st.none(), short, st.integers()), correlation_id=st.one_of(st.none(), short, st.integers()),
       message_id=st.one_of(st.none(), short, st.integers()), headers=st.one_of(st.none(), field_values))
def test_any_property_of_any_type_gives_a_delivery_of_known_types(reply_to, correlation_id, message_id, headers):
    props = pika.BasicProperties()
    props.reply_to, props.correlation_id, props.message_id, props.headers = reply_to, correlation_id, message_id, headers
    delivery = from_pika("summercamp.results", Deliver(), props, b"{}")
    assert delivery.reply_to is None or (isinstance(delivery.reply_to, str) and delivery.reply_to)
    assert delivery.message_id is None or isinstance(delivery.message_id, str)
    assert delivery.correlation_id is None or isinstance(delivery.correlation_id, (str, bytes))
    assert isinstance(delivery.key, str) and len(delivery.key) == 64


@settings(max_examples=200, derandomize=True, database=None)
@given(headers=st.dictionaries(st.text(max_size=8), field_values, max_size=5), count=st.integers(1, 20))
def test_the_digest_is_the_same_when_the_broker_redelivers_and_differs_with_the_content(headers, count):
    first = pika.BasicProperties(correlation_id="c", headers=dict(headers) or None)
    again = pika.BasicProperties(correlation_id="c", headers={**headers, "x-delivery-count": count,
                                                              "x-acquired-count": count})
    assert digest("q", b"body", first) == digest("q", b"body", again)
    assert digest("q", b"body", first) != digest("q", b"other body", first)
    assert digest("q", b"body", first) != digest("name", b"body", first)
    other = pika.BasicProperties(correlation_id="d", headers=dict(headers) or None)
    assert digest("q", b"body", first) != digest("q", b"body", other)

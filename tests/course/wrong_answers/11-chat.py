"""Plausible mistakes in lesson 11 (the chat), and the checks that must catch them.

Most are the course's own solution cell with one mistake edited in. Not among them: binding the
headers exchange with `x-match: all`. With the single header of the room's convention (your id),
`all` and `any` route exactly alike, multi-recipient messages included; the lesson says so.
"""

from functools import partial

from tests.course import autograding
from tests.course.autograding import WrongAnswer

mistake = partial(autograding.mistake, "11-chat")

ACK_LINE = "            channel.basic_ack(method.delivery_tag)\n"
AUTO_ACK = mistake("read-inbox", "channel.consume(INBOX, inactivity_timeout=0.1)",
                   "channel.consume(INBOX, auto_ack=True, inactivity_timeout=0.1)")
assert ACK_LINE in AUTO_ACK["read-inbox"]
AUTO_ACK["read-inbox"] = AUTO_ACK["read-inbox"].replace(ACK_LINE, "")  # acking an auto-acked message is an error

SILENCE_AS_DEADLINE = '''
def read_inbox(max_messages=10, timeout=2.0):
    # The timeout given to consume() as inactivity_timeout: it limits silence, not the whole read.
    messages = []
    for method, properties, body in channel.consume(INBOX, inactivity_timeout=timeout):
        if method is None:
            break
        try:
            said = json.loads(body)
            sender, text = said["from"], said["text"]
        except (ValueError, KeyError, TypeError):
            sender, text = "?", body.decode(errors="replace")
        messages.append({"from": sender, "text": text, "exchange": method.exchange})
        channel.basic_ack(method.delivery_tag)
        if len(messages) >= max_messages:
            break
    channel.cancel()
    return messages
'''

WRONG_ANSWERS = [
    WrongAnswer(
        name="binds the direct exchange with the name instead of the id, so messages to the id never arrive",
        cells=mistake("inbox", "exchange=DIRECT, routing_key=MY_ID", "exchange=DIRECT, routing_key=MY_NAME"),
        fails=frozenset({"check-inbox", "check-say-to", "check-read-inbox"}),
    ),
    WrongAnswer(
        name="follows python.* where python.# is needed: python and python.web.django are missed",
        cells=mistake("inbox", 'INTERESTS = ["python.#",', 'INTERESTS = ["python.*",'),
        fails=frozenset({"check-inbox"}),
    ),
    WrongAnswer(
        name="binds the headers exchange with the value True, which never equals the header 'yes'",
        cells=mistake("inbox", 'MY_ID: "yes"}', "MY_ID: True}"),
        fails=frozenset({"check-inbox", "check-say-to-chosen", "check-read-inbox"}),
    ),
    WrongAnswer(
        name="publishes the message for chosen ones to the fanout exchange, so everyone gets it",
        cells=mistake("say-to-chosen", "exchange=CHOSEN,", "exchange=ALL,"),
        fails=frozenset({"check-say-to-chosen"}),
    ),
    WrongAnswer(
        name="read_inbox consumes with auto_ack=True, so messages fetched beyond max_messages are lost",
        cells=AUTO_ACK,
        fails=frozenset({"check-read-inbox"}),
    ),
    WrongAnswer(
        name="read_inbox uses its timeout as inactivity_timeout, so a steady trickle keeps it reading",
        cells={"read-inbox": SILENCE_AS_DEADLINE},
        fails=frozenset({"check-read-inbox"}),
    ),
]

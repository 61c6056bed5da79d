"""Plausible mistakes in lesson 5, and the checks that must catch them."""

from tests.course.autograding import WrongAnswer

REGEX_MATCHES = '''
import re


def topic_matches(binding_key, routing_key):
    # `*` as "one or more characters but no dot", `#` as "anything": the usual first attempt.
    pattern = re.escape(binding_key).replace(r"\\*", r"[^.]+").replace(r"\\#", r".*")
    return re.fullmatch(pattern, routing_key) is not None
'''

SPLIT_MATCHES = '''
def topic_matches(binding_key, routing_key):
    # Right everywhere except that "".split(".") is [""]: one empty word instead of none.
    pattern, words = binding_key.split("."), routing_key.split(".")

    def match(p, w):
        if p == len(pattern):
            return w == len(words)
        if pattern[p] == "#":
            return match(p + 1, w) or (w < len(words) and match(p, w + 1))
        return w < len(words) and pattern[p] in ("*", words[w]) and match(p + 1, w + 1)

    return match(0, 0)
'''

WRONG_ANSWERS = [
    WrongAnswer(
        name="declares topic_logs as a direct exchange, so patterns are compared as plain strings",
        cells={"exchange": 'channel.exchange_declare(exchange="topic_logs", exchange_type="direct")'},
        fails=frozenset({"check-exchange", "check-emit"}),
    ),
    WrongAnswer(
        name="binds with kern.* and *.critical, where # is needed for keys of three words",
        cells={
            "bind": (
                'channel.queue_declare(queue="kern_or_critical", durable=True)\n'
                'channel.queue_bind(queue="kern_or_critical", exchange="topic_logs", routing_key="kern.*")\n'
                'channel.queue_bind(queue="kern_or_critical", exchange="topic_logs", routing_key="*.critical")\n'
            )
        },
        fails=frozenset({"check-bind", "check-emit"}),
    ),
    WrongAnswer(
        name="topic_matches with a regular expression: # does not take its dot, * refuses empty words",
        cells={"matches": REGEX_MATCHES},
        fails=frozenset({"check-matches"}),
    ),
    WrongAnswer(
        name="topic_matches that treats the empty routing key as one empty word",
        cells={"matches": SPLIT_MATCHES},
        fails=frozenset({"check-matches"}),
    ),
]

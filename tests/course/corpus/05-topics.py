"""Lesson 5, topics: a topic exchange, two wildcard bindings, and topic_matches() in plain Python."""

from tests.course.corpus import makers

L = "05-topics"

EXCHANGE = 'channel.exchange_declare(exchange="topic_logs", exchange_type="topic")'
BIND = """
channel.queue_declare(queue="kern_or_critical", durable=True)
for binding_key in ("kern.#", "#.critical"):
    channel.queue_bind(exchange="topic_logs", queue="kern_or_critical", routing_key=binding_key)
"""
EMIT = """
for routing_key, text in LOGS:
    channel.basic_publish(exchange="topic_logs", routing_key=routing_key, body=text)
"""
RECURSIVE = """
from functools import lru_cache


def words(key):
    return key.split(".") if key else []


def topic_matches(binding_key, routing_key):
    pattern, subject = words(binding_key), words(routing_key)

    @lru_cache(maxsize=None)
    def match(i, j):
        if i == len(pattern):
            return j == len(subject)
        if pattern[i] == "#":
            return match(i + 1, j) or (j < len(subject) and match(i, j + 1))
        if j == len(subject):
            return False
        return (pattern[i] == "*" or pattern[i] == subject[j]) and match(i + 1, j + 1)

    return bool(match(0, 0))
"""


correct, wrong = makers(L, exchange=EXCHANGE, bind=BIND, emit=EMIT, matches=RECURSIVE)


CORPUS = [
    correct("recursion on two positions with lru_cache (the hint)"),
    correct(
        "dynamic programming table",
        bind="""
            channel.queue_declare("kern_or_critical", durable=True)
            channel.queue_bind("kern_or_critical", "topic_logs", "kern.#")
            channel.queue_bind("kern_or_critical", "topic_logs", "#.critical")
        """,
        emit="""
            for key, line in LOGS:
                channel.basic_publish("topic_logs", key, line.encode("utf-8"))
        """,
        matches="""
            def topic_matches(binding_key, routing_key):
                b = binding_key.split(".") if binding_key != "" else []
                r = routing_key.split(".") if routing_key != "" else []
                # ok[i][j]: the first i binding words match the first j routing words
                ok = [[False] * (len(r) + 1) for _ in range(len(b) + 1)]
                ok[0][0] = True
                for i in range(1, len(b) + 1):
                    word = b[i - 1]
                    for j in range(len(r) + 1):
                        if word == "#":
                            ok[i][j] = ok[i - 1][j] or (j > 0 and ok[i][j - 1])
                        elif j > 0:
                            ok[i][j] = ok[i - 1][j - 1] and (word == "*" or word == r[j - 1])
                return ok[len(b)][len(r)]
        """,
    ),
    correct(
        "a set of states walked over the routing words",
        matches="""
            def topic_matches(binding_key, routing_key):
                pattern = binding_key.split(".") if binding_key else []
                subject = routing_key.split(".") if routing_key else []

                def closure(states):
                    states = set(states)
                    for state in sorted(states):
                        while state < len(pattern) and pattern[state] == "#":
                            state += 1
                            states.add(state)
                    return states

                states = closure({0})
                for word in subject:
                    following = set()
                    for state in states:
                        if state == len(pattern):
                            continue
                        if pattern[state] == "#":
                            following.add(state)
                        elif pattern[state] in ("*", word):
                            following.add(state + 1)
                    states = closure(following)
                    if not states:
                        return False
                return len(pattern) in states
        """,
    ),
    correct(
        "a regular expression over '.word' pieces",
        matches="""
            import re


            def topic_matches(binding_key, routing_key):
                parts = binding_key.split(".") if binding_key else []
                regex = ""
                for part in parts:
                    if part == "#":
                        regex += r"(?:\\.[^.]*)*"
                    elif part == "*":
                        regex += r"\\.[^.]*"
                    else:
                        regex += re.escape("." + part)
                subject = "".join("." + word for word in (routing_key.split(".") if routing_key else []))
                return re.fullmatch(regex, subject) is not None
        """,
    ),
    correct(
        "plain recursion on lists, one # binding per wish",
        matches="""
            def _match(pattern, words):
                if not pattern:
                    return not words
                head, rest = pattern[0], pattern[1:]
                if head == "#":
                    # skip runs of '#': '#.#' is the same as '#'
                    while rest and rest[0] == "#":
                        rest = rest[1:]
                    return any(_match(rest, words[k:]) for k in range(len(words) + 1))
                if not words:
                    return False
                return (head == "*" or head == words[0]) and _match(rest, words[1:])


            def topic_matches(binding_key, routing_key):
                split = lambda key: key.split(".") if key else []
                return _match(split(binding_key), split(routing_key))
        """,
    ),
    wrong("binds with kern.* and *.critical", {"check-bind", "check-emit"},
          bind=BIND.replace('("kern.#", "#.critical")', '("kern.*", "*.critical")')),
    wrong("binds with # (catches everything)", {"check-bind", "check-emit"},
          bind=BIND.replace('("kern.#", "#.critical")', '("#",)')),
    wrong("queue not durable", {"check-bind"},
          bind=BIND.replace('queue="kern_or_critical", durable=True', 'queue="kern_or_critical"')),
    wrong("topic_logs declared as direct", {"check-exchange", "check-emit"},
          exchange='channel.exchange_declare(exchange="topic_logs", exchange_type="direct")'),
    wrong("emits to the default exchange with the queue name", {"check-emit"},
          emit="""
            for routing_key, text in LOGS:
                channel.basic_publish(exchange="", routing_key="kern_or_critical", body=text)
          """),
    wrong("'#' needs at least one word", {"check-matches"},
          matches=RECURSIVE.replace("return match(i + 1, j) or (j < len(subject) and match(i, j + 1))",
                                    "return j < len(subject) and (match(i + 1, j + 1) or match(i, j + 1))")),
    wrong("str.split on the empty key gives one empty word", {"check-matches"},
          matches=RECURSIVE.replace('return key.split(".") if key else []', 'return key.split(".")')),
    wrong("fnmatch-style regex on the raw strings", {"check-matches"},
          matches="""
            import re


            def topic_matches(binding_key, routing_key):
                regex = re.escape(binding_key).replace(r"\\*", "[^.]+").replace(r"\\#", ".*")
                return re.fullmatch(regex, routing_key) is not None
          """),
    wrong("returns the re.Match object instead of a bool", {"check-matches"},
          matches="""
            import re


            def topic_matches(binding_key, routing_key):
                parts = binding_key.split(".") if binding_key else []
                regex = "".join(r"(?:\\.[^.]*)*" if p == "#" else r"\\.[^.]*" if p == "*" else re.escape("." + p)
                                for p in parts)
                subject = "".join("." + w for w in (routing_key.split(".") if routing_key else []))
                return re.fullmatch(regex, subject)
          """),
    wrong("'*' treated like '#' (any number of words)", {"check-matches"},
          matches=RECURSIVE.replace('if pattern[i] == "#":', 'if pattern[i] in ("#", "*"):')),
]

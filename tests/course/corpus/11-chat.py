"""Lesson 11, the chat: one exclusive inbox bound to fanout, topic, direct and headers exchanges,
four ways to speak, and a bounded read that loses nothing."""

from tests.course.corpus import Submission, makers

L = "11-chat"

NAME = 'MY_NAME = "Ada Lovelace"'
INBOX = """
INTERESTS = ["python.#", "*.rabbitmq"]
INBOX = channel.queue_declare(queue="", exclusive=True).method.queue
channel.queue_bind(queue=INBOX, exchange=ALL, routing_key="")
for pattern in INTERESTS:
    channel.queue_bind(queue=INBOX, exchange=TOPICS, routing_key=pattern)
channel.queue_bind(queue=INBOX, exchange=DIRECT, routing_key=MY_ID)
channel.queue_bind(queue=INBOX, exchange=CHOSEN, arguments={"x-match": "any", MY_ID: "yes"})
"""
JSON = "pika.BasicProperties(content_type='application/json')"
SAY_TO_ALL = f"""
channel.basic_publish(exchange=ALL, routing_key="", body=json.dumps({{"from": MY_NAME, "text": text}}),
                      properties={JSON})
"""
SAY_ABOUT = f"""
channel.basic_publish(exchange=TOPICS, routing_key=topic, body=json.dumps({{"from": MY_NAME, "text": text}}),
                      properties={JSON})
"""
SAY_TO = f"""
channel.basic_publish(exchange=DIRECT, routing_key=student_id, body=json.dumps({{"from": MY_NAME, "text": text}}),
                      properties={JSON})
"""
SAY_TO_CHOSEN = """
headers = {student: "yes" for student in ids}
channel.basic_publish(exchange=CHOSEN, routing_key="", body=json.dumps({"from": MY_NAME, "text": text}),
                      properties=pika.BasicProperties(content_type="application/json", headers=headers))
"""
READ_INBOX = """
deadline = time.monotonic() + timeout
messages = []
try:
    for method, properties, body in channel.consume(INBOX, inactivity_timeout=0.1):
        if method is not None:
            try:
                said = json.loads(body)
                sender, text = said["from"], said["text"]
            except (ValueError, KeyError, TypeError):
                sender, text = "?", body.decode("utf-8", errors="replace")
            messages.append({"from": sender, "text": text, "exchange": method.exchange})
            channel.basic_ack(method.delivery_tag)
            if len(messages) >= max_messages:
                break
        if time.monotonic() >= deadline:
            break
finally:
    channel.cancel()
return messages
"""


correct, wrong = makers(
    L, my_name=NAME, inbox=INBOX, say_to_all=SAY_TO_ALL, say_about=SAY_ABOUT, say_to=SAY_TO,
    say_to_chosen=SAY_TO_CHOSEN, read_inbox=READ_INBOX)


HELPER = """def _say(exchange, routing_key, text, headers=None):
    channel.basic_publish(
        exchange=exchange, routing_key=routing_key,
        body=json.dumps({"from": MY_NAME, "text": text}).encode("utf-8"),
        properties=pika.BasicProperties(content_type="application/json", headers=headers))


"""


def with_helper(submission):
    """The student typed a module-level helper above the given `def say_to_all`."""
    cells = dict(submission.cells)
    cells["say-to-all"] = HELPER + cells["say-to-all"]
    return Submission(submission.name, cells)


CORPUS = [
    correct("straight from the text: the consume() generator with a deadline"),
    correct(
        "a name in another script, a publish helper, basic_get polling",
        my_name='MY_NAME = "李雷"',
        inbox="""
            INTERESTS = ("python.#", "music.#", "*.rabbitmq")
            declared = channel.queue_declare("", exclusive=True)
            INBOX = declared.method.queue
            channel.queue_bind(INBOX, ALL, routing_key="")
            for interest in INTERESTS:
                channel.queue_bind(INBOX, TOPICS, routing_key=interest)
            channel.queue_bind(INBOX, DIRECT, routing_key=MY_ID)
            channel.queue_bind(INBOX, CHOSEN, routing_key="", arguments={"x-match": "any", MY_ID: "yes"})
        """,
        say_to_all="""
            body = json.dumps({"from": MY_NAME, "text": text})
            channel.basic_publish(ALL, "", body, pika.BasicProperties(content_type="application/json"))
        """,
        read_inbox="""
            stop = time.monotonic() + timeout
            result = []
            while len(result) < max_messages and time.monotonic() < stop:
                method, properties, body = channel.basic_get(INBOX, auto_ack=False)
                if method is None:
                    time.sleep(0.05)
                    continue
                try:
                    payload = json.loads(body)
                    entry = {"from": payload.get("from", "?"), "text": payload.get("text", "")}
                except (ValueError, AttributeError):
                    entry = {"from": "?", "text": body.decode(errors="replace")}
                entry["exchange"] = method.exchange
                result.append(entry)
                channel.basic_ack(method.delivery_tag)
            return result
        """,
    ),
    correct(
        "accented name, a channel of its own per read, closed at the end",
        my_name='MY_NAME = "Émilie du Châtelet"',
        say_to_chosen="""
            channel.basic_publish(
                exchange=CHOSEN,
                routing_key="",
                body=json.dumps({"from": MY_NAME, "text": text}),
                properties=pika.BasicProperties(content_type="application/json",
                                                headers=dict.fromkeys(ids, "yes")),
            )
        """,
        read_inbox="""
            reader = connection.channel()
            ends = time.monotonic() + timeout
            out = []
            try:
                for method, properties, body in reader.consume(INBOX, inactivity_timeout=0.1):
                    if time.monotonic() > ends:
                        break
                    if method is None:
                        continue
                    try:
                        data = json.loads(body)
                        out.append({"from": data["from"], "text": data["text"], "exchange": method.exchange})
                    except Exception:
                        out.append({"from": "?", "text": repr(body), "exchange": method.exchange})
                    reader.basic_ack(method.delivery_tag)
                    if len(out) == max_messages:
                        break
            finally:
                reader.close()  # cancels the consumer; unacked messages go back to the inbox
            return out
        """,
    ),
    with_helper(correct(
        "one publish helper for every way to speak, defined above say_to_all",
        my_name='MY_NAME = "Grace Hopper"',
        say_to_all='_say(ALL, "", text)',
        say_about="_say(TOPICS, topic, text)",
        say_to="_say(DIRECT, student_id, text)",
        say_to_chosen='_say(CHOSEN, "", text, headers={i: "yes" for i in ids})',
    )),
    correct(
        "interests without python.#: 'python' and 'python.#' both",
        my_name='MY_NAME = "Alan Turing"',
        inbox="""
            INTERESTS = ["python", "python.#", "*.rabbitmq"]
            INBOX = channel.queue_declare(queue="", exclusive=True).method.queue
            bindings = [(ALL, "", None)] + [(TOPICS, p, None) for p in INTERESTS] + [
                (DIRECT, MY_ID, None), (CHOSEN, "", {"x-match": "any", MY_ID: "yes"})]
            for exchange, key, arguments in bindings:
                channel.queue_bind(queue=INBOX, exchange=exchange, routing_key=key, arguments=arguments)
        """,
        read_inbox="""
            got = []
            started = time.monotonic()
            for method, properties, body in channel.consume(INBOX, auto_ack=False, inactivity_timeout=0.1):
                if method:
                    try:
                        msg = json.loads(body.decode())
                        sender, text = msg["from"], msg["text"]
                    except Exception:
                        sender, text = "?", body.decode(errors="replace")
                    got.append({"from": sender, "text": text, "exchange": method.exchange})
                    channel.basic_ack(delivery_tag=method.delivery_tag)
                if len(got) >= max_messages or time.monotonic() - started >= timeout:
                    break
            channel.cancel()
            return got
        """,
    ),
    wrong("python.* misses python and python.web.django", {"check-inbox"},
          inbox=INBOX.replace('"python.#"', '"python.*"')),
    wrong("an interest of # catches every topic", {"check-inbox"},
          inbox=INBOX.replace('["python.#", "*.rabbitmq"]', '["python.#", "#"]')),
    wrong("direct binding with the name instead of the id", {"check-inbox", "check-say-to"},
          inbox=INBOX.replace("exchange=DIRECT, routing_key=MY_ID", "exchange=DIRECT, routing_key=MY_NAME")),
    wrong("headers binding with True instead of 'yes'", {"check-inbox", "check-say-to-chosen"},
          inbox=INBOX.replace('MY_ID: "yes"', "MY_ID: True")),
    wrong("inbox is a named durable queue", {"check-inbox"},
          inbox=INBOX.replace('channel.queue_declare(queue="", exclusive=True)',
                              'channel.queue_declare(queue="inbox-" + MY_ID, durable=True)')),
    wrong("say_to_all publishes to the topic exchange", {"check-say-to-all"},
          say_to_all=SAY_TO_ALL.replace("exchange=ALL", "exchange=TOPICS")),
    wrong("say_about sends the bare text", {"check-say-about"},
          say_about=SAY_ABOUT.replace('json.dumps({"from": MY_NAME, "text": text})', "text")),
    wrong("say_about without content_type", {"check-say-about"},
          say_about=SAY_ABOUT.replace(f"properties={JSON}", "properties=pika.BasicProperties()")),
    wrong("say_to publishes to everyone", {"check-say-to"}, say_to=SAY_TO.replace("exchange=DIRECT", "exchange=ALL")),
    wrong("say_to_chosen with boolean header values", {"check-say-to-chosen"},
          say_to_chosen=SAY_TO_CHOSEN.replace('{student: "yes" for student in ids}', "{student: True for student in ids}")),
    wrong("read_inbox with auto_ack=True loses what it does not return", {"check-read-inbox"},
          read_inbox=READ_INBOX.replace("channel.consume(INBOX, inactivity_timeout=0.1)",
                                        "channel.consume(INBOX, auto_ack=True, inactivity_timeout=0.1)").replace(
              "            channel.basic_ack(method.delivery_tag)\n", "")),
    wrong("read_inbox waits for silence only, no deadline of its own", {"check-read-inbox"},
          read_inbox="""
            messages = []
            for method, properties, body in channel.consume(INBOX, inactivity_timeout=timeout):
                if method is None:
                    break
                try:
                    said = json.loads(body)
                    sender, text = said["from"], said["text"]
                except (ValueError, KeyError, TypeError):
                    sender, text = "?", body.decode("utf-8", errors="replace")
                messages.append({"from": sender, "text": text, "exchange": method.exchange})
                channel.basic_ack(method.delivery_tag)
                if len(messages) >= max_messages:
                    break
            channel.cancel()
            return messages
          """),
    wrong("read_inbox crashes on a body that is not JSON", {"check-read-inbox"},
          read_inbox=READ_INBOX.replace("""            try:
                said = json.loads(body)
                sender, text = said["from"], said["text"]
            except (ValueError, KeyError, TypeError):
                sender, text = "?", body.decode("utf-8", errors="replace")""", """            said = json.loads(body)
            sender, text = said["from"], said["text"]""")),
]

"""Lesson 9, commands vs events: a durable command queue, a topic exchange with a queue per service,
JSON events, an idempotent handler, ack after the commit, publish after the commit."""

from tests.course.corpus import makers

L = "09-message-vs-event-driven"

COMMAND = """
channel.queue_declare(queue="mailer", durable=True)
command = {"command": "send_email", "to": "ada@example.com", "template": "password_reset"}
channel.basic_publish(
    exchange="",
    routing_key="mailer",
    body=json.dumps(command),
    properties=pika.BasicProperties(content_type="application/json", type="SendEmail",
                                    delivery_mode=pika.DeliveryMode.Persistent),
)
"""
EVENTS = """
channel.exchange_declare(exchange="bank.events", exchange_type="topic", durable=True)
channel.queue_declare(queue="notifications", durable=True)
channel.queue_bind(queue="notifications", exchange="bank.events", routing_key="user.*")
channel.queue_declare(queue="transactions", durable=True)
channel.queue_bind(queue="transactions", exchange="bank.events", routing_key="user.deposited")
"""
PUBLISH_EVENT = """
def publish_event(channel, routing_key, event):
    channel.basic_publish(
        exchange="bank.events",
        routing_key=routing_key,
        body=json.dumps(event),
        properties=pika.BasicProperties(
            content_type="application/json",
            message_id=event["event_id"],
            type=event["name"],
            delivery_mode=pika.DeliveryMode.Persistent,
        ),
    )


publish_event(channel, "user.deposited", deposit_event)
"""
IDEMPOTENT = """
def record_deposit(db, event):
    with db:
        cursor = db.execute("INSERT OR IGNORE INTO handled_events (event_id) VALUES (?)", (event["event_id"],))
        if cursor.rowcount == 0:
            return False
        db.execute(
            "INSERT INTO transactions (event_id, user_id, kind, amount) VALUES (?, ?, ?, ?)",
            (event["event_id"], event["user_id"], "deposit", event["amount"]),
        )
    return True
"""
SERVICE = """
def run_transactions_service(channel, db, idle_timeout=0.5):
    count = 0
    for method, properties, body in channel.consume("transactions", inactivity_timeout=idle_timeout):
        if method is None:
            break
        event = json.loads(body)
        record_deposit(db, event)
        channel.basic_ack(method.delivery_tag)
        count += 1
    channel.cancel()
    return count


handled = run_transactions_service(channel, transactions_db)
"""
DEPOSIT = """
def deposit(db, channel, user_id, amount):
    with db:
        cursor = db.execute("INSERT INTO deposits (user_id, amount) VALUES (?, ?)", (user_id, amount))
        db.execute("UPDATE accounts SET balance = balance + ? WHERE user_id = ?", (amount, user_id))
        deposit_id = cursor.lastrowid
    event = new_event("UserDeposited", user_id=user_id, amount=amount, deposit_id=deposit_id)
    publish_event(channel, "user.deposited", event)
    return event


last_event = deposit(bank, channel, 42, 50)
"""


correct, wrong = makers(
    L, command=COMMAND, events=EVENTS, publish_event=PUBLISH_EVENT, idempotent=IDEMPOTENT, service=SERVICE,
    deposit=DEPOSIT)


CORPUS = [
    correct("straight from the text"),
    correct(
        "positional pika calls, a SELECT before the insert, an explicit commit",
        command="""
            channel.queue_declare("mailer", durable=True)
            props = pika.BasicProperties(content_type="application/json", type="SendEmail", delivery_mode=2)
            channel.basic_publish("", "mailer",
                                  json.dumps({"command": "send_email", "to": "ada@example.com",
                                              "template": "password_reset"}).encode(), props)
        """,
        events="""
            channel.exchange_declare("bank.events", "topic", durable=True)
            for queue, key in (("notifications", "user.*"), ("transactions", "user.deposited")):
                channel.queue_declare(queue, durable=True)
                channel.queue_bind(queue, "bank.events", key)
        """,
        idempotent="""
            def record_deposit(db, event):
                with db:
                    seen = db.execute("SELECT 1 FROM handled_events WHERE event_id = ?",
                                      (event["event_id"],)).fetchone()
                    if seen:
                        return False
                    db.execute("INSERT INTO handled_events (event_id) VALUES (?)", (event["event_id"],))
                    db.execute("INSERT INTO transactions (event_id, user_id, kind, amount) VALUES (?, ?, 'deposit', ?)",
                               (event["event_id"], event["user_id"], event["amount"]))
                return True
        """,
        deposit="""
            def deposit(db, channel, user_id, amount):
                try:
                    cursor = db.execute("INSERT INTO deposits (user_id, amount) VALUES (?, ?)", (user_id, amount))
                    db.execute("UPDATE accounts SET balance = balance + ? WHERE user_id = ?", (amount, user_id))
                    db.commit()
                except Exception:
                    db.rollback()
                    raise
                event = new_event("UserDeposited", user_id=user_id, amount=amount, deposit_id=cursor.lastrowid)
                publish_event(channel, "user.deposited", event)
                return event

            last_event = deposit(bank, channel, 42, 50)
        """,
    ),
    correct(
        "properties built in a helper, basic_get service loop",
        publish_event="""
            def event_properties(event):
                return pika.BasicProperties(content_type="application/json", message_id=event["event_id"],
                                            type=event["name"], delivery_mode=2)

            def publish_event(channel, routing_key, event):
                channel.basic_publish("bank.events", routing_key, json.dumps(event), event_properties(event))

            publish_event(channel, "user.deposited", deposit_event)
        """,
        service="""
            import time

            def run_transactions_service(channel, db, idle_timeout=0.5):
                handled_count = 0
                last_seen = time.monotonic()
                for method, properties, body in channel.consume("transactions", inactivity_timeout=idle_timeout):
                    if method is None:
                        break
                    record_deposit(db, json.loads(body.decode("utf-8")))
                    channel.basic_ack(delivery_tag=method.delivery_tag)
                    handled_count += 1
                channel.cancel()
                return handled_count

            handled = run_transactions_service(channel, transactions_db, idle_timeout=0.5)
        """,
    ),
    correct(
        "rowcount check without an early return inside the block",
        idempotent="""
            def record_deposit(db, event):
                with db:
                    new = db.execute("INSERT OR IGNORE INTO handled_events (event_id) VALUES (?)",
                                     (event["event_id"],)).rowcount == 1
                    if new:
                        db.execute("INSERT INTO transactions (event_id, user_id, kind, amount) VALUES (?, ?, ?, ?)",
                                   (event["event_id"], event["user_id"], "deposit", event["amount"]))
                return new
        """,
        service="""
            def run_transactions_service(channel, db, idle_timeout=0.5):
                messages = 0
                try:
                    for method, _properties, body in channel.consume(queue="transactions",
                                                                      inactivity_timeout=idle_timeout):
                        if method is None:
                            break
                        if record_deposit(db, json.loads(body)):
                            print("recorded", method.delivery_tag)
                        channel.basic_ack(delivery_tag=method.delivery_tag)
                        messages += 1
                finally:
                    channel.cancel()
                return messages

            handled = run_transactions_service(channel, transactions_db)
        """,
    ),
    correct(
        "deposit id read back with SELECT last_insert_rowid()",
        deposit="""
            def deposit(db, channel, user_id, amount):
                with db:
                    db.execute("INSERT INTO deposits (user_id, amount) VALUES (?, ?)", (user_id, amount))
                    (deposit_id,) = db.execute("SELECT last_insert_rowid()").fetchone()
                    db.execute("UPDATE accounts SET balance = balance + ? WHERE user_id = ?", (amount, user_id))
                announced = new_event("UserDeposited", user_id=user_id, amount=amount, deposit_id=deposit_id)
                publish_event(channel, "user.deposited", announced)
                return announced

            last_event = deposit(bank, channel, user_id=42, amount=50)
        """,
    ),
    correct(
        "records every event, then acks them all at once with multiple=True when the queue is idle",
        service="""
            def run_transactions_service(channel, db, idle_timeout=0.5):
                count, last_tag = 0, None
                for method, properties, body in channel.consume("transactions", inactivity_timeout=idle_timeout):
                    if method is None:
                        break
                    record_deposit(db, json.loads(body))
                    count, last_tag = count + 1, method.delivery_tag
                if last_tag is not None:
                    channel.basic_ack(delivery_tag=last_tag, multiple=True)
                channel.cancel()
                return count

            handled = run_transactions_service(channel, transactions_db)
        """,
    ),
    wrong("mailer not durable", {"check-command"}, command=COMMAND.replace('queue="mailer", durable=True', 'queue="mailer"')),
    wrong("no type property on the command", {"check-command"}, command=COMMAND.replace('type="SendEmail",\n', "\n")),
    wrong("one queue shared by both services", {"check-events", "check-publish-event"},
          events="""
            channel.exchange_declare(exchange="bank.events", exchange_type="topic", durable=True)
            channel.queue_declare(queue="notifications", durable=True)
            channel.queue_bind(queue="notifications", exchange="bank.events", routing_key="user.*")
          """),
    wrong("bank.events declared as fanout", {"check-events"},
          events=EVENTS.replace('exchange_type="topic"', 'exchange_type="fanout"')),
    wrong("notifications bound with user.#", {"check-events"}, events=EVENTS.replace('"user.*"', '"user.#"')),
    wrong("events pickled", {"check-publish-event"}, publish_event=PUBLISH_EVENT.replace("json.dumps(event)", "pickle.dumps(event)")),
    wrong("no message_id", {"check-publish-event"},
          publish_event=PUBLISH_EVENT.replace('            message_id=event["event_id"],\n', "")),
    wrong("records every delivery, no duplicate check", {"check-idempotent"},
          idempotent=IDEMPOTENT.replace("        if cursor.rowcount == 0:\n            return False\n", "")),
    wrong("returns the rowcount, not True/False", {"check-idempotent"},
          idempotent=IDEMPOTENT.replace("            return False", "            return 0").replace(
              "    return True", "    return 1")),
    wrong("handled id and transaction in two separate transactions", {"check-idempotent"},
          idempotent="""
            def record_deposit(db, event):
                with db:
                    cursor = db.execute("INSERT OR IGNORE INTO handled_events (event_id) VALUES (?)",
                                        (event["event_id"],))
                if cursor.rowcount == 0:
                    return False
                with db:
                    db.execute("INSERT INTO transactions (event_id, user_id, kind, amount) VALUES (?, ?, ?, ?)",
                               (event["event_id"], event["user_id"], "deposit", event["amount"]))
                return True
          """),
    wrong("acks before recording", {"check-service"},
          service=SERVICE.replace("""        event = json.loads(body)
        record_deposit(db, event)
        channel.basic_ack(method.delivery_tag)""", """        channel.basic_ack(method.delivery_tag)
        event = json.loads(body)
        record_deposit(db, event)""")),
    wrong("the service never acks", {"check-service"},
          service=SERVICE.replace("        channel.basic_ack(method.delivery_tag)\n", "")),
    wrong("the service returns nothing", {"check-service"}, service=SERVICE.replace("    return count\n", "")),
    wrong("publishes inside the transaction", {"check-deposit"},
          deposit=DEPOSIT.replace("""        deposit_id = cursor.lastrowid
    event = new_event("UserDeposited", user_id=user_id, amount=amount, deposit_id=deposit_id)
    publish_event(channel, "user.deposited", event)""", """        deposit_id = cursor.lastrowid
        event = new_event("UserDeposited", user_id=user_id, amount=amount, deposit_id=deposit_id)
        publish_event(channel, "user.deposited", event)""")),
    wrong("swallows the failed commit", {"check-deposit"},
          deposit=DEPOSIT.replace("""    with db:
        cursor""", """    try:
        with db:
            cursor""").replace("""        db.execute("UPDATE accounts""", """            db.execute("UPDATE accounts""").replace(
              """        deposit_id = cursor.lastrowid
""", """            deposit_id = cursor.lastrowid
    except sqlite3.IntegrityError:
        return None
""")),
]

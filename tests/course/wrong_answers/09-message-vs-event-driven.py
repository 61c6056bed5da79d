"""Plausible mistakes in lesson 9 (message-driven vs event-driven), and the checks that must catch them."""

from tests.course.autograding import WrongAnswer

WRONG_ANSWERS = [
    WrongAnswer(
        name="one queue shared by both services, so each event reaches only one of them",
        cells={
            "events": (
                'channel.exchange_declare(exchange="bank.events", exchange_type="topic", durable=True)\n'
                'channel.queue_declare(queue="deposits", durable=True)\n'
                'channel.queue_bind(queue="deposits", exchange="bank.events", routing_key="user.deposited")\n'
            )
        },
        fails=frozenset({"check-events", "check-publish-event"}),
    ),
    WrongAnswer(
        name="publishes the event with pickle instead of JSON",
        cells={
            "publish-event": (
                "def publish_event(channel, routing_key, event):\n"
                '    channel.basic_publish(exchange="bank.events", routing_key=routing_key, body=pickle.dumps(event),\n'
                '                          properties=pika.BasicProperties(message_id=event["event_id"],\n'
                '                                                          type=event["name"], delivery_mode=2))\n'
                'publish_event(channel, "user.deposited", deposit_event)\n'
            )
        },
        fails=frozenset({"check-publish-event", "check-service"}),
    ),
    WrongAnswer(
        name="a handler that is not idempotent: it records every delivery, duplicates included",
        cells={
            "idempotent": (
                "def record_deposit(db, event):\n"
                "    with db:\n"
                '        db.execute("INSERT OR IGNORE INTO handled_events (event_id) VALUES (?)", (event["event_id"],))\n'
                '        db.execute("INSERT INTO transactions (event_id, user_id, kind, amount) VALUES (?, ?, \'deposit\', ?)",\n'
                '                   (event["event_id"], event["user_id"], event["amount"]))\n'
                "    return True\n"
            )
        },
        fails=frozenset({"check-idempotent", "check-service"}),
    ),
    WrongAnswer(
        name="the service consumes with auto_ack=True: each event counts as done before it is recorded",
        cells={
            "service": (
                "def run_transactions_service(channel, db, idle_timeout=0.5):\n"
                "    handled = 0\n"
                '    for method, properties, body in channel.consume("transactions", auto_ack=True,\n'
                "                                                    inactivity_timeout=idle_timeout):\n"
                "        if method is None:\n"
                "            break\n"
                "        record_deposit(db, json.loads(body))\n"
                "        handled += 1\n"
                "    channel.cancel()\n"
                "    return handled\n"
                "handled = run_transactions_service(channel, transactions_db)\n"
            )
        },
        fails=frozenset({"check-service"}),
    ),
    WrongAnswer(
        name="publishes the event inside the transaction, before the commit",
        cells={
            "deposit": (
                "def deposit(db, channel, user_id, amount):\n"
                "    with db:\n"
                '        cursor = db.execute("INSERT INTO deposits (user_id, amount) VALUES (?, ?)", (user_id, amount))\n'
                '        db.execute("UPDATE accounts SET balance = balance + ? WHERE user_id = ?", (amount, user_id))\n'
                '        event = new_event("UserDeposited", user_id=user_id, amount=amount, deposit_id=cursor.lastrowid)\n'
                '        publish_event(channel, "user.deposited", event)\n'
                "    return event\n"
                "last_event = deposit(bank, channel, 42, 50)\n"
            )
        },
        fails=frozenset({"check-deposit"}),
    ),
]

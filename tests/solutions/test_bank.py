"""solutions/09-message-vs-event-driven: one deposit event, two independent idempotent services."""

import json
import sqlite3
from contextlib import closing

import pika

from grader import lab, paths
from tests.solutions.background import Background, run_script

FOLDER = paths.SOLUTIONS / "09-message-vs-event-driven"


def run(script, *args, timeout=30):
    return run_script(FOLDER / script, *args, timeout=timeout)


def rows(db_path, sql, *params):
    with closing(sqlite3.connect(db_path)) as db:
        return db.execute(sql, params).fetchall()


def declare_the_services_queues(tmp_path):
    """Each service declares and binds its own queue when it starts."""
    assert run("notifications_service.py", "--timeout", "0.1").returncode == 0
    assert run("transactions_service.py", "--db", str(tmp_path / "transactions.db"), "--timeout", "0.1").returncode == 0


def test_one_deposit_reaches_both_services_each_through_its_own_queue(vhost, tmp_path):
    bank_db, transactions_db = str(tmp_path / "bank.db"), str(tmp_path / "transactions.db")
    with Background(FOLDER / "notifications_service.py", "--count", "1", "--timeout", "20") as notifications, \
         Background(FOLDER / "transactions_service.py", "--db", transactions_db, "--count", "1", "--timeout", "20") as transactions:
        notifications.wait_for("Waiting for user events")
        transactions.wait_for("Waiting for deposits")
        assert run("bank.py", "--db", bank_db, "open-account", "42").returncode == 0
        deposited = run("bank.py", "--db", bank_db, "deposit", "42", "100")
        assert deposited.returncode == 0, deposited.stderr
        assert "published UserDeposited" in deposited.stdout

        notifications.wait_for("congratulations on your deposit of 100")
        transactions.wait_for("recorded a deposit of 100 for user 42")
        assert notifications.finish() == 0 and transactions.finish() == 0

    lab.expect_binding("bank.events", "notifications", "user.*")
    lab.expect_binding("bank.events", "transactions", "user.deposited")
    [(event_id, amount)] = rows(transactions_db, "SELECT event_id, amount FROM transactions")
    assert amount == 100
    assert rows(bank_db, "SELECT event_id, published_at IS NOT NULL FROM outbox") == [(event_id, 1)]


def test_the_bank_publishes_persistent_json_events_with_their_id(vhost, tmp_path):
    declare_the_services_queues(tmp_path)
    bank_db = str(tmp_path / "bank.db")
    run("bank.py", "--db", bank_db, "open-account", "7")
    assert run("bank.py", "--db", bank_db, "deposit", "7", "30").returncode == 0
    for queue in ("notifications", "transactions"):
        [message] = lab.peek(queue)
        event = json.loads(message.body)
        assert (event["name"], event["user_id"], event["amount"]) == ("UserDeposited", 7, 30)
        assert message.properties.message_id == event["event_id"]
        assert (message.properties.content_type, message.properties.delivery_mode) == ("application/json", 2)


def test_the_same_event_delivered_twice_is_recorded_once(vhost, tmp_path):
    transactions_db = str(tmp_path / "transactions.db")
    declare_the_services_queues(tmp_path)
    event = {"event_id": "e-1", "name": "UserDeposited", "user_id": 42, "amount": 10}
    with lab.channel() as channel:
        for _ in range(2):
            channel.basic_publish("bank.events", "user.deposited", json.dumps(event),
                                  pika.BasicProperties(content_type="application/json", message_id="e-1"))
    with lab.channel() as crashing_consumer:  # takes one and dies before its ack: a real redelivery
        assert crashing_consumer.basic_get("transactions", auto_ack=False)[0] is not None

    handled = run("transactions_service.py", "--db", transactions_db, "--count", "2", "--timeout", "10")
    assert handled.returncode == 0, handled.stderr
    assert "recorded a deposit of 10 for user 42" in handled.stdout
    assert "event e-1 already recorded" in handled.stdout
    assert rows(transactions_db, "SELECT event_id, amount FROM transactions") == [("e-1", 10)]
    assert lab.queue_state("transactions").messages == 0


def test_a_message_that_is_not_an_event_is_rejected_not_requeued(vhost, tmp_path):
    declare_the_services_queues(tmp_path)
    with lab.channel() as channel:
        channel.basic_publish("bank.events", "user.deposited", b"\x80\x04pickled?")
    handled = run("transactions_service.py", "--db", str(tmp_path / "transactions.db"), "--count", "1", "--timeout", "10")
    assert "not a deposit event, rejected" in handled.stdout
    assert lab.queue_state("transactions").messages == 0


def test_a_deposit_to_a_missing_account_records_and_publishes_nothing(vhost, tmp_path):
    declare_the_services_queues(tmp_path)
    bank_db = str(tmp_path / "bank.db")
    refused = run("bank.py", "--db", bank_db, "deposit", "999", "5")
    assert refused.returncode == 1
    assert "Nothing was recorded and nothing published" in refused.stderr
    assert rows(bank_db, "SELECT COUNT(*) FROM deposits") == [(0,)]
    assert rows(bank_db, "SELECT COUNT(*) FROM outbox") == [(0,)]
    assert lab.queue_state("notifications").messages == 0
    assert lab.queue_state("transactions").messages == 0


def test_an_event_left_in_the_outbox_is_published_by_the_relay_exactly_once(vhost, tmp_path):
    declare_the_services_queues(tmp_path)
    bank_db = str(tmp_path / "bank.db")
    run("bank.py", "--db", bank_db, "open-account", "42")
    crashed = run("bank.py", "--db", bank_db, "deposit", "42", "100", "--no-relay")
    assert crashed.returncode == 0
    assert lab.queue_state("transactions").messages == 0

    relayed = run("bank.py", "--db", bank_db, "relay")
    assert relayed.returncode == 0 and "relayed 1 event(s)" in relayed.stdout
    assert "relayed 0 event(s)" in run("bank.py", "--db", bank_db, "relay").stdout
    assert lab.queue_state("notifications").messages == 1
    assert lab.queue_state("transactions").messages == 1

"""solutions/11-chat: four exchanges, four ways to address a message; each listener gets what is meant for them."""

import importlib.util
import uuid

import pika
import pytest

from grader import paths
from grader.classroom import provision
from grader.live.identity import student_id
from grader.names import CHAT_KINDS, chat_exchange
from grader.settings import Settings
from tests.solutions.background import Background, run_script

CHAT = paths.SOLUTIONS / "11-chat" / "chat.py"


def say(*args, url=None):
    extra = ["--url", url] if url else []
    sent = run_script(CHAT, "say", "--name", "Cy", *extra, *args)
    assert sent.returncode == 0, sent.stderr
    assert " [x] Sent to " in sent.stdout


def heard(listener):
    return [line for line in listener.lines if line.startswith(" [") and not line.startswith(" [*]")]


def test_each_listener_gets_exactly_the_messages_meant_for_them(vhost):
    ada = ["listen", "--name", "Ada Lovelace", "--interest", "python.#", "--interest", "*.rabbitmq"]
    bob = ["listen", "--name", "Bob", "--interest", "go.*"]
    with Background(CHAT, *ada, "--count", "7", "--timeout", "30") as ada, \
            Background(CHAT, *bob, "--count", "7", "--timeout", "30") as bob:
        ada.wait_for("listens")
        bob.wait_for("listens")
        say("--all", "hello, everyone")
        say("--topic", "python.asyncio", "who uses TaskGroup?")
        say("--topic", "go.channels", "buffered or not?")
        say("--topic", "go.rabbitmq", "amqp091-go works")  # *.rabbitmq for Ada, go.* for Bob
        say("--topic", "java.spring", "nobody follows this")
        say("--topic", "python.web.django", "# takes any number of words")
        say("--to", "ada-lovelace", "hello, Ada")
        say("--to", "bob", "hello, Bob")
        say("--to", "cy", "to nobody listening")
        say("--chosen", "bob,cy", "for Bob and Cy")
        say("--chosen", "ada-lovelace,bob", "lunch at noon?")
        say("--chosen", "cy,dan", "for Cy and Dan")
        say("--all", "the end")  # anything wrongly delivered before this shows up in the counts
        assert ada.finish() == 0 and bob.finish() == 0
    assert heard(ada) == [
        " [all] Cy: hello, everyone",
        " [topic python.asyncio] Cy: who uses TaskGroup?",
        " [topic go.rabbitmq] Cy: amqp091-go works",
        " [topic python.web.django] Cy: # takes any number of words",
        " [direct] Cy: hello, Ada",
        " [chosen] Cy: lunch at noon?",
        " [all] Cy: the end",
    ]
    assert heard(bob) == [
        " [all] Cy: hello, everyone",
        " [topic go.channels] Cy: buffered or not?",
        " [topic go.rabbitmq] Cy: amqp091-go works",
        " [direct] Cy: hello, Bob",
        " [chosen] Cy: for Bob and Cy",
        " [chosen] Cy: lunch at noon?",
        " [all] Cy: the end",
    ]


def test_on_a_fresh_broker_the_chat_declares_its_four_exchanges_durable_with_their_types(vhost):
    say("--workshop", "class1", "--all", "anyone here?")
    found = {e["name"]: (e["type"], e["durable"]) for e in vhost.api.exchanges(vhost.name)}
    for kind, exchange_type in CHAT_KINDS.items():
        assert found[chat_exchange("class1", kind)] == (exchange_type, True)


def test_a_student_account_of_the_room_chats_on_exchanges_it_may_not_declare(vhost, tmp_path):
    settings = Settings(rabbitmq_url=vhost.url, management_url=vhost.management_url)
    roster = tmp_path / "roster.csv"
    roster.write_text(f"name\nAda {''.join(c for c in uuid.uuid4().hex if c.isalpha())[:6]}\n", encoding="utf-8")
    report = provision.provision(settings, roster, tmp_path / "room", instructor=f"i-{uuid.uuid4().hex[:8]}")
    [student] = [a for a in report.accounts if a.role == "student"]  # provision declares the chat's exchanges
    try:
        with Background(CHAT, "listen", "--url", student.live_url, "--name", "Ada", "--count", "1",
                        "--timeout", "20") as ada:
            ada.wait_for("listens")
            say("--to", "ada", "you can read this", url=student.live_url)
            assert ada.finish() == 0
        assert heard(ada) == [" [direct] Cy: you can read this"]
    finally:
        provision.teardown(settings, tmp_path / "room")


def test_a_body_that_is_not_json_is_shown_as_it_is(vhost):
    with Background(CHAT, "listen", "--name", "Ada", "--count", "1", "--timeout", "20") as ada:
        ada.wait_for("listens")
        connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
        connection.channel().basic_publish(chat_exchange("summercamp", "all"), "", b"plain words, no JSON")
        connection.close()
        assert ada.finish() == 0
    assert heard(ada) == [" [all] ?: plain words, no JSON"]


def test_the_id_comes_from_the_name_and_ctrl_c_stops_cleanly(vhost):
    name = "Zoë Ünal-Smith"
    with Background(CHAT, "listen", "--name", name, "--timeout", "20") as listener:
        line = listener.wait_for("listens")
        assert f"({student_id(name)})" in line and student_id(name) == "zoe-unal-smith"
        assert listener.interrupt() == 0
    assert " [*] Bye" in listener.lines


def chat_module():
    spec = importlib.util.spec_from_file_location("chat", CHAT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", [
    "Ada Lovelace", "Zoë Ünal-Smith", "Иван Петров", "李雷", "李雷 1", "山田　太郎", "김민준", "محمد", "राम", "١٢٣",
    "㎯" * 40, "Ada 2abcdefg", "  ΑΛΈΞΑΝΔΡΟΣ ",
])
def test_the_script_gives_the_graders_ids(name):
    chat = chat_module()
    assert chat.student_id(name) == student_id(name)
    assert chat.address(student_id(name)) == student_id(name)  # an id given to --to stays as it is


def test_the_script_explains_itself_and_needs_a_way_to_address_a_message(vhost):
    helped = run_script(CHAT, "--help")
    assert helped.returncode == 0 and "RABBITMQ_URL" in helped.stdout and "x-match" in helped.stdout
    refused = run_script(CHAT, "say", "--name", "Cy", "hello")
    assert refused.returncode == 2 and "one of the arguments --all --topic --to --chosen is required" in refused.stderr

"""`workshop provision` and `teardown` on a real broker: an account per student, only what the live
exercises need on the live vhost, nothing changed by a second run, nothing left by teardown."""

import json
import secrets
import stat
import subprocess
import sys

import pika
import pika.exceptions
import pytest

from grader.classroom import provision
from grader.classroom.provision import ProvisionError, read_accounts
from grader.live.identity import student_id
from grader.settings import Settings

pytestmark = pytest.mark.broker


def unique(word: str, letters: str = "bcdfghjklmnpqrstvwxz") -> str:
    """`word` and a random second name in `letters` (broker users are not per vhost)."""
    return f"{word} {''.join(secrets.choice(letters) for _ in range(6))}"


@pytest.fixture
def room(vhost, tmp_path):
    """A roster of three (Latin, Cyrillic, Chinese), provisioned on the test's vhost as the live one.

    Names are unique to the test, since broker users are not per vhost; the workshop id is too."""
    workshop = f"w{secrets.token_hex(3)}"
    settings = Settings(rabbitmq_url=vhost.url, management_url=vhost.management_url, workshop=workshop)
    names = [unique("Ada"), unique("Иван", "бвгджзклмнпрст"), unique("李雷", "王芳明华")]
    roster = tmp_path / "roster.csv"
    roster.write_text("name,email\n" + "".join(f"{name},\n" for name in names), encoding="utf-8")
    out = tmp_path / "room"
    report = provision.provision(settings, roster, out, join_url="http://room.example:8000/",
                                 instructor=f"{workshop}-instructor")
    yield settings, roster, out, report
    if (out / provision.ACCOUNTS).exists():
        provision.teardown(settings, out)


def connect(url):
    return pika.BlockingConnection(pika.URLParameters(url))


def students(report):
    return [account for account in report.accounts if account.role == "student"]


def test_accounts_and_cards_are_written_for_the_owner_only_and_name_everyone(room):
    _, _, out, report = room
    assert [a.role for a in report.accounts].count("instructor") == 1
    assert read_accounts(out) == report.accounts
    for name in (provision.ACCOUNTS, provision.CARDS):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
    cards = (out / provision.CARDS).read_text(encoding="utf-8")
    for account in report.accounts:
        assert account.name in cards and account.password in cards
    assert "http://room.example:8000/" in cards and "<script" not in cards


def test_each_student_works_freely_in_their_own_vhost_and_nowhere_else(room):
    _, _, _, report = room
    first, second, _ = students(report)
    connection = connect(first.lessons_url)
    channel = connection.channel()
    channel.exchange_declare("logs", exchange_type="fanout")
    channel.queue_declare("hello", durable=True)
    channel.queue_delete("hello")
    connection.close()
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError):
        connect(first.lessons_url.rsplit("/", 1)[0] + "/" + second.vhost)


def refused(channel_of, action):
    """True if the broker refuses `action(channel)` with ACCESS_REFUSED (403) on a fresh channel."""
    channel = channel_of()
    try:
        action(channel)
    except pika.exceptions.ChannelClosedByBroker as exc:
        return exc.reply_code == 403
    channel.close()
    return False


def test_on_the_live_vhost_a_student_reaches_only_their_own_tasks_and_the_chat(room, vhost):
    settings, _, _, report = room
    first, second, _ = students(report)
    w = settings.workshop
    admin = connect(vhost.url)
    setup = admin.channel()
    for account in (first, second):
        setup.queue_declare(f"{w}.{account.user}", durable=True)
    setup.basic_publish("", f"{w}.{second.user}", b'{"n": 5}')
    admin.close()

    connection = connect(first.live_url)
    open_channel = connection.channel
    channel = open_channel()
    feedback = channel.queue_declare("", exclusive=True).method.queue
    channel.basic_publish("", "name", json.dumps({"name": first.name}).encode(),
                          properties=pika.BasicProperties(reply_to=feedback, user_id=first.user))
    assert channel.basic_get(f"{w}.{first.user}", auto_ack=True) == (None, None, None)  # own tasks: yes
    channel.queue_bind(feedback, f"{w}.chat.all")
    channel.basic_publish(f"{w}.chat.all", "", b"hello, class")
    other = f"{w}.{second.user}"
    assert refused(open_channel, lambda ch: ch.basic_get(other, auto_ack=True))  # a classmate's tasks
    assert refused(open_channel, lambda ch: ch.queue_purge(other))
    assert refused(open_channel, lambda ch: ch.basic_consume(other, lambda *a: None))
    for queue in ("name", f"{w}.results", f"{w}.rejected"):  # the grader's queues
        assert refused(open_channel, lambda ch: ch.basic_get(queue, auto_ack=True))
        assert refused(open_channel, lambda ch: ch.queue_delete(queue))
        assert refused(open_channel, lambda ch: ch.queue_purge(queue))
    connection.close()
    admin = connect(vhost.url)  # the classmate's task is still there (counted over AMQP: no metrics lag)
    assert admin.channel().queue_declare(other, passive=True).method.message_count == 1
    admin.close()


def test_the_broker_itself_refuses_a_message_sent_in_someone_elses_name(room):
    _, _, _, report = room
    first, second, _ = students(report)
    connection = connect(first.live_url)
    channel = connection.channel()
    channel.confirm_delivery()
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as caught:
        channel.basic_publish("", "name", b'{"name": "x"}', properties=pika.BasicProperties(user_id=second.user))
    assert caught.value.reply_code == 406
    connection.close()


def test_a_students_account_may_announce_its_login_to_the_lobby_under_its_own_user_id(room, vhost):
    from grader import names as queue_names
    from grader.classroom.authenticator import announce_login

    settings, _, _, report = room
    first, _, _ = students(report)
    connection = connect(vhost.url)
    channel = connection.channel()
    lobby = queue_names.lobby_queue(settings.workshop)
    channel.queue_declare(lobby, durable=True, arguments={"x-max-length": 1000})  # as `serve` declares it
    announce_login(first.live_url, first.user, first.password, settings.workshop)
    method, properties, _ = channel.basic_get(lobby, auto_ack=True)
    assert method is not None, "the login did not reach W.lobby"
    assert properties.user_id == first.user
    channel.queue_delete(lobby)
    connection.close()


def test_a_second_run_changes_nothing_and_rotate_changes_every_password(room, vhost):
    settings, roster, out, report = room
    hashes = {a.user: vhost.api.user(a.user)["password_hash"] for a in report.accounts}
    again = provision.provision(settings, roster, out)
    assert again.accounts == report.accounts and again.made == [] and len(again.kept) == len(report.accounts)
    assert {a.user: vhost.api.user(a.user)["password_hash"] for a in report.accounts} == hashes

    rotated = provision.provision(settings, roster, out, rotate=True)
    assert sorted(rotated.rotated) == sorted(hashes)
    first_before, first_after = students(report)[0], students(rotated)[0]
    assert first_after.password != first_before.password
    with pytest.raises(pika.exceptions.ProbableAuthenticationError):
        connect(first_before.lessons_url)
    connect(first_after.lessons_url).close()


def test_a_user_someone_else_made_is_never_taken_over_and_nothing_is_changed(vhost, tmp_path):
    workshop = f"w{secrets.token_hex(3)}"
    settings = Settings(rabbitmq_url=vhost.url, management_url=vhost.management_url, workshop=workshop)
    taken, free = unique("Grace"), unique("Alan")
    roster = tmp_path / "roster.csv"
    roster.write_text(f"{taken}\n{free}\n", encoding="utf-8")
    vhost.api.put_user(student_id(taken), "theirs", tags="")
    try:
        with pytest.raises(ProvisionError, match="did not make"):
            provision.provision(settings, roster, tmp_path / "room", instructor=f"{workshop}-instructor")
        assert vhost.api.user(student_id(free)) is None and vhost.api.user(f"{workshop}-instructor") is None
        assert vhost.api.vhost(student_id(free)) is None
        assert not (tmp_path / "room").exists()
    finally:
        vhost.api.delete_user(student_id(taken))


def test_teardown_removes_exactly_what_provision_made(room, vhost):
    settings, _, out, report = room
    admin = connect(vhost.url)  # the queues the grader makes for a student who registers
    channel = admin.channel()
    mine = [queue for account in students(report) for queue in
            (f"{settings.workshop}.{account.user}", f"{settings.workshop}.results.{account.user}")]
    for queue in mine:
        channel.queue_declare(queue, durable=True)
    channel.queue_declare(f"{settings.workshop}.results", passive=True)  # a shared one (provision made it): it stays
    provision.teardown(settings, out)
    for queue in mine:
        with pytest.raises(pika.exceptions.ChannelClosedByBroker):
            admin.channel().queue_declare(queue, passive=True)
    admin.channel().queue_declare(f"{settings.workshop}.results", passive=True)
    admin.close()
    for account in report.accounts:
        assert vhost.api.user(account.user) is None, account.user
    for account in students(report):
        assert vhost.api.vhost(account.vhost) is None, account.vhost
    assert vhost.api.vhost(vhost.name) is not None  # the live vhost stays
    assert not (out / provision.ACCOUNTS).exists() and not (out / provision.CARDS).exists()


def test_the_commands_print_one_line_and_a_bad_roster_is_one_error_without_a_traceback(vhost, tmp_path):
    workshop = f"w{secrets.token_hex(3)}"
    roster = tmp_path / "roster.csv"
    roster.write_text(f"name\n{unique('Edsger')}\n\n", encoding="utf-8")
    base = [sys.executable, "-m", "grader"]
    flags = ["--workshop", workshop, "--out", str(tmp_path / "room")]
    made_flags = [*flags, "--instructor", f"{workshop}-instructor"]
    made = subprocess.run([*base, "provision", str(roster), *made_flags], capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    assert "2 made" in made.stdout and "accounts.csv" in made.stdout
    gone = subprocess.run([*base, "teardown", *flags], capture_output=True, text=True, timeout=60)
    assert gone.returncode == 0 and f"user {workshop}-instructor" in gone.stdout, gone.stderr

    roster.write_text("name\nAda\nada\n", encoding="utf-8")
    bad = subprocess.run([*base, "provision", str(roster), *made_flags], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.startswith("error:") and "row 3" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_second_workshop_on_the_same_broker_is_told_which_workshop_holds_a_name(room, vhost, tmp_path):
    settings, roster, _, report = room
    other = Settings(rabbitmq_url=vhost.url, management_url=vhost.management_url, workshop=f"{settings.workshop}b")
    instructor = next(a.user for a in report.accounts if a.role == "instructor")
    with pytest.raises(ProvisionError) as refused:
        provision.provision(other, roster, tmp_path / "other", instructor=instructor)
    message = str(refused.value)
    assert f"was made for the workshop {settings.workshop}" in message and "--instructor" in message
    assert "--rotate" not in message  # rotating would not help: those accounts are another workshop's

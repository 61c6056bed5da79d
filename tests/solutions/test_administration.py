"""solutions/12-administration: a read-only account made through the management API, on a real broker."""

import re
import uuid
from urllib.parse import quote

import pika
import pika.exceptions
import pytest

from grader import paths
from tests.solutions.background import run_script

SCRIPT = paths.SOLUTIONS / "12-administration" / "reader_account.py"


@pytest.fixture
def names(vhost):
    made = (f"shop-{uuid.uuid4().hex[:6]}", f"reader-{uuid.uuid4().hex[:6]}")
    yield made
    vhost.api.delete_user(made[1])
    vhost.api.delete_vhost(made[0])


def test_the_reader_may_read_its_queue_and_nothing_else_and_delete_leaves_nothing(vhost, names):
    shop, reader = names
    created = run_script(SCRIPT, "create", shop, reader, "--queue", "reports", "--max-length", "3")
    assert created.returncode == 0, created.stderr
    password = re.search(r"^password: (\S+)$", created.stdout, re.M).group(1)
    assert re.fullmatch(r"[0-9a-f]{24}", password), "a password for the command line: never a leading '-'"
    assert vhost.api.get(f"permissions/{quote(shop, safe='')}/{reader}") == {
        "user": reader, "vhost": shop, "configure": "^$", "write": "^$", "read": "^reports$"}
    amqp = vhost.url.rsplit("@", 1)[1].rsplit("/", 1)[0]
    with pika.BlockingConnection(pika.URLParameters(f"amqp://{reader}:{password}@{amqp}/{shop}")) as connection:
        assert connection.channel().basic_get("reports", auto_ack=True) == (None, None, None)
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="ACCESS_REFUSED"):
            connection.channel().queue_declare("mine", durable=True)
    tried = run_script(SCRIPT, "try", shop, reader, password)
    assert "read 'reports': allowed" in tried.stdout and tried.stdout.count("refused (403") == 2, tried.stdout
    gone = run_script(SCRIPT, "delete", shop, reader)
    assert gone.returncode == 0, gone.stderr
    assert vhost.api.vhost(shop) is None and vhost.api.get(f"users/{reader}") is None


def test_a_wrong_password_is_one_error_line(vhost, names):
    shop, reader = names
    assert run_script(SCRIPT, "create", shop, reader).returncode == 0
    tried = run_script(SCRIPT, "try", shop, reader, "not-the-password")
    assert tried.returncode == 1 and tried.stderr.startswith("error: ") and "Traceback" not in tried.stderr

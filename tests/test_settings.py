"""Settings: flags over environment over laptop defaults; amqp URLs in and out."""

import pytest

from grader.errors import WorkshopError
from grader.settings import DEFAULT_RABBITMQ_URL, AmqpAddress, InvalidUrl, Settings


def test_defaults_work_on_a_laptop():
    settings = Settings.from_env({})
    assert settings.rabbitmq_url == DEFAULT_RABBITMQ_URL
    assert settings.management_base == "http://localhost:15672"
    assert settings.amqp.vhost == "/"
    assert settings.management_credentials == ("guest", "guest")


def test_flags_win_over_the_environment_and_none_means_not_given():
    env = {"RABBITMQ_URL": "amqp://a:b@envhost:5673/v", "RABBITMQ_MANAGEMENT_URL": "http://m:1"}
    settings = Settings.from_env(env, rabbitmq_url="amqp://x:y@flaghost/w", management_url=None)
    assert settings.amqp.host == "flaghost"
    assert settings.management_base == "http://m:1"


def test_management_credentials_come_from_its_url_else_from_the_amqp_url():
    settings = Settings(rabbitmq_url="amqp://ada:secret@h/%2F", management_url="http://admin:pw@h:15672/")
    assert settings.management_credentials == ("admin", "pw")
    assert settings.management_base == "http://h:15672"
    assert Settings(rabbitmq_url="amqp://ada:s%40cret@h/%2F").management_credentials == ("ada", "s@cret")


def test_an_amqp_url_round_trips_with_an_encoded_vhost():
    address = AmqpAddress.parse("amqp://guest:guest@localhost:5672/%2F")
    assert address.vhost == "/"
    assert address.url() == "amqp://guest:guest@localhost:5672/%2F"
    assert address.url(vhost="test/1", password=False) == "amqp://guest@localhost:5672/test%2F1"


def test_a_url_that_is_not_amqp_is_refused_with_an_example():
    with pytest.raises(ValueError, match="amqp://guest:guest@localhost"):
        AmqpAddress.parse("http://localhost:15672")


def test_the_management_url_defaults_to_port_15672_on_the_amqp_host():
    from_env = Settings.from_env({"RABBITMQ_URL": "amqp://ada:pw@rabbit.example:5673/v"})
    assert from_env.management_base == "http://rabbit.example:15672"
    assert from_env.management_credentials == ("ada", "pw")
    from_flag = Settings.from_env({"RABBITMQ_URL": "amqp://a:b@envhost/v"}, rabbitmq_url="amqp://x:y@flaghost/w")
    assert from_flag.management_base == "http://flaghost:15672"
    assert Settings(rabbitmq_url="amqp://[::1]:5672/%2F").management_base == "http://[::1]:15672"
    given = Settings.from_env({"RABBITMQ_URL": "amqp://a:b@envhost/v", "RABBITMQ_MANAGEMENT_URL": "http://m:1"})
    assert given.management_base == "http://m:1"


@pytest.mark.parametrize(("values", "words"), [
    ({"rabbitmq_url": "localhost:5672"}, ["'localhost:5672' is not an amqp:// URL", "--url"]),
    ({"rabbitmq_url": "amqp://ada:secret@h:port/%2F"}, ["no valid port number", "'amqp://ada:***@h:port/%2F'"]),
    ({"management_url": "localhost:15672"}, ["is not an http:// URL", "--management-url"]),
    ({"management_url": "http://admin:secret@h:x"}, ["'http://admin:***@h:x'", "http://localhost:15672"]),
])
def test_check_refuses_a_malformed_url_with_an_example_and_never_shows_its_password(values, words):
    with pytest.raises(InvalidUrl) as refused:
        Settings(**values).check()
    assert all(word in str(refused.value) for word in words), str(refused.value)
    assert "secret" not in str(refused.value)
    assert isinstance(refused.value, WorkshopError)  # the command line prints it as one error line

"""Settings: flags over environment over laptop defaults; amqp URLs in and out."""

import pytest

from grader.settings import DEFAULT_RABBITMQ_URL, AmqpAddress, Settings


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

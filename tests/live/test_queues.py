"""The protocol's queues as the grader declares them, and what it does when someone was first."""

import logging

import pika

from grader import names
from grader.live.queues import POISON_LIMIT, REJECTED_MAX_LENGTH, declare_protocol
from tests.live.fixtures import WORKSHOP, start_grader, stop_grader


def test_the_intake_queues_are_quorum_queues_with_a_delivery_limit_and_rejected_is_bounded(vhost):
    connection = pika.BlockingConnection(pika.URLParameters(vhost.url))
    declare_protocol(connection, WORKSHOP)
    connection.close()
    for queue in (names.REGISTER_QUEUE, names.results_queue(WORKSHOP)):
        arguments = vhost.api.queue(vhost.name, queue)["arguments"]
        assert arguments["x-queue-type"] == "quorum" and arguments["x-delivery-limit"] == POISON_LIMIT
        assert arguments["x-dead-letter-routing-key"] == names.rejected_queue(WORKSHOP)
    rejected = vhost.api.queue(vhost.name, names.rejected_queue(WORKSHOP))["arguments"]
    assert rejected["x-max-length"] == REJECTED_MAX_LENGTH and rejected["x-overflow"] == "drop-head"


def test_a_name_queue_a_student_declared_first_is_used_as_it_is_with_a_warning(settings, store, student, caplog):
    student.channel.queue_declare(names.REGISTER_QUEUE, durable=True)  # classic, as the seed's kombu code does
    caplog.set_level(logging.WARNING, logger="grader")
    grader, thread = start_grader(settings, store)
    try:
        assert student.register()["points"] == 1  # grading works
    finally:
        stop_grader(grader, thread)
    warning = next(r.getMessage() for r in caplog.records if "exists with other arguments" in r.getMessage())
    assert "delete_queue name" in warning

"""What the student reads when the broker says no, in a real notebook kernel: one sentence with
the advice and the line of the cell, never pika's traceback; and a check that fails after the
broker closed the student's channel says so first."""

import nbformat
import pytest
from nbclient import NotebookClient

from grader import lab


def run_cells(vhost, *sources: str) -> list:
    """Execute the cells in a fresh kernel (errors allowed); the notebook's cells, with outputs."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    NotebookClient(notebook, timeout=60, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": "."}}).execute(env={"RABBITMQ_URL": vhost.url,
                                                                       "RABBITMQ_MANAGEMENT_URL": vhost.management_url})
    return notebook.cells


def error_text(cell) -> str:
    [error] = [output for output in cell.outputs if output.output_type == "error"]
    return "\n".join(error.traceback)


SETUP = ("import pika\nfrom grader import lab\n"
         "connection = pika.BlockingConnection(pika.URLParameters(lab.broker_url()))\n"
         "channel = connection.channel()")


@pytest.mark.slow
def test_a_broker_error_is_one_sentence_with_the_advice_and_a_failed_check_names_the_closed_channel(vhost):
    setup, bad, check = run_cells(
        vhost, SETUP,
        "x = 1\nchannel.queue_declare(queue='nope', passive=True)",
        "lab.expect_queue('hello', durable=True)")
    assert not [output for output in setup.outputs if output.output_type == "error"]
    shown = error_text(bad)
    assert "The broker closed your channel: (404) NOT_FOUND" in shown and "declare it first" in shown, shown
    assert "line 2" in shown and "queue_declare(queue='nope'" in shown, shown
    assert "Traceback" not in shown and "blocking_connection.py" not in shown, shown
    failed = error_text(check)
    assert "Your `channel` was closed by the broker: (404) NOT_FOUND" in failed, failed
    assert "run the setup cell" in failed and "there is no queue `hello`" in failed, failed


@pytest.mark.slow
@pytest.mark.slow
def test_a_channel_closed_in_a_cell_that_went_on_fine_is_not_blamed_later(vhost):
    """A lesson may close a channel on purpose (and catch the refusal): later checks do not blame it."""
    setup, deliberate, check = run_cells(
        vhost, SETUP,
        "try:\n    channel.queue_declare(queue='nope', passive=True)\nexcept pika.exceptions.ChannelClosedByBroker:\n"
        "    pass  # the lesson shows the refusal",
        "lab.expect_queue('hello', durable=True)")
    assert not [o for o in deliberate.outputs if o.output_type == "error"]
    failed = error_text(check)
    assert "there is no queue `hello`" in failed and "was closed by the broker" not in failed, failed


@pytest.mark.slow
def test_a_connection_to_another_vhost_is_named_by_the_connect_check(vhost):
    [cell] = run_cells(vhost, "import pika\nfrom grader import lab\n"
                              "connection = pika.BlockingConnection(pika.ConnectionParameters('localhost'))\n"
                              "lab.expect_connected(connection)")
    shown = error_text(cell)
    assert "vhost '/'" in shown and f"vhost {vhost.name!r}" in shown and "lab.broker_url()" in shown, shown


def test_explain_gives_advice_for_each_kind_of_refusal():
    import pika.exceptions as errors

    assert "other properties" in lab.explain(errors.ChannelClosedByBroker(406, "PRECONDITION_FAILED - inequivalent arg"))
    assert "do not delete it" in lab.explain(errors.ChannelClosedByBroker(406, "PRECONDITION_FAILED - inequivalent arg"))
    twice = lab.explain(errors.ChannelClosedByBroker(406, "PRECONDITION_FAILED - unknown delivery tag 1"))
    assert "acknowledged already" in twice and "other properties" not in twice
    assert "run the cell that connects again" in lab.explain(errors.StreamLostError("Stream connection lost")).lower()
    assert "permissions" in lab.explain(errors.ChannelClosedByBroker(403, "ACCESS_REFUSED - x"))
    assert "lab.broker_url()" in lab.explain(errors.ProbableAuthenticationError("x"))
    assert lab.explain(ValueError("plain")) == "ValueError: plain"


def test_expect_state_names_a_missing_queue(vhost):
    with pytest.raises(lab.CheckFailed, match="there is no queue `missing`"):
        lab.expect_state("missing")


def test_a_kombu_connection_to_another_vhost_is_named_too(vhost, broker):
    from kombu import Connection

    with Connection(broker.url("/")) as elsewhere:  # vhost / of the broker under test
        elsewhere.connect()
        with pytest.raises(lab.CheckFailed, match=rf"vhost '/'.*vhost {vhost.name!r}.*Connection\(lab.broker_url\(\)\)"):
            lab.expect_connected(elsewhere)
    with Connection(vhost.url) as right:
        right.connect()
        lab.expect_connected(right)

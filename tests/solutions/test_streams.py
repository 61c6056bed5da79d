"""solutions/13-streams: send to a stream, read it from any offset, resume with the offset the broker keeps."""

from grader import lab, paths
from tests.solutions.background import Background, run_script

FOLDER = paths.SOLUTIONS / "13-streams"


def run(script, *args, timeout=30):
    return run_script(FOLDER / script, *args, timeout=timeout)


def offsets_and_bodies(output: str) -> list[tuple[int, str]]:
    lines = [line.split(" ", 1) for line in output.splitlines() if line[:1].isdigit()]
    return [(int(offset), body) for offset, body in lines]


def test_send_declares_the_stream_with_its_retention_and_publishes_confirmed(vhost):
    sent = run("send.py", "--count", "3")
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.count("confirmed:") == 3
    lab.streams.expect_stream("readings", arguments={"x-max-age": "7D", "x-max-length-bytes": 20_000_000,
                                                     "x-stream-max-segment-size-bytes": 1_000_000})
    assert lab.streams.bodies("readings") == [b"message 0", b"message 1", b"message 2"]
    assert run("send.py", "again").returncode == 0, "a second run declares the same stream again"


def test_receive_reads_from_the_offset_it_is_given_and_removes_nothing(vhost):
    assert run("send.py", "--count", "5").returncode == 0
    from_three = run("receive.py", "--offset", "3", "--idle", "0.5")
    assert from_three.returncode == 0, from_three.stderr
    assert offsets_and_bodies(from_three.stdout) == [(3, "message 3"), (4, "message 4")]
    everything = run("receive.py", "--offset", "first", "--count", "5")
    assert everything.returncode == 0, everything.stderr
    assert [offset for offset, _ in offsets_and_bodies(everything.stdout)] == [0, 1, 2, 3, 4]
    since = run("receive.py", "--since", "10m", "--idle", "0.5")
    assert len(offsets_and_bodies(since.stdout)) == 5, since.stdout


def test_receive_stops_cleanly_after_count_with_more_in_the_stream_than_it_reads(vhost):
    """pika still holds deliveries when it stops early; closing rejects them, which a stream refuses."""
    assert run("send.py", "--count", "300").returncode == 0
    three = run("receive.py", "--count", "3")
    assert three.returncode == 0, three.stderr
    assert "Traceback" not in three.stderr, three.stderr
    assert [offset for offset, _ in offsets_and_bodies(three.stdout)] == [0, 1, 2]
    assert three.stdout.rstrip().endswith("read 3 messages"), three.stdout


def test_receive_from_next_sees_only_what_is_sent_while_it_runs_and_stops_on_ctrl_c(vhost):
    assert run("send.py", "old").returncode == 0
    with Background(FOLDER / "receive.py", "--offset", "next") as receiver:
        receiver.wait_for("Ctrl+C stops")
        assert run("send.py", "new").returncode == 0
        receiver.wait_for("new")
        assert receiver.interrupt() == 0
    assert [body for _, body in offsets_and_bodies("\n".join(receiver.lines))] == ["new"]
    assert "read 1 message" in receiver.lines[-1]


def test_track_resumes_after_the_last_message_it_processed(vhost):
    assert run("send.py", "--count", "5").returncode == 0
    first = run("track.py", "--count", "3")
    assert first.returncode == 0, first.stderr
    assert [body for _, body in offsets_and_bodies(first.stdout)] == ["message 0", "message 1", "message 2"]
    assert lab.streams.stored_offset("readings", "dashboard") == 2

    assert run("send.py", "message 5").returncode == 0  # sent while the reader was away
    second = run("track.py", "--idle", "1")
    assert second.returncode == 0, second.stderr
    assert "resuming after offset 2" in second.stdout
    assert [body for _, body in offsets_and_bodies(second.stdout)] == ["message 3", "message 4", "message 5"]

    other = run("track.py", "--name", "audit", "--idle", "1")
    assert len(offsets_and_bodies(other.stdout)) == 6, "another name reads from the first message"


def test_track_stores_its_offset_when_stopped_with_ctrl_c(vhost):
    assert run("send.py", "--count", "2").returncode == 0
    with Background(FOLDER / "track.py") as reader:
        reader.wait_for("1 message 1")
        assert reader.interrupt(timeout=10) == 0
    assert "stored offset 1" in reader.lines[-1]
    assert lab.streams.stored_offset("readings", "dashboard") == 1

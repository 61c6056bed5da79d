"""The allowance of messages that score nothing: pure, with the time passed in."""

from hypothesis import given, settings
from hypothesis import strategies as st

from grader.live.fairness import Limiter


def test_ten_misses_a_minute_then_wait_for_the_bucket_to_refill():
    limiter = Limiter(allowance=10, period=60)
    session = limiter.session()
    for _ in range(10):
        assert session.wait("ada", 0.0) == 0
        session.charge("ada", 0.0)
    assert session.wait("ada", 0.0) == 6.0  # one token back every 60/10 s
    assert session.wait("bob", 0.0) == 0  # nobody else is slowed down
    session.commit()
    assert limiter.session().wait("ada", 6.0) == 0


def test_decisions_of_a_batch_graded_again_are_not_counted_twice():
    limiter = Limiter(allowance=2, period=60)
    for _attempt in range(3):  # a transaction retried: each attempt starts from the committed state
        session = limiter.session()
        session.charge("ada", 0.0)
    session.commit()
    assert limiter.session().wait("ada", 0.0) == 0


def test_a_throttled_student_gets_one_reply_a_second():
    session = Limiter(allowance=1, period=60).session()
    session.charge("ada", 0.0)
    assert [session.may_reply("ada", t) for t in (0.0, 0.5, 0.9, 1.0, 1.2, 2.5)] == [True, False, False, True,
                                                                                       False, True]


def test_no_allowance_means_no_limit():
    session = Limiter(allowance=0).session()
    for _ in range(1000):
        session.charge("ada", 0.0)
    assert session.wait("ada", 0.0) == 0


@settings(max_examples=200, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["ada", "bob"]), st.floats(0, 1000)), max_size=60))
def test_nobody_sends_more_misses_than_the_allowance_plus_what_refilled(events):
    limiter = Limiter(allowance=10, period=60)
    accepted: dict[str, list[float]] = {"ada": [], "bob": []}
    for who, at in sorted(events, key=lambda event: event[1]):
        session = limiter.session()
        if session.wait(who, at) == 0:
            session.charge(who, at)
            accepted[who].append(at)
        session.commit()
    for times in accepted.values():
        if times:
            assert len(times) <= 10 + (times[-1] - times[0]) * 10 / 60 + 1e-9


@settings(max_examples=100, derandomize=True)
@given(st.integers(0, 5000), st.floats(0, 600))
def test_however_many_misses_were_charged_the_wait_is_never_longer_than_one_token(charged, later):
    """Registrations and right answers are graded whatever the allowance, and a registration
    again is charged: a flood of them must not leave a debt that locks the student out for hours."""
    limiter = Limiter(allowance=10, period=60)
    session = limiter.session()
    for _ in range(charged):
        session.charge("ada", 0.0)
    session.commit()
    wait = limiter.session().wait("ada", later)
    assert wait <= 6.0  # one token refills in 60/10 s
    assert wait == 0 or later < 6.0

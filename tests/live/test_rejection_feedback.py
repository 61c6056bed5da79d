"""The feedback to a rejected message, against a real broker and grader: the signer's real total,
values quoted once, and a hint that fits what was sent."""

from grader import names
from grader.live.checks import fibonacci
from grader.live.dealer import deal
from tests.live.fixtures import WORKSHOP

RESULTS = names.results_queue(WORKSHOP)


def test_a_rejection_reports_the_total_of_the_registered_student_who_signed_it(grader, store, student, settings):
    student.register()
    for n in deal(settings, store, 2)["ada-lovelace"]:
        assert student.answer(n, fibonacci(n))["ok"]
    student.send(RESULTS, {"n": "10", "Fn": 55, "name": student.name})
    feedback = student.feedback()
    assert (feedback["ok"], feedback["points"], feedback["total"]) == (False, 0, 3)
    assert 'not "10"' in feedback["message"] and "'\"10\"'" not in feedback["message"]
    student.send(RESULTS, {"n": 10, "Fn": -55, "name": student.name})
    assert student.feedback()["total"] == 3


def test_a_rejection_signed_by_nobody_registered_reports_nothing_scored(grader, store, student):
    student.register()
    student.send(RESULTS, {"n": 3, "Fn": 2, "name": "Grace Hopper"})
    assert student.feedback()["total"] == 0
    student.send(names.REGISTER_QUEUE, {"name": 7})
    assert student.feedback()["total"] == 0


def test_an_answer_without_a_name_gets_the_hint_for_answers(grader, student):
    student.register()
    student.send(RESULTS, {"n": 10, "Fn": 55})
    feedback = student.feedback()
    assert feedback["ok"] is False and feedback["total"] == 0
    assert 'the answer has no "name"' in feedback["message"] and '"Fn": F(n)' in feedback["message"]

"""Verdicts: pure functions of the message and what the store knows."""

from grader.live.checks import Action, Known, check_answer, check_registration, fibonacci
from grader.live.protocol import Answer, Registration

ADA = Registration("Ada Lovelace", "ada-lovelace")


def answer(n, fn):
    return Answer("Ada Lovelace", "ada-lovelace", n, fn)


def test_fibonacci_starts_at_zero_and_one_and_reaches_1000():
    assert [fibonacci(n) for n in range(8)] == [0, 1, 1, 2, 3, 5, 8, 13]
    assert fibonacci(30) == 832040
    assert len(str(fibonacci(1000))) == 209


def test_first_registration_scores_one_point_and_names_the_tasks_queue():
    verdict = check_registration(ADA, Known(), "summercamp")
    assert (verdict.ok, verdict.points, verdict.action) == (True, 1, Action.REGISTER)
    assert "summercamp.ada-lovelace" in verdict.message


def test_registering_again_scores_nothing_more():
    verdict = check_registration(ADA, Known(registered_as="Ada Lovelace"), "summercamp")
    assert (verdict.points, verdict.action) == (0, Action.NONE)
    assert "already registered" in verdict.message


def test_a_correct_answer_to_an_open_task_scores_one_point():
    verdict = check_answer(answer(30, 832040), Known("Ada Lovelace", task_dealt=True), "summercamp")
    assert (verdict.ok, verdict.points, verdict.action) == (True, 1, Action.SOLVE)


def test_a_wrong_answer_scores_nothing_and_does_not_reveal_the_right_value():
    verdict = check_answer(answer(30, 832041), Known("Ada Lovelace", task_dealt=True), "summercamp")
    assert (verdict.ok, verdict.points) == (False, 0)
    assert "832040" not in verdict.message and "F(30) is not" in verdict.message


def test_each_kind_of_answer_that_scores_nothing_has_its_own_sentence():
    sentences = {
        check_answer(answer(30, 832040), Known("Ada Lovelace", task_dealt=True, task_solved=True), "w").message,
        check_answer(answer(30, 832040), Known("Ada Lovelace", task_dealt=False), "w").message,
        check_answer(answer(30, 832040), Known(), "w").message,
        check_answer(answer(30, 1), Known("Ada Lovelace", task_dealt=True), "w").message,
    }
    assert len(sentences) == 4
    assert any("already scored" in s for s in sentences)
    assert any("No task with n=30" in s for s in sentences)
    assert any("not registered" in s for s in sentences)


def test_the_dealer_serves_newcomers_and_keeps_students_supplied():
    from grader.live.dealer import wanted

    open_tasks = {"new": (0, 0), "busy": (5, 3), "done": (5, 0), "low": (4, 1)}
    assert wanted(open_tasks, on_register=3, keep_open=0) == {"new": 3}
    assert wanted(open_tasks, on_register=3, keep_open=2) == {"new": 3, "done": 2, "low": 1}
    assert wanted(open_tasks, on_register=0, keep_open=0) == {}


def test_chat_exchanges_are_named_after_the_workshop_and_refuse_unknown_kinds():
    import pytest

    from grader.names import chat_exchange

    assert chat_exchange("summercamp", "all") == "summercamp.chat.all"
    with pytest.raises(ValueError, match="no chat exchange 'everyone'"):
        chat_exchange("summercamp", "everyone")

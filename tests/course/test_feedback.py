"""`workshop feedback` on real autograded submissions: the words of every failed check and the
student's own code, escaped, and never a line of the hidden tests."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from grader.course import feedback, graded
from grader.course.graded import Answer, Check, Exercise, Submission
from tests.course.graded_class import HOSTILE, LESSON, WRONG_BODY, hidden_test_lines
from tests.leaderboard.browser import chromium  # noqa: F401 - the browser fixture

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def pages(graded_class, tmp_path_factory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("feedback")
    written = feedback.feedback(graded_class.root, [LESSON], out)
    assert sorted(p.relative_to(out).as_posix() for p in written) == [
        f"{student}/{LESSON}/{LESSON}.html" for student in ("ada-lovelace", "bob", "cy")]
    return {path.parent.parent.name: path.read_text(encoding="utf-8") for path in written}


def text_of(page: str) -> str:
    return html.unescape(page)


@pytest.mark.slow
def test_a_partly_wrong_submission_reads_why_each_check_failed_beside_its_own_code(pages, graded_class):
    text = text_of(pages["bob"])
    assert graded_class.scores["bob"]["total"] == 3
    assert "3 of 7 points" in text
    # the hidden test's assert sentence, and the ✘ sentence of the visible check, in their own words
    assert "the body is b'Hello world', expected b'Hello World!'" in text
    assert ("`received` is [b'Hello world']: it should hold b'Hello World!' (was the message published, "
            "and did your callback append the body?)") in text
    assert WRONG_BODY in text  # the student's own code of the exercise
    assert "0 of 2 points" in text and "1 of 1 points" in text
    assert "Traceback" not in text and "AssertionError" not in text


@pytest.mark.slow
def test_no_line_of_the_hidden_tests_and_no_test_code_appears_on_any_page(pages):
    hidden = hidden_test_lines()
    for student, page in pages.items():
        text = text_of(page)
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{student}'s page shows hidden test code: {leaked}"
        assert "lab.expect(" not in text and "HIDDEN TESTS" not in text, f"{student}'s page shows a test cell"


@pytest.mark.slow
def test_what_the_student_wrote_is_escaped_and_the_page_has_no_script(pages):
    page = pages["bob"]
    assert HOSTILE not in page and "<script" not in page.lower()
    assert html.escape(HOSTILE, quote=True) in page
    assert "default-src 'none'" in html.unescape(page)  # the Content-Security-Policy: nothing loads, nothing runs
    assert re.findall(r"<[^>]*\s(?:src|href|on\w+)\s*=", page) == []  # no tag loads or runs anything


@pytest.mark.slow
def test_a_blank_submission_says_each_exercise_is_not_answered_yet(pages):
    text = text_of(pages["cy"])
    assert "0 of 7 points" in text
    assert text.count(graded.NOT_DONE) == 5
    assert "there is no variable `connection` yet: run your cell above" in text


@pytest.mark.slow
def test_a_correct_submission_says_every_check_passed_with_its_own_sentence(pages):
    text = text_of(pages["ada-lovelace"])
    assert "7 of 7 points" in text and "Every check passed." in text
    assert "connected to RabbitMQ, channel 1 is open" in text
    assert 'class="fail"' not in pages["ada-lovelace"]


@pytest.mark.slow
def test_the_page_renders_in_chromium_without_a_console_or_csp_error(pages, chromium, tmp_path):  # noqa: F811
    path = tmp_path / "bob.html"
    path.write_text(pages["bob"], encoding="utf-8")
    page = chromium.new_page()
    problems = []
    page.on("console", lambda message: message.type in ("error", "warning") and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(path.as_uri())
    assert page.locator("section.failed").count() == 2
    assert page.locator("section.failed details").first.get_attribute("open") is not None
    assert page.locator("body").evaluate("b => getComputedStyle(b).fontFamily").startswith("system-ui")
    assert problems == []
    page.close()


@pytest.mark.slow
def test_workshop_feedback_runs_from_the_checkout_without_an_activated_virtualenv(graded_class, tmp_path):
    environment = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PATH")}
    environment["PATH"] = "/usr/bin:/bin"
    workshop = Path(sys.executable).parent / "workshop"
    result = subprocess.run([str(workshop), "feedback", LESSON, "--course", str(graded_class.root),
                             "--out", str(tmp_path)], capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"wrote 3 feedback pages into {tmp_path}" in result.stdout
    assert (tmp_path / "cy" / LESSON / f"{LESSON}.html").exists()


@pytest.mark.slow
def test_a_mangled_autograded_notebook_still_gets_a_page_with_the_gradebooks_points(graded_class, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(graded_class.root, root)
    (root / "autograded" / "bob" / LESSON / f"{LESSON}.ipynb").write_text('{"cells": [', encoding="utf-8")
    [page] = feedback.feedback(root, [LESSON], tmp_path / "out")[1:2]
    text = text_of(page.read_text(encoding="utf-8"))
    assert graded.MISSING in text and "3 of 7 points" in text
    assert text.count("of 2 points") == 2 and "check-publish" in text


def cell_with_error(traceback: list[str], ename: str = "AssertionError", evalue: str = "") -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("")
    cell.outputs = [nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=traceback)]
    return cell


def test_a_broker_errors_sentence_is_shown_without_the_line_of_the_cell_it_quotes():
    hidden = ["probe = channel.queue_declare(queue='', exclusive=True)"]
    cell = cell_with_error(["\x1b[1;31m✘ The broker closed the channel (404 NOT_FOUND): declare it first.\x1b[0m"
                            f"\n  (in the cell, line 3: {hidden[0]})"], ename="ChannelClosedByBroker")
    assert graded._error(cell, hidden) == "The broker closed the channel (404 NOT_FOUND): declare it first."


def test_a_hidden_test_line_inside_an_error_message_is_blanked_out():
    hidden = ['assert message.body == b"Hello World!", "the body is %r" % message.body']
    cell = cell_with_error(["Traceback ...", f"----> 2 {hidden[0]}", "SyntaxError: ..."], ename="SyntaxError",
                           evalue=f"invalid syntax ({hidden[0]})")
    said = graded._error(cell, hidden)
    assert hidden[0] not in said and said == "SyntaxError: invalid syntax ([a line of the hidden test])"


def test_render_escapes_every_text_that_reaches_the_page():
    evil = '<img src=x onerror="alert(1)">'
    submission = Submission(evil, evil, "graded", 1, 3, [Exercise(evil, [Answer("a", "code", evil, evil)],
                                                                   [Check(evil, 2, 0, evil), Check("ok", 1, 1)])])
    page = feedback.render(submission)
    assert evil not in page and "<img" not in page and html.escape(evil) in page

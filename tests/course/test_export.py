"""`workshop export`: grades.csv holds exactly the gradebook's points, and the class overview
draws every exercise's score distribution (inline SVG) in Chromium without an error."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from grader.course import export, graded
from tests.course.graded_class import LESSON
from tests.leaderboard.browser import chromium  # noqa: F401 - the browser fixture

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def exported(graded_class, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export")
    assert export.export(graded_class.root, out) == [out / "grades.csv", out / "overview.html"]
    return out


def test_grades_csv_has_a_row_per_student_and_assignment_with_the_gradebooks_points(exported, graded_class):
    with (exported / "grades.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    graded_rows = [row for row in rows if row["status"] == "graded"]
    assert sorted(row["student"] for row in graded_rows) == ["ada-lovelace", "bob", "cy"]
    assert {row["assignment"] for row in rows} == {LESSON}  # only 01 was generated in this gradebook
    with Gradebook(graded.gradebook_url(graded_class.root), graded.course_id(graded_class.root)) as book:
        for row in graded_rows:
            submission = book.find_submission(LESSON, row["student"])
            assert float(row["score"]) == submission.score
            assert float(row["max_score"]) == submission.max_score
            cells = [grade for notebook in submission.notebooks for grade in notebook.grades]
            assert {f"{LESSON}:{grade.name}" for grade in cells} == {k for k in row if k.startswith(f"{LESSON}:")}
            for grade in cells:
                assert float(row[f"{LESSON}:{grade.name}"]) == grade.score, (row["student"], grade.name)
    totals = {row["student"]: float(row["score"]) for row in graded_rows}
    assert totals == {student: scores["total"] for student, scores in graded_class.scores.items()}


def test_the_spread_of_each_exercise_counts_all_some_and_none(graded_class):
    spreads = {s.grade_id: s for s in export.spreads(graded.read(graded_class.root))}
    assert list(spreads) == ["check-connect", "check-declare", "check-publish", "check-consume", "check-close"]
    assert (spreads["check-publish"].all, spreads["check-publish"].none) == (1, 2)  # only ada published right
    assert (spreads["check-close"].all, spreads["check-close"].none) == (2, 1)
    assert spreads["check-publish"].mean == pytest.approx(1 / 3)


def test_the_overview_draws_a_bar_per_exercise_in_chromium_without_a_console_or_csp_error(exported, chromium):  # noqa: F811
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    problems = []
    page.on("console", lambda message: message.type in ("error", "warning") and problems.append(message.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto((exported / "overview.html").as_uri())
    chart = page.locator("svg")
    assert chart.count() == 1 and chart.bounding_box()["width"] > 600
    assert page.locator("svg rect.all").count() == 5  # every exercise someone solved has a green part
    assert page.locator("svg rect.none").count() == 5  # and cy solved none
    assert page.get_by_text("Hardest:").count() == 1
    assert "check-publish" in page.locator("section").inner_text()
    assert requested == [(exported / "overview.html").as_uri()]
    assert problems == []
    page.close()


def test_workshop_export_runs_from_the_checkout_without_an_activated_virtualenv(graded_class, tmp_path):
    environment = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PATH")}
    environment["PATH"] = "/usr/bin:/bin"
    workshop = Path(sys.executable).parent / "workshop"
    result = subprocess.run([str(workshop), "export", "--course", str(graded_class.root), "--out", str(tmp_path)],
                            capture_output=True, text=True, env=environment, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(tmp_path / "grades.csv"), str(tmp_path / "overview.html")]

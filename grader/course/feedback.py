"""`workshop feedback`: a page per student and assignment that explains every failed check.

For every exercise: the points of each of its checks, the sentence of each failed check (the ✘
line the course prints, or the error's last line), and the student's own code. Never the test
cells' code, visible or hidden: nbgrader's own feedback shows the hidden tests
(jupyter/nbgrader#917, #1363); here they never leave `grader.course.graded`.

The pages go to `<out>/<student>/<assignment>/<assignment>.html` with the submission's
timestamp.txt and submission_secret.txt: nbgrader's feedback layout, so `nbgrader release_feedback`
hands them out through the exchange (the course's notebooks are named after their assignments).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from grader.course import graded
from grader.course.graded import Exercise, Submission
from grader.course.pages import esc, page, points

BESIDE = ("timestamp.txt", "submission_secret.txt")  # what `nbgrader release_feedback` reads beside a page


def feedback(course_dir: Path, assignments: list[str] | None = None, out: Path | None = None, *,
             gradebook: str | None = None) -> list[Path]:
    """Write a page for every graded submission (of `assignments`, default all) and return their
    paths. `gradebook`: a SQLAlchemy URL, when it is not the course's gradebook.db."""
    out = out if out is not None else course_dir / "feedback"
    written = []
    for submission in graded.read(course_dir, assignments, gradebook=gradebook):
        if submission.status in ("not submitted", "not graded"):
            continue
        folder = out / submission.student / submission.assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{submission.assignment}.html"
        path.write_text(render(submission), encoding="utf-8")
        graded_folder = course_dir / "autograded" / submission.student / submission.assignment
        for name in BESIDE:
            if (graded_folder / name).is_file():
                shutil.copyfile(graded_folder / name, folder / name)
        written.append(path)
    return written


def render(submission: Submission) -> str:
    """The page of one submission (pure: the submission in, HTML out)."""
    manual = submission.status == "needs manual grading"
    head = (f"<header><h1>{esc(submission.assignment)}</h1>\n"
            f'<p class="who">Feedback for <b>{esc(submission.student)}</b>: '
            f"{points(submission.score)} of {points(submission.max_score)} points"
            f"{' so far (some answers are still graded by hand)' if manual else ''}.</p></header>")
    failed = sum(check.failed for check in submission.checks)
    summary = (f'<p class="note">{failed} of {len(submission.checks)} checks did not pass; each says why below, '
               "under your code. Run the notebook again from the top after a change: the same checks run "
               "as you go.</p>" if failed else '<p class="note">Every check passed.</p>')
    sections = "\n".join(_exercise(exercise) for exercise in submission.exercises)
    return page(f"{submission.assignment}: feedback for {submission.student}",
                f"{head}\n<main>\n{summary}\n{sections}\n</main>")


def _exercise(exercise: Exercise) -> str:
    got = [c.score for c in exercise.checks]
    most = sum(c.max_score for c in exercise.checks)
    pending = any(score is None for score in got)
    failed = any(c.failed for c in exercise.checks)
    state = "failed" if failed else "pending" if pending else "passed"
    total = "–" if pending and not failed else points(sum(score or 0 for score in got))
    lines = [f'<section class="{state}">',
             f'<h2>{esc(exercise.title)} <span class="points">{total} / {points(most)}</span></h2>']
    if exercise.answers:
        lines.append(f"<details{' open' if failed else ''}><summary>your code</summary>")
        for answer in exercise.answers:
            lines.append(f'<pre><code>{esc(answer.source.strip()) or "(empty)"}</code></pre>')
            if answer.error:
                lines.append(f'<p class="raised">it raised: {esc(answer.error)}</p>')
        lines.append("</details>")
    lines.append('<ul class="checks">')
    for check in exercise.checks:
        mark = "wait" if check.score is None else "fail" if check.failed else "ok"
        said = check.message if check.failed else "; ".join(check.passed)
        if check.score is None:
            said = "graded by hand; not graded yet"
        lines.append(f'<li class="{mark}"><b>{esc(check.grade_id)}</b>: '
                     f"{points(check.score)} of {points(check.max_score)} points"
                     + (f'<span class="message">{esc(said)}</span>' if said else "") + "</li>")
    lines += ["</ul>", "</section>"]
    return "\n".join(lines)

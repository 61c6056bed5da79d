"""`workshop export`: the gradebook as `grades.csv`, and a class overview page whose chart shows,
for every exercise, how many students got all, some or none of its points: the exercise the class
found hard stands out at a glance.

grades.csv has a row per student and assignment (every student of the gradebook, with a status
when there is nothing graded), the total and its maximum, and a column per graded cell,
`<assignment>:<grade_id>`, empty where the row's assignment has no such cell or nothing is graded.
The chart is inline SVG drawn here; the page has no script.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from grader.course import graded
from grader.course.graded import Submission
from grader.course.pages import esc, page, points

FIXED = ["student", "assignment", "status", "score", "max_score"]
GRADED = ("graded", "needs manual grading")
COLOURS = {"all": "#2f9e44", "some": "#f59f00", "none": "#d9480f"}


@dataclass(frozen=True)
class Spread:
    """How the class did on one check: students with all, some or none of its points."""

    assignment: str
    grade_id: str
    title: str
    max_score: float
    all: int
    some: int
    none: int
    mean: float  # mean fraction of its points, 0 to 1

    @property
    def students(self) -> int:
        return self.all + self.some + self.none


def export(course_dir: Path, out: Path | None = None, assignments: list[str] | None = None, *,
           gradebook: str | None = None) -> list[Path]:
    """Write `<out>/grades.csv` and `<out>/overview.html` (default out: `<course>/export`)."""
    out = out if out is not None else course_dir / "export"
    submissions = graded.read(course_dir, assignments, gradebook=gradebook)
    out.mkdir(parents=True, exist_ok=True)
    csv_path, page_path = out / "grades.csv", out / "overview.html"
    csv_path.write_text(grades_csv(submissions), encoding="utf-8")
    page_path.write_text(overview(submissions), encoding="utf-8")
    return [csv_path, page_path]


def columns(submissions: list[Submission]) -> list[str]:
    seen: dict[str, None] = {}
    for submission in submissions:
        for check in submission.checks:
            seen[f"{submission.assignment}:{check.grade_id}"] = None
    return FIXED + list(seen)


def grades_csv(submissions: list[Submission]) -> str:
    text = io.StringIO()
    writer = csv.DictWriter(text, columns(submissions), lineterminator="\n")
    writer.writeheader()
    for submission in submissions:
        row = {"student": submission.student, "assignment": submission.assignment, "status": submission.status,
               "score": _number(submission.score), "max_score": _number(submission.max_score)}
        for check in submission.checks:
            row[f"{submission.assignment}:{check.grade_id}"] = "" if check.score is None else _number(check.score)
        writer.writerow(row)
    return text.getvalue()


def _number(value: float) -> str:
    return repr(float(value))


def spreads(submissions: list[Submission]) -> list[Spread]:
    """Every check of every assignment, in course order, over the submissions graded."""
    found: dict[tuple[str, str], dict] = {}
    for submission in submissions:
        for exercise in submission.exercises:
            for check in exercise.checks:
                entry = found.setdefault((submission.assignment, check.grade_id),
                                         {"title": exercise.title, "max": check.max_score, "scores": []})
                if entry["title"] == graded.MISSING:  # one mangled notebook does not name it for the class
                    entry["title"] = exercise.title
                if submission.status in GRADED and check.score is not None:
                    entry["scores"].append(check.score)
    result = []
    for (assignment, grade_id), entry in found.items():
        most, scores = entry["max"], entry["scores"]
        full = sum(score >= most for score in scores)
        none = sum(score <= 0 for score in scores) if most > 0 else 0
        mean = sum(min(score / most, 1.0) for score in scores) / len(scores) if scores and most > 0 else 0.0
        result.append(Spread(assignment, grade_id, entry["title"], most, full, len(scores) - full - none, none, mean))
    return result


def overview(submissions: list[Submission]) -> str:
    """The class overview page (pure: submissions in, HTML out)."""
    body = ["<header><h1>Class overview</h1>",
            '<p class="who">How the class did on every check of every assignment: '
            "green got all its points, amber some, red none. The hardest exercise of each assignment is named "
            "under its chart.</p></header>", "<main>"]
    by_assignment: dict[str, list[Spread]] = {}
    for spread in spreads(submissions):
        by_assignment.setdefault(spread.assignment, []).append(spread)
    for assignment, rows in by_assignment.items():
        mine = [s for s in submissions if s.assignment == assignment]
        done = [s for s in mine if s.status in GRADED]
        body.append(f"<section><h2>{esc(assignment)}</h2>")
        if not done:
            body.append(f'<p class="note">Nothing graded yet ({len(mine)} students in the gradebook).</p></section>')
            continue
        mean = sum(s.score for s in done) / len(done)
        body.append(f'<p class="note">{len(done)} of {len(mine)} students graded; mean {mean:.1f} of '
                    f"{points(done[0].max_score)} points.</p>")
        body.append(chart(rows))
        lowest = min(spread.mean for spread in rows)
        hardest = [spread for spread in rows if spread.mean <= lowest + 1e-9]
        names = " and ".join(f"<b>{esc(h.title)}</b> ({esc(h.grade_id)})" for h in hardest)
        nobody = {(h.none, h.students) for h in hardest}
        none = f"; {hardest[0].none} of {hardest[0].students} students got none" if len(nobody) == 1 else ""
        body.append(f"<p>Hardest: {names}, {lowest:.0%} of the points on average{none}.</p>")
        body.append(_table(rows))
        body.append("</section>")
    body.append("</main>")
    return page("Class overview", "\n".join(body))


def _table(rows: list[Spread]) -> str:
    lines = ["<table><thead><tr><th>check</th><th>points</th><th>all</th><th>some</th><th>none</th>"
             "<th>mean</th></tr></thead><tbody>"]
    for row in rows:
        lines.append(f"<tr><td>{esc(row.title)} ({esc(row.grade_id)})</td><td>{points(row.max_score)}</td>"
                     f"<td>{row.all}</td><td>{row.some}</td><td>{row.none}</td><td>{row.mean:.0%}</td></tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


WIDTH, LABEL, BAR, ROW = 900, 320, 470, 30


def chart(rows: list[Spread]) -> str:
    """A horizontal stacked bar per check: the share of students with all, some and none of its
    points, and the class's mean on the right. Inline SVG, every text escaped."""
    top = 26
    height = top + ROW * len(rows) + 34
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
             f'height="{height}" role="img" aria-label="score distribution per exercise" '
             'font-family="system-ui, sans-serif" font-size="13">']
    for tick in range(0, 101, 25):
        x = LABEL + BAR * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{top + ROW * len(rows)}" '
                     'stroke="#d5dbe3" stroke-width="1"/>')
        parts.append(f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" fill="#4a5868">{tick}%</text>')
    for index, row in enumerate(rows):
        y = top + ROW * index
        label = row.title if len(row.title) <= 44 else row.title[:43] + "…"
        parts.append(f'<text x="{LABEL - 8}" y="{y + 19}" text-anchor="end" fill="#1d2733">{esc(label)}'
                     f"<title>{esc(row.title)} ({esc(row.grade_id)})</title></text>")
        x = float(LABEL)
        for kind in ("all", "some", "none"):
            count = getattr(row, kind)
            width = BAR * count / row.students if row.students else 0
            if width > 0:
                parts.append(f'<rect class="{kind}" x="{x:.1f}" y="{y + 5}" width="{width:.1f}" height="20" '
                             f'fill="{COLOURS[kind]}"><title>{count} of {row.students} students: '
                             f"{kind} of its points</title></rect>")
            x += width
        parts.append(f'<text x="{LABEL + BAR + 10}" y="{y + 19}" fill="#1d2733">mean {row.mean:.0%}</text>')
    legend_y = top + ROW * len(rows) + 22
    for offset, (kind, words) in enumerate((("all", "all points"), ("some", "some"), ("none", "none"))):
        x = LABEL + offset * 120
        parts.append(f'<rect x="{x}" y="{legend_y - 11}" width="12" height="12" fill="{COLOURS[kind]}"/>'
                     f'<text x="{x + 18}" y="{legend_y}" fill="#4a5868">{words}</text>')
    parts.append("</svg>")
    return "\n".join(parts)

"""What `workshop autograde` shows: a progress bar while the batch runs, a table of every submission after."""

from __future__ import annotations

import contextlib

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grader.course.batch import Row


@contextlib.contextmanager
def progress_bar(console: Console):
    """(on_start, on_row) callbacks for `autograde()`, drawing one bar on `console`."""
    bar = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   TextColumn("{task.description}"), console=console, transient=True)
    task = {}

    def on_start(total, workers, batch):
        task["id"] = bar.add_task(f"{len(workers)} local workers", total=total)

    def on_row(row: Row, done: int, total: int):
        bar.update(task["id"], completed=done, description=f"{row.assignment} {row.student}: {row.status}")

    with bar:
        yield on_start, on_row


def table(rows: list[Row]) -> Table:
    shown = Table(title=f"{sum(r.status == 'graded' for r in rows)} graded, "
                        f"{sum(r.status != 'graded' for r in rows)} failed")
    for column, justify in (("assignment", "left"), ("student", "left"), ("status", "left"), ("score", "right"),
                            ("time", "right"), ("reason", "left")):
        shown.add_column(column, justify=justify, overflow="fold")
    for row in rows:
        score = "" if row.score is None else f"{row.score:g} / {row.max_score:g}"
        style = None if row.status == "graded" else "red"
        shown.add_row(row.assignment, row.student, row.status, score, f"{row.seconds:.1f} s", row.reason, style=style)
    return shown

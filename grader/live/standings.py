"""Reading the scores for the leaderboard: the ranking, the score-over-time of the top ten, CSV.

Ranking: most points first; equal points go to whoever reached that score first.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timezone

from sqlalchemy import select

from grader.live.store import Store, students, tasks, verdicts

COLUMNS = ["rank", "name", "points", "register", "fibonacci", "chat", "first_solver", "reached_at"]


def leaderboard(store: Store) -> list[dict]:
    """One row per student, ranked."""
    query = (select(students).where(students.c.workshop == store.workshop)
             .order_by(students.c.points.desc(), students.c.reached_at, students.c.slug))
    first = (select(tasks.c.slug).where(tasks.c.workshop == store.workshop, tasks.c.solved_at.is_not(None))
             .order_by(tasks.c.solved_at, tasks.c.id).limit(1))
    with store.engine.connect() as connection:
        first_solver = connection.scalar(first)
        rows = connection.execute(query).mappings().all()
    return [
        {"rank": rank, "name": row["name"], "slug": row["slug"], "points": row["points"],
         "register": row["register_points"], "fibonacci": row["fibonacci_points"], "chat": row["chat_points"],
         "first_solver": row["slug"] == first_solver, "reached_at": row["reached_at"]}
        for rank, row in enumerate(rows, start=1)
    ]


def history(store: Store, slugs: list[str], *, max_points: int = 120,
            until: int | None = None) -> dict[str, list[list[float]]]:
    """For each slug, [time, points] after every scoring verdict (thinned to `max_points`), of the
    verdicts up to id `until` when given."""
    if not slugs:
        return {}
    query = (select(verdicts.c.slug, verdicts.c.at, verdicts.c.total)
             .where(verdicts.c.workshop == store.workshop, verdicts.c.points > 0, verdicts.c.slug.in_(slugs))
             .order_by(verdicts.c.at, verdicts.c.id))
    if until is not None:
        query = query.where(verdicts.c.id <= until)
    series: dict[str, list[list[float]]] = defaultdict(list)
    with store.engine.connect() as connection:
        for slug, at, total in connection.execute(query):
            series[slug].append([round(at, 3), total])
    return {slug: _thin(points, max_points) for slug, points in series.items()}


def _thin(points: list, limit: int) -> list:
    if len(points) <= limit:
        return points
    step = len(points) / (limit - 1)
    kept = [points[int(i * step)] for i in range(limit - 1)]
    return kept + [points[-1]]


def snapshot(store: Store, *, top: int = 10) -> dict:
    """What the page shows: the ranking and the score-over-time of the top `top`."""
    rows = leaderboard(store)
    leaders = [row["slug"] for row in rows[:top]]
    return {"workshop": store.workshop, "rows": rows, "history": history(store, leaders)}


def to_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        reached = datetime.fromtimestamp(row["reached_at"], timezone.utc).isoformat(timespec="seconds")
        writer.writerow([row["rank"], _cell(row["name"]), row["points"], row["register"], row["fibonacci"],
                         row["chat"], "yes" if row["first_solver"] else "", reached])
    return out.getvalue()


def _cell(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: keep names as text."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text

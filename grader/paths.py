"""Where the course lives in a checkout (or in the project's Docker image)."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "course"
NOTEBOOKS = REPO / "notebooks"
SOLUTIONS = REPO / "solutions"
DOCS = REPO / "docs"
# What the lessons point to, copied beside a student's notebooks: {folder or file there: source}
REFERENCES = {"solutions": SOLUTIONS, "docs": DOCS / "protocol.md"}

"""Fixtures shared by the course's test modules."""

from tests.course.graded_class import graded_class  # noqa: F401 - one graded class for feedback and export

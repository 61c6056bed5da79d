"""Accounts for a room test: `workshop provision` of a small roster on the test's vhost."""

from __future__ import annotations

import secrets
from contextlib import contextmanager

from grader.classroom import provision
from grader.settings import Settings


@contextmanager
def provisioned(vhost, folder, prefix: str, students: list[str]):
    """(settings, accounts) for `students` (a random tag appended to each name, so that two tests
    never share a broker user) and an instructor, in workshop `<prefix>-<tag>`; torn down after."""
    tag = secrets.token_hex(3)
    settings = Settings(rabbitmq_url=vhost.url, management_url=vhost.management_url, workshop=f"{prefix}-{tag}")
    roster = folder / "roster.csv"
    roster.write_text("name\n" + "".join(f"{name} {tag}\n" for name in students), encoding="utf-8")
    out = folder / "accounts"
    report = provision.provision(settings, roster, out, instructor=f"teacher-{tag}")
    try:
        yield settings, report.accounts
    finally:
        provision.teardown(settings, out)

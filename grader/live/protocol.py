"""Decoding and validating what students send (protocol version 1). Pure: bytes in, data out.

A message that breaks the protocol raises `Rejected` with a sentence for the student; the
grader then dead-letters it to `W.rejected` with that sentence in a header.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from grader.live.identity import BadName, clean_name, student_id

MAX_BODY_BYTES = 64 * 1024
MIN_N, MAX_N = 5, 1000
MAX_FN_DIGITS = 1000

REGISTER = "register"
FIBONACCI = "fibonacci"


class Rejected(ValueError):
    """The message can never be graded; `str()` says why, for the student. `student`: the id of
    the registered name the message was signed with, when it got that far (for the feedback's total)."""

    def __init__(self, reason: str, student: str | None = None):
        super().__init__(reason)
        self.student = student


@dataclass(frozen=True)
class Registration:
    name: str
    slug: str


@dataclass(frozen=True)
class Answer:
    name: str
    slug: str
    n: int
    fn: int


def decode(body: bytes) -> dict:
    """The JSON object in `body`, or `Rejected`."""
    if len(body) > MAX_BODY_BYTES:
        raise Rejected(f"the message is {len(body)} bytes; the limit is {MAX_BODY_BYTES} bytes (64 KiB)")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected("the body is not UTF-8 text: send JSON, for example json.dumps({...}).encode()") from None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Rejected(f"the body is not valid JSON: {_preview(text)}") from None
    if not isinstance(value, dict):
        raise Rejected(f"the body must be a JSON object like {{\"name\": ...}}, not {type(value).__name__}")
    return value


def registration(body: bytes) -> Registration:
    """A `{"name": ...}` message to the `name` queue."""
    return Registration(*_name(decode(body)))


def answer(body: bytes) -> Answer:
    """A `{"n": n, "Fn": F(n), "name": ...}` message to `W.results`."""
    data = decode(body)
    name, slug = _name(data, ANSWER_EXAMPLE)
    try:
        n = data.get("n")
        if "n" not in data:
            raise Rejected(f'the answer has no "n": send {ANSWER_EXAMPLE}')
        if isinstance(n, bool) or not isinstance(n, int):
            raise Rejected(f'"n" must be a whole number, not {_json_preview(n)}')
        if not MIN_N <= n <= MAX_N:
            raise Rejected(f'"n" is {n}; tasks have {MIN_N} <= n <= {MAX_N}')
        if "Fn" not in data:
            raise Rejected(f'the answer has no "Fn": send {ANSWER_EXAMPLE}')
        return Answer(name, slug, n, _fn(data["Fn"]))
    except Rejected as exc:
        raise Rejected(str(exc), student=slug) from None


ANSWER_EXAMPLE = '{"n": n, "Fn": F(n), "name": "Your Name"} with the name you registered'
REGISTRATION_EXAMPLE = '{"name": "Your Name"}'


def _name(data: dict, example: str = REGISTRATION_EXAMPLE) -> tuple[str, str]:
    """The trimmed name and its student id (`grader.live.identity`)."""
    if "name" not in data:
        kind = "message" if example == REGISTRATION_EXAMPLE else "answer"
        raise Rejected(f'the {kind} has no "name": send {example}')
    name = data["name"]
    if not isinstance(name, str):
        raise Rejected(f'"name" must be a string, not {type(name).__name__}')
    try:
        name = clean_name(name)
        return name, student_id(name)
    except BadName as exc:
        raise Rejected(str(exc)) from None


def _fn(value: object) -> int:
    if isinstance(value, bool):
        raise Rejected('"Fn" must be a whole number or a string of digits, not true/false')
    if isinstance(value, int):
        if value < 0 or len(str(value)) > MAX_FN_DIGITS:
            raise Rejected(f'"Fn" must be a non-negative number of at most {MAX_FN_DIGITS} digits')
        return value
    if isinstance(value, str):
        digits = value.strip()
        if not digits.isascii() or not digits.isdigit():
            raise Rejected(f'"Fn" must be a whole number or a string of decimal digits, not {_json_preview(value)}')
        if len(digits) > MAX_FN_DIGITS:
            raise Rejected(f'"Fn" has {len(digits)} digits; the limit is {MAX_FN_DIGITS}')
        return int(digits)
    raise Rejected(f'"Fn" must be a whole number or a string of digits, not {type(value).__name__}')


def _preview(text: str, limit: int = 40) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(text)


def _json_preview(value: object, limit: int = 40) -> str:
    """`value` as the student wrote it in JSON, cut to `limit` characters: "10" for a string."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"

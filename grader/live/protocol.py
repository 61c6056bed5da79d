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
    """The message can never be graded; `str()` says why, for the student."""


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
    name, slug = _name(data)
    n = data.get("n")
    if "n" not in data:
        raise Rejected('the answer has no "n": send {"n": n, "Fn": F(n), "name": your name}')
    if isinstance(n, bool) or not isinstance(n, int):
        raise Rejected(f'"n" must be a whole number, not {_preview(json.dumps(n))}')
    if not MIN_N <= n <= MAX_N:
        raise Rejected(f'"n" is {n}; tasks have {MIN_N} <= n <= {MAX_N}')
    if "Fn" not in data:
        raise Rejected('the answer has no "Fn": send {"n": n, "Fn": F(n), "name": your name}')
    return Answer(name, slug, n, _fn(data["Fn"]))


def _name(data: dict) -> tuple[str, str]:
    """The trimmed name and its student id (`grader.live.identity`)."""
    if "name" not in data:
        raise Rejected('the message has no "name": send {"name": "Your Name"}')
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
            raise Rejected(f'"Fn" must be a whole number or a string of decimal digits, not {_preview(value)}')
        if len(digits) > MAX_FN_DIGITS:
            raise Rejected(f'"Fn" has {len(digits)} digits; the limit is {MAX_FN_DIGITS}')
        return int(digits)
    raise Rejected(f'"Fn" must be a whole number or a string of digits, not {type(value).__name__}')


def _preview(text: str, limit: int = 40) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(text)

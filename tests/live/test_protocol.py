"""Decoding and validating student messages (pure: no broker)."""

import json

import pytest

from grader.live import protocol
from grader.live.identity import student_id
from grader.live.protocol import Rejected


def body(value) -> bytes:
    return json.dumps(value).encode()


def test_a_name_is_trimmed_and_slugged():
    registration = protocol.registration(body({"name": "  Ada Lovelace "}))
    assert (registration.name, registration.slug) == ("Ada Lovelace", "ada-lovelace")


@pytest.mark.parametrize(("name", "slug"), [
    ("Ada Lovelace", "ada-lovelace"), ("Zoë  O'Brien", "zoe-o-brien"), ("R2-D2", "r2-d2"),
    ("<img src=x onerror=alert(1)>", "img-src-x-onerror-alert-1"),
])
def test_slugs_are_lowercase_letters_digits_and_dashes(name, slug):
    assert student_id(name) == slug == protocol.registration(body({"name": name})).slug


@pytest.mark.parametrize(("value", "reason"), [
    ({}, 'no "name"'),
    ({"name": 42}, '"name" must be a string'),
    ({"name": "   "}, "1 to 40 characters"),
    ({"name": "x" * 41}, "1 to 40 characters"),
    ({"name": "line\nbreak"}, "printable"),
    ({"name": "!!!"}, "at least one letter or digit"),
    ({"name": "Аda Lovelace"}, "mixes letters of the scripts Cyrillic"),
])
def test_bad_names_are_rejected_with_the_reason(value, reason):
    with pytest.raises(Rejected, match=reason):
        protocol.registration(body(value))


@pytest.mark.parametrize(("raw", "reason"), [
    (b"\xff\xfe", "not UTF-8"),
    (b"Ada", "not valid JSON"),
    (b'["Ada"]', "must be a JSON object"),
    (b"[" * 100_000 + b"]" * 100_000, "64 KiB"),
    (b"[" * 30_000 + b"]" * 30_000, "not valid JSON"),  # too deep for the parser
])
def test_undecodable_bodies_are_rejected(raw, reason):
    with pytest.raises(Rejected, match=reason):
        protocol.decode(raw)


def test_an_answer_accepts_fn_as_an_integer_or_a_string_of_digits():
    assert protocol.answer(body({"n": 10, "Fn": 55, "name": "Ada"})).fn == 55
    big = protocol.answer(body({"n": 1000, "Fn": "4" * 209, "name": "Ada"}))
    assert (big.n, big.fn, big.slug) == (1000, int("4" * 209), "ada")


@pytest.mark.parametrize(("value", "reason"), [
    ({"Fn": 5, "name": "Ada"}, 'no "n"'),
    ({"n": "10", "Fn": 55, "name": "Ada"}, '"n" must be a whole number'),
    ({"n": True, "Fn": 55, "name": "Ada"}, '"n" must be a whole number'),
    ({"n": 10.0, "Fn": 55, "name": "Ada"}, '"n" must be a whole number'),
    ({"n": 4, "Fn": 3, "name": "Ada"}, "5 <= n <= 1000"),
    ({"n": 1001, "Fn": 3, "name": "Ada"}, "5 <= n <= 1000"),
    ({"n": 10, "name": "Ada"}, 'no "Fn"'),
    ({"n": 10, "Fn": "5x", "name": "Ada"}, "decimal digits"),
    ({"n": 10, "Fn": "1" * 1001, "name": "Ada"}, "limit is 1000"),
    ({"n": 10, "Fn": -55, "name": "Ada"}, "non-negative"),
    ({"n": 10, "Fn": 55.0, "name": "Ada"}, "whole number"),
    ({"n": 10, "Fn": None, "name": "Ada"}, "whole number"),
    ({"n": 10, "Fn": 55}, 'no "name"'),
])
def test_malformed_answers_are_rejected_with_the_reason(value, reason):
    with pytest.raises(Rejected, match=reason):
        protocol.answer(body(value))


def test_a_value_of_the_wrong_type_is_quoted_once_as_the_student_wrote_it():
    with pytest.raises(Rejected) as string_n:
        protocol.answer(body({"n": "10", "Fn": 55, "name": "Ada"}))
    assert str(string_n.value) == '"n" must be a whole number, not "10"'
    with pytest.raises(Rejected) as float_n:
        protocol.answer(body({"n": 10.5, "Fn": 55, "name": "Ada"}))
    assert str(float_n.value) == '"n" must be a whole number, not 10.5'
    with pytest.raises(Rejected) as letters:
        protocol.answer(body({"n": 10, "Fn": "5x", "name": "Ada"}))
    assert str(letters.value).endswith('not "5x"')


def test_an_answer_without_a_name_is_told_what_an_answer_looks_like():
    with pytest.raises(Rejected) as nameless:
        protocol.answer(body({"n": 10, "Fn": 55}))
    reason = str(nameless.value)
    assert reason.startswith('the answer has no "name"') and '"n": n, "Fn": F(n), "name"' in reason
    assert nameless.value.student is None
    with pytest.raises(Rejected) as unregistered:
        protocol.registration(body({}))
    assert str(unregistered.value) == 'the message has no "name": send {"name": "Your Name"}'


def test_a_rejected_answer_knows_who_signed_it_once_the_name_is_read():
    with pytest.raises(Rejected) as bad_n:
        protocol.answer(body({"n": 3, "Fn": 2, "name": " Ada Lovelace "}))
    assert bad_n.value.student == "ada-lovelace"
    with pytest.raises(Rejected) as bad_name:
        protocol.answer(body({"n": 10, "Fn": 55, "name": 7}))
    assert bad_name.value.student is None

"""Student ids from names in any script, and the names refused (pure: no broker)."""

import re
import unicodedata

import pytest
from fontTools import unicodedata as scripts
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from grader.live.identity import MAX_ID_CHARS, MAX_NAME_CHARS, BadName, clean_name, student_id

ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def letters(script: str, first: int, last: int, categories: str = "LlLo") -> str:
    """The letters of `script` between two code points, of the given general categories."""
    found = (chr(code) for code in range(first, last + 1))
    return "".join(char for char in found if unicodedata.category(char) in categories
                   and scripts.script(char) == script and char == unicodedata.normalize("NFKC", char))


ALPHABETS = {  # lowercase or uncased letters only: two different strings are two different names
    "Latin": letters("Latn", 0x61, 0x24F, "Ll"),
    "Cyrillic": letters("Cyrl", 0x400, 0x4FF, "Ll"),
    "Greek": letters("Grek", 0x370, 0x3FF, "Ll"),
    "Han": letters("Hani", 0x4E00, 0x9FFF),
    "Hiragana": letters("Hira", 0x3041, 0x309F),
    "Hangul": letters("Hang", 0xAC00, 0xD7A3),
    "Arabic": letters("Arab", 0x620, 0x64A),
    "Hebrew": letters("Hebr", 0x5D0, 0x5EA),
    "Devanagari": letters("Deva", 0x900, 0x97F),
    "Thai": letters("Thai", 0xE00, 0xE7F),
}
NON_LATIN = [name for name in ALPHABETS if name != "Latin"]


def names_in(alphabet: str, words: int = 3):
    word = st.text(alphabet, min_size=1, max_size=8)
    return st.lists(word, min_size=1, max_size=words).map(" ".join).filter(lambda name: len(name) <= MAX_NAME_CHARS)


any_script_name = st.sampled_from(sorted(ALPHABETS)).flatmap(lambda script: names_in(ALPHABETS[script]))


def accepted(name: str) -> str | None:
    try:
        return student_id(name)
    except BadName:
        return None


@pytest.mark.parametrize(("name", "expected"), [
    ("Ada Lovelace", "ada-lovelace"), ("  ada  LOVELACE ", "ada-lovelace"), ("Zoë  O'Brien", "zoe-o-brien"),
    ("Zoe\u0308", "zoe"), ("R2-D2", "r2-d2"), ("<img src=x onerror=alert(1)>", "img-src-x-onerror-alert-1"),
    ("Łukasz Straße", "lukasz-strasse"), ("Ada ☃", "ada"), ("123", "123"),
])
def test_latin_names_keep_their_slug(name, expected):
    assert student_id(name) == expected


@pytest.mark.parametrize(("name", "start"), [
    ("Иван Петров", "ivan-petrov-"), ("Αλέξανδρος", "alexandros-"), ("李雷", "li-lei-"), ("山田　太郎", "shan-tian-tai-lang-"),
    ("さくら", "sakura-"), ("김민준", "gim-min-jun-"), ("محمد", "mhmd-"), ("דוד", "dvd-"), ("राम", "ram-"),
    ("สมชาย", "smchay-"), ("李雷 Li", "li-lei-li-"), ("山田 ハナ", "shan-tian-hana-"), ("١٢٣", "123-"),
])
def test_names_in_other_scripts_are_accepted_with_a_suffix(name, start):
    found = student_id(name)
    assert found.startswith(start) and re.fullmatch(r"[0-9][a-z2-7]{7}", found[len(start):]), found


def test_names_that_read_the_same_in_ascii_stay_apart():
    assert student_id("李雷") != student_id("黎雷")
    assert student_id("李雷 1") != student_id("王芳 1")
    assert student_id("١٢٣") != student_id("123")


def test_a_latin_name_cannot_take_a_hashed_id():
    taken = student_id("李雷")  # li-lei-<suffix>
    assert student_id(taken) != taken and student_id(taken.replace("-", " ").upper()) != taken


def test_a_long_id_is_cut_and_suffixed():
    found = student_id("㎯" * MAX_NAME_CHARS)  # 240 characters after NFKC
    assert len(found) <= MAX_ID_CHARS and ID.match(found)
    assert student_id("a" * 40) == "a" * 40
    assert found != student_id("㎯" * (MAX_NAME_CHARS - 1))


@pytest.mark.parametrize(("name", "scripts_named"), [
    ("Аda Lovelace", ["Cyrillic", "Latin"]),  # Cyrillic А
    ("Ρaul", ["Greek", "Latin"]),  # Greek Rho
    ("Ada Lovelacе", ["Cyrillic", "Latin"]),  # Cyrillic е at the end
    ("Grace Hoppеr", ["Cyrillic", "Latin"]),
    ("Ivan Пetrov", ["Cyrillic", "Latin"]),
    ("Иван Πетров", ["Cyrillic", "Greek"]),
    ("ΑΒΓ Ада", ["Cyrillic", "Greek"]),
    ("Ada ١", ["Arabic", "Latin"]),
    ("김 さくら", ["Hangul", "Hiragana"]),
])
def test_names_that_mix_scripts_are_refused_with_a_sentence(name, scripts_named):
    with pytest.raises(BadName, match="mixes letters of the scripts") as refused:
        student_id(name)
    assert all(script in str(refused.value) for script in scripts_named), refused.value
    assert str(refused.value).endswith("write all its letters in one script")


@pytest.mark.parametrize(("name", "reason"), [
    ("   ", "1 to 40 characters"), ("x" * 41, "1 to 40 characters"), ("line\nbreak", "printable"),
    ("!!!", "at least one letter or digit"), ("☃☃", "at least one letter or digit"),
])
def test_other_bad_names_are_refused(name, reason):
    with pytest.raises(BadName, match=reason):
        student_id(name)


def test_the_name_is_kept_as_typed_but_trimmed_and_composed():
    assert clean_name("  Zoe\u0308 ") == "Zoë"
    assert clean_name("山田\u3000太郎") == "山田\u3000太郎"  # an ideographic space is fine inside a name


@settings(max_examples=500)
@given(st.text(max_size=60))
@example("㎯" * 40)
@example("\u0958" * 40)  # DEVANAGARI LETTER QA: two code points after NFC
def test_any_text_is_refused_or_gives_a_valid_short_id(name):
    try:
        found = student_id(name)
    except BadName as refused:
        assert str(refused)
        return
    assert ID.match(found) and len(found) <= MAX_ID_CHARS
    assert len(clean_name(name)) <= MAX_NAME_CHARS


@pytest.mark.parametrize("script", sorted(ALPHABETS))
@settings(max_examples=50)
@given(data=st.data())
def test_names_in_each_script_are_accepted(script, data):
    name = data.draw(names_in(ALPHABETS[script]))
    found = student_id(name)
    assert ID.match(found) and len(found) <= MAX_ID_CHARS


@settings(max_examples=300)
@given(any_script_name, st.sampled_from(["upper", "lower", "title", "spaces", "nfd", "nfkd"]))
def test_the_same_name_typed_otherwise_is_the_same_student(name, variant):
    other = {
        "upper": name.upper(), "lower": name.lower(), "title": name.title(),
        "spaces": "  " + name.replace(" ", "   ") + " ", "nfd": unicodedata.normalize("NFD", name),
        "nfkd": unicodedata.normalize("NFKD", name),
    }[variant]
    assume(len(clean_name_or_none(other) or "") > 0)
    assert student_id(other) == student_id(name)


def clean_name_or_none(name):
    try:
        return clean_name(name)
    except BadName:
        return None


@settings(max_examples=300)
@given(st.sampled_from(NON_LATIN).flatmap(lambda script: st.tuples(names_in(ALPHABETS[script], 2),
                                                                    names_in(ALPHABETS[script], 2))))
def test_distinct_non_latin_names_are_distinct_students(pair):
    first, second = pair

    def key(name):
        return " ".join(unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold()).split())

    assume(key(first) != key(second))
    assert student_id(first) != student_id(second)


LOOK_ALIKES = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "A": "Α", "B": "Β", "P": "Ρ",
               "H": "Η", "T": "Τ", "K": "Κ"}


@settings(max_examples=200)
@given(names_in("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"), st.data())
def test_a_latin_name_with_one_look_alike_letter_is_refused(name, data):
    replaceable = [i for i, char in enumerate(name) if char in LOOK_ALIKES]
    assume(replaceable and sum(1 for char in name if char.isalpha()) > 1)
    at = data.draw(st.sampled_from(replaceable))
    fake = name[:at] + LOOK_ALIKES[name[at]] + name[at + 1:]
    with pytest.raises(BadName, match="mixes letters of the scripts"):
        student_id(fake)


@given(st.sampled_from(["results", "rejected", "events", "progress", "lobby", "grader"]),
       st.sampled_from(["", " ", "  ", "!"]), st.booleans())
def test_no_name_takes_the_id_of_one_of_the_graders_queues_or_of_the_grader_itself(word, around, upper):
    name = around + (word.upper() if upper else word.capitalize()) + around
    made = student_id(name.strip() or word)
    assert made != word and made.startswith(word + "-") and ID.match(made), made

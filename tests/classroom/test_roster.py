"""Reading the class list: any script, with or without a header, every problem reported at once."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.classroom.roster import BadRoster, parse
from grader.live.identity import BadName, clean_name, student_id


def test_a_header_finds_the_columns_by_their_titles_in_any_order():
    students = parse("email,Name\nada@example.org,Ada Lovelace\n,Иван Петров\n")
    assert [(s.name, s.email) for s in students] == [("Ada Lovelace", "ada@example.org"), ("Иван Петров", "")]


def test_without_a_header_the_first_column_is_the_name_and_blank_or_comment_rows_are_skipped():
    students = parse("\ufeff李雷,li@example.org\n\n# late arrivals\nمحمد\n  Αλέξανδρος  ,\n")
    assert [s.name for s in students] == ["李雷", "محمد", "Αλέξανδρος"]
    assert len({s.id for s in students}) == 3


def test_every_problem_is_listed_with_its_row_and_nothing_is_accepted():
    with pytest.raises(BadRoster) as caught:
        parse("name\nAda Lovelace\nada  LOVELACE\nАda Lovelace\n!!!\nInstructor\n")
    lines = str(caught.value).splitlines()[1:]
    assert [line.split(":")[0].strip() for line in lines] == ["row 3", "row 4", "row 5", "row 6"]
    assert "same student as row 2" in lines[0]
    assert "instructor" in lines[3]


def test_a_roster_with_nobody_on_it_says_so():
    with pytest.raises(BadRoster, match="names no student"):
        parse("name,email\n\n# nobody yet\n")


names = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=45)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(names, min_size=1, max_size=8))
def test_any_list_of_names_is_either_read_whole_with_distinct_ids_or_refused_with_reasons(raw):
    text = "name\n" + "".join('"' + name.replace('"', '""') + '"\n' for name in raw)
    try:
        students = parse(text)
    except BadRoster as exc:
        assert len(str(exc).splitlines()) >= 2  # a reason a line
        return
    ids = [s.id for s in students]
    assert len(set(ids)) == len(ids)
    for student in students:  # the grader would give each the same id
        try:
            assert student_id(clean_name(student.name)) == student.id
        except BadName:  # pragma: no cover - parse would have refused it
            pytest.fail(f"{student.name!r} was accepted but the grader refuses it")


def test_a_spreadsheets_semicolons_or_tabs_are_read_as_columns():
    for separator in (";", "\t"):
        text = f"name{separator}email\nAda Lovelace{separator}ada@example.org\nИван Петров{separator}\n"
        students = parse(text)
        assert [(s.name, s.email) for s in students] == [("Ada Lovelace", "ada@example.org"), ("Иван Петров", "")]


def test_an_email_that_is_not_one_is_refused_with_its_row():
    with pytest.raises(BadRoster, match=r"row 2: 'not-an-email' is not an email address"):
        parse("name,email\nAda Lovelace,not-an-email\n")

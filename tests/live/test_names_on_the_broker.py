"""Names in every script, registered through a running grader on SQLite and on PostgreSQL."""

import pytest

from grader import names
from grader.live.checks import fibonacci
from grader.live.consumer import REASON_HEADER
from grader.live.dealer import deal
from grader.live.identity import MAX_ID_CHARS, student_id
from grader.live.standings import leaderboard
from grader.live.store import Store
from tests.live.fixtures import WORKSHOP, start_grader, stop_grader

NAMES = [
    "Ada Lovelace", "Иван Петров", "Αλέξανδρος", "李雷", "黎雷", "山田　太郎", "김민준", "محمد", "דוד", "राम",
    "สมชาย", "さくら", "李雷 Li",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, settings, tmp_path):
    """A store of either kind, with a grader consuming for it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'scores.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_store_url")
    made = Store(url, WORKSHOP)
    running, thread = start_grader(settings, made)
    yield made
    stop_grader(running, thread)
    made.close()


def registered(store) -> dict[str, str]:
    return {row["slug"]: row["name"] for row in leaderboard(store)}


def test_every_script_registers_and_gets_its_own_tasks_queue(store, make_student, vhost):
    for name in NAMES:
        feedback = make_student(name).register()
        assert (feedback["ok"], feedback["points"], feedback["total"]) == (True, 1, 1), (name, feedback)
        queue = names.tasks_queue(WORKSHOP, student_id(name))
        assert f"`{queue}`" in feedback["message"]
        assert vhost.api.queue(vhost.name, queue) is not None, f"no queue {queue} for {name!r}"
    assert registered(store) == {student_id(name): name for name in NAMES}
    assert len(registered(store)) == len(NAMES)


def test_the_same_name_typed_otherwise_is_the_same_student(store, make_student):
    first = make_student("Αλέξανδρος").register()
    again = make_student("  ΑΛΈΞΑΝΔΡΟΣ ").register()
    assert first["points"] == 1 and again["points"] == 0 and "already registered" in again["message"]
    assert list(registered(store)) == [student_id("Αλέξανδρος")]


def test_names_with_the_same_transliteration_are_two_students(store, make_student):
    for name in ("李雷 1", "王芳 1"):
        assert make_student(name).register()["points"] == 1
    ids = registered(store)
    assert set(ids.values()) == {"李雷 1", "王芳 1"} and len(ids) == 2


def test_a_name_of_40_compatibility_characters_registers_and_scores(store, make_student, settings, vhost):
    name = "㎯" * 40  # 240 characters after NFKC: the id is cut and suffixed
    student = make_student(name)
    feedback = student.register()
    assert feedback["ok"] and feedback["points"] == 1, feedback
    assert len(student.slug) <= MAX_ID_CHARS
    assert vhost.api.queue(vhost.name, names.tasks_queue(WORKSHOP, student.slug)) is not None
    [n] = deal(settings, store, 1)[student.slug]
    [(_, task)] = student.tasks(1)
    assert task == {"n": n}
    right = student.answer(n, fibonacci(n))
    assert (right["ok"], right["points"], right["total"]) == (True, 1, 2), right
    assert registered(store) == {student.slug: name}


def test_a_look_alike_is_refused_with_the_reason(store, make_student):
    ada = make_student("Ada Lovelace")
    assert ada.register()["points"] == 1
    impostor = "Аda Lovelace"  # a Cyrillic А
    feedback = ada.register(impostor)
    assert feedback["ok"] is False and feedback["points"] == 0
    assert "mixes letters of the scripts Cyrillic (А) and Latin" in feedback["message"]
    method, properties, _ = ada.channel.basic_get(names.rejected_queue(WORKSHOP), auto_ack=True)
    assert method is not None and "Cyrillic" in properties.headers[REASON_HEADER]
    answer = ada.answer(5, fibonacci(5), name=impostor)
    assert answer["ok"] is False and "mixes letters" in answer["message"]
    assert registered(store) == {"ada-lovelace": "Ada Lovelace"}

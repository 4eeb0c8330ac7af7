"""Stage 1 and 4 through the service on both engines: the 双减 cap holds across server processes."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from homework import AssignmentRequest, CapExceededError, HomeworkService, ItemBank, TargetRequest
from homework.storage import open_engine

DAY = dt.date(2026, 11, 23)
STUDENTS = [("s01", "李雷"), ("s02", "韩梅梅")]


def test_two_server_processes_cannot_both_spend_the_same_minutes(database_url: str, bank: ItemBank) -> None:
    """Two services on two engines (two processes' pools), three threads each, all at once: six 40-minute
    sets for the same students and day (grade 5: 60 min). Exactly one is recorded, with its sheet."""
    services = [HomeworkService(open_engine(database_url)) for _ in range(2)]
    request = AssignmentRequest(knowledge_points=("number.fraction",), minutes=40, grade=5, seed=1)
    sets = [services[0].compose(bank, request, assignment_id=f"sx-{i}")[""] for i in range(6)]
    start = threading.Barrier(len(sets))
    outcomes: dict[str, str] = {}

    def assign(i: int) -> None:
        service = services[i % 2]
        start.wait()
        try:
            service.assign_homework("new-school", sets[i], STUDENTS, DAY, bank=bank, class_name="五(1)班")
            outcomes[sets[i].id] = "recorded"
        except CapExceededError as exc:
            assert "双减 grades 3-6: at most 60 min/day" in str(exc)
            outcomes[sets[i].id] = "refused"

    threads = [threading.Thread(target=assign, args=(i,)) for i in range(len(sets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["recorded"] + ["refused"] * 5
    (winner,) = [a for a, o in outcomes.items() if o == "recorded"]
    ledger = services[1].ledger("new-school").ledger(DAY)
    assert [a.id for a, _, _ in ledger.recorded()] == [winner]
    assert ledger.load("s01", DAY) == {"math": next(s.total_minutes for s in sets if s.id == winner)}
    assert set(services[1].intake("new-school").store.specs()) == {winner}  # a refused set left no sheet


def test_a_check_or_a_plan_records_nothing_and_a_recorded_set_counts(database_url: str, bank: ItemBank) -> None:
    service = HomeworkService(open_engine(database_url))
    chinese = service.compose(bank, AssignmentRequest(knowledge_points=("number.fraction",), minutes=35, grade=5,
                                                      seed=3), assignment_id="sx-1")[""]
    assert service.check_homework("a", chinese, ["s01"], DAY, already=30).ok is False  # 30 + ~35 > 60
    assert service.check_homework("a", chinese, ["s01"], DAY).ok
    assert service.ledger("a").ledger().recorded() == []
    service.assign_homework("a", chinese, ["s01"], DAY)
    scope = TargetRequest(subject="math", grade=5, knowledge_points=("number.fraction",), minutes=40)
    planned = service.targeted("a", bank, ["s01", "s02"], scope=scope, day=DAY, record=False)
    assert planned.source.startswith("no graded answers yet") and planned.history_answers == 0
    left = 60 - chinese.total_minutes
    mine = planned.result.students["s01"]
    assert mine.selection.total_minutes <= left + 1e-9 < planned.result.students["s02"].selection.total_minutes
    assert [a.id for a, _, _ in service.ledger("a").ledger().recorded()] == ["sx-1"]  # the plan kept nothing
    recorded = service.targeted("a", bank, ["s01", "s02"], scope=scope, day=DAY, assignment_id="t")
    assert {a.id for a, _, _ in service.ledger("a").ledger().recorded()} == {"sx-1", "t-s01", "t-s02"}
    assert set(service.intake("a").store.specs()) == {"t-s01", "t-s02"}  # sheets of recorded targeted sets
    assert recorded.result.students["s01"].selection.total_minutes == pytest.approx(mine.selection.total_minutes)

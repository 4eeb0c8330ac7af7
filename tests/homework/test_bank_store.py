"""The item bank in the store, on both engines: the fixture bank imported (COPY on PostgreSQL), read back
item for item, its knowledge graph, updates by id, schools apart, the selection arrays built from it,
an import as an ordinary PostgreSQL role under row-level security, and the CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from homework import HomeworkService, ItemBank, item_pool, taxonomy_graph
from homework.storage import open_engine

BANK = Path(__file__).resolve().parents[2] / "fixtures" / "bank" / "items.csv"


@pytest.fixture(scope="module")
def file_bank() -> ItemBank:
    bank = ItemBank(taxonomy_graph())
    bank.import_file(BANK)
    return bank


@pytest.fixture
def service(database_url: str) -> HomeworkService:
    return HomeworkService(open_engine(database_url))


def test_the_fixture_bank_goes_into_the_store_and_comes_back_item_for_item(
        service: HomeworkService, file_bank: ItemBank) -> None:
    report = service.import_bank("s1", [BANK])
    assert (report.added, report.updated, report.rejected) == (len(file_bank), 0, 0)
    stored = service.bank("s1")
    assert stored is not None and len(stored) == len(file_bank)
    ids = sorted(file_bank.frame["id"])
    assert list(stored.frame["id"]) == ids  # by id
    assert stored.items(ids) == file_bank.items(ids)  # every field of every item
    assert sorted(stored.graph.edges) == sorted(taxonomy_graph().edges)  # kp_edges
    ours, theirs = item_pool(stored), item_pool(file_bank)  # the selection arrays
    order = theirs.positions(list(ours.ids))
    assert np.array_equal(ours.minutes, theirs.minutes[order]) and np.array_equal(ours.easiness, theirs.easiness[order])
    assert [set(ours.knowledge_points_of(i)) for i in range(len(ours))] == [
        set(theirs.knowledge_points_of(int(p))) for p in order]
    assert service.bank("s2") is None  # schools apart
    assert service.bank("s1") is stored  # built once, until an import changes the bank


def test_a_second_import_updates_by_id_and_reports_bad_rows(service: HomeworkService, tmp_path: Path) -> None:
    service.import_bank("s1", [BANK])
    first = service.bank("s1")
    frame = pd.read_csv(BANK, dtype=str, keep_default_na=False)
    changed = frame.iloc[:2].copy()
    changed["minutes"] = ["7.5", "8"]
    bad = frame.iloc[:1].assign(id="new-1", grade="15")
    path = tmp_path / "more.csv"
    pd.concat([changed, bad, frame.iloc[:1].assign(id="new-2")]).to_csv(path, index=False)
    report = service.import_bank("s1", [path])
    assert (report.added, report.updated, report.rejected) == (1, 2, 1)
    assert [str(i) for i in report.issues] == ["row 4, grade: must be a whole number from 1 to 12, got 15"]
    again = service.bank("s1")
    assert again is not first and len(again) == len(first) + 1
    assert again.minutes_of(list(changed["id"])).tolist() == [7.5, 8.0]


def test_an_ordinary_postgresql_role_imports_under_row_level_security(ordinary_role: Engine) -> None:
    """COPY FROM into a table under row-level security is refused; the store copies into a temporary table
    and merges from it, so the service's own (non-superuser) role can import a bank."""
    from sqlalchemy import text

    service = HomeworkService(ordinary_role)
    assert service.import_bank("s1", [BANK]).added > 2000
    assert service.import_bank("s2", [BANK]).added > 2000  # the same ids in another school
    with ordinary_role.connect() as db:
        counts = dict(db.execute(text("SELECT school_id, count(*) FROM items GROUP BY school_id")).all())
    assert counts["s1"] == counts["s2"] == len(service.bank("s1"))


def test_the_cli_imports_into_a_schools_bank_in_the_store(tmp_path: Path) -> None:
    from homework.cli import _commands, app  # noqa: F401  (_commands registers the commands)

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    done = CliRunner().invoke(app, ["bank", "import", str(BANK), "--school", "s1", "--database-url", url])
    assert done.exit_code == 0, done.output
    assert "0 updated, 0 row(s) rejected" in done.output and "s1: 2155 items in the store" in done.output
    assert len(HomeworkService(open_engine(url)).bank("s1")) == 2155

"""The item bank into the store and back: a district-size bank imported on PostgreSQL and SQLite.

    python benchmarks/bank_import.py                       # 700,000 items, both engines
    python benchmarks/bank_import.py --items 100000 --engines sqlite
    python benchmarks/bank_import.py --postgres-url postgresql+psycopg://user@host/db

A bank of ``--items`` items is generated from the fixture bank's problems (``benchmarks/bank.py``'s
``synthetic_bank``: real stems with their numbers redrawn, the taxonomy's knowledge points, the
fixture's types, grades 1-9) and written as CSV, the input a school admin posts. For each engine it
prints the time to validate the file (``ItemBank.import_file``, the same on both), to write the
valid items into the store (``ItemStore.put``: COPY into a temporary table and one upsert on
PostgreSQL, batched upserts on SQLite) with rows per second, the whole ``HomeworkService.import_bank``,
a second import of the same file (every id updated), and the time to build the selection arrays from
the store (read the items, ``ItemBank.from_canonical``, ``item_pool``). PostgreSQL is a throw-away
server from ``tests/postgres_server.py`` (``fsync=off``, as the test suite runs it) unless
``--postgres-url`` is given. Times are wall clock on a machine others may be using: the load average
is printed beside them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bank import synthetic_bank  # noqa: E402

from homework import HomeworkService, ItemBank, item_pool, taxonomy_graph  # noqa: E402
from homework.storage import ItemStore, open_engine  # noqa: E402


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


@contextmanager
def postgres(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    from _servers import test_helper

    with test_helper("postgres_server").running() as started:
        yield started


def timed(label: str, run, rows: int | None = None):  # noqa: ANN001, ANN201
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    rate = f"  {rows / seconds:,.0f} rows/s" if rows else ""
    print(f"  {label:<66} {seconds:7.1f} s{rate}   ({load()})", flush=True)
    return result


def bench_engine(name: str, url: str, csv_path: Path, n: int) -> None:
    print(f"{name}: {url.split('@')[-1] if '@' in url else url}", flush=True)
    engine = open_engine(url)
    service = HomeworkService(engine)
    bank = ItemBank(taxonomy_graph())
    timed("validate the CSV (ItemBank.import_file)", lambda: bank.import_file(csv_path), n)
    store = ItemStore(engine, "bench-a")
    timed("write the items into the store (ItemStore.put, new)", lambda: store.put(bank.frame, bank.graph.edges), n)
    report = timed("whole import into another school (HomeworkService.import_bank)",
                   lambda: service.import_bank("bench-b", [csv_path]), n)
    print(f"    {report.added:,} added, {report.updated:,} updated, {report.rejected:,} rejected")
    again = timed("the same file again: every id updated (import_bank)", lambda: service.import_bank("bench-b",
                                                                                                      [csv_path]), n)
    print(f"    {again.added:,} added, {again.updated:,} updated")
    frame = timed("read the items back (ItemStore.frame)", store.frame, n)
    built = timed("ItemBank.from_canonical (typed frame, indices)", lambda: ItemBank.from_canonical(frame), n)
    timed("item_pool (the selection arrays)", lambda: item_pool(built), n)
    fresh = HomeworkService(engine)
    bank_b = timed("store -> selection arrays, end to end (service.bank + item_pool)",
                   lambda: item_pool(fresh.bank("bench-b")), n)
    print(f"    {len(bank_b):,} items in the pool")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=700_000)
    parser.add_argument("--engines", nargs="+", default=["postgresql", "sqlite"], choices=["postgresql", "sqlite"])
    parser.add_argument("--postgres-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = Path(tmp) / "bank.csv"
        frame = timed(f"generate {args.items:,} items", lambda: synthetic_bank(args.items))
        frame.to_csv(csv_path, index=False)
        print(f"  {csv_path.stat().st_size / 1e6:.0f} MB of CSV", flush=True)
        if "postgresql" in args.engines:
            with postgres(args.postgres_url) as url:
                bench_engine("postgresql", url, csv_path, args.items)
        if "sqlite" in args.engines:
            bench_engine("sqlite", f"sqlite:///{Path(tmp) / 'homework.sqlite3'}", csv_path, args.items)


if __name__ == "__main__":
    main()
